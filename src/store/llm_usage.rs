//! Tokens spent per person, for the daily budget and for cost reports.

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
