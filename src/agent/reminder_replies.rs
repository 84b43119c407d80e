//! Short replies to a reminder just delivered ("done", "snooze 10", "plus
//! tard", "in 30 min"): within an hour of a delivery they act on THAT
//! reminder, in code, whatever model is configured.

/// What the person said about the reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderReply {
    Done,
    Snooze { minutes: i64 },
}

/// How long after a delivery a short reply still refers to it.
pub const REPLY_WINDOW: chrono::Duration = chrono::Duration::hours(1);

const DEFAULT_SNOOZE: i64 = 10;
const DEFAULT_LATER: i64 = 30;

/// The whole message, read as a reminder reply, if it is one.
pub fn parse(text: &str) -> Option<ReminderReply> {
    let t = text
        .trim()
        .trim_end_matches(['.', '!', ' '])
        .to_lowercase()
        .replace('’', "'");
    let t = t.as_str();
    match t {
        "done" | "did it" | "done it" | "ok done" | "fait" | "c'est fait" | "cest fait"
        | "terminé" | "termine" | "fini" | "c'est fini" => return Some(ReminderReply::Done),
        "snooze" | "reporte" | "reporter" => {
            return Some(ReminderReply::Snooze {
                minutes: DEFAULT_SNOOZE,
            });
        }
        "later" | "plus tard" | "tantôt" | "tantot" => {
            return Some(ReminderReply::Snooze {
                minutes: DEFAULT_LATER,
            });
        }
        "in an hour" | "dans une heure" | "dans 1 heure" | "in 1 hour" => {
            return Some(ReminderReply::Snooze { minutes: 60 });
        }
        _ => {}
    }
    let rest = [
        "snooze for ",
        "snooze ",
        "in ",
        "dans ",
        "reporte de ",
        "reporte ",
    ]
    .iter()
    .find_map(|p| t.strip_prefix(p))?;
    let mut words = rest.split_whitespace();
    let n: i64 = words.next()?.trim_end_matches("min").parse().ok()?;
    let unit = words.next();
    if words.next().is_some() {
        return None;
    }
    let minutes = match unit {
        None | Some("m" | "min" | "mins" | "minute" | "minutes") => n,
        Some("h" | "hour" | "hours" | "heure" | "heures") => n * 60,
        _ => return None,
    };
    (1..=24 * 60)
        .contains(&minutes)
        .then_some(ReminderReply::Snooze { minutes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_done_and_snooze_in_english_and_french() {
        use ReminderReply::*;
        for (text, want) in [
            ("done", Some(Done)),
            ("Done!", Some(Done)),
            ("fait", Some(Done)),
            ("C'est fait.", Some(Done)),
            ("snooze", Some(Snooze { minutes: 10 })),
            ("snooze 10", Some(Snooze { minutes: 10 })),
            ("Snooze 5", Some(Snooze { minutes: 5 })),
            ("snooze for 15 minutes", Some(Snooze { minutes: 15 })),
            ("later", Some(Snooze { minutes: 30 })),
            ("plus tard", Some(Snooze { minutes: 30 })),
            ("in 30 min", Some(Snooze { minutes: 30 })),
            ("dans 20 minutes", Some(Snooze { minutes: 20 })),
            ("in 2 hours", Some(Snooze { minutes: 120 })),
            ("in 20 minutes check the oven", None),
            ("done with the report, thanks", None),
            ("snooze -5", None),
            ("add milk", None),
            // What the last nudge asks for (reminders::wording::nudge_text).
            ("DONE", Some(Done)),
            ("SNOOZE 30", Some(Snooze { minutes: 30 })),
            ("FAIT", Some(Done)),
            ("REPORTE 30", Some(Snooze { minutes: 30 })),
        ] {
            assert_eq!(parse(text), want, "{text}");
        }
    }
}
