//! Leave-by times: "dentist at 3pm, 20 min away", "rdv médecin 15h, à 20
//! min"; and "I was late" / "j'étais en retard", which makes the next ones
//! earlier.

use serde_json::json;

use super::said;
use crate::agent::llm::offline::text::Input;
use crate::agent::llm::offline::time::{When, extract, resolve};
use crate::agent::llm::offline::{Ctx, Plan};

pub(in crate::agent::llm::offline) fn leave_by(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    if rx!(r"^(?:i\s+was\s+(?:a\s+(?:bit|little)\s+)?late|i\s+got\s+there\s+late|i\s+arrived\s+late|(?:j'etais|j'ai\s+ete|je\s+suis\s+arrivee?)\s+en\s+retard)$").is_match(n) {
        return Some(Plan::call("was_late", json!({})));
    }
    let c = rx!(r"^(.+?)[,;\s]+(\d{1,3})\s*(?:min|mins|minutes|mn)\s+(?:away|drive|walk|travel|to\s+get\s+there)$")
        .captures(n)
        .or_else(|| {
            rx!(r"^(.+?)[,;\s]+a\s+(\d{1,3})\s*(?:min|minutes|mn)(?:\s+(?:de\s+route|de\s+trajet|de\s+chez\s+moi|d'ici))?$").captures(n)
        })?;
    let travel: i64 = c[2].parse().ok()?;
    let head = inp.group(&c, 1)?;
    let found = extract(&head, ctx.now);
    let When::At { due, rec: None } = resolve(&found.schedule, ctx.now)? else {
        return None;
    };
    let event = said(&found.rest);
    let event = event
        .trim_end_matches([' ', ','])
        .trim_start_matches("rdv ")
        .trim();
    if event.is_empty() {
        return None;
    }
    Some(Plan::call(
        "plan_leave_by",
        json!({
            "event": event,
            "at_local": due.format("%Y-%m-%dT%H:%M").to_string(),
            "travel_minutes": travel,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::follow_through::calls_for;
    use serde_json::json;

    #[test]
    fn leave_by_and_i_was_late_in_english_and_french() {
        // At 10:00 on 2026-03-04.
        for (text, name, want) in [
            (
                "dentist at 3pm, 20 min away",
                "plan_leave_by",
                json!({"event": "dentist", "at_local": "2026-03-04T15:00", "travel_minutes": 20}),
            ),
            (
                "rdv médecin 15h, à 20 min",
                "plan_leave_by",
                json!({"event": "médecin", "at_local": "2026-03-04T15:00", "travel_minutes": 20}),
            ),
            ("I was late", "was_late", json!({})),
            ("j'étais en retard", "was_late", json!({})),
        ] {
            assert_eq!(calls_for(text), vec![(name.to_string(), want)], "{text}");
        }
    }
}
