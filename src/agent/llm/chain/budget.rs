//! The chain's clock: how the remote budget is cut into windows, and the
//! call that ends at its window's end whatever the provider is doing.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::agent::llm::{CallScope, LlmClient, LlmError, LlmRequest, LlmResponse};

pub use crate::config::DEFAULT_LLM_REMOTE_BUDGET;

/// Kept out of a provider's window for each remote provider after it that
/// is not known to be down (breaker open), unless that would leave it less
/// than an even share.
pub const HANDOVER_RESERVE: Duration = Duration::from_secs(1);

/// Kept back from the remote providers for the last resort, which answers
/// in milliseconds.
pub(super) const LAST_RESORT_RESERVE: Duration = Duration::from_secs(1);

/// Less than this is not worth a request.
pub(super) const MIN_WINDOW: Duration = Duration::from_millis(250);

/// A provider is told its window ends this much earlier than the chain
/// cuts it, so its own timeouts fire first and it reports why.
pub(super) const GRACE: Duration = Duration::from_millis(150);

/// One call as the breaker sees it: the request and the provider's window.
pub(super) type Call = (Arc<LlmRequest>, Window);

/// Where a remote provider's call must end.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    /// Told to the provider: its requests and retries stop here.
    pub(super) soft: std::time::Instant,
    /// Where the chain cuts the call if it is still running.
    pub(super) hard: Instant,
    pub(super) length: Duration,
}

impl Window {
    pub(super) fn starting_now(length: Duration) -> Self {
        let now = Instant::now();
        Window {
            soft: (now + length.saturating_sub(GRACE)).into_std(),
            hard: now + length,
            length,
        }
    }
}

/// `client`'s answer within `window`. The cut happens here, inside the
/// breaker's call, so the breaker counts a hung provider as a failure.
pub(super) async fn within(
    client: &dyn LlmClient,
    request: &LlmRequest,
    window: Window,
) -> Result<LlmResponse, LlmError> {
    let scope = CallScope {
        deadline: Some(window.soft),
        answered_by: None,
    };
    match tokio::time::timeout_at(window.hard, client.generate_scoped(request, scope)).await {
        Ok(result) => result,
        Err(_) => Err(LlmError::Unavailable {
            provider: client.provider().to_owned(),
            status: None,
            message: format!("no answer within its {:?} window", window.length),
            retry_after: None,
        }),
    }
}
