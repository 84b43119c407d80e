//! Is the configured model served? Asked once at start-up of `serve`,
//! `worker` and `dev` (and by `nudge admin llm check`), so a retired or
//! misspelt model name shows up as one error line, a failed `/readyz` check
//! and `llm_model_available{provider,model} 0` — not as every turn
//! silently falling back to the offline planner.
//!
//! Gemini: `GET /v1beta/models/{model}` (404 `NOT_FOUND` for a model that
//! does not exist or was shut down). OpenAI-compatible servers:
//! `GET {base}/models`, the model must be listed.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize};

use super::http::error_message;
use crate::http_client::{error_chain, redact};

/// How long one check may take; it runs beside start-up, not before it.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// What a provider says about the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelInfo {
    pub provider: String,
    pub model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_token_limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_token_limit: Option<u64>,
}

/// Why a model check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelCheckError {
    /// The provider answered: it does not serve this model (unknown,
    /// retired, or not for `generateContent`).
    #[error("{provider} does not serve model {model}: {message}")]
    Unknown {
        provider: String,
        model: String,
        message: String,
    },
    /// The provider could not be asked (network, key, server error).
    #[error("{provider} model {model} could not be checked: {message}")]
    Unreachable {
        provider: String,
        model: String,
        message: String,
    },
}

impl ModelCheckError {
    pub fn provider(&self) -> &str {
        match self {
            ModelCheckError::Unknown { provider, .. }
            | ModelCheckError::Unreachable { provider, .. } => provider,
        }
    }

    pub fn model(&self) -> &str {
        match self {
            ModelCheckError::Unknown { model, .. } | ModelCheckError::Unreachable { model, .. } => {
                model
            }
        }
    }
}

pub type ModelCheck = Result<ModelInfo, ModelCheckError>;

/// The last known state of one provider's model, for `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelStatus {
    pub provider: String,
    pub model: String,
    pub state: ModelState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum ModelState {
    /// Not checked yet.
    Pending,
    Available,
    /// The provider does not serve it.
    Unavailable(String),
    /// The check itself failed; the model may well be fine.
    Unchecked(String),
}

/// What a check needs from its client.
pub(crate) struct Probe<'a> {
    pub provider: &'static str,
    pub http: &'a reqwest::Client,
    /// Authentication, marked sensitive.
    pub headers: &'a HeaderMap,
    /// Scrubbed from every message.
    pub secret: Option<&'a str>,
}

impl Probe<'_> {
    async fn get(&self, url: &str, model: &str) -> Result<(StatusCode, String), ModelCheckError> {
        let unreachable = |message: String| ModelCheckError::Unreachable {
            provider: self.provider.to_owned(),
            model: model.to_owned(),
            message: redact(&message, self.secret),
        };
        let response = self
            .http
            .get(url)
            .headers(self.headers.clone())
            .timeout(CHECK_TIMEOUT)
            .send()
            .await
            .map_err(|e| unreachable(error_chain(&e.without_url())))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|e| unreachable(error_chain(&e.without_url())))?;
        Ok((status, body))
    }

    fn unknown(&self, model: &str, message: String) -> ModelCheckError {
        ModelCheckError::Unknown {
            provider: self.provider.to_owned(),
            model: model.to_owned(),
            message: redact(&message, self.secret),
        }
    }

    fn unreachable(&self, model: &str, message: String) -> ModelCheckError {
        ModelCheckError::Unreachable {
            provider: self.provider.to_owned(),
            model: model.to_owned(),
            message: redact(&message, self.secret),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GeminiModel {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    input_token_limit: Option<u64>,
    #[serde(default)]
    output_token_limit: Option<u64>,
    #[serde(default)]
    supported_generation_methods: Option<Vec<String>>,
}

/// `GET {model_url}` (`…/v1beta/models/{model}`).
#[tracing::instrument(name = "llm.check_model", skip_all, fields(provider = probe.provider, model))]
pub(crate) async fn check_gemini(probe: &Probe<'_>, model_url: &str, model: &str) -> ModelCheck {
    let (status, body) = probe.get(model_url, model).await?;
    if status == StatusCode::NOT_FOUND {
        return Err(probe.unknown(model, error_message(&body)));
    }
    if !status.is_success() {
        return Err(probe.unreachable(
            model,
            format!("status {}: {}", status.as_u16(), error_message(&body)),
        ));
    }
    let found: GeminiModel = serde_json::from_str(&body)
        .map_err(|e| probe.unreachable(model, format!("unreadable answer: {e}")))?;
    if let Some(methods) = &found.supported_generation_methods
        && !methods.iter().any(|m| m == "generateContent")
    {
        return Err(probe.unknown(model, "the model does not support generateContent".into()));
    }
    Ok(ModelInfo {
        provider: probe.provider.to_owned(),
        model: model.to_owned(),
        display_name: found.display_name,
        input_token_limit: found.input_token_limit,
        output_token_limit: found.output_token_limit,
    })
}

#[derive(Debug, Deserialize)]
struct ModelList {
    #[serde(default)]
    data: Vec<ListedModel>,
}

#[derive(Debug, Deserialize)]
struct ListedModel {
    id: String,
}

/// `GET {models_url}` (`{base}/models`); the model must be listed.
#[tracing::instrument(name = "llm.check_model", skip_all, fields(provider = probe.provider, model))]
pub(crate) async fn check_openai(probe: &Probe<'_>, models_url: &str, model: &str) -> ModelCheck {
    let (status, body) = probe.get(models_url, model).await?;
    if !status.is_success() {
        return Err(probe.unreachable(
            model,
            format!("status {}: {}", status.as_u16(), error_message(&body)),
        ));
    }
    let list: ModelList = serde_json::from_str(&body)
        .map_err(|e| probe.unreachable(model, format!("unreadable model list: {e}")))?;
    if !list.data.iter().any(|m| m.id == model) {
        let listed: Vec<&str> = list.data.iter().take(5).map(|m| m.id.as_str()).collect();
        return Err(probe.unknown(
            model,
            format!(
                "not among the {} models it lists (first: {})",
                list.data.len(),
                listed.join(", ")
            ),
        ));
    }
    Ok(ModelInfo {
        provider: probe.provider.to_owned(),
        model: model.to_owned(),
        display_name: None,
        input_token_limit: None,
        output_token_limit: None,
    })
}

/// The state a check result leaves, and the metric and log line it gives.
pub fn report(check: &ModelCheck) -> ModelStatus {
    let (provider, model) = match check {
        Ok(info) => (info.provider.clone(), info.model.clone()),
        Err(e) => (e.provider().to_owned(), e.model().to_owned()),
    };
    let available = match check {
        Ok(info) => {
            tracing::info!(
                provider = %info.provider,
                model = %info.model,
                display_name = info.display_name.as_deref().unwrap_or(""),
                input_token_limit = info.input_token_limit,
                output_token_limit = info.output_token_limit,
                "LLM model available"
            );
            ModelState::Available
        }
        Err(e @ ModelCheckError::Unknown { .. }) => {
            tracing::error!(
                provider = %provider,
                model = %model,
                error = %e,
                "LLM model is not served: every turn will fall back to the next provider; set a current model"
            );
            ModelState::Unavailable(e.to_string())
        }
        Err(e @ ModelCheckError::Unreachable { .. }) => {
            tracing::warn!(provider = %provider, model = %model, error = %e, "LLM model check failed");
            ModelState::Unchecked(e.to_string())
        }
    };
    let gauge = match available {
        ModelState::Available => 1.0,
        _ => 0.0,
    };
    metrics::gauge!("llm_model_available", "provider" => provider.clone(), "model" => model.clone())
        .set(gauge);
    ModelStatus {
        provider,
        model,
        state: available,
    }
}
