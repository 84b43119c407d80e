//! Short phrases in the person's language, and times as people read them.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

use crate::store::Locale;

/// Picks English or French.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wording {
    pub french: bool,
}

impl Wording {
    pub fn new(locale: Locale) -> Self {
        Wording {
            french: locale == Locale::Fr,
        }
    }

    pub fn pick(self, en: &str, fr: &str) -> String {
        if self.french { fr } else { en }.to_string()
    }

    /// "6:00 PM" / "18h00".
    pub fn time(self, t: DateTime<Tz>) -> String {
        if self.french {
            format!("{}h{:02}", t.hour(), t.minute())
        } else {
            let (pm, h) = t.hour12();
            format!("{h}:{:02} {}", t.minute(), if pm { "PM" } else { "AM" })
        }
    }

    /// "today at 6:00 PM", "tomorrow at 9:00 AM", "Mon, Nov 23 at 9:00 AM"
    /// (and the French forms), relative to `now` in `tz`.
    pub fn when(self, at: DateTime<Utc>, tz: Tz, now: DateTime<Utc>) -> String {
        let local = at.with_timezone(&tz);
        let today = now.with_timezone(&tz).date_naive();
        let days = (local.date_naive() - today).num_days();
        let time = self.time(local);
        match (days, self.french) {
            (0, false) => format!("today at {time}"),
            (0, true) => format!("aujourd'hui à {time}"),
            (1, false) => format!("tomorrow at {time}"),
            (1, true) => format!("demain à {time}"),
            (_, false) => format!(
                "{}, {} {} at {time}",
                EN_DAYS[local.weekday().num_days_from_monday() as usize],
                EN_MONTHS[local.month0() as usize],
                local.day()
            ),
            (_, true) => format!(
                "{} {} {} à {time}",
                FR_DAYS[local.weekday().num_days_from_monday() as usize],
                local.day(),
                FR_MONTHS[local.month0() as usize]
            ),
        }
    }

    /// "Mon, Nov 16" / "lun. 16 nov.".
    pub fn day(self, d: NaiveDate) -> String {
        let wd = d.weekday().num_days_from_monday() as usize;
        if self.french {
            format!(
                "{} {} {}",
                FR_DAYS[wd],
                d.day(),
                FR_MONTHS[d.month0() as usize]
            )
        } else {
            format!(
                "{}, {} {}",
                EN_DAYS[wd],
                EN_MONTHS[d.month0() as usize],
                d.day()
            )
        }
    }

    /// 1250 minor units of EUR → "12.50 EUR" / "12,50 EUR".
    pub fn money(self, minor: i64, currency: &str) -> String {
        let sign = if minor < 0 { "-" } else { "" };
        let abs = minor.unsigned_abs();
        let sep = if self.french { ',' } else { '.' };
        format!("{sign}{}{sep}{:02} {currency}", abs / 100, abs % 100)
    }
}

const EN_DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const FR_DAYS: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
const EN_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const FR_MONTHS: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_naturally_in_both_languages() {
        let tz = chrono_tz::America::Montreal;
        let now: DateTime<Utc> = "2026-11-21T15:00:00Z".parse().unwrap();
        let en = Wording { french: false };
        let fr = Wording { french: true };
        let at: DateTime<Utc> = "2026-11-21T23:00:00Z".parse().unwrap();
        assert_eq!(en.when(at, tz, now), "today at 6:00 PM");
        assert_eq!(fr.when(at, tz, now), "aujourd'hui à 18h00");
        let at: DateTime<Utc> = "2026-11-22T14:00:00Z".parse().unwrap();
        assert_eq!(en.when(at, tz, now), "tomorrow at 9:00 AM");
        let at: DateTime<Utc> = "2026-11-23T14:05:00Z".parse().unwrap();
        assert_eq!(en.when(at, tz, now), "Mon, Nov 23 at 9:05 AM");
        assert_eq!(fr.when(at, tz, now), "lun. 23 nov. à 9h05");
        assert_eq!(fr.money(1250, "EUR"), "12,50 EUR");
        assert_eq!(en.money(3000, "CAD"), "30.00 CAD");
    }
}
