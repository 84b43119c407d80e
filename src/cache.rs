//! Redis: rate-limit counters, short locks, caches, nonces — only what may
//! be lost. Connects on first use and reconnects by itself, so a Redis that
//! is down at start-up or goes away later degrades features, never the process.
//! Every call is bounded by [`CALL_BUDGET`], connecting included: a Redis
//! that accepts connections and never answers costs a request 100 ms, not
//! its place in the database pool.

use std::future::Future;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::OnceCell;

/// The longest any one Redis call may take, connecting included.
pub const CALL_BUDGET: Duration = Duration::from_millis(100);
/// After a call fails or times out, calls fail at once for this long: a
/// hung Redis costs one request per second its 100 ms, not every request.
pub const BACKOFF_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// A lazily connected, self-reconnecting Redis handle.
#[derive(Clone)]
pub struct Redis {
    client: redis::Client,
    manager: std::sync::Arc<OnceCell<ConnectionManager>>,
    /// Until when calls fail fast (after a failure); shared by the clones.
    failing_until: std::sync::Arc<std::sync::Mutex<Option<Instant>>>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redis { .. }")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RedisSetupError {
    #[error("REDIS_URL is not a valid Redis URL")]
    InvalidUrl,
}

impl Redis {
    pub fn new(url: &SecretString) -> Result<Self, RedisSetupError> {
        let client =
            redis::Client::open(url.expose_secret()).map_err(|_| RedisSetupError::InvalidUrl)?;
        Ok(Self {
            client,
            manager: Default::default(),
            failing_until: Default::default(),
        })
    }

    /// A connection, established on first use.
    pub async fn connection(&self) -> redis::RedisResult<ConnectionManager> {
        self.manager
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_secs(1)))
                    .set_response_timeout(Some(Duration::from_secs(1)))
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(self.client.clone(), config).await
            })
            .await
            .cloned()
    }

    /// Runs `call` on a connection within [`CALL_BUDGET`]; a timeout is an
    /// I/O error like any other, for the caller's fallback.
    pub async fn run<T, F, Fut>(&self, call: F) -> redis::RedisResult<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if self
            .failing_until()
            .is_some_and(|until| Instant::now() < until)
        {
            metrics::counter!("redis_calls_skipped_total").increment(1);
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "redis failed a moment ago; not asking again yet",
            )
            .into());
        }
        let work = async {
            let conn = self.connection().await?;
            call(conn).await
        };
        let result = match tokio::time::timeout(CALL_BUDGET, work).await {
            Ok(result) => result,
            Err(_) => {
                metrics::counter!("redis_call_timeouts_total").increment(1);
                Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "redis did not answer within its call budget",
                )
                .into())
            }
        };
        // Only an unreachable or silent server backs off; a script error
        // is the caller's to see.
        if let Err(e) = &result
            && (e.is_io_error() || e.is_timeout() || e.is_connection_dropped())
        {
            *self.lock_failing() = Some(Instant::now() + BACKOFF_AFTER_FAILURE);
        }
        result
    }

    fn failing_until(&self) -> Option<Instant> {
        *self.lock_failing()
    }

    fn lock_failing(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        // An Option<Instant> cannot be left half-written by a panic.
        self.failing_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Deletes every key matching the glob `pattern` (SCAN, then DEL per
    /// page, each call within [`CALL_BUDGET`]); returns how many went. For
    /// rare, whole-person clean-ups (an erase), not for hot paths.
    pub async fn delete_matching(&self, pattern: &str) -> redis::RedisResult<u64> {
        let mut cursor: u64 = 0;
        let mut deleted = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = self
                .run(|mut conn| async move {
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(pattern)
                        .arg("COUNT")
                        .arg(1000)
                        .query_async(&mut conn)
                        .await
                })
                .await?;
            if !keys.is_empty() {
                let n: u64 = self
                    .run(|mut conn| async move {
                        redis::cmd("DEL").arg(&keys).query_async(&mut conn).await
                    })
                    .await?;
                deleted += n;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }

    pub async fn ping(&self) -> redis::RedisResult<()> {
        self.run(|mut conn| async move {
            redis::cmd("PING").query_async::<String>(&mut conn).await?;
            Ok(())
        })
        .await
    }
}

/// `text` with the glob characters of Redis' MATCH escaped, so a value
/// (an id, a phone number) matches only itself.
pub fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
