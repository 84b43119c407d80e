//! The rolling summary: when the stored conversation grows past a
//! threshold, older turns are folded into a summary (by the model when one
//! answers, else by keeping the person's own words), so nothing the person
//! said is silently lost when it leaves the recent window.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::llm::{LlmClient, LlmRequest, Message};
use super::planner::RECENT_MESSAGES;
use crate::db::UserTx;
use crate::store::{ConversationSummary, Direction, StoreError, StoredMessage, UserId};

/// Messages not yet summarised before a new summary is made.
pub const SUMMARY_THRESHOLD: usize = 30;
const SUMMARY_MAX_CHARS: usize = 2000;

/// Whether enough messages have piled up since the last summary.
pub async fn summary_due(tx: &mut UserTx) -> Result<bool, StoreError> {
    let unsummarised = ConversationSummary::messages_not_covered(tx).await?;
    Ok(unsummarised >= SUMMARY_THRESHOLD as i64)
}

/// Folds older turns into the summary when due. Failures are logged, never
/// surfaced: the turn's reply is already stored.
pub async fn maybe_summarise(pool: &PgPool, user: UserId, llm: &dyn LlmClient, turn: &LlmRequest) {
    if let Err(e) = summarise(pool, user, llm, turn).await {
        tracing::warn!(error = %e, "conversation summary skipped");
    }
}

async fn summarise(
    pool: &PgPool,
    user: UserId,
    llm: &dyn LlmClient,
    turn: &LlmRequest,
) -> Result<(), StoreError> {
    let mut tx = UserTx::begin(pool, user).await?;
    let previous = ConversationSummary::latest(&mut tx).await?;
    let unsummarised =
        StoredMessage::since(&mut tx, previous.as_ref().map(|s| s.covers_until)).await?;
    tx.commit().await?;
    if unsummarised.len() < SUMMARY_THRESHOLD {
        return Ok(());
    }
    let keep = RECENT_MESSAGES as usize;
    let older = &unsummarised[..unsummarised.len() - keep];
    let Some(covers_until) = older.last().map(|m| m.created_at) else {
        return Ok(());
    };
    let transcript: String = older
        .iter()
        .map(|m| {
            format!(
                "{}: {}",
                if m.direction == Direction::Inbound {
                    "Person"
                } else {
                    "Nudge"
                },
                m.body
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let previous_text = previous.map(|s| s.summary).unwrap_or_default();

    let request = LlmRequest {
        system: "Summarise this SMS conversation for your own future reference, in at most 600 characters. \
                 Keep every commitment, date, name, number and preference the person gave. Plain text."
            .into(),
        messages: vec![Message::user_text(format!(
            "Summary so far: {previous_text}\n\nNew messages:\n{transcript}"
        ))],
        tools: Vec::new(),
        context: turn.context.clone(),
    };
    let summary = match llm.generate(&request).await {
        Ok(r)
            if r.provider != "offline"
                && r.message.function_calls().is_empty()
                && !r.message.text().trim().is_empty() =>
        {
            r.message.text().trim().to_string()
        }
        _ => extractive(
            &previous_text,
            older
                .iter()
                .filter(|m| m.direction == Direction::Inbound)
                .map(|m| (m.created_at, m.body.as_str())),
        ),
    };
    let mut tx = UserTx::begin(pool, user).await?;
    ConversationSummary::save(&mut tx, &summary, covers_until).await?;
    tx.commit().await?;
    Ok(())
}

/// Without a model: the previous summary plus the person's own words,
/// newest kept when space runs out.
fn extractive<'a>(previous: &str, said: impl Iterator<Item = (DateTime<Utc>, &'a str)>) -> String {
    let mut parts: Vec<String> = said
        .map(|(at, body)| format!("[{}] {body}", at.format("%Y-%m-%d")))
        .collect();
    if !previous.is_empty() {
        parts.insert(0, previous.to_string());
    }
    let mut text = parts.join(" | ");
    while text.chars().count() > SUMMARY_MAX_CHARS && parts.len() > 1 {
        parts.remove(0);
        text = parts.join(" | ");
    }
    text.chars().take(SUMMARY_MAX_CHARS).collect()
}
