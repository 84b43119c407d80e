//! The fallback chain: primary → fallback → offline planner. Each remote
//! provider sits behind a circuit breaker (time-based window, small minimum
//! number of calls): after repeated failures it is skipped without a call
//! until a half-open probe succeeds. The last link never fails.
//!
//! Time: each remote provider gets a deadline cut from what is left of the
//! turn — at most [`DEFAULT_PROVIDER_DEADLINE`] (configurable), and never
//! more than an even share of the time left after a reserve for the last
//! resort — and its retries happen inside it. A hung or slow provider
//! therefore hands over within seconds, and the offline planner always has
//! time to answer.
//!
//! Stickiness: once a provider answered a turn's call, the turn's next
//! calls start at that provider. A turn that fell back never returns to an
//! earlier provider — which would cost its deadline again, and which (for
//! Gemini 3) may refuse the other provider's function calls.

use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tower::{Service, ServiceExt};
use tower_resilience::circuitbreaker::{
    CircuitBreaker, CircuitBreakerError, CircuitBreakerLayer, CircuitState, SlidingWindowType,
};

use super::models::{self, ModelCheck, ModelState, ModelStatus};
use super::{CallScope, LlmClient, LlmError, LlmRequest, LlmResponse};

/// The longest one remote provider may take for one call, retries
/// included (`LLM_PROVIDER_DEADLINE_SECONDS`). Gemini Flash-class models
/// answer a one-tool SMS turn in 1–3 s; 5 s leaves room for one retry and
/// keeps "Gemini and the fallback both hung" under 11 s of a 20 s turn.
pub const DEFAULT_PROVIDER_DEADLINE: Duration = Duration::from_secs(5);

/// Kept back from the remote providers for the last resort, which answers
/// in milliseconds.
const LAST_RESORT_RESERVE: Duration = Duration::from_secs(1);

/// Less than this is not worth a request.
const MIN_SLICE: Duration = Duration::from_millis(250);

/// How far past its deadline a provider's call is cut if it did not stop
/// by itself (it should: its requests carry the deadline).
const GRACE: Duration = Duration::from_millis(250);

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

/// One call as the breaker sees it: the request and the provider's deadline.
type Call = (Arc<LlmRequest>, Option<Instant>);

/// Adapts an [`LlmClient`] to a tower service so the breaker can wrap it.
#[derive(Clone)]
struct ClientService(Arc<dyn LlmClient>);

impl Service<Call> for ClientService {
    type Response = LlmResponse;
    type Error = LlmError;
    type Future = BoxFuture<'static, Result<LlmResponse, LlmError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), LlmError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, (request, deadline): Call) -> Self::Future {
        let client = self.0.clone();
        Box::pin(async move {
            let scope = CallScope {
                deadline,
                answered_by: None,
            };
            client.generate_scoped(&request, scope).await
        })
    }
}

type Breaker = CircuitBreaker<ClientService, tower_resilience::circuitbreaker::DefaultClassifier>;

struct Link {
    provider: String,
    client: Arc<dyn LlmClient>,
    breaker: Option<Breaker>,
    /// Remote providers get a slice of the turn; the last resort does not.
    remote: bool,
}

/// Tries each provider in turn; see the module docs.
pub struct LlmChain {
    links: Vec<Link>,
    provider_deadline: Duration,
    /// The remote providers' model checks, as last run.
    status: RwLock<Vec<ModelStatus>>,
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
                    remote: true,
                }
            })
            .collect();
        links.push(Link {
            provider: last_resort.provider().to_string(),
            client: last_resort,
            breaker: None,
            remote: false,
        });
        let status = links
            .iter()
            .filter(|l| l.remote)
            .map(|l| ModelStatus {
                provider: l.provider.clone(),
                model: l.client.model().to_owned(),
                state: ModelState::Pending,
            })
            .collect();
        LlmChain {
            links,
            provider_deadline: DEFAULT_PROVIDER_DEADLINE,
            status: RwLock::new(status),
        }
    }

    /// Caps each remote provider's call at `deadline` instead of
    /// [`DEFAULT_PROVIDER_DEADLINE`].
    pub fn with_provider_deadline(mut self, deadline: Duration) -> Self {
        self.provider_deadline = deadline;
        self
    }

    /// Every client in the order they are tried (`nudge admin llm check`
    /// calls each directly).
    pub fn clients(&self) -> Vec<Arc<dyn LlmClient>> {
        self.links.iter().map(|l| l.client.clone()).collect()
    }

    /// The deadline for a call to remote link `index`, `None` when the
    /// turn has no time left for it.
    fn slice_for(&self, index: usize, turn: Option<Duration>) -> Option<Duration> {
        let remote_left = self.links[index..].iter().filter(|l| l.remote).count();
        let share = match turn {
            Some(left) => {
                let usable = left.saturating_sub(LAST_RESORT_RESERVE);
                usable / u32::try_from(remote_left.max(1)).unwrap_or(u32::MAX)
            }
            None => self.provider_deadline,
        };
        let slice = share.min(self.provider_deadline);
        (slice >= MIN_SLICE).then_some(slice)
    }

    /// A 404 from a provider that served the model at start-up: it was
    /// retired since. Reported as the start-up check would (error line,
    /// `/readyz`, gauge), once.
    fn model_gone(&self, link: &Link, message: &str) {
        let model = link.client.model().to_owned();
        let mut status = self.status.write().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = status
            .iter_mut()
            .find(|s| s.provider == link.provider && s.model == model)
        else {
            return;
        };
        if matches!(entry.state, ModelState::Unavailable(_)) {
            return;
        }
        let check: ModelCheck = Err(models::ModelCheckError::Unknown {
            provider: link.provider.clone(),
            model,
            message: message.to_owned(),
        });
        *entry = models::report(&check);
    }

    /// One remote link, within its slice.
    async fn call_remote(
        &self,
        link: &Link,
        request: &Arc<LlmRequest>,
        slice: Duration,
    ) -> Result<LlmResponse, LlmError> {
        let deadline = Instant::now() + slice;
        let call = async {
            match &link.breaker {
                Some(breaker) => {
                    let mut svc = breaker.clone();
                    match svc.ready().await {
                        Ok(ready) => ready.call((request.clone(), Some(deadline))).await,
                        Err(e) => Err(e),
                    }
                    .map_err(|e| match e {
                        CircuitBreakerError::OpenCircuit => LlmError::CircuitOpen {
                            provider: link.provider.clone(),
                        },
                        CircuitBreakerError::Inner(e) => e,
                    })
                }
                None => {
                    let scope = CallScope {
                        deadline: Some(deadline),
                        answered_by: None,
                    };
                    link.client.generate_scoped(request, scope).await
                }
            }
        };
        match tokio::time::timeout(slice + GRACE, call).await {
            Ok(result) => result,
            Err(_) => Err(LlmError::Unavailable {
                provider: link.provider.clone(),
                status: None,
                message: format!("no answer within its {slice:?} share of the turn"),
                retry_after: None,
            }),
        }
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
        self.generate_scoped(request, CallScope::default()).await
    }

    async fn generate_scoped(
        &self,
        request: &LlmRequest,
        scope: CallScope<'_>,
    ) -> Result<LlmResponse, LlmError> {
        let request = Arc::new(request.clone());
        // The turn stays on the provider that answered its previous call.
        let start = scope
            .answered_by
            .and_then(|p| self.links.iter().position(|l| l.provider == p))
            .unwrap_or(0);
        let mut last_error = None;
        for (index, link) in self.links.iter().enumerate().skip(start) {
            let result = if link.remote {
                match self.slice_for(index, scope.remaining()) {
                    Some(slice) => self.call_remote(link, &request, slice).await,
                    None => Err(LlmError::Unavailable {
                        provider: link.provider.clone(),
                        status: None,
                        message: "no time left in this turn".into(),
                        retry_after: None,
                    }),
                }
            } else {
                let scope = CallScope {
                    deadline: scope.deadline,
                    answered_by: None,
                };
                link.client.generate_scoped(&request, scope).await
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
                    if let LlmError::Rejected {
                        status: 404,
                        message,
                        ..
                    } = &e
                    {
                        self.model_gone(link, message);
                    }
                    last_error = Some(e);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| LlmError::Malformed {
            provider: "chain".into(),
            message: "no provider configured".into(),
        }))
    }

    /// Checks every remote provider's model at once; logs, sets
    /// `llm_model_available` and keeps the outcome for `/readyz`.
    async fn check_models(&self) -> Vec<ModelCheck> {
        let checks: Vec<ModelCheck> = futures::future::join_all(
            self.links
                .iter()
                .filter(|l| l.remote)
                .map(|l| l.client.check_models()),
        )
        .await
        .into_iter()
        .flatten()
        .collect();
        let status: Vec<ModelStatus> = checks.iter().map(models::report).collect();
        *self.status.write().unwrap_or_else(|e| e.into_inner()) = status;
        checks
    }

    fn model_status(&self) -> Vec<ModelStatus> {
        self.status
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
