//! Words that carry time: numbers said in digits or words, units,
//! weekdays, months, day numbers and parts of the day.

use chrono::Weekday;

use super::{DayPart, MAX_MINUTES, group};

/// A number said in digits or words ("20", "1.5", "an", "deux").
pub(in crate::agent::llm::offline) fn number(s: &str) -> Option<f64> {
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
pub(in crate::agent::llm::offline) fn duration_minutes(num: &str, unit: &str) -> Option<i64> {
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

pub(in crate::agent::llm::offline) fn weekday_of(word: &str) -> Option<Weekday> {
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

pub(in crate::agent::llm::offline) fn month_of(word: &str) -> Option<u32> {
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

pub(in crate::agent::llm::offline) fn day_number(s: &str) -> Option<u32> {
    let d: u32 = if s.starts_with("1er") {
        1
    } else {
        s.trim_end_matches(|c: char| c.is_alphabetic())
            .parse()
            .ok()?
    };
    (1..=31).contains(&d).then_some(d)
}

pub(super) fn days_in(text: &str) -> Vec<Weekday> {
    let re = rx!(concat!(r"\b(", days_en_any!(), "|", days_fr!(), r")s?\b"));
    let mut days: Vec<Weekday> = re
        .captures_iter(text)
        .filter_map(|c| group(&c, 1).and_then(weekday_of))
        .collect();
    days.sort_by_key(|d| d.num_days_from_monday());
    days.dedup();
    days
}

pub(super) fn part_of(word: &str) -> Option<DayPart> {
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
