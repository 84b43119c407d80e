//! The offline planner through its public entry point
//! (`OfflinePlanner::generate`), as the runner calls it: first with the
//! person's text, then with the tools' results. Every answer must be
//! something the runner can use: a non-empty text, or calls to tools that
//! exist with arguments that pass the tool's own schema.
//!
//! Input layout: flags (bit 0: French account, bit 1: the results step),
//! timezone (2 bytes), now (5 bytes), then the text, or for the results
//! step a JSON array of tool results.
#![no_main]

use std::collections::HashSet;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use nudge::agent::llm::offline::OfflinePlanner;
use nudge::agent::llm::{
    FunctionCall, FunctionResponse, LlmClient, LlmRequest, Message, Part, Role, TurnContext,
};
use nudge::agent::tools::ToolRegistry;
use nudge::store::Locale;
use nudge_fuzz::Header;
use serde_json::{Value, json};

static REGISTRY: LazyLock<ToolRegistry> = LazyLock::new(ToolRegistry::builtin);

fuzz_target!(|data: &[u8]| {
    let mut header = Header::new(data);
    let flags = header.byte();
    let timezone = header.tz();
    let now = header.now();
    let locale = if flags & 1 == 0 {
        Locale::En
    } else {
        Locale::Fr
    };
    let rest = header.rest();

    let messages = if flags & 2 == 0 {
        vec![Message::user_text(String::from_utf8_lossy(rest))]
    } else {
        let Ok(Value::Array(results)) = serde_json::from_slice::<Value>(rest) else {
            return;
        };
        let calls = results
            .iter()
            .enumerate()
            .map(|(i, _)| {
                Part::FunctionCall(FunctionCall {
                    id: Some(format!("offline-{}", i + 1)),
                    name: "list_reminders".into(),
                    args: json!({}),
                    thought_signature: None,
                })
            })
            .collect();
        let responses = results
            .into_iter()
            .enumerate()
            .map(|(i, response)| {
                Part::FunctionResponse(FunctionResponse {
                    id: Some(format!("offline-{}", i + 1)),
                    name: "list_reminders".into(),
                    response,
                })
            })
            .collect();
        vec![
            Message::user_text("my reminders"),
            Message {
                role: Role::Model,
                parts: calls,
            },
            Message {
                role: Role::User,
                parts: responses,
            },
        ]
    };
    let request = LlmRequest {
        system: String::new(),
        messages,
        tools: REGISTRY.declarations_for(&HashSet::new()),
        context: TurnContext {
            now,
            timezone,
            locale,
        },
    };
    let response = futures::executor::block_on(OfflinePlanner::new().generate(&request))
        .expect("the offline planner always answers");
    let message = response.message;
    assert_eq!(message.role, Role::Model);
    assert!(!message.parts.is_empty(), "an answer with nothing in it");
    for part in &message.parts {
        match part {
            Part::Text { text, .. } => assert!(!text.trim().is_empty(), "an empty reply"),
            Part::FunctionCall(call) => {
                if let Err(e) = REGISTRY.validate(&call.name, &call.args, &HashSet::new()) {
                    panic!("the runner would refuse this call: {e}");
                }
            }
            Part::FunctionResponse(_) => panic!("a planner never answers with a tool result"),
            Part::Thought { .. } => panic!("the offline planner has no reasoning to echo"),
        }
    }
});
