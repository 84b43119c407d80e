//! Cutting a message down to what a rule needs: punctuation at the ends,
//! leading and trailing words, and the greetings around a request.

use super::Input;

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
pub(in crate::agent::llm::offline) fn trim_punct(inp: &Input) -> Input {
    let chars: Vec<char> = inp.orig().chars().collect();
    let a = chars.iter().take_while(|c| is_edge_punct(**c)).count();
    let b = chars.len()
        - chars[a..]
            .iter()
            .rev()
            .take_while(|c| is_edge_punct(**c))
            .count();
    // 'call plumber': single quotes only in pairs, so that an elision or
    // a plural possessive at an end ("the kids'") stays.
    let (a, b) = if b >= a + 3 && chars[a] == '\'' && chars[b - 1] == '\'' {
        (a + 1, b - 1)
    } else {
        (a, b)
    };
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
pub(in crate::agent::llm::offline) fn strip_lead(
    inp: &Input,
    words: &[&str],
    repeat: bool,
) -> Input {
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
        // Cutting maps back to the original text, which is normalised
        // again: a rewritten word can come back whole. Stop unless the
        // text shrank, or a message can loop forever (found by fuzzing).
        if next.norm().len() >= n.len() {
            return cur;
        }
        cur = next;
    }
}

/// Drops trailing words, such as "please".
pub(in crate::agent::llm::offline) fn strip_trail(inp: &Input, words: &[&str]) -> Input {
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
        let next = trim_punct(&cur.sub(0..n.len() - w.len()));
        // As in `strip_lead`: stop unless the text shrank.
        if next.norm().len() >= n.len() {
            return cur;
        }
        cur = next;
    }
}

/// Greetings and politeness around a request carry no meaning for a rule.
pub(in crate::agent::llm::offline) fn polite_trimmed(inp: &Input) -> Input {
    const LEAD: &[&str] = &[
        "s'il te plait",
        "s'il vous plait",
        "please",
        "hey there",
        "hi there",
        "hey",
        "hello",
        "hi",
        "yo",
        "okay so",
        "ok so",
        "okay",
        "ok",
        "so",
        "um",
        "uh",
        "oh and",
        "ugh forgot",
        "ugh",
        "argh",
        "oh no",
        "zut",
        "mince",
        "also",
        "bonjour",
        "salut",
        "coucou",
        "alors",
        "euh",
        "aussi",
        "stp",
        "svp",
    ];
    const TRAIL: &[&str] = &[
        "s'il te plait",
        "s'il vous plait",
        "please",
        "right now",
        "thanks a lot",
        "thanks",
        "thank you",
        "merci beaucoup",
        "merci",
        "stp",
        "svp",
        "lol",
        "haha",
        "mdr",
        "ok",
        "okay",
    ];
    strip_trail(&strip_lead(inp, LEAD, true), TRAIL)
}
