//! Replay after a crash. A turn's model responses and tool results are
//! recorded (in `agent_steps`) in the transaction of each tool's own
//! effect; a turn retried for the same inbound message replays them — the
//! same function calls, the same results — instead of asking the model
//! again and repeating what already happened. A step is recorded only
//! with a committed effect: a call that failed or timed out changed
//! nothing and simply runs again.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::agent::llm::{LlmResponse, Message, Usage};
use crate::db::UserTx;
use crate::store::{AgentStep, StepKind, StoreError};

/// A model response as recorded: enough to replay it exactly, usage
/// included (the crashed turn never stored its token use).
#[derive(Debug, Serialize, Deserialize)]
struct RecordedResponse {
    message: Message,
    provider: String,
    model: String,
    input_tokens: u32,
    output_tokens: u32,
    total_tokens: u32,
}

impl RecordedResponse {
    fn of(response: &LlmResponse) -> Self {
        RecordedResponse {
            message: response.message.clone(),
            provider: response.provider.clone(),
            model: response.model.clone(),
            input_tokens: response.usage.input_tokens,
            output_tokens: response.usage.output_tokens,
            total_tokens: response.usage.total_tokens,
        }
    }

    fn into_response(self) -> LlmResponse {
        LlmResponse {
            message: self.message,
            usage: Usage {
                input_tokens: self.input_tokens,
                output_tokens: self.output_tokens,
                total_tokens: self.total_tokens,
            },
            provider: self.provider,
            model: self.model,
        }
    }
}

/// One turn's journal: what an earlier run recorded, and what this run
/// has yet to record.
pub(super) struct Journal {
    message_id: Uuid,
    models: HashMap<u32, Value>,
    tools: HashMap<(u32, u32), (String, Value)>,
    /// Each round's model response, serialised, until a step of that round
    /// commits it.
    unrecorded: HashMap<u32, Value>,
    /// Anything was replayed or recorded: the steps are forgotten with the
    /// reply.
    touched: bool,
}

impl Journal {
    /// The steps an earlier run of this turn recorded (none for a message
    /// stored by this run).
    pub(super) async fn load(
        tx: &mut UserTx,
        message_id: Uuid,
        retried: bool,
    ) -> Result<Self, StoreError> {
        let steps = match retried {
            true => AgentStep::for_message(tx, message_id).await?,
            false => Vec::new(),
        };
        let mut journal = Journal {
            message_id,
            models: HashMap::new(),
            tools: HashMap::new(),
            unrecorded: HashMap::new(),
            touched: !steps.is_empty(),
        };
        for step in steps {
            match step.kind {
                StepKind::Model => {
                    journal.models.insert(step.round, step.result);
                }
                StepKind::Tool => {
                    let name = step.name.unwrap_or_default();
                    journal
                        .tools
                        .insert((step.round, step.call_index), (name, step.result));
                }
            }
        }
        if !journal.models.is_empty() {
            metrics::counter!("agent_turns_replayed_total").increment(1);
        }
        Ok(journal)
    }

    /// An earlier run of this turn asked the person to confirm something.
    pub(super) fn asked(&self) -> bool {
        self.tools
            .values()
            .any(|(_, result)| result.get("question").is_some())
    }

    pub(super) fn touched(&self) -> bool {
        self.touched
    }

    /// The response an earlier run got from the model in `round`.
    pub(super) fn replayed_response(&mut self, round: u32) -> Option<LlmResponse> {
        let raw = self.models.remove(&round)?;
        match serde_json::from_value::<RecordedResponse>(raw) {
            Ok(recorded) => Some(recorded.into_response()),
            Err(e) => {
                // Only a format change between versions gets here; asking
                // the model again is the safe fallback.
                tracing::warn!(error = %e, round, "recorded model response unreadable");
                None
            }
        }
    }

    /// Keeps this round's fresh response, to be recorded with the first
    /// effect it causes.
    pub(super) fn remember_response(&mut self, round: u32, response: &LlmResponse) {
        if let Ok(raw) = serde_json::to_value(RecordedResponse::of(response)) {
            self.unrecorded.insert(round, raw);
        }
    }

    /// The result an earlier run recorded for this call, if it is the same
    /// call.
    pub(super) fn replayed_result(&mut self, round: u32, index: u32, name: &str) -> Option<Value> {
        match self.tools.get(&(round, index)) {
            Some((recorded, result)) if recorded == name => {
                self.touched = true;
                Some(result.clone())
            }
            _ => None,
        }
    }

    /// Records a call and its result (and the round's model response, the
    /// first time) in `tx`, the transaction of the call's own effect.
    pub(super) async fn record(
        &mut self,
        tx: &mut UserTx,
        round: u32,
        index: u32,
        name: &str,
        args: &Value,
        result: &Value,
    ) -> Result<(), StoreError> {
        if let Some(response) = self.unrecorded.get(&round) {
            AgentStep::record_model(tx, self.message_id, round, response).await?;
        }
        AgentStep::record_tool(tx, self.message_id, round, index, name, args, result).await
    }

    /// After the transaction holding [`Journal::record`] committed.
    pub(super) fn committed(&mut self, round: u32) {
        self.unrecorded.remove(&round);
        self.touched = true;
    }
}
