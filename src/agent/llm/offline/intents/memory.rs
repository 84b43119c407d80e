//! Memory: a fact to remember, and a question about what was remembered.

use serde_json::json;

use super::said;
use crate::agent::llm::offline::resolve;
use crate::agent::llm::offline::text::{self, Input};
use crate::agent::llm::offline::{Ctx, Plan};

pub(in crate::agent::llm::offline) fn remember(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    // French first: "note que …" must not keep "que" as part of the fact.
    let c = rx!(
        r"^(?:souviens[- ]toi|rappelle[- ]toi|retiens|note|n'oublie\s+pas|memorise|enregistre)(?:\s+(?:que\b|qu')|\s*:)\s*(.+)$"
    )
    .captures(n)
    .or_else(|| {
        rx!(
            r"^(?:remember|note|keep\s+in\s+mind|memorize|save|don't\s+forget|dont\s+forget)\b(?:\s+that\b|\s*:)?\s*(.+)$"
        )
        .captures(n)
    })?;
    let fact = inp.group(&c, 1)?;
    // "remember to call mom" asks for a reminder, not a fact.
    if rx!(r"^(?:to|de|d')\b").is_match(fact.norm()) {
        return None;
    }
    let fact = said(&fact);
    (!fact.is_empty()).then(|| Plan::call("remember", remember_args(&Input::new(&fact))))
}

/// Words that open news without being part of it.
pub(super) const NEWS_LEAD: &[&str] = &[
    "actually",
    "btw",
    "by the way",
    "fyi",
    "update",
    "quick update",
    "heads up",
    "oh",
    "oops",
    "en fait",
    "au fait",
    "d'ailleurs",
    "mise a jour",
    "petite mise a jour",
    "info",
    "correction",
];

/// The arguments of `remember` for a fact as said: without a leading
/// "actually"/"en fait", and naming what it updates when it says it is
/// new ("my new gate code is 4411" replaces the gate code told before).
pub(super) fn remember_args(fact: &Input) -> serde_json::Value {
    let changed = rx!(
        r"\b(?:new|now|changed|anymore|no\s+longer|actually|correction|oops|nouveau|nouvelle|nouvel|nouveaux|maintenant|desormais|change|en\s+fait)\b"
    )
    .is_match(fact.norm());
    let fact = text::strip_lead(fact, NEWS_LEAD, true);
    let mut args = json!({ "fact": said(&fact) });
    if changed && let Some(about) = subject(&fact) {
        args["replaces"] = json!(about);
    }
    args
}

/// What a fact is about: the words before its verb, without possessives
/// and the words of change ("my new gate code is now 4411" → "gate code",
/// "le code du portail a changé, c'est 9876" → "code portail").
fn subject(fact: &Input) -> Option<String> {
    let c = rx!(
        r"^(?P<s>.+?)(?:\s*:|\s+(?:is\s+now|has\s+changed\s+to|has\s+changed|changed\s+to|changed|was\s+changed\s+to|is\s+no\s+longer|is|are|was|'s)\b)"
    )
    .captures(fact.norm())
    .or_else(|| {
        rx!(
            r"^(?P<s>.+?)(?:\s*:|\s+(?:est\s+maintenant|c'est\s+maintenant|a\s+change|devient|c'est|est|sont|n'est)\b)"
        )
        .captures(fact.norm())
    })?;
    const NOT_SUBJECT: &[&str] = &[
        "my",
        "our",
        "his",
        "her",
        "their",
        "new",
        "now",
        "actually",
        "mon",
        "ma",
        "mes",
        "notre",
        "nos",
        "son",
        "sa",
        "ses",
        "leur",
        "nouveau",
        "nouvelle",
        "nouvel",
        "nouveaux",
        "maintenant",
        "desormais",
    ];
    // The words as said, accents included: the search compares them with
    // the stored fact, which keeps its accents ("numéro").
    let said = fact.sub(c.name("s")?.range());
    // Shorthand spelled out ("pw" → "password"), which changes the length;
    // folding accents alone does not.
    let words: Vec<String> = said
        .orig()
        .split_whitespace()
        .filter_map(|w| {
            let keys = resolve::key_words(w);
            if keys.is_empty() || keys.iter().any(|k| NOT_SUBJECT.contains(&k.as_str())) {
                return None;
            }
            let as_said = text::trim_punct(&Input::new(w)).orig().to_lowercase();
            let spelled = keys.join(" ");
            Some(if spelled.chars().count() == as_said.chars().count() {
                as_said
            } else {
                spelled
            })
        })
        .collect();
    (!words.is_empty() && words.len() <= 5).then(|| words.join(" "))
}

pub(in crate::agent::llm::offline) fn recall(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    const STOP: &[&str] = &[
        // English
        "my", "the", "a", "an", "is", "are", "was", "were", "did", "do", "does", "i", "me", "of",
        "your", "you", "about", "again", "remember", "tell", "what", "what's", "whats", "where",
        "when", "who", "which", "it", "that", "this", "please", "to", "for", "s",
        // French
        "le", "la", "les", "de", "du", "des", "mon", "ma", "mes", "un", "une", "est", "sont",
        "c'est", "quoi", "quel", "quelle", "quels", "quelles", "ou", "j'ai", "je", "ai", "a", "au",
        "aux", "en", "que", "ce", "cette", "ton", "ta", "tes", "notre", "nos", "votre", "vos",
        "moi", "tu", "te", "deja", "encore", "again", "does", "did", "how", "much", "many",
        "quand", "qui", "me", "suis", "je", "where's", "when's", "who's", "wear", "know", "still",
        "already",
    ];
    let n = inp.norm();
    let question = rx!(
        r"^(?:what(?:'s|s|\s+is|\s+was|\s+are|\s+were)|where(?:'s|s|\s+is|\s+are|\s+was|\s+did|\s+do)|when(?:'s|s|\s+is|\s+was|\s+did)|who(?:'s|s|\s+is|\s+was)|which|do\s+you\s+remember|do\s+you\s+know|what\s+did\s+i\s+(?:say|tell\s+you)\s+about|recall|remind\s+me\s+(?:what|where|when|who))\s+(.+)$"
    )
    .captures(n)
    .or_else(|| {
        rx!(
            r"^(?:quel(?:le)?s?\s+(?:est|sont|etait)|c'est\s+quoi|c'est\s+quand|c'est\s+ou|c'est\s+qui|qu'est-ce\s+que|ou\s+(?:est|sont|ai-je|j'ai|se\s+trouve)|quand\s+(?:est|a\s+lieu)|qui\s+est|tu\s+te\s+souviens\s+(?:de|d'|du|des)|te\s+souviens-tu\s+(?:de|d'|du|des)|rappelle-moi\s+(?:quel|quelle|ou|quand|qui))\s*(.+)$"
        )
        .captures(n)
    })
    // "what size shoes does emma wear", "where did i park", "je me suis
    // garé où", "gate code?": any other question about a thing.
    .or_else(|| rx!(r"^(?:what|where|when|who|which|how|quel|quelle|ou|quand|qui)\s+(.+)$").captures(n))
    .or_else(|| rx!(r"^(.+?)\s+(?:ou|quand)$").captures(n));
    let c = match question {
        Some(c) => c,
        None if ctx.question && n.split_whitespace().count() <= 5 => rx!(r"^(.+)$").captures(n)?,
        None => return None,
    };
    let rest = inp.group(&c, 1)?;
    let words: Vec<String> = rest
        .orig()
        .split_whitespace()
        .filter_map(|w| {
            let w = said(&Input::new(w));
            let folded = Input::new(&w);
            // French elision: "l'adresse" → "adresse".
            let f = folded.norm();
            let cut = ["l'", "d'", "j'", "m'", "t'", "s'", "n'", "c'", "qu'"]
                .iter()
                .find(|p| f.starts_with(**p) && f.len() > p.len())
                .map_or(0, |p| p.len());
            let word = folded.sub(cut..f.len());
            let key = word.norm().to_string();
            (!key.is_empty() && !STOP.contains(&key.as_str())).then(|| word.orig().to_lowercase())
        })
        .collect();
    if words.is_empty() {
        return None;
    }
    // The fact may have been told in other words ("internet" / "wifi"):
    // the search takes any of them.
    let mut query = words.clone();
    for w in &words {
        let f = text::fold_str(w);
        if let Some(group) = ALIKE
            .iter()
            .find(|g| g.iter().any(|a| text::fold_str(a) == f))
        {
            query.extend(
                group
                    .iter()
                    .map(|a| a.to_string())
                    .filter(|a| !words.contains(a)),
            );
        }
    }
    query.dedup();
    Some(Plan::call("recall", json!({ "query": query.join(" ") })))
}

/// Words people use for the same thing when they ask about a fact, in
/// both languages, with accents (the search does not drop them).
const ALIKE: &[&[&str]] = &[
    &["code", "password", "passcode", "pin", "mdp", "passe"],
    &["wifi", "internet", "network", "réseau"],
    &["birthday", "bday", "born", "anniversaire", "anniv", "fête"],
    &["car", "parked", "voiture", "auto", "char", "garé", "garée"],
    &["doctor", "doc", "gp", "physician", "médecin", "docteur"],
    &[
        "phone",
        "cell",
        "mobile",
        "téléphone",
        "tel",
        "cellulaire",
        "portable",
    ],
    &["address", "adresse", "live", "lives", "habite"],
    &["allergic", "allergy", "allergies", "allergique", "allergie"],
];
