//! Web search behind one trait: Brave Search (keyed, `X-Subscription-Token`)
//! when `BRAVE_SEARCH_API_KEY` is set, and Wikipedia's REST search
//! (keyless) as the fallback — for encyclopedic questions, or when Brave
//! is missing, down or refusing. Results are title, snippet and URL, with
//! the providers' highlighting HTML reduced to text.

use serde::{Deserialize, Serialize};

use super::client::parse;
use super::{IntegrationError, Integrations};
use secrecy::ExposeSecret;

/// Results kept for one answer: an SMS names one or two.
pub const MAX_RESULTS: usize = 3;
const MAX_SNIPPET_CHARS: usize = 240;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchResult {
    pub title: String,
    pub snippet: String,
    pub url: String,
}

/// One web search provider.
#[async_trait::async_trait]
pub trait SearchProvider: Send + Sync {
    /// Its name, as the person and the metrics see it.
    fn name(&self) -> &'static str;
    /// Up to [`MAX_RESULTS`] results for `query`, in `lang` ("en", "fr").
    async fn search(&self, query: &str, lang: &str) -> Result<Vec<SearchResult>, IntegrationError>;
}

/// Brave Search's Web Search API.
pub struct Brave<'a>(pub &'a Integrations);

/// Wikipedia's REST API (`/w/rest.php/v1/search/page`).
pub struct Wikipedia<'a>(pub &'a Integrations);

#[derive(Deserialize)]
struct BraveAnswer {
    web: Option<BraveWeb>,
}

#[derive(Deserialize)]
struct BraveWeb {
    #[serde(default)]
    results: Vec<BraveResult>,
}

#[derive(Deserialize)]
struct BraveResult {
    title: String,
    url: String,
    description: Option<String>,
}

#[derive(Deserialize)]
struct WikiAnswer {
    #[serde(default)]
    pages: Vec<WikiPage>,
}

#[derive(Deserialize)]
struct WikiPage {
    key: String,
    title: String,
    excerpt: Option<String>,
    description: Option<String>,
}

#[async_trait::async_trait]
impl SearchProvider for Brave<'_> {
    fn name(&self) -> &'static str {
        "Brave Search"
    }

    async fn search(&self, query: &str, lang: &str) -> Result<Vec<SearchResult>, IntegrationError> {
        let s = self.0;
        let key = s
            .config
            .brave_api_key
            .clone()
            .ok_or(IntegrationError::NotConnected("Brave Search"))?;
        let url = s.config.brave_search_url.clone();
        let count = MAX_RESULTS.to_string();
        let body = s
            .plain(&s.brave, self.name(), &|http| {
                http.get(&url)
                    .header("Accept", "application/json")
                    .header("X-Subscription-Token", key.expose_secret())
                    .query(&[
                        ("q", query),
                        ("count", count.as_str()),
                        ("search_lang", lang),
                    ])
            })
            .await?;
        let answer: BraveAnswer = parse(self.name(), &body)?;
        Ok(answer
            .web
            .map(|w| w.results)
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.starts_with("https://") || r.url.starts_with("http://"))
            .take(MAX_RESULTS)
            .map(|r| SearchResult {
                title: text_of(&r.title),
                snippet: snippet(r.description.as_deref().unwrap_or("")),
                url: r.url,
            })
            .collect())
    }
}

#[async_trait::async_trait]
impl SearchProvider for Wikipedia<'_> {
    fn name(&self) -> &'static str {
        "Wikipedia"
    }

    async fn search(&self, query: &str, lang: &str) -> Result<Vec<SearchResult>, IntegrationError> {
        let s = self.0;
        let lang = if lang == "fr" { "fr" } else { "en" };
        let site = s.config.wikipedia_url.replace("{lang}", lang);
        let url = format!("{site}/w/rest.php/v1/search/page");
        let limit = MAX_RESULTS.to_string();
        let body = s
            .plain(&s.wikipedia, self.name(), &|http| {
                http.get(&url)
                    .header("Accept", "application/json")
                    .query(&[("q", query), ("limit", limit.as_str())])
            })
            .await?;
        let answer: WikiAnswer = parse(self.name(), &body)?;
        Ok(answer
            .pages
            .into_iter()
            .take(MAX_RESULTS)
            .map(|p| SearchResult {
                snippet: snippet(
                    p.description
                        .as_deref()
                        .filter(|d| !d.is_empty())
                        .or(p.excerpt.as_deref())
                        .unwrap_or(""),
                ),
                url: format!(
                    "{site}/wiki/{}",
                    percent_encoding::utf8_percent_encode(&p.key, super::calendar::SEGMENT)
                ),
                title: text_of(&p.title),
            })
            .collect())
    }
}

impl Integrations {
    /// Searches the web: Brave when it has a key, Wikipedia otherwise or
    /// when Brave fails. Returns the provider that answered.
    #[tracing::instrument(skip_all)]
    pub async fn web_search(
        &self,
        query: &str,
        lang: &str,
    ) -> Result<(&'static str, Vec<SearchResult>), IntegrationError> {
        if self.config.brave_api_key.is_some() {
            let brave = Brave(self);
            match brave.search(query, lang).await {
                Ok(results) if !results.is_empty() => return Ok((brave.name(), results)),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "Brave Search failed; trying Wikipedia"),
            }
        }
        let wiki = Wikipedia(self);
        Ok((wiki.name(), wiki.search(query, lang).await?))
    }
}

fn snippet(html: &str) -> String {
    crate::http_client::shorten(&text_of(html), MAX_SNIPPET_CHARS)
}

/// HTML reduced to plain text: tags dropped (hidden ones with their
/// content), the common entities decoded, whitespace collapsed.
pub fn text_of(html: &str) -> String {
    static HIDDEN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?is)<(script|style|head|template)\b.*?</\s*(script|style|head|template)\s*>",
        )
        .expect("pattern")
    });
    static TAG: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"(?s)<[^>]*>").expect("pattern"));
    let text = HIDDEN.replace_all(html, " ");
    let text = TAG.replace_all(&text, " ");
    let text = text
        .replace("&nbsp;", " ")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text() {
        assert_eq!(
            text_of("<p>Open <strong>9&nbsp;am</strong> &amp; late<script>alert(1)</script></p>"),
            "Open 9 am & late"
        );
        assert_eq!(text_of("plain"), "plain");
    }
}
