//! What a person reads when a reminder fires or is nudged, and the other
//! follow-through texts (a bookmark's offer, a focus check-in), in their
//! language.

use crate::store::Locale;

/// The text of a fired reminder; a late one says so.
pub fn fired_text(body: &str, late: bool, locale: Locale) -> String {
    match (locale, late) {
        (Locale::Fr, false) => format!("Rappel : {body}"),
        (Locale::Fr, true) => format!("Rappel : {body} (en retard)"),
        (_, false) => format!("Reminder: {body}"),
        (_, true) => format!("Reminder: {body} (late)"),
    }
}

/// Nudge `n` (from 1) about a reminder not yet acknowledged: gently more
/// insistent, and the last one says how to answer. No emoji: one would
/// turn the whole text into UCS-2 and cost more segments.
pub fn nudge_text(body: &str, n: i16, last: bool, locale: Locale) -> String {
    let ordinal_en = match n + 1 {
        2 => "2nd".to_string(),
        3 => "3rd".to_string(),
        k => format!("{k}th"),
    };
    match (locale, last) {
        (Locale::Fr, true) => {
            format!("Dernier rappel pour l'instant : {body} — réponds FAIT ou REPORTE 30")
        }
        (Locale::Fr, false) if n == 1 => format!("{}e rappel : {body}", n + 1),
        (Locale::Fr, false) => format!("{}e rappel : {body} — toujours d'actualité ?", n + 1),
        (_, true) => format!("Last nudge for now: {body} — reply DONE or SNOOZE 30"),
        (_, false) if n == 1 => format!("{ordinal_en} nudge: {body}"),
        (_, false) => format!("{ordinal_en} nudge: {body} — still on?"),
    }
}

/// The one gentle offer after a "brb" and a long quiet.
pub fn bookmark_offer_text(doing: &str, next: Option<&str>, locale: Locale) -> String {
    match (locale, next) {
        (Locale::Fr, Some(next)) => {
            format!("De retour ? Tu faisais : {doing} — ensuite : {next}. Pas de pression.")
        }
        (Locale::Fr, None) => format!("De retour ? Tu faisais : {doing}. Pas de pression."),
        (_, Some(next)) => format!("Back? You were doing: {doing} — next: {next}. No pressure."),
        (_, None) => format!("Back? You were doing: {doing}. No pressure."),
    }
}

/// The check-in when a focus session's time is up.
pub fn focus_checkin_text(minutes: i64, locale: Locale) -> String {
    match locale {
        Locale::Fr => {
            format!("{minutes} min écoulées — ça a donné quoi ? FAIT / 10 DE PLUS / BLOQUÉ")
        }
        _ => format!("{minutes} min up — how did it go? DONE / 10 MORE / STUCK"),
    }
}

/// The morning check-in: the day's reminders ("9:00 meds") and open tasks,
/// counted; no "overdue", no guilt.
pub fn morning_text(items: &[String], locale: Locale) -> String {
    let n = items.len();
    match (locale, n) {
        (Locale::Fr, 0) => {
            "Bonjour : rien de prévu aujourd'hui. Écris-moi une tâche quand tu veux.".into()
        }
        (Locale::Fr, 1) => format!("Bonjour : 1 chose aujourd'hui — {}", items[0]),
        (Locale::Fr, _) => format!("Bonjour : {n} choses aujourd'hui — {}", items.join(", ")),
        (_, 0) => "Good morning: nothing scheduled today. Text me a task anytime.".into(),
        (_, 1) => format!("Good morning: 1 thing today — {}", items[0]),
        (_, _) => format!("Good morning: {n} things today — {}", items.join(", ")),
    }
}

/// The evening wrap-up's one question, when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EveningAsk {
    /// Tomorrow's first event with a place: leave-by texts for it?
    LeaveBy {
        title: String,
        time: String,
        location: String,
    },
    /// A task untouched for 14 days: still wanted?
    Archive { title: String },
    /// An open task: first thing tomorrow?
    Move { title: String },
}

/// The evening wrap-up: what got done today (never what did not: open
/// tasks roll forward quietly), then at most one question.
pub fn evening_text(done: i64, open: usize, ask: Option<&EveningAsk>, locale: Locale) -> String {
    let fr = locale == Locale::Fr;
    let head = match (fr, done) {
        (false, 0) => "Evening check-in.".to_string(),
        (false, n) => format!("Done today: {n} ✅."),
        (true, 0) => "Bilan du soir.".to_string(),
        (true, n) => format!("Fait aujourd'hui : {n} ✅."),
    };
    let tail = match (ask, fr) {
        (
            Some(EveningAsk::LeaveBy {
                title,
                time,
                location,
            }),
            false,
        ) => {
            format!("{title} {time} at {location} tomorrow — want leave-by texts? YES")
        }
        (
            Some(EveningAsk::LeaveBy {
                title,
                time,
                location,
            }),
            true,
        ) => {
            format!(
                "{title} {time} à {location} demain — tu veux les textos pour partir à l'heure ? OUI"
            )
        }
        (Some(EveningAsk::Archive { title }), false) => {
            format!("Still want '{title}'? ARCHIVE / KEEP")
        }
        (Some(EveningAsk::Archive { title }), true) => {
            format!("Tu veux encore « {title} » ? ARCHIVER / GARDER")
        }
        (Some(EveningAsk::Move { title }), false) => {
            format!("Move '{title}' to tomorrow? YES/NO")
        }
        (Some(EveningAsk::Move { title }), true) => {
            format!("Je mets « {title} » à demain ? OUI/NON")
        }
        (None, false) if open > 0 => "Open tasks roll to tomorrow as they are. Rest well.".into(),
        (None, true) if open > 0 => {
            "Les tâches en cours passent à demain telles quelles. Bonne soirée.".into()
        }
        (None, false) => "Nothing open. Rest well.".into(),
        (None, true) => "Rien en cours. Bonne soirée.".into(),
    };
    format!("{head} {tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nudges_escalate_gently_and_the_last_says_how_to_answer() {
        assert_eq!(nudge_text("meds", 1, false, Locale::En), "2nd nudge: meds");
        assert_eq!(
            nudge_text("meds", 2, false, Locale::En),
            "3rd nudge: meds — still on?"
        );
        assert_eq!(
            nudge_text("meds", 3, true, Locale::En),
            "Last nudge for now: meds — reply DONE or SNOOZE 30"
        );
        assert_eq!(
            nudge_text("pilules", 1, false, Locale::Fr),
            "2e rappel : pilules"
        );
        assert_eq!(
            nudge_text("pilules", 3, true, Locale::Fr),
            "Dernier rappel pour l'instant : pilules — réponds FAIT ou REPORTE 30"
        );
    }

    #[test]
    fn reminders_read_in_the_persons_language() {
        assert_eq!(fired_text("meds", false, Locale::En), "Reminder: meds");
        assert_eq!(
            fired_text("meds", true, Locale::En),
            "Reminder: meds (late)"
        );
        assert_eq!(fired_text("pilules", false, Locale::Fr), "Rappel : pilules");
        assert_eq!(
            fired_text("pilules", true, Locale::Fr),
            "Rappel : pilules (en retard)"
        );
    }
}
