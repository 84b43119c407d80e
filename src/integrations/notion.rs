//! Notion's API through the authorized request every provider shares
//! (`client.rs`): the person's token, Notion's breaker and timeout, one
//! forced refresh on a 401 and a clear failure on a second. The knowledge
//! base's sync (`knowledge::notion::client`) paces and pages on top.

use serde_json::Value;

use super::Integrations;
use super::client::IntegrationError;
use crate::oauth::Provider;
use crate::store::UserId;

impl Integrations {
    /// One Notion API call for `user` (every call the sync makes reads).
    pub async fn notion(
        &self,
        user: UserId,
        method: reqwest::Method,
        url: &str,
        version: &str,
        body: Option<&Value>,
    ) -> Result<Vec<u8>, IntegrationError> {
        self.authorized(user, Provider::Notion, true, &|http, token| {
            let request = http
                .request(method.clone(), url)
                .bearer_auth(token)
                .header("Notion-Version", version);
            match body {
                Some(body) => request.json(body),
                None => request,
            }
        })
        .await
    }
}
