//! Finding the thing a person means among what they already have: "the
//! dentist thing" is the task "book the dentist", "yoga" is the reminder
//! "yoga class", "apples" is the list item "green apples".
//!
//! A plan that refers to existing things first reads them (the same read
//! tools a model would call), then this module picks by shared words:
//! words match when they are equal, when one is a stem of the other
//! ("booked" / "book", "réparé" / "réparer", "running" / "run"), when a
//! long one contains the other ("appel" / "rappeler"), or through a few
//! synonyms people use for their goals ("reading" / "read"). Several equally
//! good candidates are never guessed between: the person is asked, with
//! the candidates named and numbered, and the answer ("2", "the bill one")
//! narrows the same search on the next turn.

use super::text::Input;

/// Words that say nothing about which thing is meant.
const FILLER: &[&str] = &[
    // English
    "the",
    "a",
    "an",
    "my",
    "our",
    "your",
    "to",
    "of",
    "for",
    "on",
    "in",
    "at",
    "with",
    "about",
    "and",
    "or",
    "thing",
    "things",
    "stuff",
    "one",
    "ones",
    "reminder",
    "reminders",
    "task",
    "tasks",
    "todo",
    "to-do",
    "list",
    "lists",
    "item",
    "items",
    "it",
    "them",
    "this",
    "that",
    "those",
    "these",
    "is",
    "are",
    "was",
    "be",
    "been",
    "done",
    "finished",
    "completed",
    "did",
    "just",
    "finally",
    "already",
    "now",
    "anymore",
    "any",
    "more",
    "please",
    "i",
    "i've",
    "i'm",
    "me",
    "off",
    "from",
    "goal",
    "goals",
    "up",
    "all",
    "ok",
    "okay",
    "yes",
    "thanks",
    "oh",
    "not",
    "don't",
    "no",
    "need",
    "never",
    "mind",
    "cancel",
    "delete",
    "remove",
    "forget",
    "drop",
    "stop",
    "got",
    "bought",
    "picked",
    "grabbed",
    "cross",
    "take",
    "scratch",
    "tick",
    "progress",
    "update",
    "today",
    "yesterday",
    "so",
    "far",
    "s",
    // French
    "le",
    "la",
    "les",
    "l",
    "l'",
    "de",
    "du",
    "des",
    "d",
    "d'",
    "un",
    "une",
    "mon",
    "ma",
    "mes",
    "ton",
    "ta",
    "tes",
    "notre",
    "nos",
    "pour",
    "avec",
    "sur",
    "dans",
    "au",
    "aux",
    "a",
    "et",
    "ou",
    "truc",
    "trucs",
    "chose",
    "machin",
    "rappel",
    "rappels",
    "tache",
    "taches",
    "liste",
    "objectif",
    "objectifs",
    "celui",
    "celle",
    "ceux",
    "fini",
    "finie",
    "termine",
    "terminee",
    "fait",
    "faite",
    "c'est",
    "c",
    "est",
    "ca",
    "j'ai",
    "je",
    "enfin",
    "deja",
    "plus",
    "besoin",
    "annule",
    "supprime",
    "efface",
    "oublie",
    "laisse",
    "tomber",
    "enleve",
    "retire",
    "raye",
    "acheté",
    "achete",
    "pris",
    "progres",
    "avancement",
    "aujourd'hui",
    "merci",
    "oui",
    "bon",
    "ai",
    "tu",
    "peux",
    "les",
    "y",
    "en",
    "que",
    "qui",
    "ce",
];

/// Words people use for a goal that share no stem with its title.
const SYNONYMS: &[(&str, &str)] = &[
    ("reading", "read"),
    ("books", "read"),
    ("book", "read"),
    ("lecture", "lire"),
    ("livre", "lire"),
    ("livres", "lire"),
    ("running", "run"),
    ("jogging", "run"),
    ("course", "courir"),
    ("jog", "run"),
    ("saving", "save"),
    ("savings", "save"),
    ("epargne", "economiser"),
    ("gym", "workout"),
    ("sport", "workout"),
];

/// The words of a text that may identify a thing, folded.
pub(super) fn key_words(text: &str) -> Vec<String> {
    let inp = Input::new(text);
    inp.norm()
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| {
            // Elided articles: "l'appel" → "appel".
            ["l'", "d'", "j'", "m'", "t'", "s'", "n'", "c'", "qu'"]
                .iter()
                .find_map(|p| w.strip_prefix(p))
                .unwrap_or(w)
                .trim_matches('\'')
                .to_string()
        })
        .filter(|w| !w.is_empty() && !FILLER.contains(&w.as_str()))
        .collect()
}

/// A rough stem: without the endings that vary between how a thing was
/// written and how it is mentioned (English and French).
fn stem(w: &str) -> &str {
    const ENDINGS: &[&str] = &[
        "ing", "ies", "ied", "ed", "es", "s", "er", "ee", "ees", "es", "ir", "e", "ant",
    ];
    for end in ENDINGS {
        if let Some(s) = w.strip_suffix(end)
            && s.chars().count() >= 3
        {
            return s;
        }
    }
    w
}

fn synonym(w: &str) -> &str {
    SYNONYMS
        .iter()
        .find(|(from, _)| *from == w)
        .map_or(w, |(_, to)| to)
}

/// Whether two folded words refer to the same thing.
pub(super) fn words_match(a: &str, b: &str) -> bool {
    if a == b || synonym(a) == b || synonym(b) == a || synonym(a) == synonym(b) {
        return true;
    }
    let (sa, sb) = (stem(a), stem(b));
    if sa == sb {
        return true;
    }
    let (short, long) = if sa.len() <= sb.len() {
        (sa, sb)
    } else {
        (sb, sa)
    };
    // A stem of at least 3 letters at the start of a longer word ("run" /
    // "runn"), or a word of 5 letters or more inside another ("appel" /
    // "rappeler").
    (short.chars().count() >= 3 && long.starts_with(short))
        || (short.chars().count() >= 5 && long.contains(short))
}

/// How many of `wanted` appear in `candidate`'s words.
fn score(wanted: &[String], candidate: &str) -> usize {
    let have = key_words(candidate);
    wanted
        .iter()
        .filter(|w| have.iter().any(|h| words_match(w, h)))
        .count()
}

/// The candidates that best share the wanted words: all of those that
/// contain every wanted word, else those sharing the most (at least one).
/// Indices into `candidates`, in their order.
pub(super) fn best(wanted: &[String], candidates: &[String]) -> Vec<usize> {
    if wanted.is_empty() {
        return Vec::new();
    }
    let scores: Vec<usize> = candidates.iter().map(|c| score(wanted, c)).collect();
    let top = scores.iter().copied().max().unwrap_or(0);
    if top == 0 {
        return Vec::new();
    }
    let all: Vec<usize> = (0..candidates.len())
        .filter(|i| scores[*i] == wanted.len())
        .collect();
    if !all.is_empty() {
        return all;
    }
    (0..candidates.len())
        .filter(|i| scores[*i] == top)
        .collect()
}

/// "2", "#2", "the 2nd", "second", "le 2", "la deuxième", "number 2": which
/// of the numbered candidates the person picked (1-based).
pub(super) fn ordinal(text: &str) -> Option<usize> {
    let inp = Input::new(text);
    let words: Vec<&str> = inp
        .norm()
        .split(|c: char| !(c.is_alphanumeric()))
        .filter(|w| {
            !w.is_empty()
                && !matches!(
                    *w,
                    "the"
                        | "one"
                        | "number"
                        | "no"
                        | "nb"
                        | "le"
                        | "la"
                        | "numero"
                        | "celui"
                        | "celle"
                        | "please"
                        | "stp"
                        | "svp"
                        | "thanks"
                        | "merci"
                        | "ok"
                )
        })
        .collect();
    let [w] = words.as_slice() else {
        return None;
    };
    let n = match *w {
        "first" | "1st" | "premier" | "premiere" | "1er" | "1ere" => 1,
        "second" | "2nd" | "deuxieme" | "2e" | "2eme" | "seconde" => 2,
        "third" | "3rd" | "troisieme" | "3e" | "3eme" => 3,
        "fourth" | "4th" | "quatrieme" | "4e" | "4eme" => 4,
        "last" | "dernier" | "derniere" => usize::MAX,
        w => w.parse().ok()?,
    };
    (n >= 1).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn words_match_across_forms_and_languages() {
        for (a, b) in [
            ("booked", "book"),
            ("dentist", "dentiste"),
            ("taxes", "taxes"),
            ("apples", "apples"),
            ("running", "run"),
            ("repare", "reparer"),
            ("appel", "rappeler"),
            ("course", "courir"),
            ("reading", "read"),
            ("lecture", "lire"),
        ] {
            assert!(words_match(a, b), "{a} ~ {b}");
        }
        for (a, b) in [
            ("bill", "bank"),
            ("call", "mom"),
            ("gym", "bag"),
            ("eggs", "milk"),
        ] {
            assert!(!words_match(a, b), "{a} !~ {b}");
        }
    }

    #[test]
    fn best_prefers_full_matches_and_never_picks_among_equals() {
        let tasks = v(&["book the dentist", "fix the bike"]);
        assert_eq!(best(&key_words("the dentist thing"), &tasks), vec![0]);
        assert_eq!(best(&key_words("i booked the dentist!!"), &tasks), vec![0]);
        let calls = v(&["call the bank", "call mom back"]);
        assert_eq!(best(&key_words("done with the call"), &calls), vec![0, 1]);
        assert_eq!(best(&key_words("the call to the bank"), &calls), vec![0]);
        assert!(best(&key_words("yoga"), &calls).is_empty());
        assert!(best(&key_words("the thing"), &calls).is_empty());
    }

    #[test]
    fn ordinals_in_both_languages() {
        assert_eq!(ordinal("2"), Some(2));
        assert_eq!(ordinal("the 2nd one"), Some(2));
        assert_eq!(ordinal("le 1"), Some(1));
        assert_eq!(ordinal("la deuxième"), Some(2));
        assert_eq!(ordinal("first"), Some(1));
        assert_eq!(ordinal("the bill one"), None);
        assert_eq!(ordinal("0"), None);
    }
}
