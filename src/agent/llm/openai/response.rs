//! The response side of the wire: a `/chat/completions` answer as our
//! message and usage, refusing what cannot be used (as malformed, not panics).

use serde::Deserialize;
use serde_json::Value;

use super::PROVIDER;
use crate::agent::llm::http;
use crate::agent::llm::{FunctionCall, LlmError, Message, Part, Role, Usage};

#[derive(Debug, Deserialize)]
struct ChatResponse {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<ChatUsage>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    message: Option<ResponseMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ResponseMessage {
    /// A string, null, or (some servers) an array of `{type, text}` parts.
    #[serde(default)]
    content: Value,
    #[serde(default)]
    tool_calls: Option<Vec<ResponseToolCall>>,
}

#[derive(Debug, Deserialize)]
struct ResponseToolCall {
    #[serde(default)]
    id: Option<String>,
    function: ResponseFunction,
}

#[derive(Debug, Deserialize)]
struct ResponseFunction {
    name: String,
    /// Normally a JSON string; some servers send the object itself.
    #[serde(default)]
    arguments: Value,
}

#[derive(Debug, Deserialize)]
struct ChatUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    total_tokens: Option<u64>,
}

/// `text` up to the end of its last complete sentence, `None` without one.
fn whole_sentences(text: &str) -> Option<String> {
    let end = text
        .char_indices()
        .rev()
        .find(|(_, c)| matches!(c, '.' | '!' | '?' | '…' | '\n'))
        .map(|(i, c)| i + c.len_utf8())?;
    let kept = text[..end].trim();
    (!kept.is_empty()).then(|| kept.to_owned())
}

pub(super) fn parse_response(body: &str) -> Result<(Message, Usage), LlmError> {
    let response: ChatResponse =
        serde_json::from_str(body).map_err(|e| http::malformed(PROVIDER, e))?;
    let usage = response.usage.as_ref().map(to_usage).unwrap_or_default();
    let Some(choice) = response.choices.into_iter().next() else {
        return Err(http::malformed(PROVIDER, "no choice in the answer"));
    };
    let finish = choice.finish_reason.unwrap_or_else(|| "unknown".into());
    let Some(message) = choice.message else {
        return Err(http::malformed(
            PROVIDER,
            format!("no message in the answer (finish_reason {finish})"),
        ));
    };
    let mut parts = Vec::new();
    let mut text = content_text(&message.content);
    if finish == "length" {
        // Cut at the token cap: calls may have lost arguments, and a
        // sentence cut short can promise what was not done. Whole
        // sentences of a text-only answer are kept; anything else is no
        // answer, and the chain moves on.
        let calls = message.tool_calls.as_ref().is_some_and(|c| !c.is_empty());
        match whole_sentences(&text) {
            Some(kept) if !calls => text = kept,
            _ => {
                return Err(http::malformed(
                    PROVIDER,
                    "the answer was cut at the token cap (finish_reason length)",
                ));
            }
        }
    }
    if !text.trim().is_empty() {
        parts.push(Part::Text {
            text,
            thought_signature: None,
        });
    }
    for call in message.tool_calls.unwrap_or_default() {
        parts.push(Part::FunctionCall(FunctionCall {
            id: Some(
                call.id
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(new_call_id),
            ),
            name: call.function.name,
            args: parse_arguments(call.function.arguments),
            thought_signature: None,
        }));
    }
    if parts.is_empty() {
        return Err(http::malformed(
            PROVIDER,
            format!("empty answer (finish_reason {finish})"),
        ));
    }
    Ok((
        Message {
            role: Role::Model,
            parts,
        },
        usage,
    ))
}

fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

/// Arguments that are not a JSON object reach the tool registry as
/// `{"_raw": ...}`, which its validation refuses, so the model is told
/// its call was malformed instead of a tool running on guesswork.
pub(super) fn parse_arguments(arguments: Value) -> Value {
    match arguments {
        Value::Object(_) => arguments,
        Value::Null => Value::Object(Default::default()),
        Value::String(s) if s.trim().is_empty() => Value::Object(Default::default()),
        Value::String(s) => match serde_json::from_str::<Value>(&s) {
            Ok(parsed @ Value::Object(_)) => parsed,
            _ => serde_json::json!({ "_raw": s }),
        },
        other => serde_json::json!({ "_raw": other.to_string() }),
    }
}

fn new_call_id() -> String {
    format!("call_{:016x}", rand::random::<u64>())
}

fn to_usage(usage: &ChatUsage) -> Usage {
    let input = http::tokens(usage.prompt_tokens);
    let output = http::tokens(usage.completion_tokens);
    let total = match usage.total_tokens {
        Some(total) => http::tokens(Some(total)),
        None => input.saturating_add(output),
    };
    Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: total,
    }
}
