//! Expense tools: log one, and a month's totals by category.

use std::sync::Arc;

use chrono::Datelike;
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
            description: "Totals by category for a month (YYYY-MM; this month when omitted).",
            parameters: || json!({"type": "object", "properties": {"month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}}}),
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
        let (year, month) = match arg_str(&args, "month") {
            Some(m) => {
                let (y, mo) = m
                    .split_once('-')
                    .ok_or_else(|| ToolError::Invalid("month must be YYYY-MM".into()))?;
                let y: i32 = y
                    .parse()
                    .map_err(|_| ToolError::Invalid("month must be YYYY-MM".into()))?;
                let mo: u32 = mo
                    .parse()
                    .map_err(|_| ToolError::Invalid("month must be YYYY-MM".into()))?;
                if !(1..=12).contains(&mo) {
                    return Err(ToolError::Invalid("month must be 01 to 12".into()));
                }
                (y, mo)
            }
            None => (today.year(), today.month()),
        };
        let totals = Expense::month_totals(ctx.tx, ctx.tz.name(), year, month).await?;
        let label = format!("{year}-{month:02}");
        let confirmation = if totals.is_empty() {
            ctx.say.pick(
                &format!("No expenses logged for {label}."),
                &format!("Aucune dépense notée pour {label}."),
            )
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
        Ok(json!({"confirmation": confirmation, "month": label, "totals": totals}))
    })
}
