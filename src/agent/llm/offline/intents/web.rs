//! Searches a person asks for in so many words: "find me a 10-minute yoga
//! video", "trouve-moi une vidéo de yoga de 10 minutes" → `youtube_search`;
//! "what time does the pharmacy close?", "search the web for …",
//! "à quelle heure ferme la pharmacie ?", "cherche sur internet …" →
//! `web_search`. The top result comes back in the tool's own confirmation.
//!
//! Only explicit phrasings: "what is …" or "who is …" may be about the
//! person's own notes or memories, and a query sent to a search engine
//! leaves for a third party, so a rule never guesses one.

use serde_json::{Value, json};

use crate::agent::llm::LlmRequest;
use crate::agent::llm::offline::Plan;
use crate::agent::llm::offline::text::{self, Input};

/// The search rules for `raw`; `None` unless it asks for a search whose
/// tool is offered.
pub(in crate::agent::llm::offline) fn search_plan(request: &LlmRequest, raw: &str) -> Option<Plan> {
    let offered = |name: &str| request.tools.iter().any(|t| t.name == name);
    let inp = text::trim_punct(&text::polite_trimmed(&Input::new(raw)));
    if offered("youtube_search")
        && let Some(args) = video_request(&inp)
    {
        return Some(Plan::call("youtube_search", args));
    }
    if offered("web_search")
        && let Some(query) = web_request(&inp)
    {
        return Some(Plan::call("web_search", json!({ "query": query })));
    }
    None
}

/// What was said in `range` of the folded text, trimmed; `None` when empty
/// or too long to be a search.
fn said(inp: &Input, range: std::ops::Range<usize>) -> Option<String> {
    let said = inp.sub(range).orig().trim().to_string();
    (!said.is_empty() && said.chars().count() <= 120).then_some(said)
}

/// `youtube_search` arguments for "find me a 10-minute yoga video",
/// "a video of stretching", "trouve-moi une vidéo de yoga de 10 minutes".
fn video_request(inp: &Input) -> Option<Value> {
    let n = inp.norm();
    let c = rx!(
        r"^(?:(?:can\s+you\s+)?(?:find|show|get|send|give)(?:\s+me)?\s+|(?:trouve|cherche|montre|envoie|donne)(?:[\s-]*moi)?\s+)(?:an?|some|une|des|un)\s+(?:(?P<lead>\d{1,3})[\s-]*(?:min|mins|minutes?)\s+)?(?:(?P<before>.+?)\s+)?(?:youtube\s+)?videos?(?:\s+youtube)?(?:\s+(?:of|about|on|for|de|d'|sur|pour)\s*(?P<after>.+?))?(?:\s+(?:of|de)\s+(?P<trail>\d{1,3})\s*(?:min|mins|minutes?))?(?:\s+(?:on|sur)\s+youtube)?$"
    )
    .captures(n)?;
    let topic = match (c.name("before"), c.name("after")) {
        (Some(m), None) | (None, Some(m)) => said(inp, m.start()..m.end())?,
        _ => return None,
    };
    let mut args = json!({ "query": topic });
    let minutes = c
        .name("lead")
        .or_else(|| c.name("trail"))
        .and_then(|m| m.as_str().parse::<u16>().ok());
    if let Some(minutes) = minutes.filter(|m| (1..=600).contains(m)) {
        args["minutes"] = json!(minutes);
    }
    Some(args)
}

/// The query for "search the web for X", "look up X online", "what time
/// does X close", "cherche sur internet X", "à quelle heure ferme X".
fn web_request(inp: &Input) -> Option<String> {
    let n = inp.norm();
    // The opening-hours question is the query itself.
    if rx!(r"^(?:what\s+time|when)\s+(?:does|do|is|are)\s+.+?\s+(?:open|close|opening|closing)(?:\s+(?:today|tonight|tomorrow|on\s+\w+))?$").is_match(n)
        || rx!(r"^(?:a\s+quelle\s+heure|quand)\s+(?:ferme|ouvre)(?:nt)?\s+.+$").is_match(n)
    {
        return said(inp, 0..n.len());
    }
    let c = rx!(
        r"^(?:(?:search|look\s+up|google|lookup)\s+(?:the\s+web|online|the\s+internet|on\s+the\s+web|on\s+google)\s+(?:for\s+)?(?P<a>.+)|(?:web\s+search|google|look\s+up)\s+(?P<b>.+?)(?:\s+online)?|(?:re)?cherche\s+(?:sur\s+(?:le\s+web|internet|google)|en\s+ligne)\s+(?P<c>.+)|(?:re)?cherche\s+(?P<d>.+?)\s+sur\s+(?:le\s+web|internet|google))$"
    )
    .captures(n)?;
    let m = ["a", "b", "c", "d"].iter().find_map(|g| c.name(g))?;
    // "look up my notes", "google my calendar", "google calendar isn't
    // syncing": the person's own things, or Google's products.
    if rx!(r"^(?:my|mes|mon|ma|in\s+my|dans\s+mes|calendar|agenda|account|compte|mail|drive|docs|maps)\b")
        .is_match(m.as_str())
    {
        return None;
    }
    said(inp, m.start()..m.end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(raw: &str) -> Option<Value> {
        video_request(&text::trim_punct(&Input::new(raw)))
    }

    fn web(raw: &str) -> Option<String> {
        web_request(&text::trim_punct(&Input::new(raw)))
    }

    #[test]
    fn video_requests_in_both_languages() {
        for (said, want) in [
            (
                "find me a 10-minute yoga video",
                json!({"query": "yoga", "minutes": 10}),
            ),
            (
                "can you find a video about stretching for back pain",
                json!({"query": "stretching for back pain"}),
            ),
            ("send me some cooking videos", json!({"query": "cooking"})),
            (
                "trouve-moi une vidéo de yoga de 10 minutes",
                json!({"query": "yoga", "minutes": 10}),
            ),
            (
                "cherche une vidéo sur la méditation",
                json!({"query": "la méditation"}),
            ),
        ] {
            assert_eq!(video(said), Some(want), "{said}");
        }
        for said in [
            "find my keys",
            "remind me to watch the video at 8",
            "a video",
        ] {
            assert_eq!(video(said), None, "{said}");
        }
    }

    #[test]
    fn web_requests_in_both_languages() {
        for (said, want) in [
            (
                "what time does the pharmacy close?",
                "what time does the pharmacy close",
            ),
            (
                "search the web for ikea return policy",
                "ikea return policy",
            ),
            ("look up bus 55 schedule online", "bus 55 schedule"),
            ("google passport renewal fees", "passport renewal fees"),
            (
                "à quelle heure ferme la pharmacie ?",
                "à quelle heure ferme la pharmacie",
            ),
            (
                "cherche sur internet horaires piscine Rosemont",
                "horaires piscine Rosemont",
            ),
            ("cherche horaires IKEA sur google", "horaires IKEA"),
        ] {
            assert_eq!(web(said).as_deref(), Some(want), "{said}");
        }
        for said in [
            "search my notes for the wifi",
            "look up my mail",
            "what time is my dentist",
            "cherche mes notes sur le vélo",
            "when is the meeting",
            "google calendar isn't syncing",
        ] {
            assert_eq!(web(said), None, "{said}");
        }
    }
}
