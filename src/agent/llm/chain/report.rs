//! What the chain reports about one call: each link it reached, when, with
//! which window, and how it went (for the observer and the metrics).

use std::time::Duration;

/// How one link of one call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    Answered,
    Failed,
    /// Its breaker is open: not called.
    Skipped,
    /// Too little of the budget was left to be worth a request.
    NoTime,
}

/// One link's part of one call, as the chain timed it.
#[derive(Debug, Clone)]
pub struct LinkTiming {
    pub provider: String,
    /// A remote provider (the last resort is not).
    pub remote: bool,
    /// When the chain reached it, from the start of the call.
    pub reached_after: Duration,
    /// The window it was given: `None` for the last resort, which has the
    /// turn's own deadline, and for a provider left no time.
    pub window: Option<Duration>,
    /// From the chain reaching the link to its answer, error or cut.
    pub elapsed: Duration,
    pub outcome: LinkOutcome,
}

/// One call through the chain: every link it reached, in order.
#[derive(Debug, Clone, Default)]
pub struct ChainCall {
    pub links: Vec<LinkTiming>,
}

impl ChainCall {
    /// Time spent on remote providers before the last resort (or the
    /// remote provider that answered) had its turn.
    pub fn remote_elapsed(&self) -> Duration {
        self.links
            .iter()
            .filter(|l| l.remote)
            .map(|l| l.elapsed)
            .sum()
    }

    /// When the last remote window closed, from the start of the call:
    /// never past the remote budget, whatever the providers did.
    pub fn remote_span(&self) -> Duration {
        self.links
            .iter()
            .filter_map(|l| l.window.map(|w| l.reached_after + w))
            .max()
            .unwrap_or_default()
    }

    /// The provider that answered, if one did.
    pub fn answered_by(&self) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.outcome == LinkOutcome::Answered)
            .map(|l| l.provider.as_str())
    }
}
