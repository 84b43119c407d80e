//! The one kind of circuit breaker Nudge uses in front of a remote
//! provider (LLMs, OAuth token endpoints, calendar and mail APIs, web
//! search): `tower-resilience`'s, with a time-based window, built here so
//! every provider's breaker has the same settings shape and state gauge.

use std::future::Future;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use tower::{Service, ServiceExt};
use tower_resilience::circuitbreaker::{
    CircuitBreaker, CircuitBreakerError, CircuitBreakerLayer, CircuitState, DefaultClassifier,
    SlidingWindowType,
};

/// How quickly a failing provider is taken out of use and retried.
#[derive(Debug, Clone)]
pub struct BreakerSettings {
    /// Failures are counted over this window.
    pub window: Duration,
    /// No decision before this many calls in the window.
    pub minimum_calls: usize,
    /// Open when this share of calls failed.
    pub failure_rate: f64,
    /// Stay open this long before letting one probe through.
    pub open_for: Duration,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        BreakerSettings {
            window: Duration::from_secs(60),
            minimum_calls: 3,
            failure_rate: 0.5,
            open_for: Duration::from_secs(30),
        }
    }
}

/// A breaker layer for `provider`; its state goes to the gauge named
/// `gauge` (0 closed, 1 open, 2 half-open) with a `provider` label.
/// `None` when the settings are rejected: the provider then runs
/// unprotected rather than not at all.
pub fn breaker_layer(
    gauge: &'static str,
    provider: &str,
    s: &BreakerSettings,
) -> Option<CircuitBreakerLayer> {
    let name = provider.to_string();
    metrics::gauge!(gauge, "provider" => name.clone()).set(0.0);
    let built = CircuitBreakerLayer::builder()
        .name(name.clone())
        .sliding_window_type(SlidingWindowType::TimeBased)
        .sliding_window_duration(s.window)
        .minimum_number_of_calls(s.minimum_calls)
        .failure_rate_threshold(s.failure_rate)
        .wait_duration_in_open(s.open_for)
        .permitted_calls_in_half_open(1)
        .on_state_transition(move |from, to| {
            let value = match to {
                CircuitState::Closed => 0.0,
                CircuitState::Open => 1.0,
                CircuitState::HalfOpen => 2.0,
            };
            metrics::gauge!(gauge, "provider" => name.clone()).set(value);
            tracing::warn!(provider = %name, ?from, ?to, "circuit breaker changed state");
        })
        .build();
    match built {
        Ok(layer) => Some(layer),
        Err(e) => {
            tracing::error!(provider, error = %e, "circuit breaker settings rejected; provider runs without one");
            None
        }
    }
}

/// Runs the future it is handed: lets one breaker guard calls of any shape.
#[derive(Clone, Copy)]
pub struct Passthrough;

impl<T: Send + 'static, E: Send + 'static> Service<BoxFuture<'static, Result<T, E>>>
    for Passthrough
{
    type Response = T;
    type Error = E;
    type Future = BoxFuture<'static, Result<T, E>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, call: BoxFuture<'static, Result<T, E>>) -> Self::Future {
        call
    }
}

/// A provider's breaker for calls that are futures: an `Err` counts as a
/// failure (the provider is unwell), an `Ok` as a success — so a caller
/// returns answers the provider gave on purpose (a 404, a refused grant)
/// inside the `Ok`. Clones share one state.
#[derive(Clone)]
pub struct ProviderBreaker {
    provider: String,
    inner: Option<CircuitBreaker<Passthrough, DefaultClassifier>>,
}

/// What a guarded call came to when it did not succeed.
#[derive(Debug)]
pub enum Guarded<E> {
    /// The breaker is open: no call was made.
    Open,
    /// The call failed (and counted against the provider).
    Failed(E),
}

impl ProviderBreaker {
    pub fn new(gauge: &'static str, provider: &str, settings: &BreakerSettings) -> Self {
        ProviderBreaker {
            provider: provider.to_string(),
            inner: breaker_layer(gauge, provider, settings).map(|l| l.layer_fn(Passthrough)),
        }
    }

    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Whether calls are being refused without reaching the provider.
    pub fn is_open(&self) -> bool {
        self.inner.as_ref().is_some_and(|b| b.is_open())
    }

    /// Runs `call` unless the breaker is open, and records its outcome.
    pub async fn call<T, E>(
        &self,
        call: impl Future<Output = Result<T, E>> + Send + 'static,
    ) -> Result<T, Guarded<E>>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        let call: BoxFuture<'static, Result<T, E>> = Box::pin(call);
        let Some(breaker) = &self.inner else {
            return call.await.map_err(Guarded::Failed);
        };
        let mut svc = breaker.clone();
        let ready = match ServiceExt::<BoxFuture<'static, Result<T, E>>>::ready(&mut svc).await {
            Ok(ready) => ready,
            Err(CircuitBreakerError::OpenCircuit) => return Err(Guarded::Open),
            Err(CircuitBreakerError::Inner(e)) => return Err(Guarded::Failed(e)),
        };
        ready.call(call).await.map_err(|e| match e {
            CircuitBreakerError::OpenCircuit => Guarded::Open,
            CircuitBreakerError::Inner(e) => Guarded::Failed(e),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn failures_open_it_and_answers_do_not() {
        let settings = BreakerSettings {
            minimum_calls: 3,
            ..BreakerSettings::default()
        };
        let breaker = ProviderBreaker::new("test_breaker_state", "unit", &settings);
        // Answers the provider gave on purpose (inside Ok) never open it.
        for _ in 0..5 {
            let r: Result<Result<(), &str>, _> =
                breaker.call(async { Ok::<_, ()>(Err("404")) }).await;
            assert!(matches!(r, Ok(Err("404"))));
        }
        assert!(!breaker.is_open());
        let mut opened_after = None;
        for n in 1..=10 {
            let r: Result<(), Guarded<&str>> = breaker.call(async { Err("503") }).await;
            if matches!(r, Err(Guarded::Open)) {
                opened_after = Some(n);
                break;
            }
        }
        assert!(opened_after.is_some(), "never opened");
        assert!(breaker.is_open());
    }
}
