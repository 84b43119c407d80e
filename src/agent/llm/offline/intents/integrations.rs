//! Connecting and disconnecting an account (issue 9): "connect my google
//! calendar", "link outlook", "connecte mon Notion" → `connect_integration`;
//! "disconnect gmail", "délie mon agenda google" → `disconnect_integration`,
//! which asks for a yes before it revokes anything (the runner enforces it).
//!
//! The provider is whatever follows the verb, minus possessives and a
//! trailing "account"/"calendar": [`crate::oauth::Provider`]'s own parser
//! decides which names count, so the planner and the tools agree. A name it
//! does not know ("connect my dropbox") is left to the other rules.

use serde_json::json;

use crate::agent::llm::offline::text::{self, Input};
use crate::agent::llm::offline::{Ctx, Plan};
use crate::oauth::Provider;
use crate::store::Locale;

/// What the verb asks for.
enum Act {
    Connect,
    Disconnect,
}

pub(in crate::agent::llm::offline) fn integrations(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let (act, rest) = if let Some(c) = rx!(
        r"^(?:(?:can|could)\s+(?:you|i)\s+|i\s+(?:want|wanna|would\s+like|'d\s+like)\s+(?:to\s+)?|let's\s+|lets\s+|help\s+me\s+)?(?:disconnect|unlink|unhook|remove|revoke|delete|stop\s+(?:syncing|using|reading|accessing|sharing))(?:\s+(?:from|me\s+from))?\s+(?P<rest>.+)$"
    )
    .captures(n)
    .or_else(|| {
        rx!(
            r"^(?:(?:je\s+veux|j'aimerais|je\s+voudrais|peux-tu|tu\s+peux)\s+)?(?:deconnecte[rz]?|delie[rz]?|delier|supprime[rz]?|retire[rz]?|debranche[rz]?)(?:-moi|\s+moi)?(?:\s+(?:de|du|d'))?\s*(?P<rest>.+)$"
        )
        .captures(n)
    }) {
        (Act::Disconnect, c.name("rest")?.as_str())
    } else {
        let c = rx!(
            r"^(?:i\s+want|i'd\s+like|i\s+would\s+like|can|could|let)\s+(?:nudge|you|u)\s+(?:to\s+)?(?:see|read|access|use|get|have\s+access\s+to)\s+(?P<rest>.+)$"
        )
        .captures(n)
        .or_else(|| rx!(
            r"^(?:(?:can|could)\s+(?:you|i)\s+|i\s+(?:want|wanna|would\s+like|'d\s+like)\s+(?:to\s+)?|let's\s+|lets\s+|help\s+me\s+)?(?:connect|link(?:\s+up)?|hook(?:\s+up)?|sync|add|set\s+up|setup|plug\s+in)(?:\s+(?:me\s+)?(?:to|with|up\s+with))?\s+(?P<rest>.+?)(?:\s+(?:up|to\s+(?:nudge|this|you)|with\s+(?:nudge|you)))?$"
        )
        .captures(n))
        .or_else(|| {
            rx!(
                r"^(?:(?:je\s+veux|j'aimerais|je\s+voudrais|peux-tu|tu\s+peux)\s+)?(?:connecte[rz]?|relie[rz]?|lie[rz]?|lier|synchronise[rz]?|branche[rz]?|ajoute[rz]?)(?:-moi|\s+moi)?(?:\s+(?:a|au|avec))?\s+(?P<rest>.+?)(?:\s+(?:a\s+nudge|avec\s+nudge|a\s+toi|avec\s+toi))?$"
            )
            .captures(n)
        })?;
        (Act::Connect, c.name("rest")?.as_str())
    };
    let Some(provider) = provider_in(rest) else {
        return which_account(rest, &act, ctx.lang);
    };
    let name = match act {
        Act::Connect => "connect_integration",
        Act::Disconnect => "disconnect_integration",
    };
    Some(Plan::call(name, json!({ "provider": provider.as_str() })))
}

/// "connect my calendar": which one is not said, so the reply names the
/// words that work rather than guessing between Google and Outlook.
fn which_account(rest: &str, act: &Act, lang: Locale) -> Option<Plan> {
    let rest = text::strip_lead(
        &Input::new(rest),
        &["my", "the", "mon", "ma", "mes", "le", "l'"],
        true,
    );
    if !rx!(r"^(?:calendars?|cal|agenda|calendrier|e-?mails?|mails?|courriels?|inbox|notes)$")
        .is_match(rest.norm())
    {
        return None;
    }
    let text = match (act, lang) {
        (Act::Connect, Locale::En) => {
            "Which account? Text \"connect google\", \"connect outlook\" or \"connect notion\"."
        }
        (Act::Connect, Locale::Fr) => {
            "Quel compte ? Écris « connecte google », « connecte outlook » ou « connecte notion »."
        }
        (Act::Disconnect, Locale::En) => {
            "Which account? Text \"disconnect google\", \"disconnect outlook\" or \"disconnect notion\"."
        }
        (Act::Disconnect, Locale::Fr) => {
            "Quel compte ? Écris « déconnecte google », « déconnecte outlook » ou « déconnecte notion »."
        }
    };
    Some(Plan::Reply(text.to_string()))
}

/// "my google calendar", "mon compte outlook", "l'agenda google", "notion
/// pls" → the provider, when the words left are exactly one of its names.
fn provider_in(rest: &str) -> Option<Provider> {
    let rest = text::strip_lead(
        &Input::new(rest),
        &[
            "access to",
            "the access to",
            "nudge's access to",
            "l'acces a",
            "l'acces de",
            "acces a",
            "my",
            "the",
            "our",
            "mon",
            "ma",
            "mes",
            "le",
            "la",
            "l'",
            "notre",
        ],
        true,
    );
    let rest = text::strip_trail(
        &rest,
        &[
            "access",
            "email",
            "emails",
            "mail",
            "courriel",
            "account",
            "accounts",
            "acct",
            "compte",
            "integration",
            "again",
            "back",
            "now",
            "a nouveau",
            "de nouveau",
            "maintenant",
        ],
    );
    let words = rx!(r"^(?:compte|account)\s+").replace(rest.norm(), "");
    words.parse().ok()
}
