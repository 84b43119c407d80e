//! Gmail v1 on the person's mailbox (`users/me`): `messages.list` with
//! Gmail's search syntax (`from:`, `newer_than:`, `is:unread`; at most two
//! pages via `nextPageToken`), `messages.get` (`format=metadata` for a
//! listing, `format=full` to read: the text/plain part, or the HTML one
//! reduced to text; attachments are skipped, never downloaded),
//! `drafts.create`, and `messages.send` with a raw RFC 2822 message (see
//! [`super::mime`]); a reply carries the thread's `threadId`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::json;

use super::calendar::segment;
use super::client::{label, parse};
use super::mail::{
    Address, Mail, MailQuery, MailSummary, Outgoing, ReplyTarget, capped_body, listing_line,
    reply_subject,
};
use super::mime::{self, Message};
use super::web_search::text_of;
use super::{IntegrationError, Integrations};
use crate::oauth::Provider;
use crate::store::UserId;

const P: Provider = Provider::Google;
/// Pages of ids read at most for one listing.
const MAX_PAGES: usize = 2;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListMessages {
    #[serde(default)]
    messages: Vec<MessageRef>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct MessageRef {
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    id: String,
    thread_id: Option<String>,
    #[serde(default)]
    snippet: String,
    payload: Option<Part>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part {
    #[serde(default)]
    mime_type: String,
    #[serde(default)]
    filename: String,
    #[serde(default)]
    headers: Vec<Header>,
    body: Option<Body>,
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
struct Header {
    name: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    data: Option<String>,
    attachment_id: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

impl RawMessage {
    fn header(&self, name: &str) -> Option<String> {
        self.payload
            .as_ref()?
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.clone())
    }
}

impl Part {
    /// The first inline part of `mime` type, decoded (depth first, as
    /// Gmail nests multipart/alternative inside multipart/mixed).
    fn text(&self, mime: &str) -> Option<String> {
        let attachment = !self.filename.is_empty()
            || self
                .body
                .as_ref()
                .is_some_and(|b| b.attachment_id.is_some());
        if self.mime_type.eq_ignore_ascii_case(mime) && !attachment {
            let data = self.body.as_ref()?.data.as_deref()?;
            let bytes = URL_SAFE_NO_PAD
                .decode(data.trim_end_matches('=').as_bytes())
                .ok()?;
            return Some(String::from_utf8_lossy(&bytes).into_owned());
        }
        self.parts.iter().find_map(|p| p.text(mime))
    }
}

/// "from:marie newer_than:7d is:unread school": Gmail's search syntax.
fn gmail_query(q: &MailQuery) -> String {
    let clean = |s: &str| s.replace(['"', '(', ')', '{', '}'], " ").trim().to_string();
    let mut parts = Vec::new();
    if let Some(from) = q.from.as_deref().map(clean).filter(|s| !s.is_empty()) {
        parts.push(match from.contains(' ') {
            true => format!("from:\"{from}\""),
            false => format!("from:{from}"),
        });
    }
    if let Some(days) = q.days {
        parts.push(format!("newer_than:{}d", days.max(1)));
    }
    if q.unread_only {
        parts.push("is:unread".into());
    }
    if let Some(text) = q.text.as_deref().map(clean).filter(|s| !s.is_empty()) {
        parts.push(text);
    }
    if parts.is_empty() {
        parts.push("in:inbox".into());
    }
    parts.join(" ")
}

fn messages_url(s: &Integrations) -> String {
    format!("{}/users/me/messages", s.config.gmail_url)
}

async fn metadata(
    s: &Integrations,
    user: UserId,
    id: &str,
    headers: &[&str],
) -> Result<RawMessage, IntegrationError> {
    let url = format!("{}/{}", messages_url(s), segment(id));
    let mut query = vec![("format", "metadata")];
    query.extend(headers.iter().map(|h| ("metadataHeaders", *h)));
    let body = s
        .authorized(user, P, true, &|http, token| {
            http.get(&url).bearer_auth(token).query(&query)
        })
        .await?;
    parse(label(P), &body)
}

pub(super) async fn search(
    s: &Integrations,
    user: UserId,
    q: &MailQuery,
) -> Result<Vec<MailSummary>, IntegrationError> {
    let url = messages_url(s);
    let wanted = super::mail::MAX_MESSAGES;
    let query_text = gmail_query(q);
    let mut ids: Vec<String> = Vec::new();
    let mut page: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let query: Vec<(&str, String)> = [
            ("q", query_text.clone()),
            ("maxResults", wanted.to_string()),
        ]
        .into_iter()
        .chain(page.take().map(|p| ("pageToken", p)))
        .collect();
        let body = s
            .authorized(user, P, true, &|http, token| {
                http.get(&url).bearer_auth(token).query(&query)
            })
            .await?;
        let list: ListMessages = parse(label(P), &body)?;
        ids.extend(list.messages.into_iter().map(|m| m.id));
        match list.next_page_token {
            Some(token) if ids.len() < wanted => page = Some(token),
            _ => break,
        }
    }
    ids.truncate(wanted);
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        let m = metadata(s, user, &id, &["From", "Subject", "Date"]).await?;
        found.push(MailSummary {
            from: listing_line(&m.header("From").unwrap_or_default()),
            subject: listing_line(&m.header("Subject").unwrap_or_default()),
            date: m.header("Date"),
            snippet: listing_line(&text_of(&m.snippet)),
            id: m.id,
        });
    }
    Ok(found)
}

pub(super) async fn read(
    s: &Integrations,
    user: UserId,
    id: &str,
) -> Result<Mail, IntegrationError> {
    let url = format!("{}/{}", messages_url(s), segment(id));
    let body = s
        .authorized(user, P, true, &|http, token| {
            http.get(&url)
                .bearer_auth(token)
                .query(&[("format", "full")])
        })
        .await?;
    let m: RawMessage = parse(label(P), &body)?;
    let payload = m.payload.as_ref();
    let text = payload
        .and_then(|p| p.text("text/plain"))
        .or_else(|| {
            payload
                .and_then(|p| p.text("text/html"))
                .map(|h| text_of(&h))
        })
        .unwrap_or_else(|| text_of(&m.snippet));
    let (body, truncated) = capped_body(&text);
    Ok(Mail {
        from: listing_line(&m.header("From").unwrap_or_default()),
        to: listing_line(&m.header("To").unwrap_or_default()),
        subject: listing_line(&m.header("Subject").unwrap_or_default()),
        date: m.header("Date"),
        id: m.id,
        body,
        truncated,
    })
}

pub(super) async fn reply_target(
    s: &Integrations,
    user: UserId,
    id: &str,
) -> Result<ReplyTarget, IntegrationError> {
    let m = metadata(
        s,
        user,
        id,
        &["From", "Reply-To", "Subject", "Message-ID", "References"],
    )
    .await?;
    // RFC 2822: a reply goes to Reply-To when there is one.
    let to = m
        .header("Reply-To")
        .and_then(|r| Address::parse(&r))
        .or_else(|| m.header("From").and_then(|f| Address::parse(&f)))
        .ok_or(IntegrationError::Malformed(label(P)))?;
    let message_id = m.header("Message-ID");
    let references = match (m.header("References"), &message_id) {
        (Some(refs), Some(id)) => Some(format!("{refs} {id}")),
        (None, Some(id)) => Some(id.clone()),
        (refs, None) => refs,
    };
    Ok(ReplyTarget {
        to,
        subject: reply_subject(&m.header("Subject").unwrap_or_default()),
        thread_id: m.thread_id,
        message_id,
        references,
    })
}

/// The `message` resource for a send or a draft: `raw`, and the thread.
async fn message_json(
    s: &Integrations,
    user: UserId,
    mail: &Outgoing,
) -> Result<serde_json::Value, IntegrationError> {
    let target = match &mail.in_reply_to {
        Some(id) => Some(reply_target(s, user, id).await?),
        None => None,
    };
    let raw = match &target {
        // A reply goes to the original's sender, as the question said.
        Some(t) => mime::raw(&Message {
            to: std::slice::from_ref(&t.to),
            subject: &t.subject,
            body: &mail.body,
            in_reply_to: t.message_id.as_deref(),
            references: t.references.as_deref(),
        }),
        None => mime::raw(&Message {
            to: &mail.to,
            subject: &mail.subject,
            body: &mail.body,
            in_reply_to: None,
            references: None,
        }),
    };
    let mut message = json!({ "raw": raw });
    if let Some(thread) = target.and_then(|t| t.thread_id) {
        message["threadId"] = json!(thread);
    }
    Ok(message)
}

pub(super) async fn send(
    s: &Integrations,
    user: UserId,
    mail: &Outgoing,
) -> Result<(), IntegrationError> {
    let message = message_json(s, user, mail).await?;
    let url = format!("{}/send", messages_url(s));
    s.authorized(user, P, false, &|http, token| {
        http.post(&url).bearer_auth(token).json(&message)
    })
    .await?;
    Ok(())
}

pub(super) async fn draft(
    s: &Integrations,
    user: UserId,
    mail: &Outgoing,
) -> Result<String, IntegrationError> {
    let message = message_json(s, user, mail).await?;
    let url = format!("{}/users/me/drafts", s.config.gmail_url);
    let request = json!({ "message": message });
    let body = s
        .authorized(user, P, false, &|http, token| {
            http.post(&url).bearer_auth(token).json(&request)
        })
        .await?;
    let created: Created = parse(label(P), &body)?;
    Ok(created.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_use_gmail_search_syntax() {
        let q = MailQuery {
            from: Some("Marie \"x\"".into()),
            text: Some("school trip".into()),
            days: Some(7),
            unread_only: true,
        };
        assert_eq!(
            gmail_query(&q),
            "from:\"Marie  x\" newer_than:7d is:unread school trip"
        );
        assert_eq!(gmail_query(&MailQuery::default()), "in:inbox");
    }
}
