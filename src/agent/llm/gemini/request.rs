//! The request side: our conversation, tools and thinking setting as a
//! `generateContent` body, with thought signatures echoed part for part.

use super::PLACEHOLDER_SIGNATURE;
use super::schema;
use super::thinking::Thinking;
use super::wire::{
    Content, FunctionCallingConfig, FunctionDeclaration, GenerateContentRequest, GenerationConfig,
    Tool, ToolConfig, WireFunctionCall, WireFunctionResponse, WirePart,
};
use crate::agent::llm::{LlmRequest, Message, Part, Role, ToolDeclaration};

/// Whether `model` validates thought signatures (Gemini 3 and later).
pub(super) fn validates_signatures(model: &str) -> bool {
    let model = model.strip_prefix("models/").unwrap_or(model);
    !(model.starts_with("gemini-1") || model.starts_with("gemini-2"))
}

pub(super) fn build_request(
    request: &LlmRequest,
    thinking: Thinking,
    model: &str,
    extra_instruction: Option<&str>,
) -> GenerateContentRequest {
    let system = match extra_instruction {
        Some(extra) if request.system.is_empty() => extra.to_owned(),
        Some(extra) => format!("{}\n\n{extra}", request.system),
        None => request.system.clone(),
    };
    let system_instruction = (!system.is_empty()).then(|| Content {
        role: None,
        parts: vec![WirePart {
            text: Some(system),
            ..WirePart::default()
        }],
    });
    let placeholder = validates_signatures(model);
    let contents = request
        .messages
        .iter()
        .map(|m| to_content(m, placeholder))
        // Gemini refuses a content without parts.
        .filter(|c| !c.parts.is_empty())
        .collect();
    let (tools, tool_config) = if request.tools.is_empty() {
        (Vec::new(), None)
    } else {
        (
            vec![Tool {
                function_declarations: request.tools.iter().map(to_declaration).collect(),
            }],
            Some(ToolConfig {
                function_calling_config: FunctionCallingConfig { mode: "AUTO" },
            }),
        )
    };
    GenerateContentRequest {
        system_instruction,
        contents,
        tools,
        tool_config,
        generation_config: thinking
            .config_for(model)
            .map(|thinking_config| GenerationConfig { thinking_config }),
    }
}

fn to_declaration(tool: &ToolDeclaration) -> FunctionDeclaration {
    FunctionDeclaration {
        name: tool.name.clone(),
        description: tool.description.clone(),
        parameters: schema::parameters(&tool.parameters),
    }
}

/// One message as a Gemini `Content`. With `placeholder`, a model message
/// whose function calls carry no signature at all (written by another
/// provider) gets Google's placeholder on its first call, which Gemini 3
/// requires.
pub(super) fn to_content(message: &Message, placeholder: bool) -> Content {
    let role = match message.role {
        Role::User => "user",
        Role::Model => "model",
    };
    let unsigned_calls = message.role == Role::Model
        && !message.function_calls().is_empty()
        && message
            .function_calls()
            .iter()
            .all(|c| c.thought_signature.is_none());
    let mut placeholder_left = placeholder && unsigned_calls;
    let parts = message
        .parts
        .iter()
        .map(|part| match part {
            Part::Text {
                text,
                thought_signature,
            } => WirePart {
                text: Some(text.clone()),
                thought_signature: thought_signature.clone(),
                ..WirePart::default()
            },
            Part::FunctionCall(call) => {
                let signature = match &call.thought_signature {
                    Some(s) => Some(s.clone()),
                    None if placeholder_left => {
                        placeholder_left = false;
                        Some(PLACEHOLDER_SIGNATURE.to_owned())
                    }
                    None => None,
                };
                WirePart {
                    function_call: Some(WireFunctionCall {
                        id: call.id.clone(),
                        name: call.name.clone(),
                        args: call.args.clone(),
                    }),
                    thought_signature: signature,
                    ..WirePart::default()
                }
            }
            Part::Thought {
                text,
                thought_signature,
            } => WirePart {
                text: Some(text.clone()),
                thought: true,
                thought_signature: thought_signature.clone(),
                ..WirePart::default()
            },
            Part::FunctionResponse(response) => WirePart {
                function_response: Some(WireFunctionResponse {
                    id: response.id.clone(),
                    name: response.name.clone(),
                    response: response.response.clone(),
                }),
                ..WirePart::default()
            },
        })
        .collect();
    Content {
        role: Some(role.to_owned()),
        parts,
    }
}
