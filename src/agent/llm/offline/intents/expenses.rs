//! Expenses: an amount spent, with its currency (`log_expense`), and what
//! was spent over a month, a week or since a day (`expense_summary`).

use chrono::{Datelike, Days, Months, NaiveDate};
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

/// Words after a category that say when, not what.
const SPENT_WHEN: &[&str] = &[
    "yesterday",
    "today",
    "this morning",
    "tonight",
    "last night",
    "at lunch",
    "hier",
    "aujourd'hui",
    "ce matin",
    "ce midi",
    "ce soir",
    "hier soir",
];

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
            // "on groceries yesterday": the day is not the category (the
            // tool logs the expense now).
            .map(|w| text::strip_trail(&w, SPENT_WHEN))
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
        rx!(
            r"^(?:how\s+much\s+(?:money\s+)?(?:did|have|'ve)\s+i\s+(?:spen[dt]|blown|blew|blow|paid|pay)|what'?ve\s+i\s+spent|what(?:'s|\s+is|\s+are)\s+(?:my\s+)?(?:spending|expenses?)|(?P<weekly>weekly)\s+(?:spending|expenses?)(?:\s+(?:summary|report|total))?|how\s+much\s+i(?:'ve)?\s+spent|how\s+much\s+(?:was\s+)?spent|what\s+(?:did|have)\s+i\s+spen[dt]|what\s+i(?:'ve)?\s+spent|(?:i\s+)?spent|total\s+spent|money\s+spent|(?:show\s+(?:me\s+)?)?(?:my\s+)?(?:expenses?|spending)(?:\s+summary|\s+report|\s+total)?|expense\s+summary)(?:\s+(?P<when>.+))?$"
        ),
        rx!(
            r"^(?:combien\s+(?:j'ai|ai-je|est-ce\s+que\s+j'ai|d'argent\s+j'ai|de\s+sous\s+j'ai)\s+(?:depense|claque|paye)|ca\s+fait\s+combien(?:\s+(?:mes|de)\s+depenses)?|j'ai\s+depense\s+combien|(?:montre(?:-moi)?\s+)?(?:mes\s+)?depenses|total\s+(?:de\s+)?(?:mes\s+)?depenses|resume\s+(?:de\s+)?(?:mes\s+)?depenses)(?:\s+(?P<when>.+))?$"
        ),
    ];
    let today = ctx.now.date();
    for re in summaries {
        let Some(c) = re.captures(n) else { continue };
        let when = match c.name("when") {
            Some(m) => m.as_str(),
            None if c.name("weekly").is_some() => "this week",
            None => "",
        };
        let args = match period(when, today)? {
            Period::Month(y, m) => json!({ "month": month_code(y, m) }),
            Period::Days(from, to) if to == today => json!({ "since": from.to_string() }),
            Period::Days(from, to) => {
                json!({ "since": from.to_string(), "until": to.to_string() })
            }
        };
        return Some(Plan::call("expense_summary", args));
    }
    None
}

/// What a question about spending covers.
enum Period {
    Month(i32, u32),
    /// Local days, both included.
    Days(NaiveDate, NaiveDate),
}

/// "this week", "since monday", "last 7 days", "in october", "cette
/// semaine", "depuis lundi", "les 7 derniers jours" (folded). Weeks start on
/// Monday. `None` when the words are not a period: the message is
/// something else.
fn period(when: &str, today: NaiveDate) -> Option<Period> {
    let w = rx!(r"^(?:so\s+far\s+|jusqu'ici\s+)?(.*?)(?:\s+(?:so\s+far|jusqu'ici|jusqu'a\s+maintenant|pour\s+l'instant))?$")
        .replace(when.trim(), "$1");
    let w = w.trim();
    let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    let month = |y: i32, m: u32| Some(Period::Month(y, m));
    let days = |from: NaiveDate, to: NaiveDate| Some(Period::Days(from, to));
    if rx!(r"^(?:|so\s+far|jusqu'ici|jusqu'a\s+maintenant|pour\s+l'instant|this\s+month|for\s+this\s+month|in\s+total|total|ce\s+mois(?:-ci|\s+ci)?|du\s+mois|depuis\s+le\s+debut\s+du\s+mois)$").is_match(w) {
        return month(today.year(), today.month());
    }
    if rx!(r"^(?:last\s+month|in\s+last\s+month|le\s+mois\s+dernier|du\s+mois\s+dernier)$")
        .is_match(w)
    {
        let prev = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)?.pred_opt()?;
        return month(prev.year(), prev.month());
    }
    if let Some(c) = rx!(concat!(
        r"^(?:(?:in|for|during|de|d'|en|du\s+mois\s+de|du\s+mois\s+d'|pour)\s*)?(",
        months_en!(),
        "|",
        months_fr!(),
        r")$"
    ))
    .captures(w)
    {
        // The most recent such month that is not in the future.
        let m = time::month_of(c.get(1)?.as_str())?;
        let y = if m <= today.month() {
            today.year()
        } else {
            today.year() - 1
        };
        return month(y, m);
    }
    if rx!(r"^(?:(?:this|for\s+the|in\s+the|during\s+the)\s+week|this\s+wk|(?:de\s+)?cette\s+semaine(?:-ci)?|(?:de\s+)?la\s+semaine|semaine|pour\s+la\s+semaine|depuis\s+le\s+debut\s+de\s+la\s+semaine|since\s+the\s+start\s+of\s+the\s+week)$").is_match(w) {
        return days(monday, today);
    }
    if rx!(r"^(?:last\s+week|(?:de\s+)?la\s+semaine\s+(?:derniere|passee))$").is_match(w) {
        let from = monday - Days::new(7);
        return days(from, monday.pred_opt()?);
    }
    if rx!(r"^(?:today|(?:aujourd'hui))$").is_match(w) {
        return days(today, today);
    }
    if rx!(r"^(?:yesterday|hier)$").is_match(w) {
        let y = today.pred_opt()?;
        return days(y, y);
    }
    if let Some(c) = rx!(concat!(
        r"^(?:(?:in|over|for|during)\s+)?(?:the\s+)?(?:last|past)\s+(?:(",
        num_pat!(),
        r")\s+)?(days?|weeks?)$"
    ))
    .captures(w)
    .or_else(|| {
        rx!(concat!(
            r"^(?:(?:dans|sur|pendant|depuis)\s+)?(?:les|ces|des)\s+(?:(",
            num_pat!(),
            r")\s+)?(?:derniers\s+jours|dernieres\s+semaines|jours\s+derniers)$"
        ))
        .captures(w)
    }) {
        let n = c.get(1).map_or(Some(1.0), |m| time::number(m.as_str()))?;
        let unit = c
            .get(2)
            .map_or(if w.contains("semaine") { "w" } else { "d" }, |m| {
                m.as_str()
            });
        let per = if unit.starts_with('w') { 7.0 } else { 1.0 };
        let span = (n * per).round() as u64;
        if !(1..=366).contains(&span) {
            return None;
        }
        return days(today - Days::new(span - 1), today);
    }
    // "since monday", "since last tuesday", "depuis lundi (dernier)": the
    // most recent such day, today included.
    if let Some(c) = rx!(concat!(
        r"^(?:since|from|depuis)\s+(?:last\s+|le\s+)?(",
        days_en_any!(),
        "|",
        days_fr!(),
        r")(?:\s+dernier)?$"
    ))
    .captures(w)
    {
        let day = time::weekday_of(c.get(1)?.as_str())?;
        let back = (7 + today.weekday().num_days_from_monday() - day.num_days_from_monday()) % 7;
        return days(today - Days::new(u64::from(back)), today);
    }
    if rx!(r"^(?:since|depuis)\s+(?:yesterday|hier)$").is_match(w) {
        return days(today.pred_opt()?, today);
    }
    // "since the 10th", "since nov 10", "depuis le 10 (novembre)".
    let c = rx!(concat!(
        r"^(?:since|depuis)\s+(?:the\s+|le\s+)?(?:(?P<m1>",
        months_en!(),
        r")\s+(?:the\s+)?)?(?P<d>\d{1,2}(?:st|nd|rd|th|er)?)(?:\s+(?:of\s+)?(?P<m2>",
        months_en!(),
        "|",
        months_fr!(),
        r"))?$"
    ))
    .captures(w)?;
    let d = time::day_number(c.name("d")?.as_str())?;
    let named = c.name("m1").or(c.name("m2"));
    let m = match named {
        Some(m) => time::month_of(m.as_str())?,
        None => today.month(),
    };
    let mut from = NaiveDate::from_ymd_opt(today.year(), m, d)?;
    if from > today {
        // Not ahead: the same day of last month (or last year, when named).
        from = match named {
            Some(_) => NaiveDate::from_ymd_opt(today.year() - 1, m, d)?,
            None => from.checked_sub_months(Months::new(1))?,
        };
    }
    days(from, today)
}
