//! Placeholder until the limits module lands.
use std::time::Duration;
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub count: u32,
    pub period: Duration,
    pub burst: u32,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Limited { retry_after: Duration },
}
#[derive(Clone)]
pub struct RedisLimiter {
    _redis: crate::cache::Redis,
}
impl RedisLimiter {
    pub fn new(redis: crate::cache::Redis, _prefix: impl Into<String>) -> Self {
        Self { _redis: redis }
    }
    pub async fn check(&self, _key: &str, _rate: Rate) -> Result<Decision, redis::RedisError> {
        Ok(Decision::Allowed)
    }
    pub async fn first_in_window(&self, _key: &str, _window: Duration) -> Result<bool, redis::RedisError> {
        Ok(true)
    }
}
