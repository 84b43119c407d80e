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

mod clock;
mod dates;
mod recurring;
mod resolve;
mod words;

use chrono::{NaiveDateTime, Weekday};
use regex::{Captures, Regex};
use serde_json::{Value, json};

use super::text::Input;
use clock::clock;
use dates::{dates, day_parts};
use recurring::{recurrence, relative};

pub(super) use resolve::resolve;
pub(super) use words::{day_number, duration_minutes, month_of, number, weekday_of};

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
