//! Embeddings behind a trait: Gemini (`batchEmbedContents`,
//! `gemini-embedding-001` with reduced output dimensionality) or any
//! OpenAI-compatible `/v1/embeddings` endpoint (a local model server).
//! With neither configured, retrieval is full text alone.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

/// What a text is embedded for: Gemini tunes documents and queries apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Document,
    Query,
}

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("embedding provider unreachable")]
    Unreachable,
    #[error("embedding provider answered {status}")]
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("embedding provider answered something unexpected: {0}")]
    Malformed(&'static str),
}

#[async_trait::async_trait]
pub trait Embedder: Send + Sync {
    /// The model's alias and version, stored with each embedding: vectors
    /// of different models are never compared.
    fn model(&self) -> &str;
    /// One vector per text, in order.
    async fn embed(&self, texts: &[String], purpose: Purpose) -> Result<Vec<Vec<f32>>, EmbedError>;
}

const TIMEOUT: Duration = Duration::from_secs(20);

async fn post(request: reqwest::RequestBuilder) -> Result<reqwest::Response, EmbedError> {
    let response = request
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|_| EmbedError::Unreachable)?;
    if !response.status().is_success() {
        return Err(EmbedError::Status {
            status: response.status().as_u16(),
            retry_after: crate::http_client::retry_after(response.headers()),
        });
    }
    Ok(response)
}

/// Gemini's embedding API.
pub struct GeminiEmbedder {
    http: reqwest::Client,
    base_url: String,
    api_key: SecretString,
    model_name: String,
    dimensions: u32,
    alias: String,
}

impl GeminiEmbedder {
    pub const DEFAULT_MODEL: &'static str = "gemini-embedding-001";
    /// Reduced output: 768 numbers keep a person's corpus small and exact
    /// search fast, at little cost in quality (Google's recommended size).
    pub const DEFAULT_DIMENSIONS: u32 = 768;

    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        api_key: SecretString,
        model: &str,
        dimensions: u32,
    ) -> Self {
        GeminiEmbedder {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key,
            alias: format!("gemini:{model}@{dimensions}"),
            model_name: model.to_string(),
            dimensions,
        }
    }
}

#[derive(Deserialize)]
struct GeminiBatch {
    embeddings: Vec<GeminiValues>,
}

#[derive(Deserialize)]
struct GeminiValues {
    values: Vec<f32>,
}

#[async_trait::async_trait]
impl Embedder for GeminiEmbedder {
    fn model(&self) -> &str {
        &self.alias
    }

    async fn embed(&self, texts: &[String], purpose: Purpose) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let task = match purpose {
            Purpose::Document => "RETRIEVAL_DOCUMENT",
            Purpose::Query => "RETRIEVAL_QUERY",
        };
        let requests: Vec<_> = texts
            .iter()
            .map(|t| {
                json!({
                    "model": format!("models/{}", self.model_name),
                    "content": {"parts": [{"text": t}]},
                    "taskType": task,
                    "outputDimensionality": self.dimensions,
                })
            })
            .collect();
        let url = format!(
            "{}/v1beta/models/{}:batchEmbedContents",
            self.base_url, self.model_name
        );
        let response = post(
            self.http
                .post(url)
                .header("x-goog-api-key", self.api_key.expose_secret())
                .json(&json!({ "requests": requests })),
        )
        .await?;
        let batch: GeminiBatch = response
            .json()
            .await
            .map_err(|_| EmbedError::Malformed("not a batchEmbedContents response"))?;
        if batch.embeddings.len() != texts.len() {
            return Err(EmbedError::Malformed("wrong number of embeddings"));
        }
        Ok(batch.embeddings.into_iter().map(|e| e.values).collect())
    }
}

/// An OpenAI-compatible `/v1/embeddings` endpoint.
pub struct OpenAiEmbedder {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<SecretString>,
    model_name: String,
    alias: String,
}

impl OpenAiEmbedder {
    /// `base_url` ends before `/v1/embeddings` (e.g. `http://127.0.0.1:8080`).
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        api_key: Option<SecretString>,
        model: &str,
    ) -> Self {
        OpenAiEmbedder {
            http,
            base_url: base_url
                .trim_end_matches('/')
                .trim_end_matches("/v1")
                .to_string(),
            api_key,
            alias: format!("openai:{model}"),
            model_name: model.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct OpenAiList {
    data: Vec<OpenAiItem>,
}

#[derive(Deserialize)]
struct OpenAiItem {
    index: usize,
    embedding: Vec<f32>,
}

#[async_trait::async_trait]
impl Embedder for OpenAiEmbedder {
    fn model(&self) -> &str {
        &self.alias
    }

    async fn embed(
        &self,
        texts: &[String],
        _purpose: Purpose,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let mut request = self
            .http
            .post(format!("{}/v1/embeddings", self.base_url))
            .json(&json!({"model": self.model_name, "input": texts}));
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let list: OpenAiList = post(request)
            .await?
            .json()
            .await
            .map_err(|_| EmbedError::Malformed("not an embeddings list"))?;
        let mut out = vec![Vec::new(); texts.len()];
        for item in list.data {
            *out.get_mut(item.index)
                .ok_or(EmbedError::Malformed("embedding index out of range"))? = item.embedding;
        }
        if out.iter().any(Vec::is_empty) {
            return Err(EmbedError::Malformed("missing embeddings"));
        }
        Ok(out)
    }
}

/// Cosine similarity; 0 for vectors of different length or zero norm.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// The configured embedder, or `None`: retrieval is then full text alone.
pub fn from_config(
    config: &crate::config::Config,
    http: reqwest::Client,
) -> Option<std::sync::Arc<dyn Embedder>> {
    use crate::config::EmbeddingsProvider;
    let k = &config.knowledge;
    match k.embeddings {
        EmbeddingsProvider::None => None,
        EmbeddingsProvider::Gemini => {
            let key = k
                .embeddings_api_key
                .clone()
                .or_else(|| config.llm.gemini_api_key.clone())?;
            Some(std::sync::Arc::new(GeminiEmbedder::new(
                http,
                k.embeddings_url
                    .as_deref()
                    .unwrap_or(&config.llm.gemini_base_url),
                key,
                k.embeddings_model
                    .as_deref()
                    .unwrap_or(GeminiEmbedder::DEFAULT_MODEL),
                GeminiEmbedder::DEFAULT_DIMENSIONS,
            )))
        }
        EmbeddingsProvider::OpenAi => Some(std::sync::Arc::new(OpenAiEmbedder::new(
            http,
            k.embeddings_url.as_deref()?,
            k.embeddings_api_key.clone(),
            k.embeddings_model.as_deref().unwrap_or("default"),
        ))),
    }
}
