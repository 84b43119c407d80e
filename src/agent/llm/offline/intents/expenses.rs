//! Expenses: an amount spent, with its currency (`log_expense`), and what
//! was spent over a month (`expense_summary`).

use chrono::{Datelike, NaiveDate};
use regex::Captures;
use serde_json::{Value, json};

use super::said;
use crate::agent::llm::offline::text::{self, ARTICLES, Input};
use crate::agent::llm::offline::time;
use crate::agent::llm::offline::{Ctx, Plan};
use crate::store::Locale;

macro_rules! amount_pat {
    () => {
        r"(?P<pre>[$€£])?\s*(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:[.,]\d{1,2})?)(?:\s*(?P<cur>[$€£]|euros?\b|eur\b|usd\b|cad\b|gbp\b|chf\b|dollars?\b|bucks\b|pounds?\b|balles?\b|piasses?\b))?"
    };
}

fn amount(c: &Captures<'_>) -> Option<Value> {
    let raw = c.name("num")?.as_str();
    let digits = if rx!(r"^\d{1,3}(?:,\d{3})+").is_match(raw) {
        raw.replace(',', "")
    } else {
        raw.replace(',', ".")
    };
    let v: f64 = digits.parse().ok()?;
    if !(v > 0.0 && v < 1e9) {
        return None;
    }
    // Whole amounts as integers, as a model would write them.
    Some(if v.fract() == 0.0 {
        json!(v as i64)
    } else {
        json!(v)
    })
}

/// ISO code for a written currency; none for "$", which is the person's
/// default in both Canada and the US (the tool applies it).
fn currency(c: &Captures<'_>) -> Option<&'static str> {
    let sym = c.name("cur").or(c.name("pre"))?.as_str();
    match sym {
        "€" | "eur" | "euro" | "euros" => Some("EUR"),
        "£" | "gbp" | "pound" | "pounds" => Some("GBP"),
        "usd" => Some("USD"),
        "cad" => Some("CAD"),
        "chf" => Some("CHF"),
        _ => None,
    }
}

fn month_code(year: i32, month: u32) -> String {
    format!("{year:04}-{month:02}")
}

pub(in crate::agent::llm::offline) fn expenses(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    // (pattern, language of the default category)
    let logs = [
        (
            rx!(concat!(
                r"^(?:i\s+)?(?:just\s+)?(?:spent|spend|paid|pay|expense|expensed|log|logged|dropped|blew)\s+(?:like\s+|about\s+|around\s+|roughly\s+|almost\s+|~\s*)?",
                amount_pat!(),
                r"(?:\s+(?:on|for|at|in)\b)?\s*(?P<what>.*)$"
            )),
            Locale::En,
        ),
        (
            rx!(concat!(
                r"^(?:j'ai\s+)?(?:depense|paye|claque|depenses?)\s+(?:genre\s+|environ\s+|a\s+peu\s+pres\s+|presque\s+|~\s*)?",
                amount_pat!(),
                r"(?:\s+(?:en|pour|de|au|aux|a|dans|chez|sur)\b)?\s*(?P<what>.*)$"
            )),
            Locale::Fr,
        ),
        (
            rx!(concat!(
                r"^(?:i\s+)?bought\s+(?P<what>.+?)\s+for\s+",
                amount_pat!(),
                r"$"
            )),
            Locale::En,
        ),
    ];
    // Without a verb: "15 for parking", "$7 coffee", "groceries 48.20€",
    // "uber 23.40". A bare number could be anything ("call mom 7"), so
    // these need a currency, cents, or "for"/"pour" before the category.
    let verbless = [
        rx!(concat!(
            r"^",
            amount_pat!(),
            r"\s+(?P<sep>for|on|at|pour|de|en|chez|au|a)\s+(?P<what>[^\d]+)$"
        )),
        rx!(concat!(r"^", amount_pat!(), r"\s+(?P<what>[^\d$€£]+)$")),
        rx!(concat!(
            r"^(?P<what>[^\d$€£]+?)\s*(?::|-)?\s+",
            amount_pat!(),
            r"$"
        )),
    ];
    let logs_verbless = verbless.into_iter().filter_map(|re| {
        let c = re.captures(n)?;
        let what = c.name("what")?.as_str();
        let cents = c.name("num").is_some_and(|m| m.as_str().contains(['.', ',']));
        let money = c.name("cur").is_some() || c.name("pre").is_some() || cents;
        let times = rx!(r"(?:^|\s)(?:at|a|vers|around|by|in|dans)$|^(?:am|pm|h|min|mins|minutes?|hours?|heures?)\b");
        (money || c.name("sep").is_some_and(|s| matches!(s.as_str(), "for" | "pour")))
            .then_some(())
            .filter(|_| !times.is_match(what.trim()))
            .map(|_| (re, ctx.lang))
    });
    let logs: Vec<(&regex::Regex, Locale)> = logs.into_iter().chain(logs_verbless).collect();
    for (re, lang) in logs {
        let Some(c) = re.captures(n) else { continue };
        let Some(amount) = amount(&c) else { continue };
        let category = c
            .name("what")
            .map(|m| text::strip_lead(&inp.sub(m.range()), ARTICLES, false))
            .map(|w| said(&w).to_lowercase())
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| match lang {
                Locale::En => "other".to_string(),
                Locale::Fr => "autre".to_string(),
            });
        let mut args = json!({ "amount": amount, "category": category });
        if let Some(cur) = currency(&c) {
            args["currency"] = json!(cur);
        }
        return Some(Plan::call("log_expense", args));
    }

    let summaries = [
        rx!(concat!(
            r"^(?:how\s+much\s+(?:did|have)\s+i\s+spen[dt]|how\s+much\s+i\s+spent|what\s+did\s+i\s+spend|(?:show\s+(?:me\s+)?)?(?:my\s+)?(?:expenses?|spending)(?:\s+summary|\s+report)?|expense\s+summary)",
            r"(?:\s+(?:(?P<this>this\s+month(?:\s+so\s+far)?|so\s+far|this\s+month\s+so\s+far)|(?P<last>last\s+month)|(?:in|for|during)\s+(?P<month>",
            months_en!(),
            r")))?$"
        )),
        rx!(concat!(
            r"^(?:combien\s+(?:j'ai|ai-je|est-ce\s+que\s+j'ai)\s+depense|(?:montre(?:-moi)?\s+)?(?:mes\s+)?depenses|total\s+(?:de\s+)?(?:mes\s+)?depenses|resume\s+(?:de\s+)?(?:mes\s+)?depenses)",
            r"(?:\s+(?:(?P<this>ce\s+mois(?:-ci|\s+ci)?|du\s+mois|jusqu'ici|jusqu'a\s+maintenant|pour\s+l'instant|depuis\s+le\s+debut\s+du\s+mois)|(?P<last>le\s+mois\s+dernier|du\s+mois\s+dernier)|(?:de|d'|en|du\s+mois\s+de|du\s+mois\s+d'|pour)\s*(?P<month>",
            months_fr!(),
            r")))?$"
        )),
    ];
    let today = ctx.now.date();
    for re in summaries {
        let Some(c) = re.captures(n) else { continue };
        let (y, m) = if c.name("last").is_some() {
            let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)?;
            let prev = first.pred_opt()?;
            (prev.year(), prev.month())
        } else if let Some(name) = c.name("month") {
            // The most recent such month that is not in the future.
            let m = time::month_of(name.as_str())?;
            let y = if m <= today.month() {
                today.year()
            } else {
                today.year() - 1
            };
            (y, m)
        } else {
            (today.year(), today.month())
        };
        return Some(Plan::call(
            "expense_summary",
            json!({ "month": month_code(y, m) }),
        ));
    }
    None
}
