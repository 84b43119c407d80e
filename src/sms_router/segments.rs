//! SMS encoding, segment counting, fitting a reply into a segment budget,
//! and cost estimates.
//!
//! Carriers bill per segment, so the outbound path needs the same count
//! Twilio will charge for:
//!
//! * A body made only of characters from the GSM 03.38 default alphabet
//!   (basic table, plus the extension table reached through an escape) is
//!   sent as GSM-7. Extension characters (`^ { } \ [ ~ ] | €` and form feed)
//!   take two septets (escape + character). Anything else makes the whole
//!   message UCS-2, counted in UTF-16 code units (an astral character such
//!   as most emoji is a surrogate pair, two units).
//! * One segment holds 160 septets / 70 UTF-16 units. Once a message needs
//!   more, every segment carries a 6-byte concatenation header and holds
//!   153 septets / 67 units.
//! * An escape pair or a surrogate pair is never split across segments
//!   (Twilio's own segment calculator, `TwilioDevEd/message-segment-calculator`,
//!   moves the whole character to the next segment), so segments are counted
//!   by filling them greedily rather than by `ceil(units / 153)`.
//!
//! The character table is the one in Twilio's calculator
//! (`src/libs/UnicodeToGSM.ts`), i.e. the GSM 03.38 default alphabet:
//! 0x09 is capital `Ç` (U+00C7), so lowercase `ç` forces UCS-2, as do `ê`,
//! `â`, `î`, `ô`, `û`, the backtick and tab.
//!
//! An empty body is reported as 0 units and 0 segments: we never send one,
//! and "0" keeps cost estimates honest (Twilio's calculator says 1).
//! Twilio's "smart encoding" (replacing curly quotes etc. with GSM
//! look-alikes) is not modelled: counting without it can only overestimate.

/// The character set an SMS is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    /// `"gsm7"` or `"ucs2"`, the same spelling as the serde form.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "gsm7",
            Encoding::Ucs2 => "ucs2",
        }
    }

    fn single_segment_units(self) -> usize {
        match self {
            Encoding::Gsm7 => 160,
            Encoding::Ucs2 => 70,
        }
    }

    fn multipart_segment_units(self) -> usize {
        match self {
            Encoding::Gsm7 => 153,
            Encoding::Ucs2 => 67,
        }
    }

    /// Cost of `c` in this encoding's units. Only meaningful for GSM-7 when
    /// `c` is a GSM character; callers pick the encoding from the whole text.
    fn units_of(self, c: char) -> usize {
        match self {
            Encoding::Gsm7 => gsm7_septets(c).unwrap_or(2),
            Encoding::Ucs2 => c.len_utf16(),
        }
    }

    /// What to append to a cut message without changing its encoding.
    fn ellipsis(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "...",
            Encoding::Ucs2 => "\u{2026}",
        }
    }
}

/// How a body will be encoded and billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentInfo {
    pub encoding: Encoding,
    /// GSM-7 septets (extension chars count 2) or UTF-16 code units
    pub units: usize,
    pub segments: u32,
}

/// Twilio's US/Canada long-code price, per segment, as a default estimate.
pub const DEFAULT_SEGMENT_COST_MICROS: i64 = 8300;

/// Septets `c` takes in GSM-7 (1 basic, 2 extension), `None` if `c` cannot
/// be sent in GSM-7 at all.
fn gsm7_septets(c: char) -> Option<usize> {
    match c {
        // Basic table, in GSM 03.38 order (0x1B is the escape, not a char).
        '@'
        | '£'
        | '$'
        | '¥'
        | 'è'
        | 'é'
        | 'ù'
        | 'ì'
        | 'ò'
        | 'Ç'
        | '\n'
        | 'Ø'
        | 'ø'
        | '\r'
        | 'Å'
        | 'å'
        | 'Δ'
        | '_'
        | 'Φ'
        | 'Γ'
        | 'Λ'
        | 'Ω'
        | 'Π'
        | 'Ψ'
        | 'Σ'
        | 'Θ'
        | 'Ξ'
        | 'Æ'
        | 'æ'
        | 'ß'
        | 'É'
        | ' '
        | '!'
        | '"'
        | '#'
        | '¤'
        | '%'
        | '&'
        | '\''
        | '('
        | ')'
        | '*'
        | '+'
        | ','
        | '-'
        | '.'
        | '/'
        | '0'..='9'
        | ':'
        | ';'
        | '<'
        | '='
        | '>'
        | '?'
        | '¡'
        | 'A'..='Z'
        | 'Ä'
        | 'Ö'
        | 'Ñ'
        | 'Ü'
        | '§'
        | '¿'
        | 'a'..='z'
        | 'ä'
        | 'ö'
        | 'ñ'
        | 'ü'
        | 'à' => Some(1),
        // Extension table: escape + character.
        '\u{000C}' | '^' | '{' | '}' | '\\' | '[' | '~' | ']' | '|' | '€' => Some(2),
        _ => None,
    }
}

fn encoding_of(body: &str) -> Encoding {
    if body.chars().all(|c| gsm7_septets(c).is_some()) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

/// Total units and segments for a sequence of per-character unit costs.
fn count(encoding: Encoding, costs: impl IntoIterator<Item = usize>) -> (usize, u32) {
    let capacity = encoding.multipart_segment_units();
    let mut units = 0usize;
    let mut multipart_segments = 0u32;
    let mut fill = 0usize;
    for cost in costs {
        units = units.saturating_add(cost);
        // A character that does not fit whole starts the next segment, so
        // escape and surrogate pairs are never split.
        if multipart_segments == 0 || fill + cost > capacity {
            multipart_segments = multipart_segments.saturating_add(1);
            fill = cost;
        } else {
            fill += cost;
        }
    }
    let segments = if units == 0 {
        0
    } else if units <= encoding.single_segment_units() {
        1
    } else {
        multipart_segments
    };
    (units, segments)
}

/// Encoding, size and segment count of `body`, as Twilio bills it.
///
/// An empty body is 0 units and 0 segments (see the module docs).
pub fn analyse(body: &str) -> SegmentInfo {
    let encoding = encoding_of(body);
    let (units, segments) = count(encoding, body.chars().map(|c| encoding.units_of(c)));
    SegmentInfo {
        encoding,
        units,
        segments,
    }
}

/// Returns `body` unchanged if it fits in `max_segments`; otherwise cuts it at the last sentence boundary (". ", "! ", "? ", newline; also ". " followed by end) that fits together with an ellipsis, else at the last word boundary, else hard; appends "..." for GSM-7 text (so the message stays GSM-7) and "…" for UCS-2 text. The result must satisfy analyse(result).segments <= max_segments and must not switch GSM-7 text to UCS-2. max_segments >= 1.
///
/// Details: a boundary is only used if it keeps at least half of the text
/// that could fit, so "Hi. <long paragraph>" is not cut down to "Hi...";
/// trailing whitespace (and the sentence's own final `.`) is dropped before
/// the ellipsis; a hard cut steps back over combining marks, variation
/// selectors and zero-width joiners so an accent or emoji sequence is not
/// torn apart. `max_segments == 0` is treated as 1.
pub fn fit_to_segments(body: &str, max_segments: u32) -> String {
    let max_segments = max_segments.max(1);
    let info = analyse(body);
    if info.segments <= max_segments {
        return body.to_owned();
    }
    let encoding = info.encoding;
    let ellipsis = encoding.ellipsis();

    let chars: Vec<(usize, char)> = body.char_indices().collect();
    let costs: Vec<usize> = chars.iter().map(|&(_, c)| encoding.units_of(c)).collect();
    let ellipsis_costs: Vec<usize> = ellipsis.chars().map(|c| encoding.units_of(c)).collect();
    let fits = |n: usize| {
        let prefix = costs.get(..n).unwrap_or(&costs);
        let (_, segments) = count(
            encoding,
            prefix.iter().chain(ellipsis_costs.iter()).copied(),
        );
        segments <= max_segments
    };

    // Segment count only grows as the prefix grows, so binary search for
    // the longest prefix (in chars) that still fits with the ellipsis.
    // Invariant: fits(lo), !fits(hi); the whole body does not fit.
    let (mut lo, mut hi) = (0usize, chars.len());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let limit = chars.get(lo).map_or(body.len(), |&(i, _)| i);

    let candidates = [
        sentence_cut(body, &chars, lo),
        word_cut(body, &chars, lo),
        Some(hard_cut(&chars, lo, limit)),
    ];
    for cut in candidates.into_iter().flatten() {
        let Some(kept) = body.get(..cut) else {
            continue;
        };
        let kept = kept.trim_end();
        let kept = if kept.ends_with('.') {
            // "Done." + "..." would read as four dots.
            kept.trim_end_matches('.')
        } else {
            kept.trim_end_matches([',', ';', ':'])
        }
        .trim_end();
        if kept.is_empty() {
            continue;
        }
        let result = format!("{kept}{ellipsis}");
        let fitted = analyse(&result);
        if fitted.segments <= max_segments
            && (encoding == Encoding::Ucs2 || fitted.encoding == Encoding::Gsm7)
        {
            return result;
        }
    }
    // Only reachable if the body is all whitespace or punctuation that the
    // trimming above removed; the ellipsis alone always fits one segment.
    ellipsis.to_owned()
}

fn is_sentence_end(c: char) -> bool {
    matches!(c, '.' | '!' | '?')
}

/// Whether cutting at char index `n` (of `limit_chars` that fit) keeps
/// enough of the text to be worth a nicer boundary.
fn keeps_enough(n: usize, limit_chars: usize) -> bool {
    n.saturating_mul(2) >= limit_chars
}

/// Byte offset just after the last sentence end, or at the last newline,
/// within the first `limit_chars` chars.
fn sentence_cut(body: &str, chars: &[(usize, char)], limit_chars: usize) -> Option<usize> {
    // Position n means "keep chars[..n]"; n == limit_chars is allowed, since
    // the char right after the kept text may be the space that ends the
    // sentence.
    (1..=limit_chars)
        .rev()
        .take_while(|&n| keeps_enough(n, limit_chars))
        .find(|&n| {
            let next = chars.get(n).map(|&(_, c)| c);
            let prev = chars.get(n - 1).map(|&(_, c)| c);
            next == Some('\n')
                || (prev.is_some_and(is_sentence_end) && next.is_none_or(char::is_whitespace))
        })
        .map(|n| chars.get(n).map_or(body.len(), |&(i, _)| i))
}

/// Byte offset of the last whitespace within (or right after) the first
/// `limit_chars` chars.
fn word_cut(body: &str, chars: &[(usize, char)], limit_chars: usize) -> Option<usize> {
    (1..=limit_chars)
        .rev()
        .take_while(|&n| keeps_enough(n, limit_chars))
        .find(|&n| chars.get(n).is_some_and(|&(_, c)| c.is_whitespace()))
        .map(|n| chars.get(n).map_or(body.len(), |&(i, _)| i))
}

/// Characters that attach to the one before them: cutting just before one
/// would strip an accent, a skin tone or half of a joined emoji.
fn attaches_to_previous(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'     // combining diacritical marks
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}'
        | '\u{FE00}'..='\u{FE0F}'   // variation selectors
        | '\u{200D}'                // zero-width joiner
        | '\u{1F3FB}'..='\u{1F3FF}' // skin tones
        | '\u{E0020}'..='\u{E007F}' // emoji tag sequences
        | '\u{E0100}'..='\u{E01EF}')
}

/// Byte offset for a cut at char index `limit_chars`, moved back so that it
/// does not separate a character from what attaches to it.
fn hard_cut(chars: &[(usize, char)], limit_chars: usize, limit: usize) -> usize {
    let mut n = limit_chars;
    while n > 0 {
        let next_attaches = chars.get(n).is_some_and(|&(_, c)| attaches_to_previous(c));
        let prev_is_joiner = chars.get(n - 1).is_some_and(|&(_, c)| c == '\u{200D}');
        if !next_attaches && !prev_is_joiner {
            break;
        }
        n -= 1;
    }
    if n == 0 {
        // One giant cluster: tearing it is better than sending nothing.
        return limit;
    }
    chars.get(n).map_or(limit, |&(i, _)| i)
}

/// Estimated cost in micro-dollars (1e-6 USD) for `segments` at `per_segment_micros`.
///
/// Saturates instead of overflowing; the result is an estimate, not a bill.
pub fn estimated_cost_micros(segments: u32, per_segment_micros: i64) -> i64 {
    i64::from(segments).saturating_mul(per_segment_micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(encoding: Encoding, units: usize, segments: u32) -> SegmentInfo {
        SegmentInfo {
            encoding,
            units,
            segments,
        }
    }

    #[test]
    fn gsm7_boundaries() {
        for (len, segments) in [
            (1, 1),
            (160, 1),
            (161, 2),
            (306, 2),
            (307, 3),
            (459, 3),
            (460, 4),
        ] {
            assert_eq!(
                analyse(&"a".repeat(len)),
                info(Encoding::Gsm7, len, segments),
                "{len}"
            );
        }
    }

    #[test]
    fn extension_characters_count_two() {
        for c in ['^', '{', '}', '\\', '[', '~', ']', '|', '€', '\u{000C}'] {
            assert_eq!(analyse(&c.to_string()), info(Encoding::Gsm7, 2, 1), "{c:?}");
        }
        let euro_159 = format!("€{}", "a".repeat(158));
        assert_eq!(analyse(&euro_159), info(Encoding::Gsm7, 160, 1));
        let euro_160 = format!("€{}", "a".repeat(159));
        assert_eq!(analyse(&euro_160), info(Encoding::Gsm7, 161, 2));
    }

    #[test]
    fn escape_pair_is_never_split() {
        // 152 + (2) + 151 = 305 septets: the € starts segment 2, which then
        // holds exactly 153.
        let body = format!("{}€{}", "a".repeat(152), "a".repeat(151));
        assert_eq!(analyse(&body), info(Encoding::Gsm7, 305, 2));
        // One more septet: ceil(306 / 153) would say 2, but since the € could
        // not be split, segment 2 would need 154.
        let body = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(analyse(&body), info(Encoding::Gsm7, 306, 3));
    }

    #[test]
    fn ucs2_boundaries() {
        for (len, segments) in [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3)] {
            assert_eq!(
                analyse(&"ê".repeat(len)),
                info(Encoding::Ucs2, len, segments),
                "{len}"
            );
        }
    }

    #[test]
    fn emoji_is_two_units_and_never_split() {
        assert_eq!(analyse("😀"), info(Encoding::Ucs2, 2, 1));
        assert_eq!(analyse(&"😀".repeat(35)), info(Encoding::Ucs2, 70, 1));
        assert_eq!(analyse(&"😀".repeat(36)), info(Encoding::Ucs2, 72, 2));
        // 66 + (2) + 65 = 133 units: the emoji opens segment 2.
        let body = format!("{}😀{}", "ê".repeat(66), "ê".repeat(65));
        assert_eq!(analyse(&body), info(Encoding::Ucs2, 133, 2));
        // 134 units would be 2 segments if the pair could be split.
        let body = format!("{}😀{}", "ê".repeat(66), "ê".repeat(66));
        assert_eq!(analyse(&body), info(Encoding::Ucs2, 134, 3));
    }

    #[test]
    fn accents_in_and_out_of_gsm7() {
        let gsm = "é è ù ì ò Ç à É Ø ø Å å Ä Ö Ñ Ü ä ö ñ ü Æ æ ß ¿¡ §£¥¤ ΔΦΓΛΩΠΨΣΘΞ @$_";
        assert_eq!(analyse(gsm).encoding, Encoding::Gsm7);
        assert_eq!(analyse("Ça va? Déjà vu, où ça?").encoding, Encoding::Ucs2);
        assert_eq!(
            analyse("Ça va très bien, à demain").encoding,
            Encoding::Gsm7
        );
        for word in [
            "ça", "être", "âge", "île", "hôtel", "sûr", "ë", "ï", "`", "\t", "…", "’", "“",
        ] {
            assert_eq!(analyse(word).encoding, Encoding::Ucs2, "{word:?}");
        }
    }

    #[test]
    fn empty_body() {
        assert_eq!(analyse(""), info(Encoding::Gsm7, 0, 0));
        assert_eq!(fit_to_segments("", 1), "");
    }

    #[test]
    fn encoding_names() {
        assert_eq!(Encoding::Gsm7.as_str(), "gsm7");
        assert_eq!(Encoding::Ucs2.as_str(), "ucs2");
        assert_eq!(
            serde_json::to_string(&Encoding::Gsm7).ok().as_deref(),
            Some("\"gsm7\"")
        );
        assert_eq!(
            serde_json::to_string(&Encoding::Ucs2).ok().as_deref(),
            Some("\"ucs2\"")
        );
    }

    #[test]
    fn cost() {
        assert_eq!(estimated_cost_micros(0, DEFAULT_SEGMENT_COST_MICROS), 0);
        assert_eq!(
            estimated_cost_micros(3, DEFAULT_SEGMENT_COST_MICROS),
            24_900
        );
        assert_eq!(estimated_cost_micros(u32::MAX, i64::MAX), i64::MAX);
        assert_eq!(estimated_cost_micros(2, -5), -10);
    }

    #[test]
    fn fit_keeps_short_bodies() {
        assert_eq!(fit_to_segments("Hello!", 1), "Hello!");
        let exact = "a".repeat(160);
        assert_eq!(fit_to_segments(&exact, 1), exact);
        let two = "b".repeat(306);
        assert_eq!(fit_to_segments(&two, 2), two);
        assert_eq!(fit_to_segments(&two, 0), "b".repeat(157) + "...");
    }

    #[test]
    fn fit_cuts_english_at_a_sentence() {
        let body = "Your dentist appointment is on Tuesday at 3pm. \
                    Remember to bring your insurance card and arrive ten minutes early. \
                    The clinic moved to 42 Main Street last month, so check the address. \
                    Reply STOP to cancel reminders.";
        let fitted = fit_to_segments(body, 1);
        assert_eq!(
            fitted,
            "Your dentist appointment is on Tuesday at 3pm. \
             Remember to bring your insurance card and arrive ten minutes early..."
        );
        assert!(analyse(&fitted).segments <= 1);
        assert_eq!(analyse(&fitted).encoding, Encoding::Gsm7);

        let questions = "Are you free tomorrow? I can move the call to the afternoon if that \
                         works better for you and the team! Let me know what suits you, and \
                         I will send an updated invite to everyone on the thread.";
        assert_eq!(
            fit_to_segments(questions, 1),
            "Are you free tomorrow? I can move the call to the afternoon if that works \
             better for you and the team!..."
        );

        let lines = format!(
            "Pick up milk, eggs and bread on the way home tonight\n\
             Call the plumber about the kitchen sink before Friday\n{}",
            "and the garden hose ".repeat(10)
        );
        assert_eq!(
            fit_to_segments(&lines, 1),
            "Pick up milk, eggs and bread on the way home tonight\n\
             Call the plumber about the kitchen sink before Friday..."
        );
    }

    #[test]
    fn fit_falls_back_to_words_then_hard() {
        // An early sentence end is not worth losing most of the budget for.
        let body = format!("Hi. {}", "word ".repeat(60));
        let fitted = fit_to_segments(&body, 1);
        assert!(fitted.len() > 100, "{fitted}");
        assert!(fitted.ends_with("word..."), "{fitted}");
        assert!(analyse(&fitted).segments <= 1);

        let words = "lorem ipsum dolor sit amet ".repeat(20);
        let fitted = fit_to_segments(&words, 1);
        let kept = fitted.strip_suffix("...").unwrap_or_default();
        assert!(words.starts_with(kept));
        assert_eq!(words.as_bytes().get(kept.len()), Some(&b' '), "{fitted}");

        let one_word = "a".repeat(400);
        assert_eq!(fit_to_segments(&one_word, 1), "a".repeat(157) + "...");
        assert_eq!(fit_to_segments(&one_word, 2), "a".repeat(303) + "...");
    }

    #[test]
    fn fit_keeps_gsm7_with_extension_chars() {
        let body = "{x} ".repeat(100);
        let fitted = fit_to_segments(&body, 1);
        assert!(fitted.ends_with("..."));
        assert_eq!(analyse(&fitted).encoding, Encoding::Gsm7);
        assert!(analyse(&fitted).segments <= 1);
    }

    #[test]
    fn fit_cuts_ucs2_with_unicode_ellipsis() {
        let body = "Ça marche. Je t'envoie l'adresse de l'hôtel ce soir. \
                    Il faudra être à la gare vers huit heures pour le train. \
                    N'oublie pas ton passeport et ta carte bancaire.";
        let fitted = fit_to_segments(body, 1);
        assert!(fitted.ends_with('…'), "{fitted}");
        assert_eq!(
            fitted,
            "Ça marche. Je t'envoie l'adresse de l'hôtel ce soir…"
        );
        assert!(analyse(&fitted).segments <= 1);

        let emoji = "😀".repeat(100);
        let fitted = fit_to_segments(&emoji, 1);
        assert_eq!(fitted, "😀".repeat(34) + "…");
        assert_eq!(analyse(&fitted), info(Encoding::Ucs2, 69, 1));
    }

    #[test]
    fn fit_does_not_tear_accents_or_joined_emoji() {
        // e + combining acute, and a family emoji joined with ZWJs.
        let accented = "e\u{301}".repeat(100);
        let fitted = fit_to_segments(&accented, 1);
        let kept = fitted.strip_suffix('…').unwrap_or_default();
        assert!(kept.ends_with('\u{301}'), "{fitted:?}");

        let family = "👨\u{200D}👩\u{200D}👧";
        let body = family.repeat(20);
        let fitted = fit_to_segments(&body, 1);
        let kept = fitted.strip_suffix('…').unwrap_or_default();
        assert!(kept.ends_with('👧'), "{fitted:?}");
        assert!(analyse(&fitted).segments <= 1);
    }

    /// Deterministic pseudo-random text mixing everything that matters.
    fn generated(len: usize, seed: u64) -> String {
        const PIECES: &[&str] = &[
            "a", "b", "Z", "7", " ", " ", " ", ". ", "! ", "? ", "\n", ",", "€", "[", "é", "Ç",
            "ê", "ç", "😀", "👍🏽", "e\u{301}", "日", "\u{200D}", "...", "\t",
        ];
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let mut out = String::new();
        let mut chars = 0usize;
        while chars < len {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let index = usize::try_from(state >> 33).unwrap_or(0) % PIECES.len();
            let mut piece = PIECES.get(index).copied().unwrap_or("a");
            // Half of the strings stay pure GSM-7.
            if seed.is_multiple_of(2) && encoding_of(piece) == Encoding::Ucs2 {
                piece = "x";
            }
            out.push_str(piece);
            chars += piece.chars().count();
        }
        out
    }

    #[test]
    fn fit_never_exceeds_the_limit() {
        for len in (1..2000).step_by(3) {
            for max in 1..=3u32 {
                let seed = (len as u64) * 7 + u64::from(max);
                let body = generated(len, seed);
                let before = analyse(&body);
                let fitted = fit_to_segments(&body, max);
                let after = analyse(&fitted);
                assert!(after.segments <= max, "len {len} max {max}: {after:?}");
                if before.encoding == Encoding::Gsm7 {
                    assert_eq!(after.encoding, Encoding::Gsm7, "len {len} max {max}");
                }
                if before.segments <= max {
                    assert_eq!(fitted, body);
                } else {
                    let ellipsis = before.encoding.ellipsis();
                    let kept = fitted.strip_suffix(ellipsis).unwrap_or_else(|| {
                        panic!("len {len} max {max}: no ellipsis in {fitted:?}")
                    });
                    assert!(body.starts_with(kept), "len {len} max {max}");
                    // Cut, not gutted: most of the budget is used.
                    assert!(
                        after.units * 2 >= before.encoding.multipart_segment_units(),
                        "len {len} max {max}: {fitted:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn fit_handles_degenerate_bodies() {
        for body in [
            " ".repeat(500),
            ".".repeat(500),
            "\n".repeat(500),
            ", ".repeat(300),
            "\u{301}".repeat(300),
            "\u{200D}".repeat(300),
        ] {
            for max in 0..=3 {
                let fitted = fit_to_segments(&body, max);
                assert!(analyse(&fitted).segments <= max.max(1), "{body:?} {max}");
            }
        }
    }
}
