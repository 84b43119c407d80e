//! The limits the schema enforces (see the CHECKs in
//! `migrations/0001_schema.sql`), checked where a tool's input enters, so a
//! person who sends too much gets a short answer in their language instead
//! of a constraint violation deep in the database. `tests/limits.rs` reads
//! the constraints back from PostgreSQL and keeps these numbers honest.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use super::{ToolError, Wording, arg_str};
use crate::store::recurrence::local_date;

/// A text field with a length limit in the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    /// `reminders.body`
    ReminderText,
    /// `tasks.title`
    TaskTitle,
    /// `goals.title`
    GoalTitle,
    /// `list_items.list_name`
    ListName,
    /// `list_items.item`
    ListItem,
    /// `memories.content`
    Memory,
    /// `users.display_name`
    DisplayName,
}

impl TextField {
    /// The most characters the column accepts (PostgreSQL's `length()`
    /// counts characters, as `chars().count()` does).
    pub const fn max_chars(self) -> usize {
        match self {
            TextField::ReminderText | TextField::TaskTitle | TextField::GoalTitle => 1000,
            TextField::ListName => 100,
            TextField::ListItem => 500,
            TextField::Memory => 2000,
            TextField::DisplayName => 200,
        }
    }

    /// "a reminder" / "un rappel", as in "That's long for …".
    fn noun(self, say: Wording) -> &'static str {
        match (self, say.french) {
            (TextField::ReminderText, false) => "a reminder",
            (TextField::ReminderText, true) => "un rappel",
            (TextField::TaskTitle, false) => "a task",
            (TextField::TaskTitle, true) => "une tâche",
            (TextField::GoalTitle, false) => "a goal",
            (TextField::GoalTitle, true) => "un objectif",
            (TextField::ListName, false) => "a list name",
            (TextField::ListName, true) => "un nom de liste",
            (TextField::ListItem, false) => "a list item",
            (TextField::ListItem, true) => "un élément de liste",
            (TextField::Memory, false) => "something to remember",
            (TextField::Memory, true) => "un souvenir",
            (TextField::DisplayName, false) => "a name",
            (TextField::DisplayName, true) => "un nom",
        }
    }

    /// The field a schema CHECK guards, from the constraint's name, so a
    /// violation that slips past the checks here still gets the same answer.
    pub fn from_constraint(name: &str) -> Option<Self> {
        Some(match name {
            "reminders_body_check" => TextField::ReminderText,
            "tasks_title_check" => TextField::TaskTitle,
            "goals_title_check" => TextField::GoalTitle,
            "list_items_list_name_check" => TextField::ListName,
            "list_items_item_check" => TextField::ListItem,
            "memories_content_check" => TextField::Memory,
            "users_display_name_check" => TextField::DisplayName,
            _ => return None,
        })
    }

    /// The text, if it fits; else the short question the person gets.
    pub fn check(self, text: &str, say: Wording) -> Result<(), ToolError> {
        if text.chars().count() <= self.max_chars() {
            return Ok(());
        }
        Err(ToolError::Limit(self.too_long(say)))
    }

    /// "That's long for a reminder — can you shorten it to under 1,000
    /// characters?", in the person's language.
    pub fn too_long(self, say: Wording) -> String {
        let max = self.max_chars();
        say.pick(
            &format!(
                "That's long for {} — can you shorten it to under {} characters?",
                self.noun(say),
                thousands(max, ',')
            ),
            &format!(
                "C'est long pour {} — peux-tu faire plus court, moins de {} caractères ?",
                self.noun(say),
                thousands(max, '\u{a0}')
            ),
        )
    }
}

/// A trimmed, non-empty string argument that fits `field`; `None` when
/// absent or blank.
pub fn bounded_arg<'a>(
    args: &'a Value,
    key: &str,
    field: TextField,
    say: Wording,
) -> Result<Option<&'a str>, ToolError> {
    match arg_str(args, key) {
        None => Ok(None),
        Some(text) => field.check(text, say).map(|()| Some(text)),
    }
}

/// How far ahead a date may be: ten years is more than any reminder a
/// person means, and keeps every date far inside what `chrono` and
/// PostgreSQL represent (a model once sent the year 262142).
pub const MAX_DAYS_AHEAD: i64 = 3653;

/// Refuses a local date further ahead than [`MAX_DAYS_AHEAD`] from today in
/// `tz`, with a short answer in the person's language.
pub fn check_horizon(
    date: NaiveDate,
    tz: Tz,
    now: DateTime<Utc>,
    say: Wording,
) -> Result<(), ToolError> {
    let latest = local_date(now, tz)
        .and_then(|today| today.checked_add_signed(Duration::days(MAX_DAYS_AHEAD)));
    match latest {
        Some(latest) if date <= latest => Ok(()),
        _ => Err(ToolError::Limit(say.pick(
            "That's too far ahead — I can set reminders up to 10 years from now.",
            "C'est trop loin — je peux créer des rappels jusqu'à 10 ans à l'avance.",
        ))),
    }
}

/// The limit on the person's own message: phones join long SMS up to 1,600
/// characters, so anything longer did not come from one text.
pub const MAX_MESSAGE_CHARS: usize = 1600;

/// The answer to a message longer than [`MAX_MESSAGE_CHARS`].
pub fn message_too_long(say: Wording) -> String {
    say.pick(
        "That's a long message — can you send it in shorter parts, under 1,600 characters each?",
        "C'est un long message — peux-tu l'envoyer en plusieurs parties de moins de 1\u{a0}600 caractères ?",
    )
}

/// 1000 → "1,000" (or "1 000" with a no-break space in French).
fn thousands(n: usize, sep: char) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_gets_the_short_question_in_the_persons_language() {
        let en = Wording { french: false };
        let fr = Wording { french: true };
        let long = "x".repeat(1001);
        let Err(ToolError::Limit(msg)) = TextField::ReminderText.check(&long, en) else {
            panic!("accepted 1,001 characters");
        };
        assert_eq!(
            msg,
            "That's long for a reminder — can you shorten it to under 1,000 characters?"
        );
        let Err(ToolError::Limit(msg)) = TextField::ReminderText.check(&long, fr) else {
            panic!("accepted 1,001 characters");
        };
        assert!(msg.starts_with("C'est long pour un rappel"), "{msg}");
        // Characters, not bytes: 1,000 accented letters fit.
        assert!(TextField::ReminderText.check(&"é".repeat(1000), en).is_ok());
        assert!(TextField::ListName.check(&"a".repeat(101), en).is_err());
    }

    #[test]
    fn dates_more_than_ten_years_ahead_are_refused() {
        let tz = chrono_tz::America::Montreal;
        let now: DateTime<Utc> = "2026-11-21T15:00:00Z".parse().unwrap();
        let say = Wording { french: false };
        let ok = NaiveDate::from_ymd_opt(2036, 11, 20).unwrap();
        assert!(check_horizon(ok, tz, now, say).is_ok());
        let far = NaiveDate::from_ymd_opt(2036, 11, 22).unwrap();
        assert!(matches!(
            check_horizon(far, tz, now, say),
            Err(ToolError::Limit(_))
        ));
        assert!(check_horizon(NaiveDate::MAX, tz, now, say).is_err());
        assert!(check_horizon(NaiveDate::MAX, tz, DateTime::<Utc>::MAX_UTC, say).is_err());
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(1000, ','), "1,000");
        assert_eq!(thousands(100, ','), "100");
        assert_eq!(thousands(1_234_567, ' '), "1 234 567");
    }
}
