//! Rules for everything but reminders: tasks, goals, lists, expenses,
//! memory, and the person's settings (timezone, name, quiet hours).
//! Each rule matches the whole (folded) message, English then French.

use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use regex::Captures;
use serde_json::{Value, json};

use super::text::{self, ARTICLES, Input};
use super::time;
use super::{Ctx, Plan};
use crate::store::Locale;

/// The first capture group that matched, as said.
fn first_group(inp: &Input, c: &Captures<'_>) -> Option<Input> {
    (1..c.len()).find_map(|i| inp.group(c, i))
}

fn said(inp: &Input) -> String {
    text::trim_punct(inp).orig().to_string()
}

// ---------------------------------------------------------------- tasks

pub(super) fn tasks(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let list = rx!(
        r"^(?:(?:show|list|see|view|read|get)(?:\s+me)?\s+)?(?:all\s+)?(?:my|the|our)?\s*(?:open\s+)?(?:tasks|todos|to-dos|todo|to-do|(?:todo|to-do|to\s+do|task)\s+list)$"
    )
    .is_match(n)
        || rx!(
            r"^(?:what(?:'s|s|\s+is)\s+on\s+(?:my|the)\s+(?:todo|to-do|to\s+do|task)\s+list|what\s+are\s+my\s+tasks|what\s+do\s+i\s+(?:have\s+)?(?:left\s+)?to\s+do)$"
        )
        .is_match(n)
        || rx!(
            r"^(?:(?:montre|affiche|liste|voir|lis|donne|quelles\s+sont)(?:-moi)?\s+)?(?:toutes\s+)?(?:mes|les)?\s*taches(?:\s+a\s+faire)?$"
        )
        .is_match(n)
        || rx!(r"^(?:(?:ma|la)\s+(?:liste\s+de\s+taches|to-?do(?:\s+list)?)|qu'est-ce\s+que\s+j'ai\s+a\s+faire)$")
            .is_match(n);
    if list {
        return Some(Plan::call("list_tasks", json!({})));
    }

    let done = [
        rx!(r"^mark\s+(?:the\s+task\s+)?(.+?)\s+as\s+(?:done|complete|completed|finished)$"),
        rx!(
            r"^(?:done\s+with|done\s*:|finished|i\s+finished|i've\s+finished|i\s+did|completed?|finish)(?:\s+(?:the\s+)?task)?\s*:?\s+(.+)$"
        ),
        rx!(r"^(?:marque|coche)\s+(?:la\s+tache\s+)?(.+?)\s+comme\s+(?:faite?|terminee?|finie?)$"),
        rx!(
            r"^(?:j'ai\s+(?:fini|termine|complete)|(?:tache\s+)?(?:fini|finie|termine|terminee|faite?)\s*:)(?:\s+la\s+tache)?\s*:?\s*(?:de\s+|d')?(.+)$"
        ),
    ];
    for re in done {
        if let Some(c) = re.captures(n) {
            let query = text::strip_lead(
                &first_group(inp, &c)?,
                &["the", "my", "task", "la", "ma"],
                true,
            );
            if !query.is_empty() {
                return Some(Plan::call(
                    "complete_task",
                    json!({ "query": said(&query) }),
                ));
            }
        }
    }

    let add = [
        rx!(
            r"^(?:add\s+(?:a\s+)?(?:new\s+)?task|new\s+task|create\s+(?:a\s+)?task|task|todo|to-do|to\s+do)(?:\s*[:\-]\s*|\s+)(.+)$"
        ),
        rx!(r"^add\s+(.+?)\s+to\s+(?:my|the)\s+(?:tasks|(?:todo|to-do|to\s+do|task)(?:\s+list)?)$"),
        rx!(
            r"^(?:(?:ajoute|ajouter|rajoute|cree|creer)\s+(?:une\s+|la\s+)?(?:nouvelle\s+)?tache|nouvelle\s+tache|tache|a\s+faire)(?:\s*[:\-]\s*|\s+)(.+)$"
        ),
        rx!(
            r"^(?:ajoute|mets|rajoute)\s+(.+?)\s+(?:a|dans|sur)\s+(?:mes\s+taches|ma\s+liste\s+de\s+taches|ma\s+to-?do(?:\s+list)?)$"
        ),
    ];
    for re in add {
        if let Some(c) = re.captures(n) {
            let title = said(&first_group(inp, &c)?);
            if !title.is_empty() {
                return Some(Plan::call("add_task", json!({ "title": title })));
            }
        }
    }
    None
}

// ---------------------------------------------------------------- goals

pub(super) fn goals(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let list = rx!(
        r"^(?:(?:show|list|see|view)(?:\s+me)?\s+)?(?:my|the|our)?\s*goals$|^(?:what\s+are\s+my\s+goals|how\s+are\s+my\s+goals(?:\s+going)?)$"
    )
    .is_match(n)
        || rx!(
            r"^(?:(?:montre|affiche|liste|voir|quels\s+sont)(?:-moi)?\s+)?(?:mes|les)?\s*objectifs$"
        )
        .is_match(n);
    if list {
        return Some(Plan::call("list_goals", json!({})));
    }

    let progress = [
        rx!(
            r"^(?:goal\s+progress|progress(?:\s+on)?|update(?:\s+on)?(?:\s+goal)?)(?:\s+(?:goal|my\s+goal))?\s*:?\s+(.+?)\s*(?::|\s-)\s*(.+)$"
        ),
        rx!(
            r"^(?:progres|avancement|objectif\s+progres)(?:\s+(?:sur|pour|de))?(?:\s+(?:l'objectif|mon\s+objectif|objectif))?\s*:?\s*(.+?)\s*(?::|\s-)\s*(.+)$"
        ),
    ];
    for re in progress {
        if let Some(c) = re.captures(n) {
            let query = said(&inp.group(&c, 1)?);
            let note = said(&inp.group(&c, 2)?);
            if !query.is_empty() && !note.is_empty() {
                return Some(Plan::call(
                    "add_goal_progress",
                    json!({ "query": query, "note": note }),
                ));
            }
        }
    }

    let add = [
        rx!(
            r"^(?:new\s+goal|(?:add|set)\s+(?:a\s+)?(?:new\s+)?goal|goal|my\s+(?:new\s+)?goal\s+is)(?:\s*[:\-]\s*|\s+)(.+)$"
        ),
        rx!(
            r"^(?:nouvel\s+objectif|ajoute(?:r)?\s+(?:un\s+)?(?:nouvel\s+)?objectif|objectif|mon\s+(?:nouvel\s+)?objectif\s+est)(?:\s*[:\-]\s*|\s+)(.+)$"
        ),
    ];
    for re in add {
        if let Some(c) = re.captures(n) {
            let title = text::strip_lead(&first_group(inp, &c)?, &["to", "de", "d'"], false);
            if !title.is_empty() {
                return Some(Plan::call("add_goal", json!({ "title": said(&title) })));
            }
        }
    }
    None
}

// ---------------------------------------------------------------- lists

/// The list's name as the tools know it: "shopping" unless another is named.
fn list_name(name: Option<Input>) -> String {
    let Some(name) = name else {
        return "shopping".to_string();
    };
    let name = text::strip_lead(
        &name,
        &["the", "my", "our", "de", "d'", "des", "la", "ma"],
        true,
    );
    let folded = name.norm();
    if folded.is_empty() || matches!(folded, "shopping" | "courses" | "course") {
        "shopping".to_string()
    } else {
        name.orig().to_lowercase()
    }
}

fn items(inp: &Input) -> Vec<String> {
    text::split_items(inp)
        .iter()
        .map(|i| said(&text::strip_lead(i, ARTICLES, false)))
        .filter(|i| !i.is_empty())
        .collect()
}

fn list_call(name: &str, list: String, items: Vec<String>) -> Option<Plan> {
    (!items.is_empty()).then(|| Plan::call(name, json!({ "list": list, "items": items })))
}

pub(super) fn lists(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();

    // clear, before "remove"/"delete" can read the list as an item
    for re in [
        rx!(
            r"^(?:clear|empty|reset|wipe|erase|delete)\s+(?:out\s+)?(?:my|the|our)\s+(?:(.+?)\s+)?list$"
        ),
        rx!(
            r"^(?:vide|vider|efface|effacer|reinitialise|supprime)\s+(?:ma|la|notre)\s+liste(?:\s+(?:de\s+|d'|des\s+)?(.+))?$"
        ),
    ] {
        if let Some(c) = re.captures(n) {
            let list = list_name(inp.group(&c, 1));
            return Some(Plan::call("clear_list", json!({ "list": list })));
        }
    }

    // (pattern, group of the items, group of the list name)
    let adds = [
        rx!(
            r"^(?:add|put)\s+(.+?)(?:\s+(?:to|on|in|into|onto)\s+(?:my|the|our)\s+(?:(.+?)\s+)?list)?$"
        ),
        rx!(
            r"^(?:ajoute|ajouter|rajoute|mets|met|mettre)\s+(.+?)(?:\s+(?:a|sur|dans|au)\s+(?:la|ma|notre)\s+liste(?:\s+(?:de\s+|d'|des\s+)?(.+))?)?$"
        ),
    ];
    for re in adds {
        if let Some(c) = re.captures(n) {
            return list_call(
                "add_list_items",
                list_name(inp.group(&c, 2)),
                items(&inp.group(&c, 1)?),
            );
        }
    }

    let removes = [
        rx!(
            r"^(?:remove|delete|take|cross|scratch)\s+(.+?)(?:\s+off)?\s+(?:from|off)\s+(?:my|the|our)\s+(?:(.+?)\s+)?list$"
        ),
        rx!(r"^(?:remove|cross\s+off)\s+(.+?)(?:\s+off)?()$"),
        rx!(
            r"^(?:enleve|enlever|retire|retirer|supprime|supprimer|efface|raye|rayer|ote)\s+(.+?)\s+(?:de|d'|sur|dans)\s*(?:la|ma|notre)\s+liste(?:\s+(?:de\s+|d'|des\s+)?(.+))?$"
        ),
        rx!(r"^(?:enleve|retire|raye)\s+(.+)()$"),
    ];
    for re in removes {
        if let Some(c) = re.captures(n) {
            return list_call(
                "remove_list_items",
                list_name(inp.group(&c, 2)),
                items(&inp.group(&c, 1)?),
            );
        }
    }

    for re in [
        rx!(
            r"^(?:what(?:'s|s|\s+is)\s+on|what\s+do\s+i\s+have\s+on|show(?:\s+me)?|see|view|read(?:\s+me)?|check|open|get)\s+(?:my|the|our)\s+(?:(.+?)\s+)?list$"
        ),
        rx!(r"^(?:my\s+|the\s+|our\s+)?(?:(\S+)\s+)?list$"),
        rx!(
            r"^(?:qu'est-ce\s+qu'il\s+y\s+a|qu'y\s+a-t-il|quoi|c'est\s+quoi|y\s+a\s+quoi)\s+(?:sur|dans)\s+(?:ma|la|notre)\s+liste(?:\s+(?:de\s+|d'|des\s+)?(.+))?$"
        ),
        rx!(
            r"^(?:(?:montre|affiche|voir|lis|donne)(?:-moi)?\s+)?(?:ma|la|notre)\s+liste(?:\s+(?:de\s+|d'|des\s+)?(.+))?$"
        ),
        rx!(r"^liste\s+(?:de\s+|d'|des\s+)(.+)$"),
    ] {
        if let Some(c) = re.captures(n) {
            let list = list_name(inp.group(&c, 1));
            return Some(Plan::call("show_list", json!({ "list": list })));
        }
    }
    None
}

// ---------------------------------------------------------------- expenses

macro_rules! amount_pat {
    () => {
        r"(?P<pre>[$€£])?\s*(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:[.,]\d{1,2})?)(?:\s*(?P<cur>[$€£]|euros?\b|eur\b|usd\b|cad\b|gbp\b|chf\b|dollars?\b|bucks\b|pounds?\b))?"
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

pub(super) fn expenses(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    // (pattern, language of the default category)
    let logs = [
        (
            rx!(concat!(
                r"^(?:i\s+)?(?:just\s+)?(?:spent|spend|paid|pay|expense|expensed|log|logged)\s+",
                amount_pat!(),
                r"(?:\s+(?:on|for|at|in)\b)?\s*(?P<what>.*)$"
            )),
            Locale::En,
        ),
        (
            rx!(concat!(
                r"^(?:j'ai\s+)?(?:depense|paye|claque|depenses?)\s+",
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
            r"(?:\s+(?:(?P<this>this\s+month|so\s+far)|(?P<last>last\s+month)|(?:in|for|during)\s+(?P<month>",
            months_en!(),
            r")))?$"
        )),
        rx!(concat!(
            r"^(?:combien\s+(?:j'ai|ai-je|est-ce\s+que\s+j'ai)\s+depense|(?:montre(?:-moi)?\s+)?(?:mes\s+)?depenses|total\s+(?:de\s+)?(?:mes\s+)?depenses|resume\s+(?:de\s+)?(?:mes\s+)?depenses)",
            r"(?:\s+(?:(?P<this>ce\s+mois(?:-ci|\s+ci)?)|(?P<last>le\s+mois\s+dernier|du\s+mois\s+dernier)|(?:de|d'|en|du\s+mois\s+de|du\s+mois\s+d'|pour)\s*(?P<month>",
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

// ---------------------------------------------------------------- memory

pub(super) fn remember(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    // French first: "note que …" must not keep "que" as part of the fact.
    let c = rx!(
        r"^(?:souviens[- ]toi|rappelle[- ]toi|retiens|note|n'oublie\s+pas|memorise|enregistre)(?:\s+(?:que\b|qu')|\s*:)\s*(.+)$"
    )
    .captures(n)
    .or_else(|| {
        rx!(
            r"^(?:remember|note|keep\s+in\s+mind|memorize|save|don't\s+forget|dont\s+forget)\b(?:\s+that\b|\s*:)?\s*(.+)$"
        )
        .captures(n)
    })?;
    let fact = inp.group(&c, 1)?;
    // "remember to call mom" asks for a reminder, not a fact.
    if rx!(r"^(?:to|de|d')\b").is_match(fact.norm()) {
        return None;
    }
    let fact = said(&fact);
    (!fact.is_empty()).then(|| Plan::call("remember", json!({ "fact": fact })))
}

pub(super) fn recall(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    const STOP: &[&str] = &[
        // English
        "my", "the", "a", "an", "is", "are", "was", "were", "did", "do", "does", "i", "me", "of",
        "your", "you", "about", "again", "remember", "tell", "what", "what's", "whats", "where",
        "when", "who", "which", "it", "that", "this", "please", "to", "for", "s",
        // French
        "le", "la", "les", "de", "du", "des", "mon", "ma", "mes", "un", "une", "est", "sont",
        "c'est", "quoi", "quel", "quelle", "quels", "quelles", "ou", "j'ai", "je", "ai", "a", "au",
        "aux", "en", "que", "ce", "cette", "ton", "ta", "tes", "notre", "nos", "votre", "vos",
        "moi", "tu", "te", "deja", "encore",
    ];
    let n = inp.norm();
    let c = rx!(
        r"^(?:what(?:'s|s|\s+is|\s+was|\s+are|\s+were)|where(?:'s|s|\s+is|\s+are|\s+was|\s+did|\s+do)|when(?:'s|s|\s+is|\s+was|\s+did)|who(?:'s|s|\s+is|\s+was)|which|do\s+you\s+remember|what\s+did\s+i\s+(?:say|tell\s+you)\s+about|recall)\s+(.+)$"
    )
    .captures(n)
    .or_else(|| {
        rx!(
            r"^(?:quel(?:le)?s?\s+(?:est|sont|etait)|c'est\s+quoi|qu'est-ce\s+que|ou\s+(?:est|sont|ai-je|j'ai|se\s+trouve)|quand\s+(?:est|a\s+lieu)|qui\s+est|tu\s+te\s+souviens\s+(?:de|d'|du|des)|te\s+souviens-tu\s+(?:de|d'|du|des))\s*(.+)$"
        )
        .captures(n)
    })?;
    let rest = inp.group(&c, 1)?;
    let words: Vec<String> = rest
        .orig()
        .split_whitespace()
        .filter_map(|w| {
            let w = said(&Input::new(w));
            let folded = Input::new(&w);
            // French elision: "l'adresse" → "adresse".
            let f = folded.norm();
            let cut = ["l'", "d'", "j'", "m'", "t'", "s'", "n'", "c'", "qu'"]
                .iter()
                .find(|p| f.starts_with(**p) && f.len() > p.len())
                .map_or(0, |p| p.len());
            let word = folded.sub(cut..f.len());
            let key = word.norm().to_string();
            (!key.is_empty() && !STOP.contains(&key.as_str())).then(|| word.orig().to_lowercase())
        })
        .collect();
    (!words.is_empty()).then(|| Plan::call("recall", json!({ "query": words.join(" ") })))
}

// ---------------------------------------------------------------- settings

/// Major cities, folded, to IANA zones.
const CITIES: &[(&str, &str)] = &[
    ("paris", "Europe/Paris"),
    ("lyon", "Europe/Paris"),
    ("marseille", "Europe/Paris"),
    ("toulouse", "Europe/Paris"),
    ("bordeaux", "Europe/Paris"),
    ("lille", "Europe/Paris"),
    ("nantes", "Europe/Paris"),
    ("nice", "Europe/Paris"),
    ("strasbourg", "Europe/Paris"),
    ("france", "Europe/Paris"),
    ("montreal", "America/Montreal"),
    ("quebec city", "America/Montreal"),
    ("ville de quebec", "America/Montreal"),
    ("quebec", "America/Montreal"),
    ("toronto", "America/Toronto"),
    ("ottawa", "America/Toronto"),
    ("new york city", "America/New_York"),
    ("new york", "America/New_York"),
    ("nyc", "America/New_York"),
    ("boston", "America/New_York"),
    ("miami", "America/New_York"),
    ("washington", "America/New_York"),
    ("chicago", "America/Chicago"),
    ("denver", "America/Denver"),
    ("calgary", "America/Edmonton"),
    ("edmonton", "America/Edmonton"),
    ("los angeles", "America/Los_Angeles"),
    ("san francisco", "America/Los_Angeles"),
    ("seattle", "America/Los_Angeles"),
    ("vancouver", "America/Vancouver"),
    ("halifax", "America/Halifax"),
    ("london", "Europe/London"),
    ("londres", "Europe/London"),
    ("dublin", "Europe/Dublin"),
    ("brussels", "Europe/Brussels"),
    ("bruxelles", "Europe/Brussels"),
    ("geneva", "Europe/Zurich"),
    ("geneve", "Europe/Zurich"),
    ("zurich", "Europe/Zurich"),
    ("berlin", "Europe/Berlin"),
    ("madrid", "Europe/Madrid"),
    ("barcelona", "Europe/Madrid"),
    ("barcelone", "Europe/Madrid"),
    ("lisbon", "Europe/Lisbon"),
    ("lisbonne", "Europe/Lisbon"),
    ("rome", "Europe/Rome"),
    ("amsterdam", "Europe/Amsterdam"),
    ("tokyo", "Asia/Tokyo"),
    ("dakar", "Africa/Dakar"),
    ("casablanca", "Africa/Casablanca"),
    ("sydney", "Australia/Sydney"),
];

/// An IANA name as typed in any case ("europe/paris"), or a known city.
fn zone_from(place: &Input) -> Option<String> {
    let place = text::strip_trail(
        &text::strip_lead(place, &["the", "la", "le"], false),
        &["now", "today", "maintenant", "for now", "pour l'instant"],
    );
    let raw = place.orig();
    if chrono_tz::Tz::from_str(raw).is_ok() {
        return Some(raw.to_string());
    }
    let cased: String = raw
        .split('/')
        .map(|seg| {
            seg.split('_')
                .map(|w| {
                    let mut cs = w.chars();
                    cs.next().map_or_else(String::new, |f| {
                        f.to_uppercase()
                            .chain(cs.flat_map(char::to_lowercase))
                            .collect()
                    })
                })
                .collect::<Vec<_>>()
                .join("_")
        })
        .collect::<Vec<_>>()
        .join("/");
    for candidate in [cased, raw.to_uppercase()] {
        if (raw.contains('/') || candidate.len() <= 4)
            && let Ok(tz) = chrono_tz::Tz::from_str(&candidate)
        {
            return Some(tz.name().to_string());
        }
    }
    let folded = place.norm();
    CITIES
        .iter()
        .find(|(city, _)| {
            folded == *city
                || folded
                    .strip_prefix(city)
                    .is_some_and(|rest| rest.starts_with([' ', ',']))
        })
        .map(|(_, zone)| zone.to_string())
}

pub(super) fn timezone(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    // Explicit: an unknown zone gets an answer. Implied by a place ("I'm
    // in …"): an unknown place is probably not a place ("I'm in a meeting").
    let explicit = [
        (
            rx!(
                r"^(?:(?:my\s+)?(?:time\s*zone|tz)(?:\s+is)?(?:\s+now)?|(?:set|change|update|switch)\s+(?:my\s+)?(?:time\s*zone|tz)(?:\s+to)?)\s*:?\s+(.+)$"
            ),
            Locale::En,
        ),
        (
            rx!(
                r"^(?:(?:mon\s+)?fuseau(?:\s+horaire)?(?:\s+est)?(?:\s+maintenant)?|(?:change|regle|mets|met|definis)\s+(?:mon\s+|le\s+)?fuseau(?:\s+horaire)?(?:\s+(?:a|sur|en|pour))?)\s*:?\s+(.+)$"
            ),
            Locale::Fr,
        ),
    ];
    for (re, lang) in explicit {
        if let Some(c) = re.captures(n) {
            let place = inp.group(&c, 1)?;
            return Some(match zone_from(&place) {
                Some(zone) => Plan::call("set_timezone", json!({ "timezone": zone })),
                None => Plan::Reply(unknown_zone(lang)),
            });
        }
    }
    let implied = [
        rx!(r"^(?:i'm|im|i\s+am)\s+(?:now\s+|currently\s+|back\s+)?(?:in|at)\s+(.+)$"),
        rx!(
            r"^i(?:'ve|\s+have)?\s+(?:just\s+)?(?:moved|relocated|live|now\s+live)\s+(?:to|in)\s+(.+)$"
        ),
        rx!(r"^je\s+suis\s+(?:maintenant\s+|actuellement\s+|de\s+retour\s+)?(?:a|au|en)\s+(.+)$"),
        rx!(
            r"^(?:j'ai\s+demenage|j'habite|je\s+vis|je\s+demenage|je\s+reside)\s+(?:maintenant\s+)?(?:a|au|en)\s+(.+)$"
        ),
    ];
    for re in implied {
        if let Some(c) = re.captures(n)
            && let Some(zone) = inp.group(&c, 1).and_then(|p| zone_from(&p))
        {
            return Some(Plan::call("set_timezone", json!({ "timezone": zone })));
        }
    }
    None
}

fn unknown_zone(lang: Locale) -> String {
    match lang {
        Locale::En => "I don't know that timezone. Try a name like \"America/Toronto\" or a big city: \"I'm in Paris\".",
        Locale::Fr => "Je ne connais pas ce fuseau horaire. Essaie un nom comme « Europe/Paris » ou une grande ville : « je suis à Montréal ».",
    }
    .to_string()
}

pub(super) fn display_name(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let c = rx!(
        r"^(?:call\s+me|my\s+name\s+is|my\s+name's|i'm\s+called|i\s+am\s+called|name\s+me|you\s+can\s+call\s+me|appelle[- ]moi|appelez[- ]moi|je\s+m'appelle|mon\s+nom\s+est|mon\s+prenom\s+est|tu\s+peux\s+m'appeler)\s+(.+)$"
    )
    .captures(n)?;
    let name = said(&inp.group(&c, 1)?);
    let folded = Input::new(&name);
    let words = name.split_whitespace().count();
    // "call me back in 10 minutes" is not a name.
    let not_a_name = rx!(
        r"^(?:back|later|at|in|on|when|tomorrow|tonight|now|asap|if|maybe|demain|plus|a|dans|quand|ce|ce soir|si)\b"
    )
    .is_match(folded.norm());
    let plausible = (1..=4).contains(&words)
        && name.chars().count() <= 40
        && !name.chars().any(|c| c.is_ascii_digit())
        && !not_a_name;
    plausible.then(|| Plan::call("set_display_name", json!({ "name": name })))
}

/// A clock time in a quiet-hours range; `start` decides how a bare hour
/// reads (a bare start of 6–11 is the evening: "quiet hours 10 to 7").
fn quiet_clock(token: &str, start: bool) -> Option<String> {
    let t = token.trim();
    let (h, m) = match t {
        "noon" | "midi" => (12, 0),
        "midnight" | "minuit" => (0, 0),
        _ => {
            let c = rx!(r"^(\d{1,2})(?:\s*[:h]\s*(\d{2})?)?\s*(am|pm)?$").captures(t)?;
            let h: u32 = c.get(1)?.as_str().parse().ok()?;
            let m: u32 = c.get(2).map_or(Some(0), |v| v.as_str().parse().ok())?;
            let explicit_clock = t.contains(':') || t.contains('h');
            let h = match c.get(3).map(|v| v.as_str()) {
                Some(ap) if (1..=12).contains(&h) => match (h, ap) {
                    (12, "am") => 0,
                    (12, _) => 12,
                    (h, "pm") => h + 12,
                    (h, _) => h,
                },
                Some(_) => return None,
                None if explicit_clock => h,
                None if start && h == 12 => 0,
                None if start && (6..=11).contains(&h) => h + 12,
                None => h,
            };
            (h, m)
        }
    };
    (h <= 23 && m <= 59).then(|| format!("{h:02}:{m:02}"))
}

pub(super) fn quiet_hours(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let keyword = rx!(
        r"\b(?:quiet\s+(?:hours?|time)|do\s+not\s+disturb|don'?t\s+(?:text|message|disturb|bother|ping|contact|msg)\s+me|no\s+(?:texts|messages|sms)|dnd|heures?\s+(?:calmes?|de\s+silence|tranquilles?|de\s+calme)|ne\s+m'(?:ecris|ecrivez|envoie|envoyez)\s+(?:pas|rien)|ne\s+me\s+(?:derange|derangez|contacte|contactez|texte|textez)\s+pas|pas\s+de\s+(?:messages?|sms|textos)|mode\s+silencieux|ne\s+pas\s+deranger|silence)\b"
    );
    if !keyword.is_match(n) {
        return None;
    }
    let c = rx!(
        r"(noon|midnight|midi|minuit|\d{1,2}(?:\s*[:h]\s*(?:\d{2})?)?(?:\s*(?:am|pm))?)\s*(?:to|and|until|till|through|-|a|et|jusqu'a)\s*(noon|midnight|midi|minuit|\d{1,2}(?:\s*[:h]\s*(?:\d{2})?)?(?:\s*(?:am|pm))?)\b"
    )
    .captures(n)?;
    let start = quiet_clock(c.get(1)?.as_str(), true)?;
    let end = quiet_clock(c.get(2)?.as_str(), false)?;
    Some(Plan::call(
        "set_quiet_hours",
        json!({ "start": start, "end": end }),
    ))
}
