//! The fallback chain: primary → fallback → offline planner. Each remote
//! provider sits behind a circuit breaker (time-based window, small minimum
//! number of calls): after repeated failures it is skipped without a call
//! until a half-open probe succeeds. The last link never fails.
//!
//! Time: all remote providers together get one budget per call
//! ([`DEFAULT_LLM_REMOTE_BUDGET`], `LLM_REMOTE_BUDGET_SECONDS`), never more
//! than what the turn has left after a reserve for the last resort. Each
//! provider's window is cut from what is left of that budget, minus a
//! [`HANDOVER_RESERVE`] for every provider after it that is not known to be
//! down, so a hung primary still leaves the fallback a real try; its retries
//! happen inside its window, and the chain cuts it at the window's end
//! whatever it is doing. With Gemini and the fallback both hung, the offline
//! planner therefore answers within the budget (4 s), not after two full
//! request timeouts. Every call's timings go to an optional observer
//! ([`LlmChain::with_observer`]) and to `llm_chain_remote_seconds`.
//!
//! Stickiness: once a provider answered a turn's call, the turn's next
//! calls start at that provider. A turn that fell back never returns to an
//! earlier provider — which would cost its window again, and which (for
//! Gemini 3) may refuse the other provider's function calls.

mod breaker;
mod budget;
mod report;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::time::Instant;
use tower::{Service, ServiceExt};
use tower_resilience::circuitbreaker::CircuitBreakerError;

use super::models::{self, ModelCheck, ModelState, ModelStatus};
use super::{CallScope, LlmClient, LlmError, LlmRequest, LlmResponse};
use breaker::{Breaker, ClientService, breaker_for};
use budget::{GRACE, LAST_RESORT_RESERVE, MIN_WINDOW, Window, within};

pub use breaker::BreakerSettings;
pub use budget::{DEFAULT_LLM_REMOTE_BUDGET, HANDOVER_RESERVE};
pub use report::{ChainCall, LinkOutcome, LinkTiming};

struct Link {
    provider: String,
    client: Arc<dyn LlmClient>,
    breaker: Option<Breaker>,
    /// Remote providers get a window of the remote budget; the last resort
    /// does not.
    remote: bool,
}

type Observer = Box<dyn Fn(&ChainCall) + Send + Sync>;

/// Tries each provider in turn; see the module docs.
pub struct LlmChain {
    links: Vec<Link>,
    /// All remote providers together, per call.
    remote_budget: Duration,
    /// The most one remote provider may take, if tighter than its window.
    provider_cap: Option<Duration>,
    /// The remote providers' model checks, as last run.
    status: RwLock<Vec<ModelStatus>>,
    observer: Option<Observer>,
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
            remote_budget: DEFAULT_LLM_REMOTE_BUDGET,
            provider_cap: None,
            status: RwLock::new(status),
            observer: None,
        }
    }

    /// Shares `budget` between the remote providers of each call instead
    /// of [`DEFAULT_LLM_REMOTE_BUDGET`].
    pub fn with_remote_budget(mut self, budget: Duration) -> Self {
        self.remote_budget = budget;
        self
    }

    /// Never gives one remote provider more than `cap`, whatever is left
    /// of the remote budget.
    pub fn with_provider_cap(mut self, cap: Duration) -> Self {
        self.provider_cap = Some(cap);
        self
    }

    /// Calls `observer` with every call's timings, once the call is over
    /// (tests; a slow-provider report).
    pub fn with_observer(mut self, observer: impl Fn(&ChainCall) + Send + Sync + 'static) -> Self {
        self.observer = Some(Box::new(observer));
        self
    }

    /// Every client in the order they are tried (`nudge admin llm check`
    /// calls each directly).
    pub fn clients(&self) -> Vec<Arc<dyn LlmClient>> {
        self.links.iter().map(|l| l.client.clone()).collect()
    }

    /// Remote link `index`'s window, `None` when too little is left.
    /// `remote_end` is when the call's remote budget runs out.
    fn window_for(&self, index: usize, remote_end: Instant) -> Option<Window> {
        let left = remote_end.saturating_duration_since(Instant::now());
        // Providers known to be down are skipped at once: nothing to keep.
        let later = self.links[index + 1..]
            .iter()
            .filter(|l| l.remote && !l.breaker.as_ref().is_some_and(|b| b.is_open()))
            .count();
        let later = u32::try_from(later).unwrap_or(u32::MAX);
        let even_share = left / later.saturating_add(1);
        let reserve = (HANDOVER_RESERVE * later).min(left.saturating_sub(even_share));
        let mut length = left.saturating_sub(reserve);
        if let Some(cap) = self.provider_cap {
            length = length.min(cap);
        }
        (length >= MIN_WINDOW).then(|| Window::starting_now(length))
    }

    /// When a call that began at `began` must be done with remote
    /// providers: the remote budget later, but never eating the last
    /// resort's reserve of the turn.
    fn remote_end(&self, began: Instant, turn_deadline: Option<std::time::Instant>) -> Instant {
        let mut end = began + self.remote_budget;
        if let Some(deadline) = turn_deadline {
            let turn_end = Instant::from_std(deadline)
                .checked_sub(LAST_RESORT_RESERVE)
                .unwrap_or_else(Instant::now);
            end = end.min(turn_end);
        }
        end
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

    /// One remote link, within its window.
    async fn call_remote(
        &self,
        link: &Link,
        request: &Arc<LlmRequest>,
        window: Window,
    ) -> Result<LlmResponse, LlmError> {
        let call = async {
            match &link.breaker {
                Some(breaker) => {
                    let mut svc = breaker.clone();
                    match svc.ready().await {
                        Ok(ready) => ready.call((request.clone(), window)).await,
                        Err(e) => Err(e),
                    }
                    .map_err(|e| match e {
                        CircuitBreakerError::OpenCircuit => LlmError::CircuitOpen {
                            provider: link.provider.clone(),
                        },
                        CircuitBreakerError::Inner(e) => e,
                    })
                }
                None => within(link.client.as_ref(), request, window).await,
            }
        };
        // `within` cuts the call itself; this only guards the breaker's
        // own readiness, which should never wait.
        match tokio::time::timeout_at(window.hard + GRACE, call).await {
            Ok(result) => result,
            Err(_) => Err(LlmError::Unavailable {
                provider: link.provider.clone(),
                status: None,
                message: format!("no answer within its {:?} window", window.length),
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
        let began = Instant::now();
        let remote_end = self.remote_end(began, scope.deadline);
        let mut timings = ChainCall::default();
        let mut last_error = None;
        let mut answer = None;
        for (index, link) in self.links.iter().enumerate().skip(start) {
            let reached = Instant::now();
            let (window, result) = if link.remote {
                match self.window_for(index, remote_end) {
                    Some(window) => (
                        Some(window.length),
                        self.call_remote(link, &request, window).await,
                    ),
                    None => (
                        None,
                        Err(LlmError::Unavailable {
                            provider: link.provider.clone(),
                            status: None,
                            message: "no time left for it in this call".into(),
                            retry_after: None,
                        }),
                    ),
                }
            } else {
                let scope = CallScope {
                    deadline: scope.deadline,
                    answered_by: None,
                };
                (None, link.client.generate_scoped(&request, scope).await)
            };
            let outcome = match &result {
                Ok(_) => LinkOutcome::Answered,
                Err(LlmError::CircuitOpen { .. }) => LinkOutcome::Skipped,
                Err(_) if link.remote && window.is_none() => LinkOutcome::NoTime,
                Err(_) => LinkOutcome::Failed,
            };
            timings.links.push(LinkTiming {
                provider: link.provider.clone(),
                remote: link.remote,
                reached_after: reached.duration_since(began),
                window,
                elapsed: reached.elapsed(),
                outcome,
            });
            match result {
                Ok(response) => {
                    answer = Some(response);
                    break;
                }
                Err(e) => {
                    let outcome = match outcome {
                        LinkOutcome::Skipped => "skipped",
                        _ => "failed",
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
        metrics::histogram!("llm_chain_remote_seconds")
            .record(timings.remote_elapsed().as_secs_f64());
        if let Some(observer) = &self.observer {
            observer(&timings);
        }
        match answer {
            Some(response) => Ok(response),
            None => Err(last_error.unwrap_or_else(|| LlmError::Malformed {
                provider: "chain".into(),
                message: "no provider configured".into(),
            })),
        }
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

    /// The last resort, when it is not a remote provider.
    fn spends_nothing(&self) -> Option<Arc<dyn LlmClient>> {
        self.links
            .last()
            .filter(|l| !l.remote)
            .map(|l| l.client.clone())
    }

    fn model_status(&self) -> Vec<ModelStatus> {
        self.status
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
