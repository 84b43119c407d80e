//! The response side: a `generateContent` answer as what it amounts to
//! (complete, blocked or cut), with its usage; unreadable is malformed.

use serde_json::Value;

use super::PROVIDER;
use super::wire::{GenerateContentResponse, UsageMetadata, WirePart};
use crate::agent::llm::http;
use crate::agent::llm::{FunctionCall, FunctionResponse, LlmError, Message, Part, Role, Usage};

/// What an answer amounts to.
#[derive(Debug)]
pub(super) enum Answer {
    /// Text and/or function calls to act on.
    Complete(Message, Usage),
    /// The prompt or the answer was blocked (safety, recitation…).
    Blocked { reason: String, usage: Usage },
    /// Cut at `MAX_TOKENS`: whatever came is incomplete and is dropped.
    Truncated { usage: Usage },
}

/// Finish reasons that mean Gemini refused to answer, not that it failed.
const BLOCKED_FINISH_REASONS: &[&str] = &[
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
];

pub(super) fn parse_response(body: &str) -> Result<Answer, LlmError> {
    let response: GenerateContentResponse =
        serde_json::from_str(body).map_err(|e| http::malformed(PROVIDER, e))?;
    let usage = response
        .usage_metadata
        .as_ref()
        .map(to_usage)
        .unwrap_or_default();
    if let Some(reason) = response
        .prompt_feedback
        .as_ref()
        .and_then(|f| f.block_reason.as_deref())
    {
        return Ok(Answer::Blocked {
            reason: format!("prompt {reason}"),
            usage,
        });
    }
    let Some(candidate) = response.candidates.into_iter().next() else {
        return Err(http::malformed(PROVIDER, "no candidate in the answer"));
    };
    let finish = candidate.finish_reason.as_deref().unwrap_or("unknown");
    if BLOCKED_FINISH_REASONS.contains(&finish) {
        return Ok(Answer::Blocked {
            reason: format!("answer {finish}"),
            usage,
        });
    }
    if finish == "MAX_TOKENS" {
        return Ok(Answer::Truncated { usage });
    }
    let parts: Vec<Part> = candidate
        .content
        .map(|c| c.parts)
        .unwrap_or_default()
        .into_iter()
        .filter_map(from_wire_part)
        .collect();
    // An empty answer (or thoughts alone) gives the runner nothing to say
    // or do.
    let meaningful = parts.iter().any(|p| match p {
        Part::Text { text, .. } => !text.trim().is_empty(),
        Part::Thought { .. } => false,
        _ => true,
    });
    if !meaningful {
        return Err(http::malformed(
            PROVIDER,
            format!("empty answer (finishReason {finish})"),
        ));
    }
    Ok(Answer::Complete(
        Message {
            role: Role::Model,
            parts,
        },
        usage,
    ))
}

fn from_wire_part(part: WirePart) -> Option<Part> {
    let signature = part.thought_signature;
    if let Some(call) = part.function_call {
        let args = match call.args {
            // A call without arguments may omit them.
            Value::Null => Value::Object(Default::default()),
            args => args,
        };
        return Some(Part::FunctionCall(FunctionCall {
            id: call.id,
            name: call.name,
            args,
            thought_signature: signature,
        }));
    }
    if let Some(response) = part.function_response {
        return Some(Part::FunctionResponse(FunctionResponse {
            id: response.id,
            name: response.name,
            response: response.response,
        }));
    }
    let text = part.text.unwrap_or_default();
    // An empty text is kept only to carry its signature back; Gemini
    // refuses empty text parts otherwise.
    if text.is_empty() && signature.is_none() {
        return None;
    }
    Some(match part.thought {
        true => Part::Thought {
            text,
            thought_signature: signature,
        },
        false => Part::Text {
            text,
            thought_signature: signature,
        },
    })
}

pub(super) fn to_usage(meta: &UsageMetadata) -> Usage {
    let input = http::tokens(meta.prompt_token_count);
    let output = http::tokens(meta.candidates_token_count)
        .saturating_add(http::tokens(meta.thoughts_token_count));
    let total = match meta.total_token_count {
        Some(total) => http::tokens(Some(total)),
        None => input.saturating_add(output),
    };
    Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: total,
    }
}
