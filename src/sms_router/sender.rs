//! Placeholder until the sender module lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSms {
    pub to: String,
    pub body: String,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSms {
    pub provider_message_id: String,
    pub status: String,
}
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("recipient has unsubscribed")]
    Unsubscribed,
    #[error("rejected ({code:?}): {message}")]
    Rejected { code: Option<i64>, message: String },
    #[error("unavailable: {message}")]
    Unavailable { message: String },
}
#[async_trait::async_trait]
pub trait SmsSender: Send + Sync {
    async fn send(&self, sms: &OutboundSms) -> Result<SentSms, SendError>;
    fn name(&self) -> &'static str;
}
