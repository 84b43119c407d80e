//! YouTube Data API v3 `search.list` for videos, with the operator's API
//! key: a search of public videos involves nothing of the person's, so it
//! needs neither their Google account nor the `youtube.readonly` scope
//! (and its verification). Results are title, channel and link.

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::client::parse;
use super::web_search::text_of;
use super::{IntegrationError, Integrations};

const NAME: &str = "YouTube";
/// Videos kept for one answer.
pub const MAX_VIDEOS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Video {
    pub title: String,
    pub channel: String,
    pub url: String,
}

#[derive(Deserialize)]
struct SearchList {
    #[serde(default)]
    items: Vec<SearchResult>,
}

#[derive(Deserialize)]
struct SearchResult {
    id: ResourceId,
    snippet: Option<Snippet>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceId {
    video_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Snippet {
    title: String,
    channel_title: Option<String>,
}

/// YouTube's duration filter for "about `minutes` long": short is under
/// 4 minutes, medium 4 to 20, long over 20.
pub fn duration_filter(minutes: Option<i64>) -> &'static str {
    match minutes {
        None => "any",
        Some(m) if m < 4 => "short",
        Some(m) if m <= 20 => "medium",
        Some(_) => "long",
    }
}

impl Integrations {
    /// Whether YouTube search is set up (`YOUTUBE_API_KEY`).
    pub fn youtube_enabled(&self) -> bool {
        self.config.youtube_api_key.is_some()
    }

    /// Videos matching `query`, about `minutes` long when given.
    #[tracing::instrument(skip_all)]
    pub async fn youtube_search(
        &self,
        query: &str,
        minutes: Option<i64>,
        lang: &str,
    ) -> Result<Vec<Video>, IntegrationError> {
        let key = self
            .config
            .youtube_api_key
            .clone()
            .ok_or(IntegrationError::NotConnected(NAME))?;
        let url = format!("{}/search", self.config.youtube_url);
        let count = MAX_VIDEOS.to_string();
        let duration = duration_filter(minutes);
        let body = self
            .plain(&self.youtube, NAME, &|http| {
                http.get(&url).query(&[
                    ("part", "snippet"),
                    ("type", "video"),
                    ("q", query),
                    ("videoDuration", duration),
                    ("maxResults", count.as_str()),
                    ("relevanceLanguage", lang),
                    ("safeSearch", "moderate"),
                    ("key", key.expose_secret()),
                ])
            })
            .await?;
        let list: SearchList = parse(NAME, &body)?;
        Ok(list
            .items
            .into_iter()
            .filter_map(|item| {
                let id = item.id.video_id?;
                let snippet = item.snippet?;
                Some(Video {
                    title: text_of(&snippet.title),
                    channel: text_of(snippet.channel_title.as_deref().unwrap_or("")),
                    url: format!("https://www.youtube.com/watch?v={id}"),
                })
            })
            .take(MAX_VIDEOS)
            .collect())
    }
}
