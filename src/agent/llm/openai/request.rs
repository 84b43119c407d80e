//! The request side of the wire: our conversation as `/chat/completions`
//! messages and tools, with ids paired for calls that came without one.

use std::collections::VecDeque;

use serde::Serialize;
use serde_json::Value;

use crate::agent::llm::{LlmRequest, Message, Role};

#[derive(Debug, Serialize)]
pub(super) struct ChatRequest<'a> {
    pub(super) model: &'a str,
    pub(super) messages: Vec<ChatMessage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) tools: Vec<ChatTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tool_choice: Option<&'static str>,
    pub(super) max_tokens: u32,
}

#[derive(Debug, Serialize, PartialEq)]
pub(super) struct ChatMessage {
    pub(super) role: &'static str,
    /// `null` for an assistant message that only calls tools.
    pub(super) content: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) tool_calls: Vec<ChatToolCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tool_call_id: Option<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub(super) struct ChatToolCall {
    pub(super) id: String,
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) function: ChatFunctionCall,
}

#[derive(Debug, Serialize, PartialEq)]
pub(super) struct ChatFunctionCall {
    pub(super) name: String,
    /// A JSON document in a string, as the API wants it.
    pub(super) arguments: String,
}

#[derive(Debug, Serialize)]
pub(super) struct ChatTool<'a> {
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) function: ChatFunction<'a>,
}

#[derive(Debug, Serialize)]
pub(super) struct ChatFunction<'a> {
    pub(super) name: &'a str,
    pub(super) description: &'a str,
    #[serde(skip_serializing_if = "Value::is_null")]
    pub(super) parameters: &'a Value,
}

pub(super) fn build_request<'a>(
    request: &'a LlmRequest,
    model: &'a str,
    max_tokens: u32,
) -> ChatRequest<'a> {
    let tools: Vec<ChatTool<'a>> = request
        .tools
        .iter()
        .map(|t| ChatTool {
            kind: "function",
            function: ChatFunction {
                name: &t.name,
                description: &t.description,
                parameters: &t.parameters,
            },
        })
        .collect();
    let tool_choice = (!tools.is_empty()).then_some("auto");
    ChatRequest {
        model,
        messages: to_chat_messages(&request.system, &request.messages),
        tools,
        tool_choice,
        max_tokens,
    }
}

fn plain(role: &'static str, content: String) -> ChatMessage {
    ChatMessage {
        role,
        content: Some(content),
        tool_calls: Vec::new(),
        tool_call_id: None,
    }
}

pub(super) fn to_chat_messages(system: &str, messages: &[Message]) -> Vec<ChatMessage> {
    let mut out = Vec::with_capacity(messages.len() + 1);
    if !system.is_empty() {
        out.push(plain("system", system.to_owned()));
    }
    // Synthetic ids of calls that had none, waiting for their result.
    let mut pending: VecDeque<(String, String)> = VecDeque::new();
    let mut next_id = 0usize;
    let mut synthetic = || {
        next_id += 1;
        format!("call_{next_id}")
    };
    for message in messages {
        let text = message.text();
        match message.role {
            Role::Model => {
                let tool_calls: Vec<ChatToolCall> = message
                    .function_calls()
                    .into_iter()
                    .map(|call| {
                        let id = match &call.id {
                            Some(id) => id.clone(),
                            None => {
                                let id = synthetic();
                                pending.push_back((call.name.clone(), id.clone()));
                                id
                            }
                        };
                        ChatToolCall {
                            id,
                            kind: "function",
                            function: ChatFunctionCall {
                                name: call.name.clone(),
                                arguments: call.args.to_string(),
                            },
                        }
                    })
                    .collect();
                let content = match (text.is_empty(), tool_calls.is_empty()) {
                    (true, false) => None,
                    _ => Some(text),
                };
                out.push(ChatMessage {
                    role: "assistant",
                    content,
                    tool_calls,
                    tool_call_id: None,
                });
            }
            Role::User => {
                // Tool results must directly follow the assistant message
                // that asked for them, so they go before any text.
                for response in message.function_responses() {
                    let id = match &response.id {
                        Some(id) => id.clone(),
                        None => {
                            let found = pending.iter().position(|(name, _)| *name == response.name);
                            match found.and_then(|i| pending.remove(i)) {
                                Some((_, id)) => id,
                                None => synthetic(),
                            }
                        }
                    };
                    out.push(ChatMessage {
                        role: "tool",
                        content: Some(response.response.to_string()),
                        tool_calls: Vec::new(),
                        tool_call_id: Some(id),
                    });
                }
                if !text.is_empty() {
                    out.push(plain("user", text));
                }
            }
        }
    }
    out
}
