//! Fake Gmail v1 and Microsoft Graph v1.0 mail, as their API references
//! describe them: Gmail's `messages.list` (`messages[]`, `nextPageToken`),
//! `messages.get` (`payload` with `headers[]`, nested `parts[]`, base64url
//! `body.data`, attachments by `attachmentId`), its error bodies (`error.
//! errors[].reason`, `status`); Graph's `value[]`, `@odata.nextLink`,
//! `emailAddress` recipients, `body.contentType`, and its `error.code`s.
//! Mounted under `/gmail/v1` and `/v1.0` of the shared wiremock server.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const GMAIL: &str = "/gmail/v1/users/me";

/// The scopes Google's token endpoint reports after mail was granted.
pub fn google_mail_scopes() -> Vec<String> {
    [
        "openid",
        "email",
        "https://www.googleapis.com/auth/calendar.events",
        "https://www.googleapis.com/auth/gmail.readonly",
        "https://www.googleapis.com/auth/gmail.compose",
    ]
    .map(String::from)
    .to_vec()
}

/// The scopes Microsoft's token endpoint reports after mail was granted.
pub fn microsoft_mail_scopes() -> Vec<String> {
    [
        "openid",
        "profile",
        "email",
        "https://graph.microsoft.com/Calendars.ReadWrite",
        "https://graph.microsoft.com/Mail.ReadWrite",
        "https://graph.microsoft.com/Mail.Send",
        "https://graph.microsoft.com/User.Read",
    ]
    .map(String::from)
    .to_vec()
}

fn b64(text: &str) -> String {
    URL_SAFE.encode(text)
}

fn headers(pairs: &[(&str, &str)]) -> Value {
    pairs
        .iter()
        .map(|(n, v)| json!({"name": n, "value": v}))
        .collect()
}

/// `messages.list`: ids (thread `t-<id>`), with a next page when given.
pub fn gmail_list(ids: &[&str], next: Option<&str>) -> Value {
    let mut list = json!({
        "messages": ids.iter().map(|id| json!({"id": id, "threadId": format!("t-{id}")})).collect::<Vec<_>>(),
        "resultSizeEstimate": ids.len(),
    });
    if let Some(token) = next {
        list["nextPageToken"] = json!(token);
    }
    list
}

/// `messages.get?format=metadata` for a listing or a reply.
pub fn gmail_metadata(id: &str, from: &str, subject: &str, snippet: &str) -> Value {
    json!({
        "id": id, "threadId": format!("t-{id}"), "labelIds": ["INBOX", "UNREAD"],
        "snippet": snippet, "sizeEstimate": 4120, "historyId": "9921", "internalDate": "1765119600000",
        "payload": {"mimeType": "multipart/alternative", "headers": headers(&[
            ("From", from),
            ("Subject", subject),
            ("Date", "Mon, 7 Dec 2026 09:12:00 -0500"),
            ("Message-ID", &format!("<{id}@mail.example>")),
            ("References", "<first@mail.example>"),
        ])},
    })
}

/// `messages.get?format=full`: text/plain and text/html alternatives.
pub fn gmail_full_plain(id: &str, from: &str, subject: &str, text: &str) -> Value {
    json!({
        "id": id, "threadId": format!("t-{id}"), "labelIds": ["INBOX"], "snippet": text,
        "payload": {
            "partId": "", "mimeType": "multipart/alternative", "filename": "",
            "headers": headers(&[("From", from), ("To", "ann@example.com"), ("Subject", subject),
                                 ("Date", "Mon, 7 Dec 2026 09:12:00 -0500")]),
            "body": {"size": 0},
            "parts": [
                {"partId": "0", "mimeType": "text/plain", "filename": "", "headers": [],
                 "body": {"size": text.len(), "data": b64(text)}},
                {"partId": "1", "mimeType": "text/html", "filename": "", "headers": [],
                 "body": {"size": 10, "data": b64(&format!("<p>{text}</p>"))}},
            ],
        },
    })
}

/// `messages.get?format=full`: an HTML-only body inside multipart/mixed,
/// next to a 2 MB PDF that Gmail names by `attachmentId` only.
pub fn gmail_full_html_with_attachment(id: &str, from: &str, subject: &str, html: &str) -> Value {
    json!({
        "id": id, "threadId": format!("t-{id}"), "labelIds": ["INBOX"], "snippet": "",
        "sizeEstimate": 2_100_000,
        "payload": {
            "partId": "", "mimeType": "multipart/mixed", "filename": "",
            "headers": headers(&[("From", from), ("To", "ann@example.com"), ("Subject", subject)]),
            "body": {"size": 0},
            "parts": [
                {"partId": "0", "mimeType": "text/html", "filename": "", "headers": [],
                 "body": {"size": html.len(), "data": b64(html)}},
                {"partId": "1", "mimeType": "application/pdf", "filename": "permission-slip.pdf",
                 "headers": [{"name": "Content-Disposition", "value": "attachment; filename=\"permission-slip.pdf\""}],
                 "body": {"size": 2_097_152, "attachmentId": "ANGjdJ8-very-long-attachment-id"}},
            ],
        },
    })
}

/// Google's 403 for a token without the scope.
pub fn google_insufficient_scope() -> ResponseTemplate {
    ResponseTemplate::new(403).set_body_json(json!({"error": {
        "code": 403, "message": "Request had insufficient authentication scopes.",
        "errors": [{"message": "Insufficient Permission", "domain": "global", "reason": "insufficientPermissions"}],
        "status": "PERMISSION_DENIED",
    }}))
}

/// Google's 429 with `Retry-After`.
pub fn google_rate_limited(seconds: u32) -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("Retry-After", seconds.to_string().as_str())
        .set_body_json(json!({"error": {
            "code": 429, "message": "Quota exceeded for quota metric 'Queries'.",
            "errors": [{"message": "Rate Limit Exceeded", "domain": "usageLimits", "reason": "rateLimitExceeded"}],
            "status": "RESOURCE_EXHAUSTED",
        }}))
}

/// Graph's throttling answer with `Retry-After`.
pub fn graph_throttled(seconds: u32) -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("Retry-After", seconds.to_string().as_str())
        .set_body_json(json!({"error": {
            "code": "ApplicationThrottled", "message": "Application is over its MailboxConcurrency limit.",
        }}))
}

/// Graph's 403 when the token lacks Mail.Read.
pub fn graph_access_denied() -> ResponseTemplate {
    ResponseTemplate::new(403).set_body_json(json!({"error": {
        "code": "ErrorAccessDenied", "message": "Access is denied. Check credentials and try again.",
    }}))
}

/// A Graph message in a listing, or read with a text body.
pub fn graph_message(id: &str, name: &str, address: &str, subject: &str, text: &str) -> Value {
    json!({
        "@odata.etag": "W/\"CQAAABYAAAA\"", "id": id, "subject": subject,
        "receivedDateTime": "2026-12-07T14:12:00Z", "bodyPreview": text,
        "conversationId": format!("conv-{id}"), "internetMessageId": format!("<{id}@outlook.example>"),
        "from": {"emailAddress": {"name": name, "address": address}},
        "replyTo": [],
        "toRecipients": [{"emailAddress": {"name": "Ann", "address": "ann@example.com"}}],
        "body": {"contentType": "text", "content": text},
    })
}

/// A Graph collection page.
pub fn graph_page(server: &MockServer, messages: Vec<Value>, next: Option<&str>) -> Value {
    let mut page = json!({
        "@odata.context": format!("{}/v1.0/$metadata#users('ann')/messages", server.uri()),
        "value": messages,
    });
    if let Some(link) = next {
        page["@odata.nextLink"] = json!(link);
    }
    page
}

/// Answers GET `path` with `body`.
pub async fn get_json(server: &MockServer, at: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// The MIME text of a Gmail `raw` (or `message.raw`) field.
pub fn raw_mime(body: &Value) -> String {
    let raw = body["raw"]
        .as_str()
        .or_else(|| body["message"]["raw"].as_str())
        .expect("a raw message");
    String::from_utf8(URL_SAFE.decode(raw).expect("base64url")).expect("utf-8")
}

/// The decoded text of a raw message's base64 body.
pub fn mime_body(mime: &str) -> String {
    let (_, body) = mime.split_once("\r\n\r\n").expect("headers, then body");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body.replace("\r\n", ""))
        .expect("base64 body");
    String::from_utf8(bytes).expect("utf-8")
}
