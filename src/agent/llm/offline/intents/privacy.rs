//! The person's own data: "export my data" / "exporter mes données",
//! "delete my account" / "supprimer mon compte", and "cancel deletion" /
//! "annuler la suppression". Each becomes one tool call; the first two
//! are asked before they run (by the runner, not here).

use serde_json::json;

use crate::agent::llm::offline::text::Input;
use crate::agent::llm::offline::{Ctx, Plan};

pub(in crate::agent::llm::offline) fn privacy(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm().trim_end_matches(['.', '!', ' ']);
    let cancel = [
        rx!(
            r"^(?:please\s+)?(?:cancel|stop|undo|call\s+off)\s+(?:the\s+|my\s+)?(?:account\s+)?deletion(?:\s+of\s+my\s+account)?$"
        ),
        rx!(r"^(?:don'?t|do\s+not)\s+delete\s+my\s+account$"),
        rx!(r"^keep\s+my\s+account$"),
        rx!(r"^annule[rz]?\s+(?:la\s+|ma\s+)?suppression(?:\s+de\s+mon\s+compte)?$"),
        rx!(r"^ne\s+(?:supprime[rz]?|efface[rz]?)\s+pas\s+mon\s+compte$"),
        rx!(r"^garde[rz]?\s+mon\s+compte$"),
    ];
    if cancel.iter().any(|r| r.is_match(n)) {
        return Some(Plan::call("cancel_account_deletion", json!({})));
    }
    let delete = [
        rx!(
            r"^(?:i\s+want\s+to\s+|please\s+)?(?:delete|erase|remove|close)\s+my\s+(?:account|profile)(?:\s+and\s+(?:all\s+)?my\s+data)?$"
        ),
        rx!(r"^(?:delete|erase)\s+(?:all\s+(?:of\s+)?)?my\s+data$"),
        rx!(
            r"^(?:je\s+veux\s+)?(?:supprime[rz]?|efface[rz]?|ferme[rz]?)\s+mon\s+compte(?:\s+et\s+(?:toutes\s+)?mes\s+donnees)?$"
        ),
        rx!(r"^(?:supprime[rz]?|efface[rz]?)\s+(?:toutes\s+)?mes\s+donnees$"),
    ];
    if delete.iter().any(|r| r.is_match(n)) {
        return Some(Plan::call("delete_my_account", json!({})));
    }
    let export = [
        rx!(
            r"^(?:please\s+)?(?:i\s+want\s+(?:to\s+)?)?(?:export|download|send\s+me|give\s+me|get)\s+(?:a\s+copy\s+of\s+)?(?:all\s+(?:of\s+)?)?my\s+(?:personal\s+)?data$"
        ),
        rx!(
            r"^(?:je\s+veux\s+)?(?:exporte[rz]?|telecharge[rz]?|envoie[- ]moi|donne[- ]moi|recevoir)\s+(?:une\s+copie\s+de\s+)?(?:toutes\s+)?mes\s+donnees(?:\s+personnelles)?$"
        ),
    ];
    if export.iter().any(|r| r.is_match(n)) {
        return Some(Plan::call("export_my_data", json!({})));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::llm::offline::text;
    use crate::store::Locale;

    fn tool(raw: &str) -> Option<String> {
        let ctx = Ctx {
            now: chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
                .and_then(|d| d.and_hms_opt(9, 0, 0))
                .expect("a valid time"),
            lang: Locale::En,
            question: false,
        };
        match privacy(&text::polite_trimmed(&Input::new(raw)), &ctx)? {
            Plan::Calls(calls) => calls.first().map(|(name, _)| name.clone()),
            _ => None,
        }
    }

    #[test]
    fn export_delete_and_cancel_in_english_and_french() {
        for (said, expected) in [
            ("export my data", "export_my_data"),
            ("Please send me a copy of all my data.", "export_my_data"),
            ("exporter mes données", "export_my_data"),
            ("Télécharger toutes mes données", "export_my_data"),
            ("delete my account", "delete_my_account"),
            ("Delete my account!", "delete_my_account"),
            (
                "I want to close my account and all my data",
                "delete_my_account",
            ),
            ("supprimer mon compte", "delete_my_account"),
            ("Supprime mon compte", "delete_my_account"),
            ("cancel deletion", "cancel_account_deletion"),
            ("Cancel the deletion", "cancel_account_deletion"),
            ("don't delete my account", "cancel_account_deletion"),
            ("annuler la suppression", "cancel_account_deletion"),
            (
                "Annule la suppression de mon compte",
                "cancel_account_deletion",
            ),
        ] {
            assert_eq!(tool(said).as_deref(), Some(expected), "{said}");
        }
    }

    #[test]
    fn other_deletions_are_not_the_account() {
        for said in [
            "delete my reminder",
            "delete milk from my list",
            "cancel the dentist reminder",
            "my data plan is expensive",
            "export the list",
        ] {
            assert_eq!(tool(said), None, "{said}");
        }
    }
}
