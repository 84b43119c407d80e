//! How admin results are shown: aligned tables for people, JSON for scripts.

use serde_json::Value;

/// A command's result, ready for either form.
pub struct Rendered {
    pub json: Value,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// Shown instead of a table when the result is a single confirmation.
    pub message: Option<String>,
}

impl Rendered {
    pub fn table(json: Value, headers: Vec<&'static str>, rows: Vec<Vec<String>>) -> Self {
        Self {
            json,
            headers,
            rows,
            message: None,
        }
    }

    pub fn message(json: Value, message: String) -> Self {
        Self {
            json,
            headers: Vec::new(),
            rows: Vec::new(),
            message: Some(message),
        }
    }
}

pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    pub fn print(&self, rendered: Rendered) {
        println!("{}", self.format(&rendered));
    }

    pub fn format(&self, rendered: &Rendered) -> String {
        if self.json {
            return serde_json::to_string_pretty(&rendered.json).unwrap_or_else(|_| "null".into());
        }
        if let Some(message) = &rendered.message {
            return message.clone();
        }
        format_table(&rendered.headers, &rendered.rows)
    }
}

fn format_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return "(none)".into();
    }
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = vec![line(headers.to_vec())];
    for row in rows {
        out.push(line(row.iter().map(String::as_str).collect()));
    }
    out.join("\n")
}
