//! Reading variables: values and secrets (also from `NAME_FILE`), with
//! every problem collected so all are reported together.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;

/// Collects problems while reading variables, so all are reported together.
pub(super) struct Reader<'a> {
    pub(super) lookup: &'a dyn Fn(&str) -> Option<String>,
    pub(super) problems: Vec<String>,
}

impl Reader<'_> {
    pub(super) fn problem(&mut self, p: String) {
        self.problems.push(p);
    }

    /// A non-secret value; empty counts as unset.
    pub(super) fn plain(&mut self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// A comma-separated list; blank items are dropped.
    pub(super) fn list(&mut self, name: &str) -> Vec<String> {
        self.plain(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A secret from `NAME`, or from the file named by `NAME_FILE`.
    pub(super) fn secret(&mut self, name: &str) -> Option<SecretString> {
        let direct = (self.lookup)(name).filter(|v| !v.trim().is_empty());
        let file = (self.lookup)(&format!("{name}_FILE")).filter(|v| !v.trim().is_empty());
        match (direct, file) {
            (Some(_), Some(_)) => {
                self.problem(format!("{name} and {name}_FILE are both set; keep one"));
                None
            }
            (Some(v), None) => Some(SecretString::from(v.trim().to_string())),
            (None, Some(path)) => match std::fs::read_to_string(path.trim()) {
                Ok(v) if !v.trim().is_empty() => Some(SecretString::from(v.trim().to_string())),
                Ok(_) => {
                    self.problem(format!("{name}_FILE ({}) is empty", path.trim()));
                    None
                }
                Err(e) => {
                    self.problem(format!(
                        "{name}_FILE ({}) cannot be read: {}",
                        path.trim(),
                        e.kind()
                    ));
                    None
                }
            },
            (None, None) => None,
        }
    }

    /// A positive number of seconds, fractions allowed (`2.5`).
    pub(super) fn seconds(&mut self, name: &str) -> Option<Duration> {
        let value: f64 = self.parse(name)?;
        match Duration::try_from_secs_f64(value) {
            Ok(d) if !d.is_zero() => Some(d),
            _ => {
                self.problem(format!("{name} must be a positive number of seconds"));
                None
            }
        }
    }

    /// An amount of US dollars (`0.25`), in millionths of a dollar.
    pub(super) fn dollars(&mut self, name: &str) -> Option<u64> {
        let value: f64 = self.parse(name)?;
        if !(0.0..=1_000_000.0).contains(&value) {
            self.problem(format!("{name} must be an amount of US dollars, like 0.25"));
            return None;
        }
        Some((value * 1_000_000.0).round() as u64)
    }

    pub(super) fn parse<T>(&mut self, name: &str) -> Option<T>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let raw = self.plain(name)?;
        match raw.parse::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.problem(format!("{name}: {e}"));
                None
            }
        }
    }
}
