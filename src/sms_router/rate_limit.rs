//! Rate limits shared by every replica through Redis, with in-process
//! equivalents for when Redis is away.
//!
//! # GCRA
//!
//! Limits use the generic cell rate algorithm: a rate of `count` per
//! `period` means one request per *emission interval* `T = period / count`,
//! and the only state kept per key is the *theoretical arrival time* (TAT),
//! the moment the key would be back to idle if requests had arrived exactly
//! on schedule. A request at `now` is allowed when `now >= TAT - burst·T`;
//! allowing it moves the TAT to `max(TAT, now) + T`. So an idle key takes
//! `burst + 1` requests at once, then one more every `T`, and a limited
//! caller learns exactly how long to wait. Unlike fixed windows there is no
//! doubled burst at a window edge, and unlike a sliding log the state is one
//! number per key. In Redis the read-compare-write is one Lua script (so
//! replicas cannot race), the clock is Redis's `TIME` (so replicas with
//! skewed clocks still agree), and a key expires when it would be idle
//! anyway, so idle keys cost nothing.
//!
//! Outbound pacing ([`RedisPacer`], [`LocalPacer`]) is the same schedule
//! with no burst and a cost per request: each reservation books the next
//! free slot of `cost / per_second` seconds and says how long to wait for
//! it, so all workers together stay under the provider's messages-per-second.
//!
//! # When Redis is down
//!
//! The Redis types return `Err` within [`crate::cache::CALL_BUDGET`]
//! (100 ms, connecting included) rather than guessing; each caller picks its
//! policy, and the intended ones are:
//!
//! - protective limits (floods from one number, per-person budgets) fall
//!   back to [`LocalLimiter`]: a Redis outage must not silence everyone, nor
//!   open the door to a flood. It is per process, so N replicas allow up to
//!   N times the budget; callers wanting to stay conservative pass a rate
//!   divided by the replica count.
//! - optional extras, such as the one "slow down" reply per window, fail
//!   safe: when [`RedisLimiter::first_in_window`] errs, skip the extra,
//!   since sending it twice is worse than not sending it.
//! - pacing falls back to [`LocalPacer`] with `per_second` divided by the
//!   replica count, so the provider's limit still holds.
//!
//! Redis 5 or later is required: the scripts call `TIME` before writing,
//! which needs script effects replication (the default since 5).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use redis::{RedisError, Script};
use tokio::time::Instant;

use crate::cache::Redis;

/// Intervals, bursts and waits are capped at this span, so absurd rates
/// (a period of years, a burst of billions) stay within the exact range
/// of Lua's doubles and of `Instant` arithmetic instead of misbehaving.
pub const MAX_SPAN: Duration = Duration::from_secs(365 * 24 * 3600);

/// A sustained rate with an allowance for bursts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// sustained requests per period; 0 allows nothing
    pub count: u32,
    pub period: Duration,
    /// extra requests allowed in a burst
    pub burst: u32,
}

/// The answer to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Not now; the same request would be allowed after `retry_after`.
    Limited {
        retry_after: Duration,
    },
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allowed
    }
}

/// What a [`Rate`] means for GCRA, worked out once for both limiters.
enum Gcra {
    /// count is 0: nothing is ever allowed.
    Deny(Duration),
    /// The interval rounds to zero: nothing is ever limited.
    Unlimited,
    Limit {
        interval: Duration,
        tolerance: Duration,
    },
}

impl Gcra {
    fn of(rate: Rate) -> Gcra {
        if rate.count == 0 {
            return Gcra::Deny(rate.period.min(MAX_SPAN));
        }
        let interval = (rate.period / rate.count).min(MAX_SPAN);
        if interval.is_zero() {
            return Gcra::Unlimited;
        }
        let tolerance = interval.saturating_mul(rate.burst).min(MAX_SPAN);
        Gcra::Limit {
            interval,
            tolerance,
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// How long `cost` units take at `per_second`; zero when pacing is off
/// (a rate that is not a positive number means "no limit").
fn pacing_cost(cost: u32, per_second: f64) -> Duration {
    if cost == 0 || !per_second.is_finite() || per_second <= 0.0 {
        return Duration::ZERO;
    }
    let secs = f64::from(cost) / per_second;
    Duration::try_from_secs_f64(secs)
        .unwrap_or(MAX_SPAN)
        .min(MAX_SPAN)
}

// Times are integer microseconds (exact in Lua's doubles until the year
// 2255); numbers are formatted with %d because Redis would otherwise turn
// large Lua numbers into exponent notation.
static GCRA_SCRIPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
  tat = now
end
local allow_at = tat - tolerance
if now < allow_at then
  return {0, allow_at - now}
end
local new_tat = tat + interval
local ttl_ms = math.max(1, math.ceil((new_tat - now) / 1000))
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', string.format('%d', ttl_ms))
return {1, 0}
",
    )
});

static PACER_SCRIPT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cost = tonumber(ARGV[1])
local free_at = tonumber(redis.call('GET', KEYS[1]))
if free_at == nil or free_at < now then
  free_at = now
end
local next_free = free_at + cost
local ttl_ms = math.max(1, math.ceil((next_free - now) / 1000))
redis.call('SET', KEYS[1], string.format('%d', next_free), 'PX', string.format('%d', ttl_ms))
return free_at - now
",
    )
});

/// GCRA limits shared by every replica.
#[derive(Debug, Clone)]
pub struct RedisLimiter {
    redis: Redis,
    prefix: String,
}

impl RedisLimiter {
    /// `prefix` namespaces the keys (`{prefix}:gcra:{key}`,
    /// `{prefix}:once:{key}`).
    pub fn new(redis: Redis, prefix: impl Into<String>) -> Self {
        RedisLimiter {
            redis,
            prefix: prefix.into(),
        }
    }

    /// Counts one request against `key`'s budget. GCRA in one Lua script
    /// (EVALSHA, loaded automatically on NOSCRIPT) with Redis's `TIME` as
    /// the clock; the key expires when the budget is fully recovered.
    /// `Err` when Redis cannot be reached: callers choose to fail open or
    /// fall back to [`LocalLimiter`] (see the module docs).
    pub async fn check(&self, key: &str, rate: Rate) -> Result<Decision, RedisError> {
        let (interval, tolerance) = match Gcra::of(rate) {
            Gcra::Deny(retry_after) => return Ok(Decision::Limited { retry_after }),
            Gcra::Unlimited => return Ok(Decision::Allowed),
            Gcra::Limit {
                interval,
                tolerance,
            } => (interval, tolerance),
        };
        let key = format!("{}:gcra:{key}", self.prefix);
        let (allowed, wait_us): (i64, i64) = self
            .redis
            .run(|mut conn| async move {
                GCRA_SCRIPT
                    .key(key)
                    .arg(micros(interval))
                    .arg(micros(tolerance))
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(if allowed == 1 {
            Decision::Allowed
        } else {
            Decision::Limited {
                retry_after: Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)),
            }
        })
    }

    /// A one-shot flag per window (`SET NX PX`), for "one 'slow down' reply
    /// per window": `Ok(true)` the first time in the window, `Ok(false)`
    /// until it has passed.
    pub async fn first_in_window(&self, key: &str, window: Duration) -> Result<bool, RedisError> {
        // PX 0 is an error in Redis; the shortest window is 1 ms.
        let window_ms = u64::try_from(window.min(MAX_SPAN).as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let key = format!("{}:once:{key}", self.prefix);
        let set: Option<String> = self
            .redis
            .run(|mut conn| async move {
                redis::cmd("SET")
                    .arg(key)
                    .arg(1)
                    .arg("NX")
                    .arg("PX")
                    .arg(window_ms)
                    .query_async(&mut conn)
                    .await
            })
            .await?;
        Ok(set.is_some())
    }
}

/// Drops entries that have gone idle once the map has doubled since the
/// last sweep, so memory follows the number of active keys.
struct Sweeping {
    entries: HashMap<String, Instant>,
    sweep_at: usize,
}

const MIN_SWEEP_AT: usize = 1_024;

impl Sweeping {
    fn new() -> Self {
        Sweeping {
            entries: HashMap::new(),
            sweep_at: MIN_SWEEP_AT,
        }
    }

    /// Removes every key whose stored instant has passed (an idle key,
    /// equivalent to an absent one).
    fn sweep(&mut self, now: Instant) {
        if self.entries.len() >= self.sweep_at {
            self.entries.retain(|_, at| *at > now);
            self.sweep_at = (self.entries.len() * 2).max(MIN_SWEEP_AT);
        }
    }
}

/// In-process GCRA, the fallback when Redis is down. Uses tokio's
/// `Instant` so it follows a paused test clock.
pub struct LocalLimiter {
    tats: Mutex<Sweeping>,
}

impl Default for LocalLimiter {
    fn default() -> Self {
        LocalLimiter {
            tats: Mutex::new(Sweeping::new()),
        }
    }
}

impl std::fmt::Debug for LocalLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalLimiter { .. }")
    }
}

impl LocalLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Same rules as [`RedisLimiter::check`], for this process only.
    pub fn check(&self, key: &str, rate: Rate) -> Decision {
        self.check_at(key, rate, Instant::now())
    }

    fn check_at(&self, key: &str, rate: Rate, now: Instant) -> Decision {
        let (interval, tolerance) = match Gcra::of(rate) {
            Gcra::Deny(retry_after) => return Decision::Limited { retry_after },
            Gcra::Unlimited => return Decision::Allowed,
            Gcra::Limit {
                interval,
                tolerance,
            } => (interval, tolerance),
        };
        // The map is only touched in short, non-panicking sections, so a
        // poisoned lock still holds consistent data.
        let mut tats = self.tats.lock().unwrap_or_else(|e| e.into_inner());
        tats.sweep(now);
        let tat = tats
            .entries
            .get(key)
            .copied()
            .filter(|tat| *tat > now)
            .unwrap_or(now);
        // An allow_at before the clock's origin is in the past anyway.
        if let Some(allow_at) = tat.checked_sub(tolerance)
            && now < allow_at
        {
            return Decision::Limited {
                retry_after: allow_at - now,
            };
        }
        let new_tat = tat.checked_add(interval).unwrap_or(tat);
        tats.entries.insert(key.to_owned(), new_tat);
        Decision::Allowed
    }
}

/// Outbound pacing shared by every worker: a schedule of free slots kept
/// in Redis.
#[derive(Debug, Clone)]
pub struct RedisPacer {
    redis: Redis,
    prefix: String,
}

impl RedisPacer {
    /// `prefix` namespaces the keys (`{prefix}:pace:{key}`).
    pub fn new(redis: Redis, prefix: impl Into<String>) -> Self {
        RedisPacer {
            redis,
            prefix: prefix.into(),
        }
    }

    /// Books `cost` units (SMS segments) at `per_second` and returns how
    /// long the caller must wait before sending (zero if now). The booking
    /// stands even if the caller then gives up, which errs on the slow side.
    /// A `per_second` that is not a positive number disables pacing.
    pub async fn reserve(
        &self,
        key: &str,
        cost: u32,
        per_second: f64,
    ) -> Result<Duration, RedisError> {
        let cost = pacing_cost(cost, per_second);
        if cost.is_zero() {
            return Ok(Duration::ZERO);
        }
        let key = format!("{}:pace:{key}", self.prefix);
        let wait_us: i64 = self
            .redis
            .run(|mut conn| async move {
                PACER_SCRIPT
                    .key(key)
                    .arg(micros(cost))
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)))
    }
}

/// [`RedisPacer`] for this process only.
pub struct LocalPacer {
    free_at: Mutex<Sweeping>,
}

impl Default for LocalPacer {
    fn default() -> Self {
        LocalPacer {
            free_at: Mutex::new(Sweeping::new()),
        }
    }
}

impl std::fmt::Debug for LocalPacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalPacer { .. }")
    }
}

impl LocalPacer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Same rules as [`RedisPacer::reserve`], for this process only.
    pub async fn reserve(&self, key: &str, cost: u32, per_second: f64) -> Duration {
        self.reserve_at(key, cost, per_second, Instant::now())
    }

    fn reserve_at(&self, key: &str, cost: u32, per_second: f64, now: Instant) -> Duration {
        let cost = pacing_cost(cost, per_second);
        if cost.is_zero() {
            return Duration::ZERO;
        }
        let mut slots = self.free_at.lock().unwrap_or_else(|e| e.into_inner());
        slots.sweep(now);
        let free_at = slots
            .entries
            .get(key)
            .copied()
            .filter(|at| *at > now)
            .unwrap_or(now);
        let next_free = free_at.checked_add(cost).unwrap_or(free_at);
        slots.entries.insert(key.to_owned(), next_free);
        free_at - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(count: u32, period_ms: u64, burst: u32) -> Rate {
        Rate {
            count,
            period: Duration::from_millis(period_ms),
            burst,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn local_gcra_allows_a_burst_then_one_per_interval() {
        let limiter = LocalLimiter::new();
        let t0 = Instant::now();
        // 10 per second: one every 100 ms, bursts of 1 + 2.
        let r = rate(10, 1_000, 2);
        for _ in 0..3 {
            assert_eq!(limiter.check_at("k", r, t0), Decision::Allowed);
        }
        assert_eq!(
            limiter.check_at("k", r, t0),
            Decision::Limited {
                retry_after: ms(100)
            }
        );
        assert_eq!(
            limiter.check_at("k", r, t0 + ms(60)),
            Decision::Limited {
                retry_after: ms(40)
            }
        );
        assert_eq!(limiter.check_at("k", r, t0 + ms(100)), Decision::Allowed);
        assert!(!limiter.check_at("k", r, t0 + ms(100)).is_allowed());
        // Other keys have their own budget.
        assert_eq!(limiter.check_at("other", r, t0), Decision::Allowed);
        // After full recovery the whole burst is back.
        let later = t0 + ms(1_100);
        for _ in 0..3 {
            assert_eq!(limiter.check_at("k", r, later), Decision::Allowed);
        }
        assert!(!limiter.check_at("k", r, later).is_allowed());
        // The public entry point reads the clock itself.
        assert!(limiter.check("fresh", r).is_allowed());
    }

    #[tokio::test]
    async fn degenerate_rates_do_not_panic() {
        let limiter = LocalLimiter::new();
        assert_eq!(
            limiter.check("k", rate(0, 1_000, 5)),
            Decision::Limited {
                retry_after: Duration::from_secs(1)
            }
        );
        assert!(limiter.check("k", rate(5, 0, 0)).is_allowed());
        let huge = Rate {
            count: 1,
            period: Duration::MAX,
            burst: u32::MAX,
        };
        // The burst is capped at MAX_SPAN, i.e. one interval here.
        let t0 = Instant::now();
        assert!(limiter.check_at("h", huge, t0).is_allowed());
        assert!(limiter.check_at("h", huge, t0).is_allowed());
        assert_eq!(
            limiter.check_at("h", huge, t0),
            Decision::Limited {
                retry_after: MAX_SPAN
            }
        );
        let pacer = LocalPacer::new();
        for per_second in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(pacer.reserve("p", 3, per_second).await, Duration::ZERO);
        }
        assert_eq!(
            pacer.reserve_at("p", 1, f64::MIN_POSITIVE, t0),
            Duration::ZERO
        );
        assert_eq!(pacer.reserve_at("p", 1, f64::MIN_POSITIVE, t0), MAX_SPAN);
    }

    #[tokio::test]
    async fn local_pacer_books_consecutive_slots() {
        let pacer = LocalPacer::new();
        let t0 = Instant::now();
        let waits: Vec<_> = (0..10)
            .map(|_| pacer.reserve_at("twilio", 1, 5.0, t0))
            .collect();
        let expected: Vec<_> = (0..10).map(|i| ms(200 * i)).collect();
        assert_eq!(waits, expected);
        // Half a second later, the remaining waits shrink accordingly.
        assert_eq!(pacer.reserve_at("twilio", 1, 5.0, t0 + ms(500)), ms(1_500));
        // A 3-segment message books three slots.
        let idle = t0 + Duration::from_secs(5);
        assert_eq!(pacer.reserve_at("twilio", 3, 5.0, idle), Duration::ZERO);
        assert_eq!(pacer.reserve_at("twilio", 1, 5.0, idle), ms(600));
        // The async entry point uses the real clock.
        assert_eq!(pacer.reserve("other", 1, 5.0).await, Duration::ZERO);
    }

    #[test]
    fn idle_keys_are_swept() {
        let limiter = LocalLimiter::new();
        let t0 = Instant::now();
        let r = rate(1, 1_000, 0);
        for i in 0..MIN_SWEEP_AT {
            limiter.check_at(&i.to_string(), r, t0);
        }
        limiter.check_at("fresh", r, t0 + Duration::from_secs(2));
        let tats = limiter.tats.lock().unwrap();
        assert_eq!(tats.entries.len(), 1);
    }
}
