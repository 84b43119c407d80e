//! Focus sessions and time calibration: "starting 25 min on the report,
//! first: open the doc", "je commence 25 min sur le rapport"; "how long
//! does the report usually take me?", "combien de temps me prend le
//! rapport ?".

use serde_json::json;

use super::said;
use crate::agent::llm::offline::text::Input;
use crate::agent::llm::offline::{Ctx, Plan};

pub(in crate::agent::llm::offline) fn focus(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let start = rx!(
        r"^(?:(?:i'm\s+|im\s+|i\s+am\s+)?(?:starting|start|focusing|focus|doing|working)|(?:let's|lets)\s+(?:do|go)|going\s+to\s+(?:do|work))\s+(?:for\s+)?(\d{1,3})\s*(?:min|mins|minutes|mn|m)\s+(?:on|of|for)\s+(.+?)(?:\s*[,;.—-]+\s*(?:first|first\s+step|step\s+one)\s*:?\s*(.+))?$"
    )
    .captures(n)
    .or_else(|| {
        rx!(r"^(?:je\s+commence|je\s+m'y\s+mets|je\s+me\s+concentre|je\s+bosse|focus|c'est\s+parti\s+pour)\s+(?:pour\s+)?(\d{1,3})\s*(?:min|minutes|mn|m)\s+(?:sur|pour)\s+(.+?)(?:\s*[,;.—-]+\s*(?:d'abord|premiere\s+etape|en\s+premier)\s*:?\s*(.+))?$").captures(n)
    });
    if let Some(c) = start {
        let minutes: i64 = c[1].parse().ok()?;
        let task = said(&inp.group(&c, 2)?);
        if task.is_empty() || !(1..=240).contains(&minutes) {
            return None;
        }
        let mut args = json!({ "task": task, "minutes": minutes });
        if let Some(step) = c.get(3).and_then(|_| inp.group(&c, 3)).map(|g| said(&g)) {
            args["first_step"] = json!(step);
        }
        return Some(Plan::call("start_focus", args));
    }
    let how_long = rx!(
        r"^how\s+long\s+(?:does|do|did|will)\s+(?:it\s+take\s+(?:me\s+)?(?:to\s+(?:do|finish)\s+)?)?(.+?)\s+(?:usually\s+|normally\s+|typically\s+)?take(?:s)?(?:\s+me)?(?:\s+usually|\s+normally)?$"
    )
    .captures(n)
    .or_else(|| rx!(r"^how\s+long\s+(?:does\s+it|do\s+i)\s+(?:usually\s+|normally\s+)?take(?:\s+me)?\s+(?:to\s+(?:do|finish)\s+|for\s+)(.+)$").captures(n))
    .or_else(|| rx!(r"^combien\s+de\s+temps\s+(?:me\s+prend(?:\s+d'habitude)?|je\s+mets\s+(?:d'habitude\s+)?(?:pour|a\s+faire)|(?:ca\s+)?me\s+prend\s+d'habitude)\s+(.+)$").captures(n))?;
    let task = said(&inp.group(&how_long, 1)?);
    let task = task
        .trim_start_matches("the ")
        .trim_start_matches("le ")
        .trim_start_matches("la ")
        .trim_start_matches("les ")
        .trim_start_matches("my ")
        .to_string();
    (!task.is_empty()).then(|| Plan::call("how_long_usually", json!({ "task": task })))
}

#[cfg(test)]
mod tests {
    use super::super::follow_through::calls_for;
    use serde_json::json;

    #[test]
    fn focus_and_how_long_in_english_and_french() {
        for (text, name, want) in [
            (
                "starting 25 min on the report",
                "start_focus",
                json!({"task": "the report", "minutes": 25}),
            ),
            (
                "starting 25 min on the report, first: open the doc",
                "start_focus",
                json!({"task": "the report", "minutes": 25, "first_step": "open the doc"}),
            ),
            (
                "je commence 30 min sur le rapport",
                "start_focus",
                json!({"task": "le rapport", "minutes": 30}),
            ),
            (
                "how long does the report usually take me?",
                "how_long_usually",
                json!({"task": "report"}),
            ),
            (
                "combien de temps me prend le rapport ?",
                "how_long_usually",
                json!({"task": "rapport"}),
            ),
        ] {
            assert_eq!(calls_for(text), vec![(name.to_string(), want)], "{text}");
        }
    }
}
