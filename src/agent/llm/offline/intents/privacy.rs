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
            r"^(?:i\s+want\s+(?:to\s+)?)?(?:export|download|send\s+me|give\s+me|get)\s+(?:a\s+copy\s+of\s+)?(?:all\s+(?:of\s+)?)?my\s+(?:personal\s+)?data$"
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
