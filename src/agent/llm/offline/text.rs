//! Text handling for the offline planner.
//!
//! Rules match a folded copy of the message (lower case, accents removed,
//! typographic apostrophes made plain) that has exactly one char for each
//! char of the original. A match found in the folded text can therefore be
//! cut back out of the original, so reminder texts, list items and facts
//! keep the person's accents and capitals.

use std::ops::Range;

use regex::Captures;

use crate::store::Locale;

/// A message as said (`orig`) and as matched (`norm`), char for char.
#[derive(Debug, Clone)]
pub(super) struct Input {
    orig: String,
    norm: String,
    /// Byte offset of each char, plus the length, in `orig` and in `norm`.
    orig_at: Vec<usize>,
    norm_at: Vec<usize>,
}

impl Input {
    pub(super) fn new(raw: &str) -> Input {
        // Decomposed accents (e + U+0301) are dropped rather than composed:
        // matching must not depend on how a phone encoded "é", and losing the
        // mark in an echoed text is the lesser evil.
        let cleaned: String = raw
            .chars()
            .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
            .map(|c| match c {
                '\u{2019}' | '\u{2018}' | '\u{2bc}' | '`' | '\u{b4}' => '\'',
                _ => c,
            })
            .collect();
        let orig = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut norm = String::with_capacity(orig.len());
        let mut orig_at = Vec::with_capacity(orig.len() + 1);
        let mut norm_at = Vec::with_capacity(orig.len() + 1);
        for (i, c) in orig.char_indices() {
            orig_at.push(i);
            norm_at.push(norm.len());
            norm.push(fold(c));
        }
        orig_at.push(orig.len());
        norm_at.push(norm.len());
        Input {
            orig,
            norm,
            orig_at,
            norm_at,
        }
    }

    pub(super) fn norm(&self) -> &str {
        &self.norm
    }

    pub(super) fn orig(&self) -> &str {
        &self.orig
    }

    pub(super) fn is_empty(&self) -> bool {
        self.orig.is_empty()
    }

    pub(super) fn char_len(&self) -> usize {
        self.orig_at.len().saturating_sub(1)
    }

    /// The original text of the chars `a..b`.
    pub(super) fn orig_chars(&self, a: usize, b: usize) -> &str {
        let n = self.char_len();
        let (a, b) = (a.min(n), b.min(n).max(a.min(n)));
        self.orig
            .get(self.orig_at[a]..self.orig_at[b])
            .unwrap_or_default()
    }

    /// The original text under a byte range of `norm` (a regex match).
    pub(super) fn orig_of(&self, r: Range<usize>) -> &str {
        let a = self.norm_at.partition_point(|&x| x < r.start);
        let b = self.norm_at.partition_point(|&x| x < r.end);
        self.orig_chars(a, b)
    }

    pub(super) fn sub(&self, r: Range<usize>) -> Input {
        Input::new(self.orig_of(r))
    }

    /// The message with a byte range of `norm` cut out.
    pub(super) fn without(&self, r: Range<usize>) -> Input {
        let before = self.orig_of(0..r.start);
        let after = self.orig_of(r.end..self.norm.len());
        Input::new(&format!("{before} {after}"))
    }

    /// Capture group `i` as a new input, when it matched something.
    pub(super) fn group(&self, caps: &Captures<'_>, i: usize) -> Option<Input> {
        caps.get(i)
            .map(|m| self.sub(m.range()))
            .filter(|g| !g.is_empty())
    }
}

/// One char in, one char out: lower case without accents.
fn fold(c: char) -> char {
    let mut lower = c.to_lowercase();
    let l = match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    };
    match l {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        '\u{2010}'..='\u{2015}' => '-',
        _ => l,
    }
}

fn is_edge_punct(c: char) -> bool {
    matches!(
        c,
        ' ' | ','
            | '.'
            | ';'
            | ':'
            | '!'
            | '?'
            | '-'
            | '"'
            | '«'
            | '»'
            | '…'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{201c}'
            | '\u{201d}'
            | '('
            | ')'
    )
}

/// Without punctuation and spaces at either end.
pub(super) fn trim_punct(inp: &Input) -> Input {
    let chars: Vec<char> = inp.orig().chars().collect();
    let a = chars.iter().take_while(|c| is_edge_punct(**c)).count();
    let b = chars.len()
        - chars[a..]
            .iter()
            .rev()
            .take_while(|c| is_edge_punct(**c))
            .count();
    Input::new(inp.orig_chars(a, b))
}

/// Whether `norm` starts with the folded word(s) `w` as whole words.
fn starts_with_word(norm: &str, w: &str) -> bool {
    norm.starts_with(w)
        && (w.ends_with('\'')
            || norm[w.len()..]
                .chars()
                .next()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '\'' || c == '-')))
}

/// Drops leading words (folded spellings, longest first). `repeat` keeps
/// going while one matches, for chains like "to" + "that".
pub(super) fn strip_lead(inp: &Input, words: &[&str], repeat: bool) -> Input {
    let mut cur = trim_punct(inp);
    loop {
        let n = cur.norm();
        let Some(w) = words.iter().find(|w| starts_with_word(n, w)) else {
            return cur;
        };
        let next = trim_punct(&cur.sub(w.len()..n.len()));
        if !repeat {
            return next;
        }
        cur = next;
    }
}

/// Drops trailing words, such as "please".
pub(super) fn strip_trail(inp: &Input, words: &[&str]) -> Input {
    let mut cur = trim_punct(inp);
    loop {
        let n = cur.norm();
        let hit = words.iter().find(|w| {
            n.ends_with(*w)
                && n[..n.len() - w.len()]
                    .chars()
                    .next_back()
                    .is_some_and(|c| !c.is_alphanumeric())
        });
        let Some(w) = hit else { return cur };
        cur = trim_punct(&cur.sub(0..n.len() - w.len()));
    }
}

/// Greetings and politeness around a request carry no meaning for a rule.
pub(super) fn polite_trimmed(inp: &Input) -> Input {
    const LEAD: &[&str] = &[
        "s'il te plait",
        "s'il vous plait",
        "please",
        "pls",
        "hey",
        "hello",
        "hi",
        "okay",
        "ok",
        "bonjour",
        "salut",
        "coucou",
        "stp",
        "svp",
    ];
    const TRAIL: &[&str] = &[
        "s'il te plait",
        "s'il vous plait",
        "please",
        "pls",
        "thanks",
        "thank you",
        "merci",
        "stp",
        "svp",
    ];
    strip_trail(&strip_lead(inp, LEAD, true), TRAIL)
}

/// Which language a message is in, by counting telltale words; ties go
/// to the person's locale.
pub(super) fn detect_lang(inp: &Input, fallback: Locale) -> Locale {
    const FR: &[&str] = &[
        "je",
        "j'ai",
        "moi",
        "mes",
        "mon",
        "ma",
        "le",
        "la",
        "les",
        "du",
        "des",
        "de",
        "d'",
        "et",
        "est",
        "dans",
        "demain",
        "rappelle-moi",
        "rappelle",
        "ajoute",
        "liste",
        "tache",
        "taches",
        "objectif",
        "objectifs",
        "depense",
        "depenses",
        "aide",
        "annule",
        "supprime",
        "tous",
        "chaque",
        "ce",
        "soir",
        "matin",
        "quel",
        "quelle",
        "quels",
        "combien",
        "pour",
        "avec",
        "un",
        "une",
        "aujourd'hui",
        "heures",
        "heure",
        "qu'est-ce",
        "c'est",
        "enleve",
        "retire",
        "vide",
        "retiens",
        "fuseau",
        "appelle-moi",
        "rappels",
        "rappel",
        "semaine",
        "midi",
        "minuit",
        "plus",
        "tard",
        "reporte",
        "fini",
        "termine",
        "quoi",
        "ou",
        "mois",
        "jours",
        "oui",
        "non",
        "bonjour",
        "salut",
        "merci",
        "fait",
        "suis",
        "pas",
        "ne",
    ];
    const EN: &[&str] = &[
        "remind",
        "me",
        "my",
        "the",
        "to",
        "at",
        "in",
        "on",
        "tomorrow",
        "today",
        "tonight",
        "what",
        "what's",
        "add",
        "list",
        "spent",
        "paid",
        "help",
        "and",
        "is",
        "are",
        "every",
        "cancel",
        "show",
        "delete",
        "remove",
        "reminder",
        "reminders",
        "task",
        "tasks",
        "goal",
        "goals",
        "remember",
        "where",
        "call",
        "minutes",
        "hours",
        "hour",
        "snooze",
        "later",
        "done",
        "with",
        "of",
        "for",
        "i",
        "i'm",
        "set",
        "timezone",
        "name",
        "quiet",
        "don't",
        "between",
        "clear",
        "how",
        "much",
        "did",
        "spend",
        "expenses",
        "day",
        "week",
        "month",
        "weekday",
        "noon",
        "midnight",
        "hi",
        "hello",
        "thanks",
        "yes",
        "no",
        "please",
        "it",
        "you",
        "this",
        "that",
    ];
    let (mut fr, mut en) = (0usize, 0usize);
    for word in inp
        .norm()
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .filter(|w| !w.is_empty())
    {
        if FR.contains(&word) {
            fr += 1;
        }
        if EN.contains(&word) {
            en += 1;
        }
        // Elided articles ("l'eau", "d'appeler") are French.
        let bytes = word.as_bytes();
        let elided = bytes.len() > 2 && bytes[1] == b'\'' && b"cdjlmnst".contains(&bytes[0]);
        if elided || word.starts_with("qu'") {
            fr += 1;
        }
    }
    fr += 2 * inp
        .orig()
        .chars()
        .filter(|c| "éèêàçùâôîûœÉÈÀÇ".contains(*c))
        .count()
        .min(3);
    match fr.cmp(&en) {
        std::cmp::Ordering::Greater => Locale::Fr,
        std::cmp::Ordering::Less => Locale::En,
        std::cmp::Ordering::Equal => fallback,
    }
}

/// Splits an enumeration ("milk, eggs and bread", "du lait et des œufs").
pub(super) fn split_items(inp: &Input) -> Vec<Input> {
    let re = rx!(r"\s*(?:,|;|\+|&|\band\b|\bet\b)\s*");
    let n = inp.norm();
    let mut out = Vec::new();
    let mut start = 0;
    for m in re.find_iter(n) {
        out.push(inp.sub(start..m.start()));
        start = m.end();
    }
    out.push(inp.sub(start..n.len()));
    out.into_iter()
        .map(|i| trim_punct(&i))
        .filter(|i| !i.is_empty())
        .collect()
}

/// Articles and possessives that open a noun phrase, folded, longest first.
pub(super) const ARTICLES: &[&str] = &[
    "de la", "de l'", "some", "the", "our", "my", "an", "a", "du", "des", "de", "d'", "les", "le",
    "la", "l'", "une", "un", "mes", "mon", "ma", "nos", "notre",
];

/// Cuts a string to at most `max` chars, marking the cut.
pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
