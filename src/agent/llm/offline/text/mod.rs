//! Text handling for the offline planner.
//!
//! Rules match a normalised copy of the message (`norm`): lower case,
//! accents removed, typographic apostrophes made plain, and texting
//! shorthand and common typos spelled out ("tmr" → "tomorrow", "w/" →
//! "with", "remnd" → "remind", "dem1" → "demain"; see [`REWRITES`]). Each
//! char of `norm` remembers the span of the original it came from, so a
//! match found in `norm` can be cut back out of the original: reminder
//! texts, list items and facts keep the person's own words, accents and
//! capitals. Emoji are dropped from both: they carry no instruction, and
//! "finished 🎉" must read like "finished".

mod lang;
mod rewrites;
mod trim;

use std::ops::Range;

use regex::Captures;

use rewrites::REWRITES;

pub(super) use lang::detect_lang;
pub(super) use trim::{polite_trimmed, strip_lead, strip_trail, trim_punct};

/// A message as said (`orig`) and as matched (`norm`).
#[derive(Debug, Clone)]
pub(super) struct Input {
    orig: String,
    norm: String,
    /// Byte offset of each char of `orig`, plus the length.
    orig_at: Vec<usize>,
    /// Byte offset of each char of `norm`, plus the length.
    norm_at: Vec<usize>,
    /// For each char of `norm`, the chars of `orig` it stands for.
    span: Vec<(usize, usize)>,
}

/// Pictographs, dingbats and their joiners and modifiers: emoji.
fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0x2300..=0x23FF
        | 0xFE00..=0xFE0F | 0x200D | 0x20E3 | 0xE0020..=0xE007F)
}

/// Whether a char is part of a word for the rewrites ("w/", "j'ai", "5k").
fn wordish(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '\'' | '-' | '/' | '&' | '+' | '@')
}

/// Whether the word `k` ("mon") stands for Monday here.
fn monday_here(
    words: &[(usize, usize)],
    k: usize,
    word: &dyn Fn((usize, usize)) -> String,
) -> bool {
    let before = k.checked_sub(1).map(|i| word(words[i]));
    let after = words.get(k + 1).map(|w| word(*w));
    before.as_deref().is_some_and(|b| {
        matches!(
            b,
            "on" | "every" | "next" | "this" | "each" | "til" | "until"
        )
    }) || after.as_deref().is_some_and(|a| {
        a.starts_with(|c: char| c.is_ascii_digit())
            || matches!(
                a,
                "at" | "morning" | "night" | "evening" | "afternoon" | "and" | "&"
            )
    })
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
                c if is_emoji(c) => ' ',
                _ => c,
            })
            .collect();
        let orig = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
        let chars: Vec<char> = orig.chars().collect();
        let folded: Vec<char> = chars.iter().map(|c| fold(*c)).collect();
        // Words: maximal runs of word chars, as char ranges.
        let mut words: Vec<(usize, usize)> = Vec::new();
        let mut i = 0;
        while i < folded.len() {
            if wordish(folded[i]) {
                let start = i;
                while i < folded.len() && wordish(folded[i]) {
                    i += 1;
                }
                words.push((start, i));
            } else {
                i += 1;
            }
        }
        let word = |w: (usize, usize)| folded[w.0..w.1].iter().collect::<String>();
        // (orig char range, replacement) for each rewritten word or pair.
        let mut rewrites: Vec<(usize, usize, &'static str)> = Vec::new();
        let mut k = 0;
        while k < words.len() {
            let one = word(words[k]);
            let two = words
                .get(k + 1)
                .filter(|next| next.0 == words[k].1 + 1 && folded[words[k].1] == ' ')
                .map(|next| format!("{one} {}", word(*next)));
            if let Some((_, to)) = two
                .as_deref()
                .and_then(|t| REWRITES.iter().find(|(from, _)| *from == t))
            {
                rewrites.push((words[k].0, words[k + 1].1, to));
                k += 2;
                continue;
            }
            if let Some((_, to)) = REWRITES.iter().find(|(from, _)| *from == one) {
                rewrites.push((words[k].0, words[k].1, to));
            } else if one == "mon" && monday_here(&words, k, &word) {
                // "mon" is French for "my"; before a time or after "on",
                // "every" or "next" it is Monday.
                rewrites.push((words[k].0, words[k].1, "monday"));
            }
            k += 1;
        }
        let mut norm = String::with_capacity(orig.len());
        let mut norm_at = Vec::with_capacity(orig.len() + 1);
        let mut span = Vec::with_capacity(orig.len());
        let mut next = rewrites.iter().peekable();
        let mut i = 0;
        while i < chars.len() {
            if let Some((a, b, to)) = next.peek().copied()
                && *a == i
            {
                for c in to.chars() {
                    norm_at.push(norm.len());
                    span.push((*a, *b));
                    norm.push(c);
                }
                i = *b;
                next.next();
                continue;
            }
            norm_at.push(norm.len());
            span.push((i, i + 1));
            norm.push(folded[i]);
            i += 1;
        }
        norm_at.push(norm.len());
        let mut orig_at: Vec<usize> = orig.char_indices().map(|(i, _)| i).collect();
        orig_at.push(orig.len());
        Input {
            orig,
            norm,
            orig_at,
            norm_at,
            span,
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

    /// How many chars `orig` has.
    pub(super) fn char_len(&self) -> usize {
        self.orig_at.len().saturating_sub(1)
    }

    /// The original text of the chars `a..b` of `orig`.
    pub(super) fn orig_chars(&self, a: usize, b: usize) -> &str {
        let n = self.char_len();
        let (a, b) = (a.min(n), b.min(n).max(a.min(n)));
        self.orig
            .get(self.orig_at[a]..self.orig_at[b])
            .unwrap_or_default()
    }

    /// The chars of `orig` under the chars `a..b` of `norm`.
    pub(super) fn orig_span(&self, a: usize, b: usize) -> (usize, usize) {
        let n = self.span.len();
        let (a, b) = (a.min(n), b.min(n));
        if a >= b {
            let at = self.span.get(a).map_or(self.char_len(), |s| s.0);
            return (at, at);
        }
        (self.span[a].0, self.span[b - 1].1)
    }

    /// The original text under a byte range of `norm` (a regex match).
    pub(super) fn orig_of(&self, r: Range<usize>) -> &str {
        let a = self.norm_at.partition_point(|&x| x < r.start);
        let b = self.norm_at.partition_point(|&x| x < r.end);
        let (a, b) = self.orig_span(a, b);
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

/// A text as rules see it: folded, shorthand spelled out.
pub(super) fn fold_str(s: &str) -> String {
    Input::new(s).norm().to_string()
}

/// Cuts a string to at most `max` chars, marking the cut.
pub(super) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
