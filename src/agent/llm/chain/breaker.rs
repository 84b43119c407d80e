//! The circuit breaker in front of each remote provider: its settings, the
//! tower service it wraps, and how it is built (with its state gauge).

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use tower::Service;
use tower_resilience::circuitbreaker::{
    CircuitBreaker, CircuitBreakerLayer, CircuitState, SlidingWindowType,
};

use super::budget::{Call, within};
use crate::agent::llm::{LlmClient, LlmError, LlmResponse};

/// How quickly a failing provider is taken out of the chain and retried.
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

/// Adapts an [`LlmClient`] to a tower service so the breaker can wrap it.
#[derive(Clone)]
pub(super) struct ClientService(pub(super) Arc<dyn LlmClient>);

impl Service<Call> for ClientService {
    type Response = LlmResponse;
    type Error = LlmError;
    type Future = BoxFuture<'static, Result<LlmResponse, LlmError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), LlmError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, (request, window): Call) -> Self::Future {
        let client = self.0.clone();
        Box::pin(async move { within(client.as_ref(), &request, window).await })
    }
}

pub(super) type Breaker =
    CircuitBreaker<ClientService, tower_resilience::circuitbreaker::DefaultClassifier>;
pub(super) fn breaker_for(provider: &str, s: &BreakerSettings) -> Option<CircuitBreakerLayer> {
    let name = provider.to_string();
    metrics::gauge!("llm_circuit_breaker_state", "provider" => name.clone()).set(0.0);
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
            metrics::gauge!("llm_circuit_breaker_state", "provider" => name.clone()).set(value);
            tracing::warn!(provider = %name, ?from, ?to, "LLM circuit breaker changed state");
        })
        .build();
    match built {
        Ok(layer) => Some(layer),
        Err(e) => {
            // Settings are ours, not the caller's; run unprotected rather than not at all.
            tracing::error!(provider, error = %e, "circuit breaker settings rejected; provider runs without one");
            None
        }
    }
}
