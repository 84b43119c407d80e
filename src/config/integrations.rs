//! Settings of the provider APIs the agent's integration tools call
//! (issue 10): every base URL (so tests and proxies can point them
//! elsewhere), the web search key, and how long one call may take.

use std::time::Duration;

use secrecy::SecretString;

use super::reader::Reader;
use super::validate_base_url;

/// One provider API call (connection included) gets this long by default:
/// under the agent's tool timeout (5 s), so a hung provider is cut here and
/// counted by its breaker rather than abandoned by the runner uncounted.
pub const DEFAULT_INTEGRATION_TIMEOUT: Duration = Duration::from_secs(4);

/// The provider APIs. `Debug` shows no secret (the search key is a
/// [`SecretString`]).
#[derive(Debug, Clone)]
pub struct IntegrationsConfig {
    /// `GOOGLE_CALENDAR_API_URL` (default `https://www.googleapis.com/calendar/v3`).
    pub google_calendar_url: String,
    /// `MICROSOFT_GRAPH_URL` (default `https://graph.microsoft.com/v1.0`).
    pub microsoft_graph_url: String,
    /// `GMAIL_API_URL` (default `https://gmail.googleapis.com/gmail/v1`).
    pub gmail_url: String,
    /// `BRAVE_SEARCH_API_KEY`: with it, `web_search` asks Brave first.
    pub brave_api_key: Option<SecretString>,
    /// `BRAVE_SEARCH_URL` (default `https://api.search.brave.com/res/v1/web/search`).
    pub brave_search_url: String,
    /// `WIKIPEDIA_URL` (default `https://{lang}.wikipedia.org`; `{lang}` is
    /// the person's language): the keyless fallback of `web_search`.
    pub wikipedia_url: String,
    /// `YOUTUBE_API_KEY`: with it, `youtube_search` is offered.
    pub youtube_api_key: Option<SecretString>,
    /// `YOUTUBE_API_URL` (default `https://www.googleapis.com/youtube/v3`).
    pub youtube_url: String,
    /// `INTEGRATION_TIMEOUT_SECONDS`: one provider call, at most.
    pub timeout: Duration,
}

impl Default for IntegrationsConfig {
    fn default() -> Self {
        IntegrationsConfig {
            google_calendar_url: "https://www.googleapis.com/calendar/v3".into(),
            microsoft_graph_url: "https://graph.microsoft.com/v1.0".into(),
            gmail_url: "https://gmail.googleapis.com/gmail/v1".into(),
            brave_api_key: None,
            brave_search_url: "https://api.search.brave.com/res/v1/web/search".into(),
            wikipedia_url: "https://{lang}.wikipedia.org".into(),
            youtube_api_key: None,
            youtube_url: "https://www.googleapis.com/youtube/v3".into(),
            timeout: DEFAULT_INTEGRATION_TIMEOUT,
        }
    }
}

pub(super) fn read_integrations(r: &mut Reader<'_>) -> IntegrationsConfig {
    let defaults = IntegrationsConfig::default();
    let mut url = |name: &str, default: String| match r.plain(name) {
        Some(v) => match validate_base_url(&v.replace("{lang}", "en")) {
            Ok(_) => v.trim_end_matches('/').to_owned(),
            Err(why) => {
                r.problem(format!("{name} {why}"));
                default
            }
        },
        None => default,
    };
    let google_calendar_url = url("GOOGLE_CALENDAR_API_URL", defaults.google_calendar_url);
    let microsoft_graph_url = url("MICROSOFT_GRAPH_URL", defaults.microsoft_graph_url);
    let gmail_url = url("GMAIL_API_URL", defaults.gmail_url);
    let brave_search_url = url("BRAVE_SEARCH_URL", defaults.brave_search_url);
    let wikipedia_url = url("WIKIPEDIA_URL", defaults.wikipedia_url);
    let youtube_url = url("YOUTUBE_API_URL", defaults.youtube_url);
    IntegrationsConfig {
        google_calendar_url,
        microsoft_graph_url,
        gmail_url,
        brave_api_key: r.secret("BRAVE_SEARCH_API_KEY"),
        brave_search_url,
        wikipedia_url,
        youtube_api_key: r.secret("YOUTUBE_API_KEY"),
        youtube_url,
        timeout: r
            .seconds("INTEGRATION_TIMEOUT_SECONDS")
            .unwrap_or(defaults.timeout),
    }
}
