//! Which language a message is in, by counting telltale words (the word
//! lists are most of this file).

use super::Input;
use crate::store::Locale;

/// Which language a message is in, by counting telltale words; ties go
/// to the person's locale.
pub(in crate::agent::llm::offline) fn detect_lang(inp: &Input, fallback: Locale) -> Locale {
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
