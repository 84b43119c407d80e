//! Relative delays ("in 20 minutes", "dans 2h") and recurrences ("every
//! Tuesday", "tous les jours"), found and cut out of the message.

use chrono::{Datelike, NaiveDateTime};
use regex::Regex;

use super::words::{day_number, days_in, duration_minutes, part_of};
use super::{MAX_MINUTES, Recurrence, Scan, Schedule, group};

pub(super) fn relative(scan: &mut Scan<'_>, s: &mut Schedule) {
    let mut found = None;
    let fixed: [(&Regex, i64); 4] = [
        (rx!(r"\bin\s+half\s+an\s+hour\b"), 30),
        (rx!(r"\bdans\s+une?\s+demi[- ]heure\b"), 30),
        (rx!(r"\bdans\s+un\s+quart\s+d'heure\b"), 15),
        (rx!(r"\bdans\s+(?:trois|3)\s+quarts?\s+d'heure\b"), 45),
    ];
    for (re, minutes) in fixed {
        if scan.take(re, |_, _| true) {
            found = Some(minutes);
            break;
        }
    }
    if found.is_none() {
        // "in 1h30", "dans 2h15"
        scan.take(
            rx!(r"\b(?:in|within|dans)\s+(\d{1,2})\s*h\s*(\d{2})\b"),
            |c, _| {
                let h: i64 = group(c, 1).and_then(|v| v.parse().ok()).unwrap_or(0);
                let m: i64 = group(c, 2).and_then(|v| v.parse().ok()).unwrap_or(0);
                found = Some(h * 60 + m).filter(|v| (1..=MAX_MINUTES).contains(v) && m < 60);
                found.is_some()
            },
        );
    }
    if found.is_none() {
        scan.take(
            rx!(concat!(
                r"\b(?:in|within|dans)\s+(",
                num_pat!(),
                r")\s*(",
                unit_pat!(),
                r")\b(\s+(?:and\s+a\s+half|et\s+demie?))?"
            )),
            |c, _| {
                let (Some(n), Some(u)) = (group(c, 1), group(c, 2)) else {
                    return false;
                };
                let half = c.get(3).is_some();
                let Some(base) = duration_minutes(n, u) else {
                    return false;
                };
                // "an hour and a half": half of the unit, not of the total.
                let extra = if half {
                    duration_minutes("1", u).unwrap_or(0) / 2
                } else {
                    0
                };
                found = Some(base + extra);
                true
            },
        );
    }
    if found.is_some() {
        s.in_minutes = found;
    }
}

pub(super) fn recurrence(scan: &mut Scan<'_>, s: &mut Schedule, now: NaiveDateTime) {
    let weekdays: [&Regex; 2] = [
        rx!(
            r"\b(?:(?:every|each|on)\s+(?:week\s*days?|work\s*days?|business\s+days?)|week\s*days|(?:from\s+)?monday\s+(?:to|through|thru|-)\s+friday)\b"
        ),
        rx!(
            r"\b(?:(?:tous\s+les|chaque)\s+jours?\s+(?:de\s+(?:la\s+)?semaine|ouvrables?|ouvres?)|en\s+semaine|(?:du\s+)?lundi\s+au\s+vendredi|les\s+jours\s+(?:de\s+(?:la\s+)?semaine|ouvrables?))\b"
        ),
    ];
    for re in weekdays {
        if scan.take(re, |_, _| true) {
            s.rec = Some(Recurrence::Weekdays);
            return;
        }
    }

    let monthly_on: [&Regex; 4] = [
        rx!(
            r"\b(?:on\s+)?(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+(?:day\s+)?(?:of\s+)?(?:every|each)\s+month\b"
        ),
        rx!(
            r"\b(?:(?:every|each)\s+month|monthly)\s+(?:on\s+)?(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\b"
        ),
        rx!(r"\ble\s+(1er|\d{1,2})(?:er)?\s+(?:de\s+)?(?:chaque|tous\s+les)\s+mois\b"),
        rx!(r"\b(?:tous\s+les|chaque)\s+mois\s+(?:le\s+)?(1er|\d{1,2})(?:er)?\b"),
    ];
    for re in monthly_on {
        let mut day = None;
        if scan.take(re, |c, _| {
            day = group(c, 1).and_then(day_number);
            day.is_some()
        }) {
            s.rec = day.map(Recurrence::Monthly);
            return;
        }
    }
    if scan.take(
        rx!(r"\b(?:(?:every|each)\s+month|monthly|(?:tous\s+les|chaque)\s+mois|mensuellement)\b"),
        |_, _| true,
    ) {
        s.rec = Some(Recurrence::Monthly(now.day()));
        return;
    }

    let weekly: [&Regex; 4] = [
        rx!(concat!(
            r"\b(?:every|each)\s+(?:",
            days_en_any!(),
            r")s?(?:\s*(?:,|and|&|\+|/)\s*(?:every\s+)?(?:",
            days_en_any!(),
            r")s?)*\b"
        )),
        rx!(concat!(
            r"\b(?:on\s+)?(?:",
            days_en!(),
            r")s(?:\s*(?:,|and|&)\s*(?:",
            days_en!(),
            r")s?)*\b"
        )),
        rx!(concat!(
            r"\b(?:tous\s+les|chaque)\s+(?:",
            days_fr!(),
            r")s?(?:\s*(?:,|et)\s*(?:les\s+)?(?:",
            days_fr!(),
            r")s?)*\b"
        )),
        rx!(concat!(
            r"\bles\s+(?:",
            days_fr!(),
            r")s(?:\s*(?:,|et)\s*(?:les\s+)?(?:",
            days_fr!(),
            r")s?)*\b"
        )),
    ];
    for re in weekly {
        let mut days = Vec::new();
        if scan.take(re, |c, _| {
            days = c.get(0).map(|m| days_in(m.as_str())).unwrap_or_default();
            !days.is_empty()
        }) {
            s.rec = Some(Recurrence::Weekly(days));
            return;
        }
    }
    // "mon wed fri", "le mardi et le jeudi": several days name a rhythm.
    let runs: [&Regex; 2] = [
        rx!(concat!(
            r"\b(?:on\s+)?(?:",
            days_en_any!(),
            r")(?:\s*(?:,|and|&|\+|/)?\s*(?:",
            days_en_any!(),
            r"))+\b"
        )),
        rx!(concat!(
            r"\b(?:le\s+)?(?:",
            days_fr!(),
            r")(?:\s*(?:,|et)\s*(?:le\s+)?(?:",
            days_fr!(),
            r"))+\b"
        )),
    ];
    for re in runs {
        let mut days = Vec::new();
        if scan.take(re, |c, _| {
            days = c.get(0).map(|m| days_in(m.as_str())).unwrap_or_default();
            days.len() >= 2
        }) {
            s.rec = Some(Recurrence::Weekly(days));
            return;
        }
    }
    if scan.take(
        rx!(
            r"\b(?:(?:every|each)\s+week|weekly|(?:toutes\s+les|chaque)\s+semaines?|hebdomadaire(?:ment)?)\b"
        ),
        |_, _| true,
    ) {
        s.rec = Some(Recurrence::Weekly(vec![now.weekday()]));
        return;
    }

    let mut part = None;
    if scan.take(
        rx!(
            r"\b(?:(?:every|each)\s+(day|morning|afternoon|evening|night)|daily|everyday|(?:tous\s+les|chaque)\s+(jours?|matins?|apres-midis?|soirs?)|quotidiennement)\b"
        ),
        |c, _| {
            part = group(c, 1).or(group(c, 2)).and_then(part_of);
            true
        },
    ) {
        s.rec = Some(Recurrence::Daily);
        s.part = s.part.or(part);
    }
}
