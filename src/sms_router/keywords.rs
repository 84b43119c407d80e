//! Carrier keywords: the whole message, trimmed, case-insensitive.
//! They are recorded and never reach the agent.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT: nothing is sent to
    /// the number until it opts back in.
    OptOut,
    /// START, UNSTOP (and YES while opted out).
    OptIn,
    /// HELP, INFO: a fixed help text.
    Help,
}

/// The keyword `body` is, if any. `opted_out` matters for YES: from an
/// opted-out number it opts back in; otherwise it is an ordinary message
/// (it may confirm a pending action).
pub fn keyword(body: &str, opted_out: bool) -> Option<Keyword> {
    let word = body.trim().to_ascii_uppercase();
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" => Some(Keyword::OptOut),
        "START" | "UNSTOP" => Some(Keyword::OptIn),
        "YES" if opted_out => Some(Keyword::OptIn),
        "HELP" | "INFO" => Some(Keyword::Help),
        _ => None,
    }
}

pub const HELP_TEXT: &str = "Nudge: your assistant by text. Try \"remind me to call mom at 6pm\", \
\"add milk to my list\" or \"what are my reminders?\". Reply STOP to unsubscribe.";

pub const ONBOARDING_TEXT: &str = "Hi! This number serves people registered with Nudge. \
To ask for access, contact the person who runs your Nudge. Reply STOP to opt out.";

pub const SLOW_DOWN_TEXT: &str = "You're sending messages faster than I can answer. \
I've kept them and will answer each one in a minute.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_whole_trimmed_case_insensitive_messages() {
        for w in [
            "STOP",
            " stop ",
            "Stopall",
            "unsubscribe",
            "cancel",
            "END",
            "quit",
        ] {
            assert_eq!(keyword(w, false), Some(Keyword::OptOut), "{w}");
        }
        for w in ["start", "UNSTOP"] {
            assert_eq!(keyword(w, true), Some(Keyword::OptIn), "{w}");
        }
        assert_eq!(keyword("help", false), Some(Keyword::Help));
        assert_eq!(keyword("Info", false), Some(Keyword::Help));
        assert_eq!(keyword("yes", true), Some(Keyword::OptIn));
        assert_eq!(
            keyword("yes", false),
            None,
            "YES is a confirmation when not opted out"
        );
        assert_eq!(keyword("stop the reminder", false), None);
        assert_eq!(keyword("please cancel", false), None);
    }
}
