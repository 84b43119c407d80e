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
