//! Time expressions end to end: a reminder request whose time phrase is
//! fuzzed goes through the offline planner (`offline/time.rs` finds the
//! phrase, cuts it out and resolves it against the person's local time),
//! and the `create_reminder` arguments it emits go through the arithmetic
//! the tool runs on them (`store::recurrence`). A reminder the planner sets
//! must be one the tool accepts: a parseable time, in the future, and for
//! a recurrence, an occurrence that exists.
//!
//! Input layout: flags (bits 0–1 pick the request's opening words, bit 2 a
//! French account), timezone (2 bytes), now (5 bytes), then the text.
#![no_main]

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{Duration, NaiveDateTime};
use libfuzzer_sys::fuzz_target;
use nudge::agent::llm::offline::OfflinePlanner;
use nudge::agent::llm::{LlmClient, LlmRequest, Message, Part, TurnContext};
use nudge::agent::tools::limits::check_horizon;
use nudge::agent::tools::{ToolRegistry, Wording};
use nudge::store::Locale;
use nudge::store::recurrence::{Recurrence, next_occurrence, resolve_local};
use nudge_fuzz::Header;
use serde_json::Value;

static REGISTRY: LazyLock<ToolRegistry> = LazyLock::new(ToolRegistry::builtin);

/// Openings that send the text to the reminder rules, so the fuzzer spends
/// its time on time phrases rather than on finding the trigger words.
const OPENINGS: [&str; 4] = [
    "remind me to call mom ",
    "rappelle-moi d'appeler maman ",
    "",
    "take meds ",
];

fuzz_target!(|data: &[u8]| {
    let mut header = Header::new(data);
    let flags = header.byte();
    let timezone = header.tz();
    let now = header.now();
    let locale = if flags & 4 == 0 {
        Locale::En
    } else {
        Locale::Fr
    };
    let text = format!(
        "{}{}",
        OPENINGS[usize::from(flags & 3)],
        String::from_utf8_lossy(header.rest())
    );

    let request = LlmRequest {
        system: String::new(),
        messages: vec![Message::user_text(text)],
        tools: Vec::new(),
        context: TurnContext {
            now,
            timezone,
            locale,
        },
    };
    let response = futures::executor::block_on(OfflinePlanner::new().generate(&request))
        .expect("the offline planner always answers");
    for part in &response.message.parts {
        let Part::FunctionCall(call) = part else {
            continue;
        };
        if let Err(e) = REGISTRY.validate(&call.name, &call.args, &HashSet::new()) {
            panic!("the runner would refuse this call: {e}");
        }
        if call.name != "create_reminder" {
            continue;
        }
        // What `agent/tools/reminders.rs` `create` does with the arguments
        // ("now" is within 2000–2100 here, so its plain arithmetic holds).
        let args = &call.args;
        let recurrence: Option<Recurrence> = args.get("recurrence").map(|r| {
            serde_json::from_value(r.clone()).expect("the planner's recurrence is a stored rule")
        });
        let (due_at, local_time) = match (
            args.get("due_local").and_then(Value::as_str),
            args.get("in_minutes").and_then(Value::as_i64),
        ) {
            (Some(raw), None) => {
                let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
                    .expect("due_local is YYYY-MM-DDTHH:MM");
                assert!(
                    check_horizon(local.date(), timezone, now, Wording::new(locale)).is_ok(),
                    "the tool would refuse {raw} as too far ahead"
                );
                (resolve_local(timezone, local), local.time())
            }
            (None, Some(minutes)) => {
                let at = now + Duration::minutes(minutes);
                (at, at.with_timezone(&timezone).time())
            }
            other => {
                panic!("create_reminder needs exactly one of due_local and in_minutes: {other:?}")
            }
        };
        match &recurrence {
            Some(rule) => {
                let from = if due_at > now {
                    due_at - Duration::seconds(1)
                } else {
                    now
                };
                let first = next_occurrence(rule, timezone, local_time, from)
                    .expect("a recurrence the planner sets happens");
                assert!(first > now);
            }
            None => assert!(
                due_at >= now - Duration::minutes(1),
                "the tool would answer that the time has passed: {due_at} < {now}"
            ),
        }
    }
});
