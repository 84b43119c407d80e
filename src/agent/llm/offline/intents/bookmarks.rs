//! "What was I doing?": saving a bookmark as the person steps away ("brb —
//! doing taxes, next: find last year's receipt", "je reviens — je faisais
//! les impôts, ensuite : trouver le reçu") and asking for it back ("what
//! was I doing?", "je faisais quoi ?").

use serde_json::json;

use super::said;
use crate::agent::llm::offline::text::Input;
use crate::agent::llm::offline::{Ctx, Plan};

pub(in crate::agent::llm::offline) fn bookmarks(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    if rx!(r"^(?:what\s+was\s+i\s+(?:doing|up\s+to|working\s+on)|where\s+was\s+i|where\s+did\s+i\s+leave\s+off|what\s+was\s+i\s+in\s+the\s+middle\s+of)$").is_match(n)
        || rx!(r"^(?:je\s+faisais\s+quoi|qu'est-ce\s+que\s+je\s+faisais|j'etais\s+ou|j'en\s+etais\s+ou|ou\s+j'en\s+etais|ou\s+en\s+etais-je|je\s+faisais\s+quoi\s+deja)$").is_match(n)
        || rx!(r"^(?:(?:i'?m|i\s+am|im)\s+back|back(?:\s+now)?|je\s+suis\s+(?:de\s+retour|revenue?)|me\s+revoila|de\s+retour)$").is_match(n)
    {
        return Some(Plan::call("what_was_i_doing", json!({})));
    }
    let c = rx!(
        r"^(?:brb|be\s+right\s+back|back\s+in\s+a\s+(?:bit|sec|min)|stepping\s+away|pausing|bookmark)\b\s*(?:[-—:,.]+\s*)?(?:(?:i\s+was\s+|i'm\s+|im\s+|was\s+)?(?:doing|working\s+on|in\s+the\s+middle\s+of)\s+)?(.+?)(?:\s*[,;.—-]+\s*|\s+)(?:next|then|next\s+step|next\s+up)\s*:?\s*(.+)$"
    )
    .captures(n)
    .or_else(|| {
        rx!(r"^(?:je\s+reviens|jreviens|jrv|brb|pause|je\s+fais\s+une\s+pause)\b\s*(?:[-—:,.]+\s*)?(?:(?:je\s+faisais|j'etais\s+sur|je\s+bossais\s+sur|je\s+fais)\s+)?(.+?)(?:\s*[,;.—-]+\s*|\s+)(?:ensuite|apres|prochaine\s+etape|la\s+suite)\s*:?\s*(.+)$").captures(n)
    })
    .or_else(|| {
        rx!(r"^(?:brb|be\s+right\s+back|stepping\s+away|pausing|bookmark|je\s+reviens|jrv|je\s+fais\s+une\s+pause)\b\s*(?:[-—:,.]+\s*)?(?:(?:i\s+was\s+|i'm\s+|im\s+|was\s+)?(?:doing|working\s+on)\s+|(?:je\s+faisais|j'etais\s+sur|je\s+bossais\s+sur)\s+)(.+)$").captures(n)
    })?;
    let doing = said(&inp.group(&c, 1)?);
    let next = c.get(2).and_then(|_| inp.group(&c, 2)).map(|g| said(&g));
    if doing.is_empty() {
        return None;
    }
    let mut args = json!({ "doing": doing });
    if let Some(next) = next.filter(|n| !n.is_empty()) {
        args["next"] = json!(next);
    }
    Some(Plan::call("save_bookmark", args))
}

#[cfg(test)]
mod tests {
    use super::super::follow_through::calls_for;
    use serde_json::json;

    #[test]
    fn brb_saves_and_what_was_i_doing_reads_in_english_and_french() {
        for (text, want) in [
            (
                "brb — doing taxes, next: find last year's receipt",
                json!({"doing": "taxes", "next": "find last year's receipt"}),
            ),
            ("brb, doing the dishes", json!({"doing": "the dishes"})),
            (
                "je reviens — je faisais les impôts, ensuite : trouver le reçu",
                json!({"doing": "les impôts", "next": "trouver le reçu"}),
            ),
        ] {
            assert_eq!(
                calls_for(text),
                vec![("save_bookmark".to_string(), want)],
                "{text}"
            );
        }
        for text in [
            "what was I doing?",
            "where was I",
            "je faisais quoi ?",
            "j'en étais où ?",
            "I'm back",
            "je suis de retour",
            "me revoilà",
        ] {
            assert_eq!(
                calls_for(text),
                vec![("what_was_i_doing".to_string(), json!({}))],
                "{text}"
            );
        }
    }
}
