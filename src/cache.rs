//! Redis: rate-limit counters, short locks, caches, nonces — only what may
//! be lost. Connects on first use and reconnects by itself, so a Redis that
//! is down at start-up or goes away later degrades features, never the process.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::OnceCell;

/// A lazily connected, self-reconnecting Redis handle.
#[derive(Clone)]
pub struct Redis {
    client: redis::Client,
    manager: std::sync::Arc<OnceCell<ConnectionManager>>,
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

    pub async fn ping(&self) -> redis::RedisResult<()> {
        let mut conn = self.connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        Ok(())
    }
}
