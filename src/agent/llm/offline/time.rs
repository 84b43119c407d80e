//! Time expressions in English and French: finding them in a message,
//! cutting them out (what is left is the reminder's text), and resolving
//! them against the person's local wall-clock time.
//!
//! Everything here works on naive local date-times. `due_local` is a local
//! wall-clock time by contract (the tool applies the timezone and its DST
//! rules), and relative delays stay `in_minutes`, so no arithmetic here
//! crosses a UTC offset change.
//!
//! Choices where people are ambiguous:
//! - A bare hour ("at 7") with no date: 1–5 mean the afternoon, 12 means
//!   noon, and 6–11 take whichever of the morning or evening time comes
//!   next. With a date, weekday or recurrence ("tomorrow at 9"), 7–11 are
//!   the morning and 1–6 the afternoon. "tonight"/"ce soir" move any hour
//!   before noon to the evening ("ce soir à 8h" is 20:00).
//! - "8h", "18h45", "18:45", "08:00" and the French "à 8:30" are 24-hour
//!   clock times, taken literally; an English "at 8:30" is read like "at 8".
//! - A date or recurrence without a time means 09:00 (or the part of day
//!   named: morning 09:00, afternoon 15:00, evening 19:00).
//! - "next tuesday" is the first Tuesday after today; "on tuesday" may be
//!   today if the time is still ahead.
//! - "le vendredi" is read as the coming Friday, like "on Friday"; only
//!   "tous les vendredis" / "chaque vendredi" / "les vendredis" recur.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use regex::{Captures, Regex};
use serde_json::{Value, json};

use super::text::Input;

/// Longest relative delay accepted: a year of 365 days, the reminder
/// tool's `in_minutes` maximum (525,600); a longer one would be refused.
const MAX_MINUTES: i64 = 365 * 24 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clock {
    /// With am/pm, or noon/midnight: exact.
    Explicit,
    /// "18:45", "9h30": exact, except that an evening word moves 1–11 by 12.
    TwentyFour,
    /// "at 7": 1–12, morning or evening left open.
    Bare,
}

#[derive(Debug, Clone, Copy)]
struct TimeOfDay {
    h: u32,
    m: u32,
    clock: Clock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayPart {
    Morning,
    Afternoon,
    Evening,
}

#[derive(Debug, Clone, Copy)]
enum DateSpec {
    /// Days after today.
    Offset(i64),
    Weekday {
        day: Weekday,
        strictly_next: bool,
    },
    MonthDay {
        month: u32,
        day: u32,
    },
    DayOfMonth(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Recurrence {
    Daily,
    Weekdays,
    Weekly(Vec<Weekday>),
    Monthly(u32),
}

impl Recurrence {
    pub(super) fn to_json(&self) -> Value {
        match self {
            Recurrence::Daily => json!({"frequency": "daily"}),
            Recurrence::Weekdays => json!({"frequency": "weekdays"}),
            Recurrence::Weekly(days) => json!({
                "frequency": "weekly",
                "days": days.iter().map(|d| day_code(*d)).collect::<Vec<_>>(),
            }),
            Recurrence::Monthly(d) => json!({"frequency": "monthly", "day_of_month": d}),
        }
    }
}

fn day_code(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// What a message said about time, before resolving it.
#[derive(Debug, Default)]
pub(super) struct Schedule {
    in_minutes: Option<i64>,
    date: Option<DateSpec>,
    time: Option<TimeOfDay>,
    part: Option<DayPart>,
    rec: Option<Recurrence>,
}

impl Schedule {
    /// Enough to call a message a reminder without "remind me": a delay,
    /// a clock time or a recurrence. A date alone is not ("my goals for
    /// tomorrow").
    pub(super) fn is_anchored(&self) -> bool {
        self.in_minutes.is_some() || self.time.is_some() || self.rec.is_some()
    }

    /// Whether resolving it picks an hour the person did not say: a part
    /// of day alone ("tomorrow morning" is 09:00), or a bare hour that
    /// could be morning or evening ("at 7").
    pub(super) fn assumes_hour(&self) -> bool {
        if self.in_minutes.is_some() {
            return false;
        }
        match self.time {
            None => self.part.is_some(),
            Some(t) => t.clock == Clock::Bare && self.part.is_none() && (6..=11).contains(&t.h),
        }
    }

    /// A day or a rhythm without any time of day ("tomorrow", "every
    /// day"): the hour would be a guess.
    pub(super) fn lacks_clock(&self) -> bool {
        self.in_minutes.is_none()
            && self.time.is_none()
            && self.part.is_none()
            && (self.date.is_some() || self.rec.is_some())
    }
}

/// A resolved time: a delay, or a local wall-clock time (the first
/// occurrence, for a recurrence).
#[derive(Debug, PartialEq)]
pub(super) enum When {
    InMinutes(i64),
    At {
        due: NaiveDateTime,
        rec: Option<Recurrence>,
    },
}

pub(super) struct Extracted {
    pub(super) schedule: Schedule,
    /// The message without its time expressions.
    pub(super) rest: Input,
}

/// Finds a message's time expressions and cuts them out. `now` (local)
/// fills in "every week" and "every month" without a day.
pub(super) fn extract(inp: &Input, now: NaiveDateTime) -> Extracted {
    let mut s = Schedule::default();
    let mut scan = Scan::new(inp);
    relative(&mut scan, &mut s);
    recurrence(&mut scan, &mut s, now);
    day_parts(&mut scan, &mut s);
    dates(&mut scan, &mut s);
    clock(&mut scan, &mut s);
    Extracted {
        schedule: s,
        rest: scan.rest(),
    }
}

/// The folded message with consumed spans blanked out, so that later
/// patterns do not match them again and the rest can be rebuilt from the
/// original text.
struct Scan<'a> {
    inp: &'a Input,
    work: Vec<char>,
    used: Vec<bool>,
}

impl<'a> Scan<'a> {
    fn new(inp: &'a Input) -> Self {
        let work: Vec<char> = inp.norm().chars().collect();
        let used = vec![false; work.len()];
        Scan { inp, work, used }
    }

    /// Offers each match of `re` to `accept` (with the original text of the
    /// match) until one is accepted, then blanks it out.
    fn take(&mut self, re: &Regex, mut accept: impl FnMut(&Captures<'_>, &str) -> bool) -> bool {
        let s: String = self.work.iter().collect();
        let mut starts: Vec<usize> = s.char_indices().map(|(i, _)| i).collect();
        starts.push(s.len());
        for caps in re.captures_iter(&s) {
            let Some(m) = caps.get(0) else { continue };
            if m.as_str().trim().is_empty() {
                continue;
            }
            let a = starts.partition_point(|&x| x < m.start());
            let b = starts.partition_point(|&x| x < m.end());
            let (oa, ob) = self.inp.orig_span(a, b);
            if accept(&caps, self.inp.orig_chars(oa, ob)) {
                let end = b.min(self.work.len());
                for i in a.min(end)..end {
                    self.work[i] = ' ';
                    self.used[i] = true;
                }
                return true;
            }
        }
        false
    }

    fn rest(&self) -> Input {
        // A char of the original is gone when the text it became was taken.
        let mut gone = vec![false; self.inp.char_len()];
        for (i, _) in self.used.iter().enumerate().filter(|(_, u)| **u) {
            let (a, b) = self.inp.orig_span(i, i + 1);
            for g in gone.iter_mut().take(b).skip(a) {
                *g = true;
            }
        }
        let kept: String = self
            .inp
            .orig()
            .chars()
            .zip(gone.iter())
            .map(|(c, gone)| if *gone { ' ' } else { c })
            .collect();
        Input::new(&kept)
    }
}

fn group<'c>(caps: &'c Captures<'_>, i: usize) -> Option<&'c str> {
    caps.get(i).map(|m| m.as_str())
}

/// A number said in digits or words ("20", "1.5", "an", "deux").
pub(super) fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        return s
            .replace(',', ".")
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite());
    }
    let v = match s {
        "a" | "an" | "one" | "un" | "une" => 1,
        "two" | "deux" => 2,
        "three" | "trois" => 3,
        "four" | "quatre" => 4,
        "five" | "cinq" => 5,
        "six" => 6,
        "seven" | "sept" => 7,
        "eight" | "huit" => 8,
        "nine" | "neuf" => 9,
        "ten" | "dix" => 10,
        "eleven" | "onze" => 11,
        "twelve" | "douze" => 12,
        "fifteen" | "quinze" => 15,
        "twenty" | "vingt" => 20,
        "thirty" | "trente" => 30,
        "forty" | "quarante" => 40,
        "forty-five" | "forty five" | "quarante-cinq" | "quarante cinq" => 45,
        "fifty" | "cinquante" => 50,
        "sixty" | "soixante" => 60,
        "ninety" | "quatre-vingt-dix" => 90,
        _ => return None,
    };
    Some(f64::from(v))
}

/// A delay in whole minutes, 1 minute to a year.
pub(super) fn duration_minutes(num: &str, unit: &str) -> Option<i64> {
    let per = match unit.chars().next()? {
        'm' => 1.0,
        'h' => 60.0,
        'd' | 'j' => 1440.0,
        'w' | 's' => 10080.0,
        _ => return None,
    };
    let minutes = (number(num)? * per).round();
    (1.0..=MAX_MINUTES as f64)
        .contains(&minutes)
        .then_some(minutes as i64)
}

fn relative(scan: &mut Scan<'_>, s: &mut Schedule) {
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

fn weekday_of(word: &str) -> Option<Weekday> {
    let w = word.trim();
    let p = |s: &str| w.starts_with(s);
    Some(if p("mo") || p("lu") {
        Weekday::Mon
    } else if p("tu") || p("mar") {
        Weekday::Tue
    } else if p("we") || p("me") {
        Weekday::Wed
    } else if p("th") || p("je") {
        Weekday::Thu
    } else if p("fr") || p("ve") {
        Weekday::Fri
    } else if p("sa") {
        Weekday::Sat
    } else if p("su") || p("di") {
        Weekday::Sun
    } else {
        return None;
    })
}

pub(super) fn month_of(word: &str) -> Option<u32> {
    let w = word.trim();
    const NAMES: &[(&str, u32)] = &[
        ("jan", 1),
        ("feb", 2),
        ("fev", 2),
        ("mar", 3),
        ("apr", 4),
        ("avr", 4),
        ("may", 5),
        ("mai", 5),
        ("jun", 6),
        ("juin", 6),
        ("jul", 7),
        ("juil", 7),
        ("aug", 8),
        ("aou", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ];
    // "juin"/"juil" before "jun"/"jul": longest matching prefix wins.
    NAMES
        .iter()
        .filter(|(p, _)| w.starts_with(p))
        .max_by_key(|(p, _)| p.len())
        .map(|(_, m)| *m)
}

fn day_number(s: &str) -> Option<u32> {
    let d: u32 = if s.starts_with("1er") {
        1
    } else {
        s.trim_end_matches(|c: char| c.is_alphabetic())
            .parse()
            .ok()?
    };
    (1..=31).contains(&d).then_some(d)
}

fn days_in(text: &str) -> Vec<Weekday> {
    let re = rx!(concat!(r"\b(", days_en_any!(), "|", days_fr!(), r")s?\b"));
    let mut days: Vec<Weekday> = re
        .captures_iter(text)
        .filter_map(|c| group(&c, 1).and_then(weekday_of))
        .collect();
    days.sort_by_key(|d| d.num_days_from_monday());
    days.dedup();
    days
}

fn part_of(word: &str) -> Option<DayPart> {
    let w = word.trim();
    if w.starts_with("morning") || w.starts_with("matin") {
        Some(DayPart::Morning)
    } else if w.starts_with("afternoon") || w.starts_with("apres") || w.starts_with("aprem") {
        Some(DayPart::Afternoon)
    } else if ["evening", "night", "tonight", "soir", "nuit"]
        .iter()
        .any(|p| w.starts_with(p))
    {
        Some(DayPart::Evening)
    } else {
        None
    }
}

fn recurrence(scan: &mut Scan<'_>, s: &mut Schedule, now: NaiveDateTime) {
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

fn day_parts(scan: &mut Scan<'_>, s: &mut Schedule) {
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

fn dates(scan: &mut Scan<'_>, s: &mut Schedule) {
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
        rx!(r"\b(?:on\s+the\s+(\d{1,2})(?:st|nd|rd|th)|le\s+(1er|\d{1,2})\s+du\s+mois)\b"),
        |c, _| {
            dom = group(c, 1).or(group(c, 2)).and_then(day_number);
            dom.is_some()
        },
    ) {
        s.date = dom.map(DateSpec::DayOfMonth);
    }
}

fn clock(scan: &mut Scan<'_>, s: &mut Schedule) {
    let mut t = None;
    let set =
        |h: u32, m: u32, clock: Clock| (h <= 23 && m <= 59).then_some(TimeOfDay { h, m, clock });
    let int = |c: &Captures<'_>, i: usize| -> Option<u32> {
        match group(c, i) {
            None => Some(0),
            Some(v) => v.parse().ok(),
        }
    };

    // noon, midnight, midi (et demie), minuit
    let found = scan.take(
        rx!(
            r"\b(?:(?:at|a|around|vers)\s+)?(noon|midday|midnight|midi|minuit)(?:\s+et\s+(demie?|quart))?\b"
        ),
        |c, _| {
            let h = if matches!(group(c, 1), Some("midnight" | "minuit")) {
                0
            } else {
                12
            };
            let m = match group(c, 2) {
                Some("quart") => 15,
                Some(_) => 30,
                None => 0,
            };
            t = set(h, m, Clock::Explicit);
            true
        },
    )
    // 6pm, 6:30 pm, 6.30pm, 6 p.m.
    || scan.take(
        rx!(r"\b(?:(?:at|a|around|by|vers)\s+)?(\d{1,2})(?:[:.](\d{2}))?\s*(a\.?m|p\.?m)\b\.?"),
        |c, _| {
            let (Some(h), Some(m)) = (int(c, 1), int(c, 2)) else {
                return false;
            };
            if !(1..=12).contains(&h) {
                return false;
            }
            let pm = group(c, 3).is_some_and(|v| v.starts_with('p'));
            let h = match (h, pm) {
                (12, false) => 0,
                (12, true) => 12,
                (h, true) => h + 12,
                (h, false) => h,
            };
            t = set(h, m, Clock::Explicit);
            t.is_some()
        },
    )
    // 9h, 9h30, 18 h 45, 9 heures (et demie)
    || scan.take(
        rx!(
            r"\b(?:(?:a|vers|pour)\s+)?(\d{1,2})\s?h(?:eures?)?(?:\s?(\d{2}))?(?:\s+et\s+(demie?|quart))?\b"
        ),
        |c, _| {
            let (Some(h), Some(m)) = (int(c, 1), int(c, 2)) else {
                return false;
            };
            let m = match group(c, 3) {
                Some("quart") if m == 0 => 15,
                Some(_) if m == 0 => 30,
                _ => m,
            };
            t = set(h, m, Clock::TwentyFour);
            t.is_some()
        },
    )
    // 18:45, 08:00, at 8:30
    || scan.take(
        rx!(r"\b(?:(at|a|around|by|vers)\s+)?(\d{1,2}):(\d{2})\b"),
        |c, _| {
            let (Some(h), Some(m)) = (int(c, 2), int(c, 3)) else {
                return false;
            };
            // An English "at 8:30" is as open as "at 8"; "08:30", "18:45"
            // and the French "à 8:30" are 24-hour times.
            let french = matches!(group(c, 1), Some("a" | "vers"));
            let padded = group(c, 2).is_some_and(|v| v.starts_with('0'));
            let clock = if (1..=12).contains(&h) && !french && !padded {
                Clock::Bare
            } else {
                Clock::TwentyFour
            };
            t = set(h, m, clock);
            t.is_some()
        },
    )
    // at 7, à 7, at 7.30
    || scan.take(
        rx!(r"\b(at|a|around|by|vers)\s+(\d{1,2})(?:\.(\d{2}))?\b"),
        |c, orig| {
            // The folded "a" must have been "à": an English "a 5 pack" is
            // not a time.
            if group(c, 1) == Some("a") && !orig.to_lowercase().starts_with('à') {
                return false;
            }
            let (Some(h), Some(m)) = (int(c, 2), int(c, 3)) else {
                return false;
            };
            let clock = if (1..=12).contains(&h) {
                Clock::Bare
            } else {
                Clock::TwentyFour
            };
            t = set(h, m, clock);
            t.is_some()
        },
    );
    if found {
        s.time = t;
    }
}

/// Hour and minute of a time of day, given the part of day named and
/// whether a date (or recurrence) anchors it. For a bare hour without an
/// anchor, `None`: the caller picks the next future occurrence.
fn hour_minute(t: TimeOfDay, part: Option<DayPart>, anchored: bool) -> Option<(u32, u32)> {
    let evening = matches!(part, Some(DayPart::Afternoon | DayPart::Evening));
    let h = match t.clock {
        Clock::Explicit => t.h,
        Clock::TwentyFour if evening && (1..12).contains(&t.h) => t.h + 12,
        Clock::TwentyFour => t.h,
        Clock::Bare => match part {
            Some(DayPart::Morning) => t.h % 12,
            Some(_) => t.h % 12 + 12,
            None if t.h == 12 => 12,
            None if t.h <= 5 => t.h + 12,
            None if anchored && t.h == 6 => 18,
            None if anchored => t.h,
            None => return None,
        },
    };
    Some((h, t.m))
}

fn default_time(part: Option<DayPart>) -> (u32, u32) {
    match part {
        Some(DayPart::Afternoon) => (15, 0),
        Some(DayPart::Evening) => (19, 0),
        Some(DayPart::Morning) | None => (9, 0),
    }
}

fn at(date: NaiveDate, (h, m): (u32, u32)) -> Option<NaiveDateTime> {
    NaiveTime::from_hms_opt(h, m, 0).map(|t| date.and_time(t))
}

/// The first day from today (inclusive) that `ok` accepts and where the
/// time is still ahead.
fn first_day(
    now: NaiveDateTime,
    hm: (u32, u32),
    max_days: i64,
    ok: impl Fn(NaiveDate) -> bool,
) -> Option<NaiveDateTime> {
    (0..=max_days)
        .filter_map(|i| now.date().checked_add_signed(Duration::days(i)))
        .filter(|d| ok(*d))
        .filter_map(|d| at(d, hm))
        .find(|dt| *dt > now)
}

/// Resolves a schedule against local `now`. `None` when it names no time.
pub(super) fn resolve(s: &Schedule, now: NaiveDateTime) -> Option<When> {
    if let Some(m) = s.in_minutes {
        return Some(When::InMinutes(m));
    }
    let today = now.date();
    let anchored = s.date.is_some() || s.rec.is_some();
    let hm = match s.time {
        Some(t) => hour_minute(t, s.part, anchored),
        None if anchored => Some(default_time(s.part)),
        None => return None,
    };

    if let Some(rec) = &s.rec {
        let hm = hm?;
        let due = match rec {
            Recurrence::Daily => first_day(now, hm, 1, |_| true),
            Recurrence::Weekdays => first_day(now, hm, 7, |d| {
                !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
            }),
            Recurrence::Weekly(days) => first_day(now, hm, 7, |d| days.contains(&d.weekday())),
            Recurrence::Monthly(dom) => first_day(now, hm, 400, |d| d.day() == *dom),
        }?;
        return Some(When::At {
            due,
            rec: Some(rec.clone()),
        });
    }

    let due = match (s.date, hm) {
        (None, Some(hm)) => first_day(now, hm, 1, |_| true)?,
        (None, None) => {
            // A bare hour of 6–11: the next of the morning or evening time.
            let t = s.time?;
            [t.h % 12, t.h % 12 + 12]
                .into_iter()
                .filter_map(|h| first_day(now, (h, t.m), 1, |_| true))
                .min()?
        }
        (Some(date), hm) => {
            let hm = hm.unwrap_or_else(|| default_time(s.part));
            match date {
                DateSpec::Offset(0) => first_day(now, hm, 1, |_| true)?,
                DateSpec::Offset(n) => at(today.checked_add_signed(Duration::days(n))?, hm)?,
                DateSpec::Weekday { day, strictly_next } => first_day(now, hm, 7, |d| {
                    d.weekday() == day && !(strictly_next && d == today)
                })?,
                DateSpec::MonthDay { month, day } => (0..=1)
                    .filter_map(|y| NaiveDate::from_ymd_opt(today.year() + y, month, day))
                    .filter_map(|d| at(d, hm))
                    .find(|dt| *dt > now)?,
                DateSpec::DayOfMonth(dom) => first_day(now, hm, 400, |d| d.day() == dom)?,
            }
        }
    };
    Some(When::At { due, rec: None })
}
