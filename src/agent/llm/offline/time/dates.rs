//! Dates ("tomorrow", "on Friday", "le 3 mars", "12/24") and parts of the
//! day ("tonight", "ce matin"), found and cut out of the message.

use regex::Regex;

use super::words::{day_number, month_of, part_of, weekday_of};
use super::{DateSpec, Scan, Schedule, group};

pub(super) fn day_parts(scan: &mut Scan<'_>, s: &mut Schedule) {
    let with_date: [(&Regex, i64); 4] = [
        (
            rx!(r"\b(?:tomorrow|tmrw|tmr)\s+(morning|afternoon|evening|night)\b"),
            1,
        ),
        (
            rx!(r"\bdemain\s+(matin|apres-midi|apres\s+midi|aprem|soir)\b"),
            1,
        ),
        (
            rx!(r"\b(?:(tonight)|this\s+(morning|afternoon|evening))\b"),
            0,
        ),
        (
            rx!(r"\b(?:ce|cet|cette)\s+(matin|apres-midi|apres\s+midi|aprem|soir|nuit)\b"),
            0,
        ),
    ];
    for (re, offset) in with_date {
        let mut part = None;
        if scan.take(re, |c, _| {
            part = group(c, 1).or(group(c, 2)).and_then(part_of);
            part.is_some()
        }) {
            s.part = part;
            s.date = s.date.or(Some(DateSpec::Offset(offset)));
            return;
        }
    }
    let mut part = None;
    if scan.take(
        rx!(
            r"\b(?:in\s+the\s+(morning|afternoon|evening)|at\s+(night)|(?:du|le|au|dans\s+la|en)\s+(matin|soir|soiree|matinee|nuit|apres-midi)|(?:de\s+)?l'(apres-midi))\b"
        ),
        |c, _| {
            part = (1..=4).find_map(|i| group(c, i)).and_then(part_of);
            part.is_some()
        },
    ) {
        s.part = s.part.or(part);
    }
}

pub(super) fn dates(scan: &mut Scan<'_>, s: &mut Schedule) {
    if s.date.is_some() || s.rec.is_some() {
        return;
    }
    let offsets: [(&Regex, i64); 3] = [
        (
            rx!(r"\b(?:(?:the\s+)?day\s+after\s+tomorrow|apres[- ]demain)\b"),
            2,
        ),
        (rx!(r"\b(?:tomorrow|tmrw|tmr|demain)\b"), 1),
        (rx!(r"\b(?:today|aujourd'hui)\b"), 0),
    ];
    for (re, offset) in offsets {
        if scan.take(re, |_, _| true) {
            s.date = Some(DateSpec::Offset(offset));
            return;
        }
    }

    // (pattern, group of the day, group of the month)
    let month_days: [(&Regex, usize, usize); 3] = [
        (
            rx!(concat!(
                r"\b(?:on\s+)?(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(",
                months_en!(),
                r")\b"
            )),
            1,
            2,
        ),
        (
            rx!(concat!(
                r"\b(?:on\s+)?(",
                months_en!(),
                r")\s+(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\b"
            )),
            2,
            1,
        ),
        (
            rx!(concat!(
                r"\b(?:le\s+)?(?:(?:",
                days_fr!(),
                r")\s+)?(1er|\d{1,2})(?:er)?\s+(",
                months_fr!(),
                r")\b"
            )),
            1,
            2,
        ),
    ];
    for (re, d, m) in month_days {
        let mut found = None;
        if scan.take(re, |c, _| {
            let day = group(c, d).and_then(day_number);
            let month = group(c, m).and_then(month_of);
            found = day.zip(month);
            found.is_some()
        }) {
            s.date = found.map(|(day, month)| DateSpec::MonthDay { month, day });
            return;
        }
    }

    // (pattern, group of the day, group of "next")
    let weekday: [(&Regex, usize, usize); 2] = [
        (
            rx!(concat!(
                r"\b(?:on\s+)?(?:(this|next|coming|this\s+coming)\s+)?(",
                days_en!(),
                // Short names too, except "mon", which is French for "my".
                r"|tue|wed|thu|thur|fri|sat|sun)\b"
            )),
            2,
            1,
        ),
        (
            rx!(concat!(
                r"\b(?:(?:le|ce)\s+)?(",
                days_fr!(),
                r")(\s+prochain)?\b"
            )),
            1,
            2,
        ),
    ];
    for (re, d, n) in weekday {
        let mut found = None;
        if scan.take(re, |c, _| {
            let next = group(c, n).is_some_and(|w| w.contains("next") || w.contains("prochain"));
            found = group(c, d)
                .and_then(weekday_of)
                .map(|day| DateSpec::Weekday {
                    day,
                    strictly_next: next,
                });
            found.is_some()
        }) {
            s.date = found;
            return;
        }
    }

    let mut dom = None;
    if scan.take(
        rx!(
            r"\b(?:on\s+the\s+(\d{1,2})(?:st|nd|rd|th)|le\s+(1er|\d{1,2})\s+du\s+mois|le\s+(1er))\b"
        ),
        |c, _| {
            dom = group(c, 1)
                .or(group(c, 2))
                .or(group(c, 3))
                .and_then(day_number);
            dom.is_some()
        },
    ) {
        s.date = dom.map(DateSpec::DayOfMonth);
    }
}
