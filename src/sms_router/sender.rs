//! The seam between "this text should reach that person" and whichever
//! provider carries it: Twilio in staging and production, the console in
//! development and tests.
//!
//! A sender makes one delivery attempt, with its own short, bounded retries
//! for transient failures, and then reports what the caller must do next:
//! record the provider's id ([`SentSms`]), mark the number opted out
//! ([`SendError::Unsubscribed`]), give up ([`SendError::Rejected`]) or try
//! again later, from a durable queue ([`SendError::Unavailable`]). Senders
//! never hold a message back to wait for long outages themselves: a worker
//! blocked for minutes would hold up everyone else's replies.

use crate::store::MessageStatus;

/// One text to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSms {
    /// The recipient, in E.164 form (`+15145550100`).
    pub to: String,
    pub body: String,
}

/// What the provider said when it took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSms {
    /// The provider's id for the message (Twilio's `SM…` sid); status
    /// callbacks refer to it.
    pub provider_message_id: String,
    /// Twilio's initial status, e.g. queued, accepted; sent for the console.
    pub status: MessageStatus,
}

/// Why a message was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Twilio 21610: the recipient replied STOP; the number must be marked opted out.
    #[error("recipient has unsubscribed")]
    Unsubscribed,
    /// Not worth retrying (invalid number, 4xx other than 429).
    #[error("rejected ({code:?}): {message}")]
    Rejected { code: Option<i64>, message: String },
    /// Worth retrying later (429, 5xx, timeouts) after the sender's own bounded retries.
    #[error("unavailable: {message}")]
    Unavailable {
        message: String,
        /// How long the provider asked us to wait (`Retry-After`), when it said.
        retry_after: Option<std::time::Duration>,
    },
}

impl SendError {
    /// Whether the same message may succeed if sent again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SendError::Unavailable { .. })
    }
}

/// Something that can deliver a text message.
#[async_trait::async_trait]
pub trait SmsSender: Send + Sync {
    /// Hands one message to the provider. Returning `Ok` means the provider
    /// accepted it, not that it reached the phone: delivery is reported
    /// later by status callbacks.
    async fn send(&self, sms: &OutboundSms) -> Result<SentSms, SendError>;

    /// A short, stable name for logs and metrics ("twilio", "console").
    fn name(&self) -> &'static str;
}
