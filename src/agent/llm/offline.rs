//! Placeholder until the offline planner lands.

use super::{LlmClient, LlmError, LlmRequest, LlmResponse};

#[derive(Debug, Default)]
pub struct OfflinePlanner;

impl OfflinePlanner {
    pub fn new() -> Self {
        OfflinePlanner
    }
}

#[async_trait::async_trait]
impl LlmClient for OfflinePlanner {
    fn provider(&self) -> &str {
        "offline"
    }

    async fn generate(&self, _request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        Err(LlmError::Malformed {
            provider: "offline".into(),
            message: "not built yet".into(),
        })
    }
}
