//! Expense tools: log one, and the totals by category over a month or
//! a run of days ("this week", "since monday", "the last 7 days").

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::builtin::BuiltinTool;
use super::{Effect, Tool, ToolContext, ToolError, arg_str};
use crate::store::Expense;

pub fn tools() -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(BuiltinTool {
            name: "log_expense",
            description: "Log money the person spent.",
            parameters: || {
                json!({
                    "type": "object",
                    "properties": {
                        "amount": {"type": "number", "exclusiveMinimum": 0},
                        "currency": {"type": "string", "description": "ISO 4217 code; the person's usual currency when omitted."},
                        "category": {"type": "string", "minLength": 1},
                        "note": {"type": "string"}
                    },
                    "required": ["amount", "category"]
                })
            },
            effect: Effect::Write,
            confirm: None,
            removes: None,
            preview: None,
            handler: log,
        }),
        Arc::new(BuiltinTool {
            name: "expense_summary",
            description: "Totals by category for a month (YYYY-MM), or for the days from `since` to `until` (both included; until today when omitted). This month when neither is given.",
            parameters: || {
                json!({
                    "type": "object",
                    "properties": {
                        "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                        "since": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "description": "First day included, YYYY-MM-DD in the person's timezone."},
                        "until": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "description": "Last day included, YYYY-MM-DD; today when omitted."}
                    }
                })
            },
            effect: Effect::Read,
            confirm: None,
            removes: None,
            preview: None,
            handler: summary,
        }),
    ]
}

/// The currency people in this timezone most likely mean by "$".
pub fn default_currency(tz: &str) -> &'static str {
    const CANADA: &[&str] = &[
        "America/Montreal",
        "America/Toronto",
        "America/Vancouver",
        "America/Edmonton",
        "America/Winnipeg",
        "America/Halifax",
        "America/St_Johns",
        "America/Regina",
    ];
    if CANADA.contains(&tz) {
        "CAD"
    } else if tz == "Europe/London" {
        "GBP"
    } else if tz == "Europe/Zurich" {
        "CHF"
    } else if tz.starts_with("Europe/") {
        "EUR"
    } else {
        "USD"
    }
}

fn log<'a>(ctx: &'a mut ToolContext<'_>, args: Value) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let amount = args
            .get("amount")
            .and_then(Value::as_f64)
            .filter(|a| *a > 0.0 && a.is_finite() && *a < 1e10)
            .ok_or_else(|| ToolError::Invalid("amount must be a positive number".into()))?;
        let minor = (amount * 100.0).round() as i64;
        let currency = match arg_str(&args, "currency") {
            Some(c) if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_alphabetic()) => {
                c.to_ascii_uppercase()
            }
            Some(_) => {
                return Err(ToolError::Invalid(
                    "currency must be a 3-letter code like EUR".into(),
                ));
            }
            None => default_currency(ctx.tz.name()).to_string(),
        };
        let category = arg_str(&args, "category").unwrap_or("other").to_lowercase();
        let expense =
            Expense::add(ctx.tx, minor, &currency, &category, arg_str(&args, "note")).await?;
        let money = ctx.say.money(minor, &currency);
        Ok(json!({
            "confirmation": ctx.say.pick(&format!("Logged {money} for {category}."), &format!("Dépense notée : {money} en {category}.")),
            "expense": expense,
        }))
    })
}

fn summary<'a>(
    ctx: &'a mut ToolContext<'_>,
    args: Value,
) -> BoxFuture<'a, Result<Value, ToolError>> {
    Box::pin(async move {
        let today = ctx.now.with_timezone(&ctx.tz).date_naive();
        let period = Period::from_args(&args, today)?;
        let tz = ctx.tz.name();
        let (totals, label, none) = match period {
            Period::Month(year, month) => {
                let label = format!("{year}-{month:02}");
                let none = ctx.say.pick(
                    &format!("No expenses logged for {label}."),
                    &format!("Aucune dépense notée pour {label}."),
                );
                (
                    Expense::month_totals(ctx.tx, tz, year, month).await?,
                    label,
                    none,
                )
            }
            Period::Days(from, to) => {
                let (a, b) = (ctx.say.day(from), ctx.say.day(to));
                let label = if to == today {
                    ctx.say.pick(&format!("Since {a}"), &format!("Depuis {a}"))
                } else {
                    ctx.say
                        .pick(&format!("{a} to {b}"), &format!("Du {a} au {b}"))
                };
                let none = ctx.say.pick(
                    &format!("No expenses logged {}.", lower_first(&label)),
                    &format!("Aucune dépense notée {}.", lower_first(&label)),
                );
                let until = to.succ_opt().unwrap_or(to);
                (
                    Expense::totals_between(ctx.tx, tz, from, until).await?,
                    label,
                    none,
                )
            }
        };
        let confirmation = if totals.is_empty() {
            none
        } else {
            let mut by_currency: Vec<(String, i64)> = Vec::new();
            for t in &totals {
                match by_currency.iter_mut().find(|(c, _)| *c == t.currency) {
                    Some((_, sum)) => *sum += t.total_minor,
                    None => by_currency.push((t.currency.clone(), t.total_minor)),
                }
            }
            let total = by_currency
                .iter()
                .map(|(c, m)| ctx.say.money(*m, c))
                .collect::<Vec<_>>()
                .join(" + ");
            let parts = totals
                .iter()
                .map(|t| {
                    format!(
                        "{} {}",
                        t.category,
                        ctx.say.money(t.total_minor, &t.currency)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            ctx.say.pick(
                &format!("{label}: {total} ({parts})."),
                &format!("{label} : {total} ({parts})."),
            )
        };
        let mut out = json!({"confirmation": confirmation, "totals": totals});
        match period {
            Period::Month(y, m) => out["month"] = json!(format!("{y}-{m:02}")),
            Period::Days(from, to) => {
                out["since"] = json!(from.to_string());
                out["until"] = json!(to.to_string());
            }
        }
        Ok(out)
    })
}

/// What `expense_summary` totals: a calendar month, or local days from
/// one to another, both included.
#[derive(Debug, Clone, Copy)]
enum Period {
    Month(i32, u32),
    Days(NaiveDate, NaiveDate),
}

impl Period {
    fn from_args(args: &Value, today: NaiveDate) -> Result<Period, ToolError> {
        let day = |key: &str| -> Result<Option<NaiveDate>, ToolError> {
            arg_str(args, key)
                .map(|d| {
                    NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                        ToolError::Invalid(format!("{key} must be a date like 2026-11-16"))
                    })
                })
                .transpose()
        };
        let (since, until) = (day("since")?, day("until")?);
        if let Some(from) = since {
            let to = until.unwrap_or(today);
            if from > to {
                return Err(ToolError::Invalid("since must not be after until".into()));
            }
            return Ok(Period::Days(from, to));
        }
        if until.is_some() {
            return Err(ToolError::Invalid("until needs since".into()));
        }
        let Some(m) = arg_str(args, "month") else {
            return Ok(Period::Month(today.year(), today.month()));
        };
        let bad = || ToolError::Invalid("month must be YYYY-MM".into());
        let (y, mo) = m.split_once('-').ok_or_else(bad)?;
        let y: i32 = y.parse().map_err(|_| bad())?;
        let mo: u32 = mo.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&mo) {
            return Err(ToolError::Invalid("month must be 01 to 12".into()));
        }
        Ok(Period::Month(y, mo))
    }
}

/// "Since Mon, Nov 16" → "since Mon, Nov 16", inside a sentence.
fn lower_first(s: &str) -> String {
    let mut cs = s.chars();
    cs.next()
        .map(|c| c.to_lowercase().chain(cs).collect())
        .unwrap_or_default()
}
