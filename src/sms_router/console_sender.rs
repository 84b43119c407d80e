//! Placeholder until the console sender lands.
use super::sender::{OutboundSms, SendError, SentSms, SmsSender};
#[derive(Default)]
pub struct ConsoleSender {
    sent: std::sync::Mutex<Vec<OutboundSms>>,
}
impl ConsoleSender {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn sent(&self) -> Vec<OutboundSms> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }
}
#[async_trait::async_trait]
impl SmsSender for ConsoleSender {
    async fn send(&self, sms: &OutboundSms) -> Result<SentSms, SendError> {
        println!("[sms → {}] {}", sms.to, sms.body);
        if let Ok(mut s) = self.sent.lock() {
            s.push(sms.clone());
        }
        Ok(SentSms { provider_message_id: format!("console-{}", uuid::Uuid::new_v4().simple()), status: "sent".into() })
    }
    fn name(&self) -> &'static str {
        "console"
    }
}
