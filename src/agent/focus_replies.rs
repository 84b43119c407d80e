//! Short answers to a focus check-in ("DONE", "10 MORE", "STUCK", "fait",
//! "encore 10", "bloqué"): within an hour of the check-in they act on that
//! session, in code, whatever model is configured.

/// What the person said about the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FocusReply {
    Done,
    More { minutes: i64 },
    Stuck,
}

/// How long after a check-in a short answer still refers to it.
pub const REPLY_WINDOW: chrono::Duration = chrono::Duration::hours(1);

const DEFAULT_MORE: i64 = 10;

/// The whole message, read as an answer to a check-in, if it is one.
pub fn parse(text: &str) -> Option<FocusReply> {
    let t = text
        .trim()
        .trim_end_matches(['.', '!', ' '])
        .to_lowercase()
        .replace('’', "'");
    let t = t.as_str();
    match t {
        "done" | "did it" | "finished" | "fait" | "c'est fait" | "fini" | "terminé" | "termine" => {
            return Some(FocusReply::Done);
        }
        "stuck" | "i'm stuck" | "im stuck" | "bloqué" | "bloque" | "bloquée" | "je bloque"
        | "je suis bloqué" | "je suis bloquée" => return Some(FocusReply::Stuck),
        "more" | "10 more" | "encore" | "10 de plus" | "encore 10" => {
            return Some(FocusReply::More {
                minutes: DEFAULT_MORE,
            });
        }
        _ => {}
    }
    let n = t
        .strip_suffix(" more")
        .or_else(|| t.strip_suffix(" more min"))
        .or_else(|| t.strip_suffix(" more minutes"))
        .or_else(|| t.strip_suffix(" de plus"))
        .or_else(|| t.strip_prefix("encore "))
        .map(|n| n.trim_end_matches([' ', 'm', 'i', 'n', 'u', 't', 'e', 's']))?;
    let minutes: i64 = n.trim().parse().ok()?;
    (1..=240)
        .contains(&minutes)
        .then_some(FocusReply::More { minutes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_done_more_and_stuck_in_english_and_french() {
        use FocusReply::*;
        for (text, want) in [
            ("DONE", Some(Done)),
            ("fait", Some(Done)),
            ("10 MORE", Some(More { minutes: 10 })),
            ("15 more", Some(More { minutes: 15 })),
            ("20 more minutes", Some(More { minutes: 20 })),
            ("10 DE PLUS", Some(More { minutes: 10 })),
            ("encore 5 min", Some(More { minutes: 5 })),
            ("STUCK", Some(Stuck)),
            ("bloqué", Some(Stuck)),
            ("je bloque", Some(Stuck)),
            ("done with the report, thanks", None),
            ("1000 more", None),
            ("add milk", None),
        ] {
            assert_eq!(parse(text), want, "{text}");
        }
    }
}
