//! Outbound pacing: SMS leave at the rate Twilio accepts (`TWILIO_MAX_MPS`,
//! segments per second), shared by every worker through a Redis token
//! bucket. With Redis down each process paces itself at half the rate — a
//! conservative guess that two workers run — so nothing is dropped and
//! Twilio is not flooded.
//!
//! Replies jump ahead of reminders because reminders are delivered a few at
//! a time per process, in due order, each booking its slot only when it is
//! about to leave: a reply books the next free slot, ahead of every
//! reminder still waiting in the queue.

use std::time::Duration;

use super::rate_limit::{LocalPacer, RedisPacer};
use crate::cache::Redis;

const KEY: &str = "twilio";

/// The share of `TWILIO_MAX_MPS` actually booked. Texts leave on their
/// slots, but reach Twilio a few milliseconds late or early (a loaded
/// machine, a slow connection), so at exactly the account's rate some
/// second would count one text too many and Twilio would refuse it (429).
/// Three percent under the rate absorbs that jitter.
const HEADROOM: f64 = 0.97;

pub struct Pacer {
    redis: Option<RedisPacer>,
    local: LocalPacer,
}

impl Pacer {
    pub fn new(redis: Option<Redis>, prefix: &str) -> Self {
        Pacer {
            redis: redis.map(|r| RedisPacer::new(r, format!("{prefix}pace"))),
            local: LocalPacer::new(),
        }
    }

    /// Waits until `segments` may leave at `per_second` (less the headroom).
    pub async fn wait_turn(&self, segments: u32, per_second: f64) -> Duration {
        let per_second = per_second * HEADROOM;
        let wait = match &self.redis {
            Some(redis) => match redis.reserve(KEY, segments, per_second).await {
                Ok(wait) => wait,
                Err(e) => {
                    tracing::warn!(error = %e, "pacer unavailable; pacing in process");
                    metrics::counter!("sms_pacer_fallback_total").increment(1);
                    self.local.reserve(KEY, segments, per_second / 2.0).await
                }
            },
            None => self.local.reserve(KEY, segments, per_second).await,
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        metrics::histogram!("sms_pacing_wait_seconds").record(wait.as_secs_f64());
        wait
    }
}
