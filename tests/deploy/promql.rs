//! Metric names referenced by a PromQL expression: a small tokenizer that
//! drops label matchers, ranges, grouping clauses, strings, numbers,
//! functions and keywords, and keeps the selectors' names.

use std::collections::BTreeSet;

use regex::Regex;

const KEYWORDS: [&str; 14] = [
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "inf",
    "nan",
    "le",
];

pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let strings = Regex::new(r#""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"#).unwrap();
    let matchers = Regex::new(r"\{[^}]*\}").unwrap();
    let ranges = Regex::new(r"\[[^\]]*\]").unwrap();
    let grouping =
        Regex::new(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)").unwrap();
    let token = Regex::new(
        r"[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?[a-zA-Z0-9]*|[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?",
    )
    .unwrap();

    let expr = strings.replace_all(expr, "\"\"");
    let expr = matchers.replace_all(&expr, " ");
    let expr = ranges.replace_all(&expr, " ");
    let expr = grouping.replace_all(&expr, " ");
    token
        .captures_iter(&expr)
        .filter(|c| c.get(1).is_none()) // a function call
        .map(|c| c[0].to_string())
        .filter(|t| !t.starts_with(|ch: char| ch.is_ascii_digit() || ch == '.'))
        .filter(|t| !KEYWORDS.contains(&t.to_ascii_lowercase().as_str()))
        .collect()
}

#[test]
fn the_tokenizer_finds_selectors_only() {
    let names = metric_names(
        r#"1 - sum by (le) (rate(http_request_duration_seconds_bucket{le="10", route=~"/a|b"}[5m]))
           / on(instance) group_left(x) sum(rate(http_request_duration_seconds_count[5m] offset 1h)) > 0.05
           and nudge:http_requests:rate5m > 1e6 or absent(up{job="x"} == 1) unless time() - foo > 9 * 3600"#,
    );
    let want: BTreeSet<String> = [
        "http_request_duration_seconds_bucket",
        "http_request_duration_seconds_count",
        "nudge:http_requests:rate5m",
        "up",
        "foo",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(names, want);
}
