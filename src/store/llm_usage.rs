//! Tokens spent per person, for the daily budgets (tokens and money) and
//! for cost reports. Rows keep the model, so money is computed from the
//! price table when it is needed, with the prices of the day.

use serde::Deserialize;

use super::StoreError;
use crate::db::UserTx;

pub async fn record_llm_usage(
    tx: &mut UserTx,
    provider: &str,
    model: &str,
    input_tokens: u32,
    output_tokens: u32,
    total_tokens: u32,
) -> Result<(), StoreError> {
    let user = tx.uuid();
    sqlx::query(
        "insert into llm_usage (user_id, provider, model, input_tokens, output_tokens, total_tokens) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(user)
    .bind(provider)
    .bind(model)
    .bind(input_tokens as i32)
    .bind(output_tokens as i32)
    .bind(total_tokens as i32)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// One model's tokens since a moment, summed (the turn facts read them for
/// the daily budgets as a JSON array of these).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ModelUsage {
    pub model: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
}
