//! Things said as news: a fact worth keeping said without "remember", and
//! something done ("i booked the dentist!!").

use super::memory::{NEWS_LEAD, remember_args};
use crate::agent::llm::offline::lookup::{Lookup, Then};
use crate::agent::llm::offline::resolve;
use crate::agent::llm::offline::text::{self, Input};
use crate::agent::llm::offline::time;
use crate::agent::llm::offline::{Ctx, Plan};

/// "my new gate code is 4411", "the gate code changed to 9876", "mon
/// nouveau code de portail c'est 4411": a fact worth keeping, said without
/// "remember". Only with a number or a word of change, so that "my day is
/// long" stays small talk.
pub(in crate::agent::llm::offline) fn statement(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    // "my flight is at 7pm tomorrow" is for a reminder, found later.
    if inp.orig().contains('?') || time::extract(inp, ctx.now).schedule.is_anchored() {
        return None;
    }
    // "actually the wifi password is now X": the opening word is no news.
    let news = text::strip_lead(inp, NEWS_LEAD, true);
    let n = news.norm();
    let hit = rx!(
        r"^(?:my|our|the|\w+'s)\s+(?:new\s+)?\S.*?\s+(?:is|are|is\s+now|changed\s+to|has\s+changed\s+to|'s)\s+\S.*$"
    )
    .is_match(n)
        // "emma's new number is …", but not "there's a new café that is …".
        && !rx!(r"^(?:it|that|there|here|what|where|who|how|when|why|he|she|let)'s\b").is_match(n)
        // Without "my": only with a word of change ("gate code changed to
        // 9876", "dentist is now dr patel").
        || rx!(r"^\S.{0,40}?\s+(?:is\s+now|changed\s+to|has\s+changed\s+to|is\s+no\s+longer)\s+\S.*$")
            .is_match(n)
        || rx!(r"^\S.{0,40}?\s+(?:est\s+maintenant|c'est\s+maintenant|a\s+change\s+pour|a\s+change,?\s+c'est)\s+\S.*$")
            .is_match(n)
        || rx!(
            r"^(?:mon|ma|mes|notre|nos|le|la|les|l')\s*(?:nouveau\s+|nouvelle\s+)?\S.*?\s+(?:est|c'est|sont|est\s+maintenant|a\s+change\s+pour|devient)\s+\S.*$"
        )
        .is_match(n);
    // "new wifi pw: sunflower22", "nouveau code wifi : soleil22".
    let hit = hit || rx!(r"^(?:new|nouveau|nouvelle|nouvel)\s+\S.{0,40}?\s*:\s*\S").is_match(n);
    let worth = rx!(r"\d|\b(?:new|changed|now|nouveau|nouvelle|change|maintenant)\b").is_match(n);
    (hit && worth).then(|| Plan::call("remember", remember_args(inp)))
}

/// "i booked the dentist!!", "vélo réparé !": something done, said as news.
/// Read against the open tasks and the shopping list; without a match the
/// person hears what is there.
pub(in crate::agent::llm::offline) fn done_statement(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    if n.split_whitespace().count() > 7 {
        return None;
    }
    let c = rx!(r"^(?:i\s+|we\s+)?(?:just\s+|finally\s+|already\s+)?(\w{2,}ed)\s+(.+)$")
        .captures(n)
        .or_else(|| rx!(r"^j'ai\s+(?:enfin\s+|deja\s+)?(\w{3,}e)\s+(.+)$").captures(n))
        .or_else(|| rx!(r"^(\S+(?:\s+\S+)?)\s+(\w{3,}e)$").captures(n))?;
    let words = resolve::key_words(c.get(0)?.as_str());
    (words.len() >= 2 && words.len() <= 6)
        .then(|| Plan::Lookup(Lookup::new(Then::Complete { guessed: true }, words)))
}
