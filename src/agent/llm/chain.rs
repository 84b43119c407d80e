//! The fallback chain: primary → fallback → offline planner. Each remote
//! provider sits behind a circuit breaker (time-based window, small minimum
//! number of calls): after repeated failures it is skipped without a call
//! until a half-open probe succeeds. The last link never fails.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use tower::{Service, ServiceExt};
use tower_resilience::circuitbreaker::{
    CircuitBreaker, CircuitBreakerError, CircuitBreakerLayer, CircuitState, SlidingWindowType,
};

use super::{LlmClient, LlmError, LlmRequest, LlmResponse};

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
struct ClientService(Arc<dyn LlmClient>);

impl Service<Arc<LlmRequest>> for ClientService {
    type Response = LlmResponse;
    type Error = LlmError;
    type Future = BoxFuture<'static, Result<LlmResponse, LlmError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), LlmError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Arc<LlmRequest>) -> Self::Future {
        let client = self.0.clone();
        Box::pin(async move { client.generate(&request).await })
    }
}

type Breaker = CircuitBreaker<ClientService, tower_resilience::circuitbreaker::DefaultClassifier>;

struct Link {
    provider: String,
    client: Arc<dyn LlmClient>,
    breaker: Option<Breaker>,
}

/// Tries each provider in turn; see the module docs.
pub struct LlmChain {
    links: Vec<Link>,
}

impl LlmChain {
    /// `remote` providers in order, each behind its own breaker, then the
    /// `last_resort` (the offline planner), called directly.
    pub fn new(
        remote: Vec<Arc<dyn LlmClient>>,
        last_resort: Arc<dyn LlmClient>,
        settings: &BreakerSettings,
    ) -> Self {
        let mut links: Vec<Link> = remote
            .into_iter()
            .map(|client| {
                let provider = client.provider().to_string();
                let breaker = breaker_for(&provider, settings)
                    .map(|layer| layer.layer_fn(ClientService(client.clone())));
                Link {
                    provider,
                    client,
                    breaker,
                }
            })
            .collect();
        links.push(Link {
            provider: last_resort.provider().to_string(),
            client: last_resort,
            breaker: None,
        });
        LlmChain { links }
    }

    /// Providers in the order they are tried.
    pub fn providers(&self) -> Vec<&str> {
        self.links.iter().map(|l| l.provider.as_str()).collect()
    }

    /// Whether `provider`'s breaker is open (skipped without a call).
    pub fn is_open(&self, provider: &str) -> bool {
        self.links
            .iter()
            .find(|l| l.provider == provider)
            .and_then(|l| l.breaker.as_ref())
            .is_some_and(|b| b.is_open())
    }
}

fn breaker_for(provider: &str, s: &BreakerSettings) -> Option<CircuitBreakerLayer> {
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

#[async_trait::async_trait]
impl LlmClient for LlmChain {
    fn provider(&self) -> &str {
        "chain"
    }

    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        let request = Arc::new(request.clone());
        let mut last_error = None;
        for link in &self.links {
            let result = match &link.breaker {
                Some(breaker) => {
                    let mut svc = breaker.clone();
                    match svc.ready().await {
                        Ok(ready) => ready.call(request.clone()).await,
                        Err(e) => Err(e),
                    }
                    .map_err(|e| match e {
                        CircuitBreakerError::OpenCircuit => LlmError::CircuitOpen {
                            provider: link.provider.clone(),
                        },
                        CircuitBreakerError::Inner(e) => e,
                    })
                }
                None => link.client.generate(&request).await,
            };
            match result {
                Ok(response) => return Ok(response),
                Err(e) => {
                    let outcome = if matches!(e, LlmError::CircuitOpen { .. }) {
                        "skipped"
                    } else {
                        "failed"
                    };
                    metrics::counter!("llm_fallbacks_total", "provider" => link.provider.clone(), "outcome" => outcome)
                        .increment(1);
                    tracing::warn!(provider = %link.provider, error = %e, "LLM provider failed; trying the next one");
                    last_error = Some(e);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| LlmError::Malformed {
            provider: "chain".into(),
            message: "no provider configured".into(),
        }))
    }
}
