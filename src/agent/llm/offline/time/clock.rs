//! Clock times ("at 7", "8h", "18:45", "à 8h30"), found and cut out of
//! the message.

use regex::Captures;

use super::{Clock, Scan, Schedule, TimeOfDay, group};

pub(super) fn clock(scan: &mut Scan<'_>, s: &mut Schedule) {
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
