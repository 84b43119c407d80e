//! Inputs that `scripts/fuzz` found, kept as ordinary tests so they stay
//! fixed: each is the minimised input of a crash, checked with the
//! invariant of the fuzz target that found it, through the same public
//! entry points (no database needed).

use std::collections::HashSet;

use chrono::{TimeZone, Utc};
use nudge::agent::llm::offline::OfflinePlanner;
use nudge::agent::llm::{LlmClient, LlmRequest, Message, TurnContext};
use nudge::agent::tools::ToolRegistry;
use nudge::store::Locale;

async fn answer(text: &str, locale: Locale) -> Message {
    let request = LlmRequest {
        system: String::new(),
        messages: vec![Message::user_text(text)],
        tools: Vec::new(),
        context: TurnContext {
            now: Utc.with_ymd_and_hms(2026, 11, 29, 15, 0, 0).unwrap(),
            timezone: chrono_tz::America::Montreal,
            locale,
        },
    };
    OfflinePlanner::new()
        .generate(&request)
        .await
        .expect("the offline planner always answers")
        .message
}

/// The `offline_planner` and `offline_time` invariant: every call the
/// planner makes is one the runner accepts; otherwise the person reads
/// "Sorry, that didn't work: invalid arguments…".
fn assert_runner_accepts(text: &str, message: &Message) {
    let registry = ToolRegistry::builtin();
    for call in message.function_calls() {
        if let Err(e) = registry.validate(&call.name, &call.args, &HashSet::new()) {
            panic!("{text:?}: {e}");
        }
    }
}

#[tokio::test]
async fn a_snooze_longer_than_a_week_is_answered_not_sent_to_the_tool() {
    // offline_time: "in 2 weeks" alone became snooze_reminder with 20160
    // minutes, and the tool takes a week (10080) at most.
    for (text, locale, word) in [
        ("in 2 weeks", Locale::En, "week"),
        ("snooze 8 days", Locale::En, "week"),
        ("dans 3 semaines", Locale::Fr, "semaine"),
    ] {
        let message = answer(text, locale).await;
        assert_runner_accepts(text, &message);
        assert!(message.function_calls().is_empty(), "{text:?}");
        assert!(
            message.text().contains(word),
            "{text:?}: {}",
            message.text()
        );
    }
    // A week or less still snoozes.
    let message = answer("snooze 7 days", Locale::En).await;
    assert_runner_accepts("snooze 7 days", &message);
    let calls = message.function_calls();
    assert_eq!(calls[0].name, "snooze_reminder");
    assert_eq!(calls[0].args["minutes"], 10080);
}

#[tokio::test]
async fn a_delay_of_a_leap_year_fits_the_reminder_tool() {
    // offline_time: "in 366 days" became in_minutes 527040, and the tool
    // takes 525600 (365 days) at most.
    for text in [
        "remind me to call mom in 366 days",
        "rappelle-moi d'appeler maman dans 366 jours",
    ] {
        assert_runner_accepts(text, &answer(text, Locale::En).await);
    }
    // A year exactly is still a reminder.
    let text = "remind me to renew my passport in 365 days";
    let message = answer(text, Locale::En).await;
    assert_runner_accepts(text, &message);
    let calls = message.function_calls();
    assert_eq!(calls[0].name, "create_reminder");
    assert_eq!(calls[0].args["in_minutes"], 525_600);
}

/// `offline_time` found texts on which trimming trailing words never ended:
/// cutting a word maps back to the original text, which is normalised
/// again, and a rewritten word came back whole. Each must be answered;
/// run on a thread of its own, so that a loop shows as a failed test
/// (after a bound far above the milliseconds an answer takes), not a hung
/// suite.
#[test]
fn texts_that_looped_in_the_trimming_are_answered() {
    let cases = [
        (
            "remind me to call mom N m#\u{fffd}\u{0}m\u{fffd}\u{fffd}%\u{0}emaindemest\u{fffd}\u{fffd}c",
            Locale::Fr,
        ),
        ("remind me to call mom eler maamn \u{0}c", Locale::En),
        (
            "rappelle-moi d'appeler maman \u{0}\u{4}\u{0}\u{0}\u{0}$\u{0}\u{0}MM\u{0}\u{0}\u{0}c",
            Locale::En,
        ),
    ];
    for (text, locale) in cases {
        let (done, answered) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let message = futures::executor::block_on(answer(text, locale));
            let _ = done.send(message);
        });
        let message = answered
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{text:?} is still being planned after 30 s"));
        assert_runner_accepts(text, &message);
    }
}
