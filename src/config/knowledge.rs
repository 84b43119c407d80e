//! The knowledge base's settings: where Notion's API is, how fast one
//! connection may call it, and the optional embedding provider.

use secrecy::SecretString;

use super::reader::Reader;

pub const DEFAULT_NOTION_API_URL: &str = "https://api.notion.com";
/// Notion documents an average of about three requests per second.
pub const DEFAULT_NOTION_REQUESTS_PER_SECOND: f64 = 3.0;
/// A scheduled sync of each connected workspace every six hours.
pub const DEFAULT_NOTION_SYNC_INTERVAL_MINUTES: u64 = 360;

/// Which embedding provider (none: full-text retrieval alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmbeddingsProvider {
    #[default]
    None,
    Gemini,
    OpenAi,
}

/// `Debug` shows no secret (the key is a `SecretString`).
#[derive(Debug, Clone)]
pub struct KnowledgeConfig {
    /// `NOTION_API_URL`: the API's base (tests point it at a fake).
    pub notion_api_url: String,
    /// `NOTION_REQUESTS_PER_SECOND`: the average one connection stays under.
    pub notion_requests_per_second: f64,
    /// `NOTION_SYNC_INTERVAL_MINUTES`: how old a workspace's last successful
    /// sync may get before a scheduled one is queued; `None` (0): never.
    pub notion_sync_every: Option<std::time::Duration>,
    /// `EMBEDDINGS_PROVIDER`: `gemini`, `openai` (any `/v1/embeddings`) or `none`.
    pub embeddings: EmbeddingsProvider,
    /// `EMBEDDINGS_URL`: the provider's base URL (Gemini's default when unset).
    pub embeddings_url: Option<String>,
    /// `EMBEDDINGS_MODEL`: `gemini-embedding-001` by default for Gemini.
    pub embeddings_model: Option<String>,
    /// `EMBEDDINGS_API_KEY` (or `_FILE`); Gemini falls back to `GEMINI_API_KEY`.
    pub embeddings_api_key: Option<SecretString>,
}

impl Default for KnowledgeConfig {
    fn default() -> Self {
        KnowledgeConfig {
            notion_api_url: DEFAULT_NOTION_API_URL.into(),
            notion_requests_per_second: DEFAULT_NOTION_REQUESTS_PER_SECOND,
            notion_sync_every: Some(std::time::Duration::from_secs(
                DEFAULT_NOTION_SYNC_INTERVAL_MINUTES * 60,
            )),
            embeddings: EmbeddingsProvider::None,
            embeddings_url: None,
            embeddings_model: None,
            embeddings_api_key: None,
        }
    }
}

pub(super) fn read_knowledge(r: &mut Reader<'_>) -> KnowledgeConfig {
    let rate = r
        .parse::<f64>("NOTION_REQUESTS_PER_SECOND")
        .unwrap_or(DEFAULT_NOTION_REQUESTS_PER_SECOND);
    if !(rate > 0.0 && rate <= 100.0) {
        r.problem("NOTION_REQUESTS_PER_SECOND must be between 0 and 100".into());
    }
    let every = r
        .parse::<u64>("NOTION_SYNC_INTERVAL_MINUTES")
        .unwrap_or(DEFAULT_NOTION_SYNC_INTERVAL_MINUTES);
    if every > 60 * 24 * 30 {
        r.problem("NOTION_SYNC_INTERVAL_MINUTES must be at most 43200 (30 days)".into());
    }
    let embeddings = match r.plain("EMBEDDINGS_PROVIDER").as_deref() {
        None | Some("none") => EmbeddingsProvider::None,
        Some("gemini") => EmbeddingsProvider::Gemini,
        Some("openai") => EmbeddingsProvider::OpenAi,
        Some(_) => {
            r.problem("EMBEDDINGS_PROVIDER must be gemini, openai or none".into());
            EmbeddingsProvider::None
        }
    };
    let embeddings_url = r.plain("EMBEDDINGS_URL");
    if embeddings == EmbeddingsProvider::OpenAi && embeddings_url.is_none() {
        r.problem("EMBEDDINGS_URL is required with EMBEDDINGS_PROVIDER=openai".into());
    }
    KnowledgeConfig {
        notion_api_url: r
            .plain("NOTION_API_URL")
            .unwrap_or_else(|| DEFAULT_NOTION_API_URL.into()),
        notion_requests_per_second: rate,
        notion_sync_every: (every > 0).then(|| std::time::Duration::from_secs(every * 60)),
        embeddings,
        embeddings_url,
        embeddings_model: r.plain("EMBEDDINGS_MODEL"),
        embeddings_api_key: r.secret("EMBEDDINGS_API_KEY"),
    }
}
