//! A sender for development: texts are printed to stdout instead of
//! leaving the machine, and the most recent ones are remembered so tests
//! (and a developer's debugger) can see what would have been sent.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::Mutex;

use super::sender::{OutboundSms, SendError, SentSms, SmsSender};
use crate::store::MessageStatus;

/// How many messages are remembered; older ones are forgotten so a
/// long-running development server does not grow without bound.
pub const REMEMBERED: usize = 1_000;

/// Prints each message as `[sms → +15145550100] body`, one line per
/// message, continuation lines of a multi-line body indented.
#[derive(Debug, Default)]
pub struct ConsoleSender {
    sent: Mutex<VecDeque<OutboundSms>>,
}

impl ConsoleSender {
    pub fn new() -> Self {
        Self::default()
    }

    /// The messages sent so far, oldest first (at most [`REMEMBERED`]).
    pub fn sent(&self) -> Vec<OutboundSms> {
        // A panic elsewhere while holding the lock cannot leave the list
        // half-updated, so a poisoned lock is still safe to read.
        let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.iter().cloned().collect()
    }

    fn remember(&self, sms: &OutboundSms) {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        if sent.len() >= REMEMBERED {
            sent.pop_front();
        }
        sent.push_back(sms.clone());
    }
}

/// The text printed for one message, without the final newline.
fn render(sms: &OutboundSms) -> String {
    let prefix = format!("[sms → {}] ", printable(&sms.to));
    let indent = " ".repeat(prefix.chars().count());
    let mut out = prefix;
    for (i, line) in sms.body.lines().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(&indent);
        }
        out.push_str(&printable(line));
    }
    out
}

/// Escapes control characters, so a body cannot move the cursor or
/// recolour a developer's terminal.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[async_trait::async_trait]
impl SmsSender for ConsoleSender {
    #[tracing::instrument(name = "sms.send", skip_all, fields(provider = "console"))]
    async fn send(&self, sms: &OutboundSms) -> Result<SentSms, SendError> {
        let line = render(sms);
        // A closed stdout must not fail (or panic, as println! would) a
        // send that is only a development convenience.
        let _ = writeln!(std::io::stdout().lock(), "{line}");
        self.remember(sms);
        Ok(SentSms {
            provider_message_id: format!("console-{}", uuid::Uuid::new_v4().simple()),
            status: MessageStatus::Sent,
        })
    }

    fn name(&self) -> &'static str {
        "console"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sms(body: &str) -> OutboundSms {
        OutboundSms {
            to: "+15145550100".into(),
            body: body.into(),
        }
    }

    #[test]
    fn multi_line_bodies_are_indented_and_controls_escaped() {
        assert_eq!(render(&sms("hi")), "[sms → +15145550100] hi");
        assert_eq!(
            render(&sms("one\ntwo\r\nthree")),
            "[sms → +15145550100] one\n                     two\n                     three"
        );
        assert_eq!(
            render(&sms("\u{1b}[31mred")),
            "[sms → +15145550100] \\u{1b}[31mred"
        );
        assert_eq!(render(&sms("")), "[sms → +15145550100] ");
    }

    #[tokio::test]
    async fn remembers_what_it_sent() {
        let console = ConsoleSender::new();
        let first = console.send(&sms("a")).await.unwrap();
        let second = console.send(&sms("b")).await.unwrap();
        assert_eq!(console.name(), "console");
        assert_eq!(first.status, MessageStatus::Sent);
        assert!(first.provider_message_id.starts_with("console-"));
        assert_eq!(first.provider_message_id.len(), "console-".len() + 32);
        assert_ne!(first.provider_message_id, second.provider_message_id);
        assert_eq!(console.sent(), vec![sms("a"), sms("b")]);
    }

    #[tokio::test]
    async fn forgets_the_oldest_beyond_the_limit() {
        let console = ConsoleSender::new();
        for i in 0..=REMEMBERED {
            console.remember(&sms(&i.to_string()));
        }
        let sent = console.sent();
        assert_eq!(sent.len(), REMEMBERED);
        assert_eq!(sent[0].body, "1");
    }
}
