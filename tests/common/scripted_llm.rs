//! A scripted `LlmClient` for tests: answers from a queue and records every
//! request it saw.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde_json::Value;

use nudge::agent::llm::{
    FunctionCall, LlmClient, LlmError, LlmRequest, LlmResponse, Message, Part, Role, Usage,
};

pub enum Step {
    Calls(Vec<(&'static str, Value)>),
    Text(String),
    Fail,
}

pub struct ScriptedLlm {
    steps: Mutex<VecDeque<Step>>,
    /// Used once the queue is empty.
    fallback: fn() -> Step,
    pub requests: Mutex<Vec<LlmRequest>>,
    pub tokens_per_call: u32,
    /// Reported with every answer ("script", which has no price, unless
    /// set with [`ScriptedLlm::with_model`]).
    model: &'static str,
}

impl ScriptedLlm {
    pub fn new(steps: Vec<Step>) -> Self {
        ScriptedLlm {
            steps: Mutex::new(steps.into()),
            fallback: || Step::Text("ok".into()),
            requests: Mutex::new(Vec::new()),
            tokens_per_call: 10,
            model: "script",
        }
    }

    /// Answers as `model` with `tokens_per_call` tokens, half in, half out
    /// (a priced model name makes the answers cost money).
    pub fn with_model(mut self, model: &'static str, tokens_per_call: u32) -> Self {
        self.model = model;
        self.tokens_per_call = tokens_per_call;
        self
    }

    pub fn with_fallback(mut self, fallback: fn() -> Step) -> Self {
        self.fallback = fallback;
        self
    }

    pub fn push(&self, step: Step) {
        self.steps.lock().unwrap().push_back(step);
    }

    pub fn calls(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    pub fn request(&self, i: usize) -> LlmRequest {
        self.requests.lock().unwrap()[i].clone()
    }

    /// The first function response the model saw in its `i`-th request.
    pub fn tool_result(&self, i: usize) -> Value {
        self.request(i)
            .messages
            .last()
            .and_then(|m| {
                m.parts.iter().find_map(|p| match p {
                    Part::FunctionResponse(r) => Some(r.response.clone()),
                    _ => None,
                })
            })
            .unwrap_or_else(|| panic!("request {i} carries no function response"))
    }
}

#[async_trait::async_trait]
impl LlmClient for ScriptedLlm {
    fn provider(&self) -> &str {
        "scripted"
    }

    fn model(&self) -> &str {
        self.model
    }

    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        self.requests.lock().unwrap().push(request.clone());
        let step = self
            .steps
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(self.fallback);
        let parts = match step {
            Step::Fail => {
                return Err(LlmError::Unavailable {
                    provider: "scripted".into(),
                    status: Some(503),
                    message: "scripted failure".into(),
                    retry_after: None,
                });
            }
            Step::Text(text) => vec![Part::Text {
                text,
                thought_signature: None,
            }],
            Step::Calls(calls) => calls
                .into_iter()
                .enumerate()
                .map(|(i, (name, args))| {
                    Part::FunctionCall(FunctionCall {
                        id: Some(format!("call-{i}")),
                        name: name.to_string(),
                        args,
                        thought_signature: None,
                    })
                })
                .collect(),
        };
        Ok(LlmResponse {
            message: Message {
                role: Role::Model,
                parts,
            },
            usage: Usage {
                input_tokens: self.tokens_per_call / 2,
                output_tokens: self.tokens_per_call / 2,
                total_tokens: self.tokens_per_call,
            },
            provider: "scripted".into(),
            model: self.model.into(),
        })
    }
}
