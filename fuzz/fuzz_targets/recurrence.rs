//! The recurrence arithmetic in `store::recurrence` (`resolve_local`,
//! `try_resolve_local`, `local_date`, `next_occurrence`) on any input it
//! can be given: a rule as stored (JSON) or as built, a local wall-clock time from
//! the model's `due_local` or anywhere in chrono's range, any timezone and
//! any "after". Nothing may panic; an occurrence is strictly after
//! "after"; a valid rule starting from a realistic moment always has one.
//!
//! Input layout: flags (bits 0–2 the rule kind, bit 3 parse the local time
//! from text), timezone (2 bytes), rule parameter (1 byte), local time and
//! after (each a mode byte and 8 bytes, see `Header::any_naive`), then the
//! rule's JSON or the local time's text.
#![no_main]

use chrono::{Datelike, NaiveDateTime};
use libfuzzer_sys::fuzz_target;
use nudge::store::recurrence::{
    Day, Recurrence, local_date, next_occurrence, resolve_local, try_resolve_local,
};
use nudge_fuzz::Header;

const DAYS: [Day; 7] = [
    Day::Mon,
    Day::Tue,
    Day::Wed,
    Day::Thu,
    Day::Fri,
    Day::Sat,
    Day::Sun,
];

fuzz_target!(|data: &[u8]| {
    let mut header = Header::new(data);
    let flags = header.byte();
    let timezone = header.tz();
    let parameter = header.byte();
    let any_local = header.any_naive();
    let after = header.any_naive().and_utc();
    let rest = header.rest();

    let rule = match flags & 7 {
        0 => Recurrence::Daily,
        1 => Recurrence::Weekdays,
        2 => Recurrence::Weekly {
            days: DAYS
                .iter()
                .enumerate()
                .filter(|(i, _)| parameter & (1 << i) != 0)
                .map(|(_, d)| *d)
                .collect(),
        },
        3 => Recurrence::Monthly {
            day_of_month: u32::from(parameter),
        },
        // A stored rule, read back from `reminders.recurrence`.
        _ => match serde_json::from_slice(rest) {
            Ok(rule) => rule,
            Err(_) => return,
        },
    };
    // The model writes `due_local`; the tool parses it like this.
    let local = if flags & 8 != 0 {
        let raw = String::from_utf8_lossy(rest);
        match NaiveDateTime::parse_from_str(&raw, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(&raw, "%Y-%m-%dT%H:%M:%S"))
        {
            Ok(local) => local,
            Err(_) => return,
        }
    } else {
        any_local
    };

    let resolved = resolve_local(timezone, local);
    if let Some(exact) = try_resolve_local(timezone, local) {
        assert_eq!(
            exact, resolved,
            "resolve_local disagrees with try_resolve_local"
        );
    }
    let _ = local_date(after, timezone);
    let mut from = after;
    for _ in 0..3 {
        let Some(next) = next_occurrence(&rule, timezone, local.time(), from) else {
            // Only an empty or impossible rule, or the end of chrono's
            // range, may have no next occurrence.
            let valid = match &rule {
                Recurrence::Weekly { days } => !days.is_empty(),
                Recurrence::Monthly { day_of_month } => (1..=31).contains(day_of_month),
                _ => true,
            };
            assert!(
                !valid || !(1900..=100_000).contains(&from.year()),
                "no occurrence of {rule:?} after {from}"
            );
            break;
        };
        assert!(next > from, "{next} is not after {from}");
        from = next;
    }
});
