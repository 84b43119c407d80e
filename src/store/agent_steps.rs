//! The agent's journal (`agent_steps`): the model responses that asked for
//! tools and the tool calls with their results, keyed by the inbound
//! message a turn answers. A tool records its step in the transaction of
//! its own effect, so both commit or neither does; a turn retried after a
//! crash reads them back and replays them instead of repeating the effect.
//!
//! Every query names its user (`user_id = $1`, from the `UserTx`);
//! row-level security is the second wall.

use serde_json::Value;
use uuid::Uuid;

use super::{StoreError, is_unique_violation};
use crate::db::UserTx;

/// What a step records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// A model response (the message, provider, model and token usage).
    Model,
    /// One function call and the result the model was given.
    Tool,
}

impl StepKind {
    fn as_str(self) -> &'static str {
        match self {
            StepKind::Model => "model",
            StepKind::Tool => "tool",
        }
    }
}

/// One recorded step of a turn.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentStep {
    pub round: u32,
    pub kind: StepKind,
    pub call_index: u32,
    pub name: Option<String>,
    pub result: Value,
}

#[derive(sqlx::FromRow)]
struct StepRow {
    round: i32,
    kind: String,
    call_index: i32,
    name: Option<String>,
    result: Value,
}

impl AgentStep {
    /// The steps recorded for the turn answering `message_id`, in order.
    pub async fn for_message(
        tx: &mut UserTx,
        message_id: Uuid,
    ) -> Result<Vec<AgentStep>, StoreError> {
        let user = tx.uuid();
        let rows: Vec<StepRow> = sqlx::query_as(
            "select round, kind, call_index, name, result from agent_steps \
             where user_id = $1 and message_id = $2 order by round, kind, call_index",
        )
        .bind(user)
        .bind(message_id)
        .fetch_all(tx.conn())
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let kind = match r.kind.as_str() {
                    "model" => StepKind::Model,
                    "tool" => StepKind::Tool,
                    _ => return None,
                };
                Some(AgentStep {
                    round: u32::try_from(r.round).ok()?,
                    kind,
                    call_index: u32::try_from(r.call_index).ok()?,
                    name: r.name,
                    result: r.result,
                })
            })
            .collect())
    }

    /// Records a model response; a second record of the same round (each
    /// tool of the round offers it) is a no-op.
    pub async fn record_model(
        tx: &mut UserTx,
        message_id: Uuid,
        round: u32,
        response: &Value,
    ) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query(
            "insert into agent_steps (user_id, message_id, round, kind, call_index, result) \
             values ($1, $2, $3, 'model', 0, $4) on conflict do nothing",
        )
        .bind(user)
        .bind(message_id)
        .bind(to_i32(round))
        .bind(response)
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// Records a tool call and its result. A call already recorded means a
    /// second run of the same turn raced this one: `Conflict`, so the
    /// caller rolls back its effect.
    pub async fn record_tool(
        tx: &mut UserTx,
        message_id: Uuid,
        round: u32,
        call_index: u32,
        name: &str,
        arguments: &Value,
        result: &Value,
    ) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query(
            "insert into agent_steps (user_id, message_id, round, kind, call_index, name, arguments, result) \
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(user)
        .bind(message_id)
        .bind(to_i32(round))
        .bind(StepKind::Tool.as_str())
        .bind(to_i32(call_index))
        .bind(name)
        .bind(arguments)
        .bind(result)
        .execute(tx.conn())
        .await
        .map_err(|e| match is_unique_violation(&e) {
            true => StoreError::Conflict("this tool call already ran for this message".into()),
            false => StoreError::Database(e),
        })?;
        Ok(())
    }

    /// Forgets a finished turn's steps (its reply is stored: it will not be
    /// retried).
    pub async fn forget(tx: &mut UserTx, message_id: Uuid) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query("delete from agent_steps where user_id = $1 and message_id = $2")
            .bind(user)
            .bind(message_id)
            .execute(tx.conn())
            .await?;
        Ok(())
    }
}

/// Rounds and call positions are bounded by the turn budget (a handful);
/// saturating keeps the conversion total.
fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Body and attachment count of an inbound message: what the agent needs
/// to decide whether there is text to read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundContent {
    pub body: String,
    pub media: usize,
}

impl InboundContent {
    pub async fn load(tx: &mut UserTx, message_id: Uuid) -> Result<Option<Self>, StoreError> {
        let user = tx.uuid();
        let row: Option<(String, i32)> = sqlx::query_as(
            "select body, case jsonb_typeof(media) when 'array' then jsonb_array_length(media) else 0 end \
             from messages where user_id = $1 and id = $2",
        )
        .bind(user)
        .bind(message_id)
        .fetch_optional(tx.conn())
        .await?;
        Ok(row.map(|(body, media)| InboundContent {
            body,
            media: usize::try_from(media).unwrap_or(0),
        }))
    }
}
