//! How fast one person may text: per person and per number, shared across
//! replicas through Redis, asked once per webhook before any transaction
//! opens. Over the limit a text is kept and answered later; Redis down or
//! slow never costs a text.

use super::keywords;
use super::rate_limit::{Decision, Rate};
use super::webhook::WebhookState;
use crate::store::{PhoneNumber, UserId};

/// What Redis said about a sender for one webhook.
#[derive(Clone, Copy)]
pub(super) struct SenderLimits {
    /// How long a kept message waits, when the sender is over the limit.
    pub limited: Option<std::time::Duration>,
    /// Whether this is the first limited text of the minute (it is told).
    pub slow_down: bool,
}

impl SenderLimits {
    /// Asked before any transaction opens: however slow Redis is, it never
    /// holds a database connection. Keywords are never limited.
    pub async fn ask(
        state: &WebhookState,
        user_id: UserId,
        from: &PhoneNumber,
        text: &str,
    ) -> Self {
        let limited = match keywords::may_be_keyword(text, &state.config.twilio) {
            true => None,
            false => over_limit(state, user_id, from).await,
        };
        let slow_down = limited.is_some() && first_slow_down(state, user_id).await;
        SenderLimits { limited, slow_down }
    }
}

/// Per person and per number, shared across replicas: `Some(wait)` when
/// over the limit, with how long until the sender is back under it. When
/// Redis is down or slow the message is accepted: losing it would be worse
/// than answering it.
async fn over_limit(
    state: &WebhookState,
    user: UserId,
    from: &PhoneNumber,
) -> Option<std::time::Duration> {
    let limiter = state.limiter.as_ref()?;
    let per_minute = state.config.twilio.inbound_per_minute;
    let rate = Rate {
        count: per_minute,
        period: std::time::Duration::from_secs(60),
        burst: per_minute / 2,
    };
    for key in [format!("in:user:{user}"), format!("in:phone:{from}")] {
        match limiter.check(&key, rate).await {
            Ok(Decision::Allowed) => {}
            Ok(Decision::Limited { retry_after }) => {
                return Some(retry_after.clamp(KEPT_MESSAGE_MIN_WAIT, rate.period));
            }
            Err(e) => {
                tracing::warn!(error = %e, "rate limiter unavailable; accepting the message");
                metrics::counter!("rate_limiter_unavailable_total").increment(1);
                return None;
            }
        }
    }
    None
}

/// The shortest wait before a kept message is answered.
const KEPT_MESSAGE_MIN_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

async fn first_slow_down(state: &WebhookState, user: UserId) -> bool {
    match &state.limiter {
        Some(limiter) => limiter
            .first_in_window(
                &format!("slow:user:{user}"),
                std::time::Duration::from_secs(60),
            )
            .await
            .unwrap_or(false),
        None => false,
    }
}
