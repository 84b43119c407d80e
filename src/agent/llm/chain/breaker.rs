//! The circuit breaker in front of each remote LLM provider: the tower
//! service it wraps; the breaker itself and its settings are the shared
//! ones of [`crate::http_client::breaker`].

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tower::Service;
use tower_resilience::circuitbreaker::{CircuitBreaker, CircuitBreakerLayer};

use super::budget::{Call, within};
use crate::agent::llm::{LlmClient, LlmError, LlmResponse};

pub use crate::http_client::breaker::BreakerSettings;

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
    crate::http_client::breaker::breaker_layer("llm_circuit_breaker_state", provider, s)
}
