//! Mail reads: "any mail from the school?", "did Marie email me?", "any
//! new emails?", "des mails de l'école ?", "j'ai reçu un mail de Marie ?",
//! "Marie m'a écrit ?" → `mail_search` (sender and subject come back in the
//! tool's own confirmation). When no mail tool is offered — mail was never
//! granted — the same questions ask for it with `connect_integration`
//! (`access: "mail"`): an incremental-consent link, never a silent
//! widening. Sending is left to a model: a rule cannot word someone's mail.

use serde_json::{Value, json};

use crate::agent::llm::LlmRequest;
use crate::agent::llm::offline::text::{self, Input};
use crate::agent::llm::offline::{Ctx, Plan};
use crate::store::Locale;

/// The mail rules for `raw`; `None` unless it asks about mail.
pub(in crate::agent::llm::offline) fn mail_plan(
    request: &LlmRequest,
    raw: &str,
    locale: Locale,
) -> Option<Plan> {
    let offered = |name: &str| request.tools.iter().any(|t| t.name == name);
    let inp = text::trim_punct(&text::polite_trimmed(&Input::new(raw)));
    let ctx = Ctx {
        now: chrono::NaiveDateTime::default(),
        lang: text::detect_lang(&inp, locale),
        question: raw.trim_end().ends_with('?'),
    };
    let args = mail_question(&inp, &ctx)?;
    if offered("mail_search") {
        return Some(Plan::call("mail_search", args));
    }
    if offered("connect_integration") {
        // The tool picks the connected account when it is not Google.
        return Some(Plan::call(
            "connect_integration",
            json!({"provider": "google", "access": "mail"}),
        ));
    }
    None
}

/// The sender named in `who` ("the school", "l'école", "Marie"), as said.
fn sender(inp: &Input, range: std::ops::Range<usize>) -> Option<String> {
    let who = text::strip_lead(
        &inp.sub(range),
        &[
            "the", "my", "our", "le", "la", "l'", "les", "mon", "ma", "mes", "notre",
        ],
        true,
    );
    let said = who.orig().trim().to_string();
    (!said.is_empty() && said.chars().count() <= 60).then_some(said)
}

fn search(from: Option<String>, unread: bool) -> Value {
    let mut args = json!({});
    if let Some(from) = from {
        args["from"] = json!(from);
    }
    if unread {
        args["unread"] = json!(true);
    }
    args
}

/// The `mail_search` arguments a question about mail asks for.
fn mail_question(inp: &Input, ctx: &Ctx) -> Option<Value> {
    let n = inp.norm();
    // "did Marie email me", "did the school write to me".
    if let Some(c) = rx!(
        r"^did\s+(?P<from>.+?)\s+(?:e-?mail|mail|write(?:\s+to)?|send\s+me\s+(?:an?\s+)?(?:e-?mail|mail|message))(?:\s+me)?(?:\s+(?:back|yet|today|again))?$"
    )
    .captures(n)
    {
        let m = c.name("from")?;
        return Some(search(Some(sender(inp, m.start()..m.end())?), false));
    }
    // "Marie m'a écrit ?", "est-ce que l'école m'a envoyé un mail".
    if let Some(c) = rx!(
        r"^(?:est-ce\s+que\s+|est-ce\s+qu')?(?P<from>.+?)\s+m'a\s+(?:ecrit|envoye\s+(?:un|des)\s+(?:e-?mails?|mails?|courriels?|messages?))$"
    )
    .captures(n)
    {
        let m = c.name("from")?;
        return Some(search(Some(sender(inp, m.start()..m.end())?), false));
    }
    // "check my email", "regarde mes mails".
    if rx!(r"^(?:check|read|show\s+me|look\s+at|regarde|verifie|lis)\s+(?:my|mes|ma)\s+(?:e-?mails?|mails?|inbox|courriels?|boite\s+mail)$").is_match(n) {
        return Some(search(None, false));
    }
    // "any (new) mail from the school", "did I get an email from Marie".
    if let Some(c) = rx!(
        r"^(?P<lead>(?:(?:do|did)\s+i\s+(?:have|get|got|receive)|have\s+i\s+(?:got|gotten|received)|i\s+got|got|is\s+there|are\s+there)\s+)?(?P<any>(?:any|an?|some)\s+)?(?P<new>(?:new|unread)\s+)?(?:e-?mails?|mails?)(?:\s+(?:from|by)\s+(?P<from>.+?))?(?:\s+(?:today|yet|for\s+me))?$"
    )
    .captures(n)
    {
        return asked_about(inp, &c, ctx, c.name("new").is_some());
    }
    // "des (nouveaux) mails de l'école", "j'ai reçu un mail de Marie".
    let c = rx!(
        r"^(?P<lead>(?:(?:est-ce\s+que\s+)?j'ai|ai-je|y\s+a-t-il|il\s+y\s+a|t'as|tu\s+as)\s+(?:recu\s+)?)?(?P<any>(?:des|un|une|de|d'|du)\s*)?(?P<new>(?:nouveaux|nouveau|nouvelles?)\s+)?(?:e-?mails?|mails?|courriels?)(?P<new2>\s+(?:non\s+lus?|nouveaux|recents?))?(?:\s+(?:de\s+la|de\s+l'|de|du|des|d')\s*(?P<from>.+?))?(?:\s+(?:aujourd'hui|pour\s+moi))?$"
    )
    .captures(n)?;
    let unread = c.name("new").is_some() || c.name("new2").is_some();
    asked_about(inp, &c, ctx, unread)
}

/// "any mail from X" read from its captures: a bare "mails" is a question
/// only when it ends with "?" or names a sender.
fn asked_about(inp: &Input, c: &regex::Captures<'_>, ctx: &Ctx, unread: bool) -> Option<Value> {
    let from = match c.name("from") {
        Some(m) => Some(sender(inp, m.start()..m.end())?),
        None => None,
    };
    let asked = c.name("lead").is_some() || c.name("any").is_some() || c.name("new").is_some();
    if !asked && from.is_none() && !ctx.question {
        return None;
    }
    Some(search(from, unread))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(raw: &str) -> Option<Value> {
        let inp = text::trim_punct(&Input::new(raw));
        let ctx = Ctx {
            now: chrono::NaiveDateTime::default(),
            lang: Locale::En,
            question: raw.ends_with('?'),
        };
        mail_question(&inp, &ctx)
    }

    #[test]
    fn questions_about_mail_in_both_languages() {
        for (said, want) in [
            ("any mail from the school?", json!({"from": "school"})),
            ("did Marie email me?", json!({"from": "Marie"})),
            ("did I get an email from Marie", json!({"from": "Marie"})),
            ("any new emails?", json!({"unread": true})),
            ("check my email", json!({})),
            ("des mails de l'école ?", json!({"from": "école"})),
            ("j'ai reçu un mail de Marie ?", json!({"from": "Marie"})),
            ("des nouveaux courriels ?", json!({"unread": true})),
            ("Marie m'a écrit ?", json!({"from": "Marie"})),
            (
                "est-ce que l'école m'a envoyé un mail",
                json!({"from": "école"}),
            ),
        ] {
            assert_eq!(asked(said), Some(want), "{said}");
        }
        for said in [
            "mail",
            "buy stamps to mail the letter",
            "email Marie that I'm late",
        ] {
            assert_eq!(asked(said), None, "{said}");
        }
    }
}
