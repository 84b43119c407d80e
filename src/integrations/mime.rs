//! The RFC 2822 message Gmail's `messages.send` and `drafts.create` take as
//! `raw` (base64url): plain text only, the body base64-encoded so any
//! language survives, a non-ASCII subject as an RFC 2047 encoded word, and
//! for a reply `In-Reply-To` and `References` so every mail program keeps
//! it in its thread. Header values never carry a line break: text a model
//! wrote cannot add a header (a `Bcc:`) of its own.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

use super::mail::Address;

/// What a raw message says.
pub(super) struct Message<'a> {
    pub to: &'a [Address],
    pub subject: &'a str,
    pub body: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub references: Option<&'a str>,
}

/// A header value on one line.
fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// An unstructured header value: as is when ASCII, else an encoded word.
fn encoded(value: &str) -> String {
    let value = one_line(value);
    if value.is_ascii() {
        value
    } else {
        format!("=?UTF-8?B?{}?=", STANDARD.encode(value.as_bytes()))
    }
}

/// The message as RFC 2822 text.
pub(super) fn render(m: &Message<'_>) -> String {
    let to: Vec<&str> = m.to.iter().map(Address::as_str).collect();
    let mut head = vec![
        format!("To: {}", to.join(", ")),
        format!("Subject: {}", encoded(m.subject)),
    ];
    if let Some(id) = m.in_reply_to {
        head.push(format!("In-Reply-To: {}", one_line(id)));
    }
    if let Some(refs) = m.references {
        head.push(format!("References: {}", one_line(refs)));
    }
    head.push("MIME-Version: 1.0".into());
    head.push("Content-Type: text/plain; charset=\"UTF-8\"".into());
    head.push("Content-Transfer-Encoding: base64".into());
    let body = STANDARD.encode(m.body.replace("\r\n", "\n").replace('\n', "\r\n"));
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!("{}\r\n\r\n{}\r\n", head.join("\r\n"), lines.join("\r\n"))
}

/// The message as Gmail's `raw` field.
pub(super) fn raw(m: &Message<'_>) -> String {
    URL_SAFE.encode(render(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_keeps_its_thread_and_no_header_can_be_added() {
        let to = [Address::parse("marie@example.com").unwrap()];
        let text = render(&Message {
            to: &to,
            subject: "Re: Pickup\r\nBcc: eve@evil.example",
            body: "I'll be 10 min late\nAnn",
            in_reply_to: Some("<abc@mail.example>"),
            references: Some("<x@mail.example> <abc@mail.example>"),
        });
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("To: marie@example.com\r\n"), "{head}");
        assert!(head.contains("Subject: Re: Pickup  Bcc: eve@evil.example\r\n"));
        assert!(!head.contains("\r\nBcc:"));
        assert!(head.contains("In-Reply-To: <abc@mail.example>\r\n"));
        assert!(head.contains("References: <x@mail.example> <abc@mail.example>\r\n"));
        let decoded = STANDARD.decode(body.trim().replace("\r\n", "")).unwrap();
        assert_eq!(decoded, b"I'll be 10 min late\r\nAnn");
    }

    #[test]
    fn a_french_subject_is_an_encoded_word() {
        assert_eq!(encoded("Réunion"), "=?UTF-8?B?UsOpdW5pb24=?=");
        assert_eq!(encoded("Lunch"), "Lunch");
    }
}
