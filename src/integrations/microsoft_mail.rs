//! Microsoft Graph v1.0 mail on the person's mailbox: `/me/messages` with
//! `$search` (KQL: `from:`, `received>=`) for a question about someone or
//! something, the inbox with `$filter`/`$orderby` for "any new mail";
//! `@odata.nextLink` followed at most once, and only back to Graph. A
//! message is read with `Prefer: outlook.body-content-type="text"` (Graph
//! converts HTML itself; what still arrives as HTML is reduced here). A
//! reply is `/me/messages/{id}/reply` (Graph threads it and answers the
//! `replyTo` or the sender), a new mail `/me/sendMail`, a draft
//! `POST /me/messages` or `/me/messages/{id}/createReply`.

use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::calendar::segment;
use super::client::{label, parse};
use super::mail::{
    Address, Mail, MailQuery, MailSummary, Outgoing, ReplyTarget, capped_body, listing_line,
    reply_subject,
};
use super::web_search::text_of;
use super::{IntegrationError, Integrations};
use crate::oauth::Provider;
use crate::store::UserId;

const P: Provider = Provider::Microsoft;
const MAX_PAGES: usize = 2;
const LIST_SELECT: &str = "id,subject,from,receivedDateTime,bodyPreview";

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    value: Vec<RawMessage>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    id: String,
    subject: Option<String>,
    from: Option<Recipient>,
    #[serde(default)]
    to_recipients: Vec<Recipient>,
    #[serde(default)]
    reply_to: Vec<Recipient>,
    received_date_time: Option<String>,
    body_preview: Option<String>,
    body: Option<ItemBody>,
    conversation_id: Option<String>,
    internet_message_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recipient {
    email_address: Option<EmailAddress>,
}

#[derive(Deserialize)]
struct EmailAddress {
    name: Option<String>,
    address: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemBody {
    content_type: Option<String>,
    content: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

impl Recipient {
    /// "Marie Curie <marie@example.com>", or whichever half is known.
    fn text(&self) -> String {
        let Some(e) = &self.email_address else {
            return String::new();
        };
        match (e.name.as_deref(), e.address.as_deref()) {
            (Some(n), Some(a)) if !n.is_empty() && n != a => format!("{n} <{a}>"),
            (_, Some(a)) => a.to_string(),
            (Some(n), None) => n.to_string(),
            (None, None) => String::new(),
        }
    }

    fn address(&self) -> Option<Address> {
        Address::parse(self.email_address.as_ref()?.address.as_deref()?)
    }
}

fn sender(m: &RawMessage) -> String {
    listing_line(&m.from.as_ref().map(Recipient::text).unwrap_or_default())
}

/// `from:marie received>=2026-12-01 school`: KQL for `$search`, quoted as
/// Graph wants it; `None` when the question names nothing to search for.
fn kql(q: &MailQuery) -> Option<String> {
    let clean = |s: &str| s.replace(['"', '\\'], " ").trim().to_string();
    let from = q.from.as_deref().map(clean).filter(|s| !s.is_empty());
    let text = q.text.as_deref().map(clean).filter(|s| !s.is_empty());
    if from.is_none() && text.is_none() {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(from) = from {
        parts.push(format!("from:{from}"));
    }
    if let Some(days) = q.days {
        let since = Utc::now().date_naive() - chrono::Days::new(u64::from(days.max(1)));
        parts.push(format!("received>={since}"));
    }
    parts.extend(text);
    Some(format!("\"{}\"", parts.join(" ")))
}

/// The inbox's newest first: Graph wants the `$orderby` property first in
/// `$filter`, so the date bound is always there.
fn inbox_filter(q: &MailQuery) -> String {
    let since = q.days.map_or_else(
        || "1900-01-01T00:00:00Z".to_string(),
        |d| {
            (Utc::now() - chrono::Duration::days(i64::from(d.max(1))))
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        },
    );
    let mut filter = format!("receivedDateTime ge {since}");
    if q.unread_only {
        filter.push_str(" and isRead eq false");
    }
    filter
}

pub(super) async fn search(
    s: &Integrations,
    user: UserId,
    q: &MailQuery,
) -> Result<Vec<MailSummary>, IntegrationError> {
    let base = s.config.microsoft_graph_url.clone();
    let wanted = super::mail::MAX_MESSAGES;
    let (first, query): (String, Vec<(&str, String)>) = match kql(q) {
        Some(search) => (
            format!("{base}/me/messages"),
            vec![
                ("$search", search),
                ("$top", wanted.to_string()),
                ("$select", LIST_SELECT.into()),
            ],
        ),
        None => (
            format!("{base}/me/mailFolders/inbox/messages"),
            vec![
                ("$filter", inbox_filter(q)),
                ("$orderby", "receivedDateTime desc".into()),
                ("$top", wanted.to_string()),
                ("$select", LIST_SELECT.into()),
            ],
        ),
    };
    let mut raw: Vec<RawMessage> = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page_url = next.take();
        let body = s
            .authorized(user, P, true, &|http, token| {
                let request = match &page_url {
                    Some(link) => http.get(link),
                    None => http.get(&first).query(&query),
                };
                request.bearer_auth(token)
            })
            .await?;
        let page: Page = parse(label(P), &body)?;
        raw.extend(page.value);
        match page.next_link {
            Some(link) if raw.len() < wanted && link.starts_with(&format!("{base}/")) => {
                next = Some(link);
            }
            _ => break,
        }
    }
    Ok(raw
        .into_iter()
        .take(wanted)
        .map(|m| MailSummary {
            from: sender(&m),
            subject: listing_line(m.subject.as_deref().unwrap_or_default()),
            date: m.received_date_time.clone(),
            snippet: listing_line(m.body_preview.as_deref().unwrap_or_default()),
            id: m.id,
        })
        .collect())
}

fn message_url(s: &Integrations, id: &str) -> String {
    format!(
        "{}/me/messages/{}",
        s.config.microsoft_graph_url,
        segment(id)
    )
}

async fn get(
    s: &Integrations,
    user: UserId,
    id: &str,
    select: &str,
) -> Result<RawMessage, IntegrationError> {
    let url = message_url(s, id);
    let body = s
        .authorized(user, P, true, &|http, token| {
            http.get(&url)
                .bearer_auth(token)
                .header("Prefer", "outlook.body-content-type=\"text\"")
                .query(&[("$select", select)])
        })
        .await?;
    parse(label(P), &body)
}

pub(super) async fn read(
    s: &Integrations,
    user: UserId,
    id: &str,
) -> Result<Mail, IntegrationError> {
    let m = get(
        s,
        user,
        id,
        "id,subject,from,toRecipients,receivedDateTime,body,bodyPreview",
    )
    .await?;
    let text = match &m.body {
        Some(ItemBody {
            content_type: Some(kind),
            content: Some(html),
        }) if kind.eq_ignore_ascii_case("html") => text_of(html),
        Some(ItemBody {
            content: Some(text),
            ..
        }) => text.clone(),
        _ => m.body_preview.clone().unwrap_or_default(),
    };
    let (body, truncated) = capped_body(&text);
    let to: Vec<String> = m.to_recipients.iter().map(Recipient::text).collect();
    Ok(Mail {
        from: sender(&m),
        to: listing_line(&to.join(", ")),
        subject: listing_line(m.subject.as_deref().unwrap_or_default()),
        date: m.received_date_time.clone(),
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
    let m = get(
        s,
        user,
        id,
        "id,subject,from,replyTo,conversationId,internetMessageId",
    )
    .await?;
    // Graph's reply goes to `replyTo` when set, else to the sender.
    let to = m
        .reply_to
        .iter()
        .find_map(Recipient::address)
        .or_else(|| m.from.as_ref().and_then(Recipient::address))
        .ok_or(IntegrationError::Malformed(label(P)))?;
    Ok(ReplyTarget {
        to,
        subject: reply_subject(m.subject.as_deref().unwrap_or_default()),
        thread_id: m.conversation_id,
        message_id: m.internet_message_id,
        references: None,
    })
}

fn new_message(mail: &Outgoing) -> Value {
    json!({
        "subject": mail.subject,
        "body": {"contentType": "Text", "content": mail.body},
        "toRecipients": mail
            .to
            .iter()
            .map(|a| json!({"emailAddress": {"address": a.as_str()}}))
            .collect::<Vec<_>>(),
    })
}

/// POSTs `body` to `url`, once (a send or a draft is not repeated).
async fn post(
    s: &Integrations,
    user: UserId,
    url: &str,
    body: &Value,
) -> Result<Vec<u8>, IntegrationError> {
    s.authorized(user, P, false, &|http, token| {
        http.post(url).bearer_auth(token).json(body)
    })
    .await
}

pub(super) async fn send(
    s: &Integrations,
    user: UserId,
    mail: &Outgoing,
) -> Result<(), IntegrationError> {
    match &mail.in_reply_to {
        Some(id) => {
            let url = format!("{}/reply", message_url(s, id));
            post(s, user, &url, &json!({"comment": mail.body})).await?;
        }
        None => {
            let url = format!("{}/me/sendMail", s.config.microsoft_graph_url);
            let body = json!({"message": new_message(mail), "saveToSentItems": true});
            post(s, user, &url, &body).await?;
        }
    }
    Ok(())
}

pub(super) async fn draft(
    s: &Integrations,
    user: UserId,
    mail: &Outgoing,
) -> Result<String, IntegrationError> {
    let answer = match &mail.in_reply_to {
        Some(id) => {
            let url = format!("{}/createReply", message_url(s, id));
            post(s, user, &url, &json!({"comment": mail.body})).await?
        }
        None => {
            let url = format!("{}/me/messages", s.config.microsoft_graph_url);
            post(s, user, &url, &new_message(mail)).await?
        }
    };
    let created: Created = parse(label(P), &answer)?;
    Ok(created.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_about_someone_is_a_kql_search() {
        let q = MailQuery {
            from: Some("marie".into()),
            text: Some("school \"trip\"".into()),
            ..MailQuery::default()
        };
        assert_eq!(kql(&q).unwrap(), "\"from:marie school  trip\"");
        assert_eq!(kql(&MailQuery::default()), None);
        let unread = MailQuery {
            unread_only: true,
            ..MailQuery::default()
        };
        assert_eq!(
            inbox_filter(&unread),
            "receivedDateTime ge 1900-01-01T00:00:00Z and isRead eq false"
        );
    }
}
