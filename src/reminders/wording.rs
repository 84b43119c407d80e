//! What a person reads when a reminder fires, in their language.

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

#[cfg(test)]
mod tests {
    use super::*;

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
