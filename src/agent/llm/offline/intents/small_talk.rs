//! Small talk: greetings, thanks and acknowledgements, answered without
//! a tool.

use crate::agent::llm::offline::text::Input;
use crate::agent::llm::offline::{Ctx, Plan};
use crate::store::Locale;

/// Words that acknowledge, thank or greet, and nothing more.
const ACK: &[&str] = &[
    "ok",
    "okay",
    "k",
    "kk",
    "okk",
    "cool",
    "great",
    "perfect",
    "nice",
    "awesome",
    "amazing",
    "good",
    "gotcha",
    "got",
    "it",
    "sounds",
    "sound",
    "alright",
    "all",
    "right",
    "sure",
    "fine",
    "thanks",
    "thank",
    "you",
    "so",
    "much",
    "very",
    "a",
    "lot",
    "that's",
    "thats",
    "helpful",
    "haha",
    "hahaha",
    "lol",
    "lmao",
    "hehe",
    "yay",
    "wow",
    "neat",
    "sweet",
    "brilliant",
    "appreciate",
    "appreciated",
    "cheers",
    "ta",
    "np",
    "yup",
    "yep",
    "yeah",
    "oh",
    "ah",
    "hmm",
    "merci",
    "beaucoup",
    "bcp",
    "super",
    "parfait",
    "nickel",
    "genial",
    "top",
    "d'accord",
    "daccord",
    "dac",
    "ca",
    "marche",
    "mdr",
    "ptdr",
    "bon",
    "tres",
    "gentil",
    "c'est",
    "cool",
    "excellent",
    "impeccable",
    "bien",
    "vu",
    "recu",
    "ouf",
    "trop",
    "bravo",
    "and",
    "et",
    "yes",
    "no",
    "oui",
    "non",
    "ouais",
    "nope",
    "good",
    "bye",
    "ciao",
    "bisous",
];

const GREET_EN: &[&str] = &["hi", "hello", "hey", "yo", "hiya", "howdy", "sup"];
const GREET_FR: &[&str] = &[
    "salut", "bonjour", "coucou", "bonsoir", "allo", "cc", "slt", "hello",
];

/// A short answer to "haha ok thanks", "👍", "merci bcp": no menu.
pub(in crate::agent::llm::offline) fn ack(raw: &str, lang: Locale) -> String {
    let n = Input::new(raw);
    let thanks = rx!(r"\b(?:thanks|thank|merci|appreciate|cheers|ty)\b").is_match(n.norm());
    match (lang, thanks) {
        (Locale::En, true) => "Anytime! 👍",
        (Locale::Fr, true) => "Avec plaisir ! 👍",
        (_, false) => "👍",
    }
    .to_string()
}

fn words(n: &str) -> Vec<&str> {
    n.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect()
}

pub(in crate::agent::llm::offline) fn small_talk(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let w = words(n);
    if w.is_empty() {
        return Some(Plan::Reply(ack(inp.orig(), ctx.lang)));
    }
    if let Some(c) = rx!(r"^good\s+(morning|afternoon|evening|night)\b").captures(n) {
        let part = c.get(1).map_or("day", |m| m.as_str());
        return Some(Plan::Reply(if part == "night" {
            "Good night! 🌙".to_string()
        } else {
            format!("Good {part}! What can I do for you?")
        }));
    }
    if w.iter().all(|x| GREET_EN.contains(x) || ACK.contains(x)) && GREET_EN.contains(&w[0]) {
        return Some(Plan::Reply(match ctx.lang {
            Locale::Fr => "Salut ! Je peux t'aider ?".to_string(),
            Locale::En => "Hi! What can I do for you?".to_string(),
        }));
    }
    if w.iter().all(|x| GREET_FR.contains(x) || ACK.contains(x)) && GREET_FR.contains(&w[0]) {
        return Some(Plan::Reply(if w[0] == "bonsoir" {
            "Bonsoir ! Je peux t'aider ?".to_string()
        } else {
            "Salut ! Je peux t'aider ?".to_string()
        }));
    }
    if w.len() <= 8 && w.iter().all(|x| ACK.contains(x)) {
        return Some(Plan::Reply(ack(inp.orig(), ctx.lang)));
    }
    None
}
