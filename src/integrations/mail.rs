//! Mail, whichever provider holds it: one message type, one set of calls
//! (search, read, draft, send, reply), each sent to Gmail v1 or Microsoft
//! Graph v1.0. What comes back is trimmed to what an SMS answer needs: a
//! few messages, headers, and a size-capped plain-text body (HTML reduced
//! to text); attachments are never fetched.

use serde::Serialize;

use super::{IntegrationError, Integrations, gmail, microsoft_mail};
use crate::oauth::Provider;
use crate::store::UserId;

/// Messages listed for one answer: an SMS names a few senders, not an inbox.
pub const MAX_MESSAGES: usize = 5;
/// Characters of a body handed on: enough to answer "what did she say?".
pub const MAX_BODY_CHARS: usize = 1500;
/// Characters of a subject or snippet kept in a listing.
const MAX_LINE_CHARS: usize = 160;

/// An email address as we accept it from a model or a header: one
/// `local@domain`, nothing that could start another header or recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Address(String);

impl Address {
    /// The address in `text` ("Marie <marie@example.com>" or a bare one).
    pub fn parse(text: &str) -> Option<Address> {
        let inner = match (text.rfind('<'), text.rfind('>')) {
            (Some(open), Some(close)) if open < close => &text[open + 1..close],
            _ => text,
        };
        let inner = inner.trim();
        let (local, domain) = inner.rsplit_once('@')?;
        let clean = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_graphic() && !"<>()[]\\,;:\"@".contains(c))
        };
        (inner.len() <= 254 && clean(local) && clean(domain) && domain.contains('.'))
            .then(|| Address(inner.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What to look for; every part optional ("any new mail?" is all `None`).
#[derive(Debug, Clone, Default)]
pub struct MailQuery {
    /// Words, or a name or address, the sender must match.
    pub from: Option<String>,
    /// Free words (subject, body).
    pub text: Option<String>,
    /// Only mail received in the last this many days.
    pub days: Option<u32>,
    pub unread_only: bool,
}

/// One message in a listing. `Debug` shows its id only: what people
/// write never reaches a log.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct MailSummary {
    pub id: String,
    pub from: String,
    pub subject: String,
    /// As the provider gives it (RFC 2822 or ISO 8601).
    pub date: Option<String>,
    pub snippet: String,
}

/// One message, read (`Debug`: its id only).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Mail {
    pub id: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub date: Option<String>,
    /// Plain text, at most [`MAX_BODY_CHARS`] characters.
    pub body: String,
    /// The body was longer than what is kept.
    pub truncated: bool,
}

/// Who a reply goes to, and the headers that keep it in its thread.
#[derive(Clone, PartialEq, Eq)]
pub struct ReplyTarget {
    pub to: Address,
    pub subject: String,
    pub thread_id: Option<String>,
    /// The original's `Message-ID`.
    pub message_id: Option<String>,
    pub references: Option<String>,
}

/// A message to send or keep as a draft (`Debug`: how many recipients,
/// never who or what).
#[derive(Clone)]
pub struct Outgoing {
    pub to: Vec<Address>,
    pub subject: String,
    pub body: String,
    /// The message it answers (by its provider id), when a reply.
    pub in_reply_to: Option<String>,
}

/// Mail content stays out of `Debug` (and so out of logs and errors).
macro_rules! redacted_debug {
    ($($ty:ident => |$v:ident| $shown:expr;)*) => {$(
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let $v = self;
                f.debug_struct(stringify!($ty))
                    .field("shown", &$shown)
                    .finish_non_exhaustive()
            }
        }
    )*};
}

redacted_debug! {
    MailSummary => |m| m.id.as_str();
    Mail => |m| m.id.as_str();
    ReplyTarget => |t| t.thread_id.as_deref();
    Outgoing => |o| o.to.len();
}

/// "Re: Pickup" for "Pickup", unchanged for "RE: Pickup" or "Re : x".
pub fn reply_subject(subject: &str) -> String {
    let lower = subject.trim_start().to_lowercase();
    if lower.starts_with("re:") || lower.starts_with("re :") {
        subject.trim().to_string()
    } else {
        format!("Re: {}", subject.trim())
    }
}

/// One line, at most `max` characters (for subjects, senders, snippets).
pub(super) fn line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    crate::http_client::shorten(&flat, max)
}

pub(super) fn listing_line(text: &str) -> String {
    line(text, MAX_LINE_CHARS)
}

/// A body cut to [`MAX_BODY_CHARS`], blank runs squeezed.
pub(super) fn capped_body(text: &str) -> (String, bool) {
    let squeezed: String = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let truncated = squeezed.chars().count() > MAX_BODY_CHARS;
    (
        crate::http_client::shorten(&squeezed, MAX_BODY_CHARS),
        truncated,
    )
}

// Each provider's future is boxed: a tool's future nests the provider
// client, its OAuth token read and refresh, breaker and retries, and
// unboxed it is deep enough to overflow the compiler's query depth when
// laying it out in a release build (the dev build does not notice).
impl Integrations {
    /// The newest messages matching `query`, at most [`MAX_MESSAGES`].
    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn mail_search(
        &self,
        user: UserId,
        provider: Provider,
        query: &MailQuery,
    ) -> Result<Vec<MailSummary>, IntegrationError> {
        let mut found = match provider {
            Provider::Microsoft => Box::pin(microsoft_mail::search(self, user, query)).await?,
            _ => Box::pin(gmail::search(self, user, query)).await?,
        };
        found.truncate(MAX_MESSAGES);
        Ok(found)
    }

    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn mail_read(
        &self,
        user: UserId,
        provider: Provider,
        id: &str,
    ) -> Result<Mail, IntegrationError> {
        match provider {
            Provider::Microsoft => Box::pin(microsoft_mail::read(self, user, id)).await,
            _ => Box::pin(gmail::read(self, user, id)).await,
        }
    }

    /// Who a reply to message `id` would go to, and about what.
    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn mail_reply_target(
        &self,
        user: UserId,
        provider: Provider,
        id: &str,
    ) -> Result<ReplyTarget, IntegrationError> {
        match provider {
            Provider::Microsoft => Box::pin(microsoft_mail::reply_target(self, user, id)).await,
            _ => Box::pin(gmail::reply_target(self, user, id)).await,
        }
    }

    /// Sends `mail`; a reply stays in its thread. Never retried: a
    /// repeated send cannot be taken back.
    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn mail_send(
        &self,
        user: UserId,
        provider: Provider,
        mail: &Outgoing,
    ) -> Result<(), IntegrationError> {
        match provider {
            Provider::Microsoft => Box::pin(microsoft_mail::send(self, user, mail)).await,
            _ => Box::pin(gmail::send(self, user, mail)).await,
        }
    }

    /// Keeps `mail` as a draft in the person's mailbox; returns its id.
    #[tracing::instrument(skip_all, fields(provider = %provider))]
    pub async fn mail_draft(
        &self,
        user: UserId,
        provider: Provider,
        mail: &Outgoing,
    ) -> Result<String, IntegrationError> {
        match provider {
            Provider::Microsoft => Box::pin(microsoft_mail::draft(self, user, mail)).await,
            _ => Box::pin(gmail::draft(self, user, mail)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_one_recipient_or_nothing() {
        assert_eq!(
            Address::parse("Marie Curie <Marie@Example.com>").map(|a| a.to_string()),
            Some("marie@example.com".into())
        );
        assert!(Address::parse("ann@example.com").is_some());
        for bad in [
            "",
            "ann",
            "ann@localhost",
            "a b@example.com",
            "ann@example.com\r\nBcc: eve@evil.example",
            "ann@example.com, eve@evil.example",
            "\"ann\"@example.com",
        ] {
            assert_eq!(Address::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn debug_never_shows_what_was_written() {
        let mail = Outgoing {
            to: vec![Address::parse("marie@example.com").unwrap()],
            subject: "secret subject".into(),
            body: "secret body".into(),
            in_reply_to: None,
        };
        let shown = format!("{mail:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("marie"),
            "{shown}"
        );
    }

    #[test]
    fn a_reply_subject_says_re_once() {
        assert_eq!(reply_subject("Pickup"), "Re: Pickup");
        assert_eq!(reply_subject("RE: Pickup"), "RE: Pickup");
        assert_eq!(reply_subject(" re : x "), "re : x");
    }

    #[test]
    fn bodies_are_capped() {
        let (body, cut) = capped_body(&"word ".repeat(1000));
        assert!(cut);
        assert_eq!(body.chars().count(), MAX_BODY_CHARS + 1);
        assert_eq!(capped_body("a\n\n\n b "), ("a\n b".to_string(), false));
    }
}
