//! Rules for everything but reminders: tasks, goals, lists, expenses,
//! memory, and the person's settings (timezone, name, quiet hours).
//! Each rule matches the whole (folded) message, English then French.

use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use regex::Captures;
use serde_json::{Value, json};

use super::lookup::{Lookup, Then};
use super::resolve;
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
            r"^(?:what(?:'s|s|\s+is)\s+on\s+(?:my|the)\s+(?:todo|to-do|to\s+do|task)(?:\s+list)?|what\s+are\s+my\s+tasks|what\s+do\s+i\s+(?:still\s+)?(?:have\s+|need\s+)?(?:left\s+)?to\s+do|what(?:'s|s|\s+is)\s+left(?:\s+to\s+do)?|anything\s+(?:left\s+)?(?:on\s+my\s+(?:to-do|list)|to\s+do))$"
        )
        .is_match(n)
        || rx!(
            r"^(?:(?:montre|affiche|liste|voir|lis|donne|quelles\s+sont)(?:-moi)?\s+)?(?:toutes\s+)?(?:mes|les)?\s*taches(?:\s+a\s+faire)?$"
        )
        .is_match(n)
        || rx!(r"^(?:(?:ma|la)\s+(?:liste\s+de\s+taches|to-?do(?:\s+list)?)|qu'est-ce\s+que\s+j'ai\s+a\s+faire|j'ai\s+quoi\s+a\s+faire|(?:c'est\s+)?quoi\s+mes\s+taches|il\s+me\s+reste\s+quoi(?:\s+a\s+faire)?)$")
            .is_match(n);
    if list {
        return Some(Plan::call("list_tasks", json!({})));
    }

    let done = [
        rx!(r"^mark\s+(?:the\s+task\s+)?(.+?)\s+as\s+(?:done|complete|completed|finished)$"),
        rx!(
            r"^(?:(?:i'm\s+|im\s+)?done\s+with|done\s*:|(?:i\s+|i've\s+)?(?:just\s+|finally\s+)?(?:finished|completed?|did|done)|finish)(?:\s+(?:the\s+)?task)?\s*:?\s+(.+)$"
        ),
        rx!(
            r"^(.+?)\s+(?:is|are)\s+(?:done|finished|complete|completed|sorted|taken\s+care\s+of)$"
        ),
        rx!(r"^(?:marque|coche)\s+(?:la\s+tache\s+)?(.+?)\s+comme\s+(?:faite?|terminee?|finie?)$"),
        rx!(
            r"^(?:j'ai\s+(?:enfin\s+|deja\s+)?(?:fini|termine|complete|fait)|(?:tache\s+)?(?:fini|finie|termine|terminee|faite?)\s*:?|c'est\s+fait\s+pour|c'est\s+bon\s+pour)(?:\s+la\s+tache)?\s*:?\s*(?:de\s+|d')?(.+)$"
        ),
        rx!(
            r"^(.+?)\s*(?::|-)?\s+(?:c'est\s+)?(?:fait|faite|fini|finie|termine|terminee|regle|reglee)$"
        ),
    ];
    for re in done {
        if let Some(c) = re.captures(n) {
            let words = resolve::key_words(first_group(inp, &c)?.orig());
            if !words.is_empty() {
                return Some(Plan::Lookup(Lookup::new(
                    Then::Complete { guessed: false },
                    words,
                )));
            }
        }
    }

    let add = [
        rx!(
            r"^(?:put|add|write|stick)\s+(?:on|to|in|onto)\s+(?:my|the)\s+(?:tasks|(?:to-do|to\s+do|task)(?:\s+list)?)\s*:?\s*(.+)$"
        ),
        rx!(
            r"^(?:put|add|write|stick)\s+(.+?)\s+(?:on|to|in|onto)\s+(?:my|the)\s+(?:tasks|(?:to-do|to\s+do|task)(?:\s+list)?)$"
        ),
        rx!(
            r"^(?:mets|met|ajoute|rajoute|note)\s+(?:dans|sur|a)\s+(?:ma|la|mes)\s+(?:to-do(?:\s+list)?|liste\s+de\s+taches|taches|liste\s+a\s+faire)\s*:?\s*(.+)$"
        ),
        rx!(
            r"^(?:ajoute|mets|rajoute)\s+(.+?)\s+(?:a|dans|sur)\s+(?:ma|la)\s+(?:liste\s+de\s+taches|to-do(?:\s+list)?)$"
        ),
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

    // "progress on running: did 4k", "reading update - finished book 3",
    // "progrès course : 4 km": the goal is named by a word it shares.
    let progress = [
        rx!(
            r"^(?:goal\s+)?(?:progress|update)(?:\s+(?:on|for|about))?\s+(?:the\s+|my\s+)?(.+?)(?:\s+goal)?\s*(?::|\s-|,)\s*(.+)$"
        ),
        rx!(r"^(.+?)\s+(?:goal\s+)?(?:progress|update)\s*(?::|-|,)?\s*(.+)$"),
        rx!(
            r"^(?:progres|avancement|objectif\s+progres|mise\s+a\s+jour)(?:\s+(?:sur|pour|de|du))?(?:\s+(?:l'objectif|mon\s+objectif|objectif))?\s*:?\s*(.+?)\s*(?::|\s-|,)\s*(.+)$"
        ),
    ];
    for re in progress {
        if let Some(c) = re.captures(n) {
            let words = resolve::key_words(inp.group(&c, 1)?.orig());
            let note = said(&inp.group(&c, 2)?);
            if !words.is_empty() && !note.is_empty() {
                return Some(Plan::Lookup(Lookup::new(Then::Progress { note }, words)));
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
            let title = text::strip_trail(
                &text::strip_lead(&first_group(inp, &c)?, &["to", "de", "d'"], false),
                &[
                    "lol", "haha", "mdr", "please", "thanks", "stp", "svp", "merci",
                ],
            );
            if !title.is_empty() {
                return Some(Plan::call("add_goal", json!({ "title": said(&title) })));
            }
        }
    }
    None
}

// ---------------------------------------------------------------- lists

/// The list's name as the tools know it: "shopping" unless another is
/// named; groceries and "courses" are the shopping list.
fn list_name(name: Option<Input>) -> String {
    let Some(name) = name else {
        return "shopping".to_string();
    };
    let name = text::strip_lead(
        &name,
        &["the", "my", "our", "de", "d'", "des", "la", "ma", "l'"],
        true,
    );
    let folded = name.norm();
    if folded.is_empty()
        || matches!(
            folded,
            "shopping"
                | "courses"
                | "course"
                | "grocery"
                | "groceries"
                | "grocery shopping"
                | "epicerie"
                | "commissions"
                | "emplettes"
        )
    {
        "shopping".to_string()
    } else {
        name.orig().to_lowercase()
    }
}

fn items(inp: &Input) -> Vec<String> {
    text::split_items(inp)
        .iter()
        .map(|i| {
            let i = text::strip_lead(i, &["some", "more", "plus", "encore"], true);
            said(&text::strip_trail(
                &text::strip_lead(&i, ARTICLES, false),
                &[
                    "please", "thanks", "stp", "svp", "merci", "too", "aussi", "as well",
                ],
            ))
        })
        .filter(|i| !i.is_empty())
        .collect()
}

fn list_call(name: &str, list: String, items: Vec<String>) -> Option<Plan> {
    (!items.is_empty()).then(|| Plan::call(name, json!({ "list": list, "items": items })))
}

fn remove_plan(list: String, items: Vec<String>) -> Option<Plan> {
    (!items.is_empty())
        .then(|| Plan::Lookup(Lookup::new(Then::RemoveItems { list, items }, Vec::new())))
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

    // "bought the eggs, cross them off", "j'ai acheté les œufs, tu peux les
    // rayer", "pris le pain": off the shopping list, matched to what is on it.
    for re in [
        rx!(
            r"^(?:i\s+)?(?:just\s+)?(?:bought|got|picked\s+up|grabbed)\s+(.+?)(?:\s*,?\s*(?:so\s+|now\s+|you\s+can\s+|pls\s+|please\s+|and\s+)?(?:cross|take|tick|check|remove|scratch)\s+(?:them|it|those|that|these)(?:\s+off)?(?:\s+(?:the|my)\s+list)?)?$"
        ),
        rx!(
            r"^(?:j'ai\s+)?(?:achete|pris|trouve|recupere)\s+(.+?)(?:\s*,?\s*(?:tu\s+peux\s+|peux-tu\s+|alors\s+|donc\s+)?(?:les|le|la|l')\s*(?:rayer|enlever|retirer|raye|enleve|retire)(?:\s+de\s+la\s+liste)?)?$"
        ),
    ] {
        // "bought a lamp for 40" is an expense.
        if rx!(r"\d").is_match(n) {
            break;
        }
        if let Some(c) = re.captures(n) {
            return remove_plan("shopping".into(), items(&inp.group(&c, 1)?));
        }
    }

    // (pattern, group of the items, group of the list name)
    let adds = [
        rx!(
            r"^(?:(?:can|could)\s+you\s+)?(?:add|put)\s+(.+?)(?:\s+(?:to|on|in|into|onto)\s+(?:(?:my|the|our)\s+)?(?:(.+?)\s+list|(grocer(?:y|ies)|shopping)|list))?$"
        ),
        rx!(
            r"^(?:(?:tu\s+peux|peux-tu)\s+)?(?:ajoute|ajouter|rajoute|rajouter|mets|met|mettre)\s+(.+?)(?:\s+(?:a|sur|dans|au)\s+(?:la|ma|notre)\s+liste(?:\s+(?:de\s+|d'|des\s+)?(.+))?|\s+(?:a\s+l'|aux\s+|a\s+mes\s+|dans\s+mes\s+)(epicerie|courses))?$"
        ),
        // "need butter and flour", "we're out of rice, salt and tea"
        rx!(
            r"^(?:(?:we|i)\s+)?(?:need|needs|(?:are|'re|re|am|'m)?\s*(?:all\s+)?out\s+of|(?:we're|were|i'm|im)\s+(?:all\s+)?out\s+of|running\s+low\s+on|(?:we|i)\s+ran\s+out\s+of|ran\s+out\s+of)\s+(.+)$()"
        ),
        rx!(
            r"^(?:on\s+n'a\s+plus\s+d[e']|on\s+a\s+plus\s+d[e']|il\s+n'y\s+a\s+plus\s+d[e']|y\s+a\s+plus\s+d[e']|plus\s+d[e']|il\s+(?:me|nous)\s+faut|faut\s+acheter|il\s+faut\s+acheter)\s*(.+)$()"
        ),
    ];
    for re in adds {
        if let Some(c) = re.captures(n) {
            let name = inp.group(&c, 2).or_else(|| inp.group(&c, 3));
            let wanted = inp.group(&c, 1)?;
            // "need to call mom" is not shopping.
            if rx!(r"^to\b").is_match(wanted.norm()) {
                return None;
            }
            return list_call("add_list_items", list_name(name), items(&wanted));
        }
    }

    let removes = [
        rx!(
            r"^(?:remove|delete|take|cross|scratch|tick)\s+(.+?)(?:\s+off)?\s+(?:from|off)\s+(?:my|the|our)\s+(?:(.+?)\s+)?list$"
        ),
        rx!(r"^(?:remove|delete|cross\s+off|tick\s+off|take\s+off|scratch)\s+(.+?)(?:\s+off)?()$"),
        rx!(
            r"^(?:enleve|enlever|retire|retirer|supprime|supprimer|efface|raye|rayer|ote)\s+(.+?)\s+(?:de|d'|sur|dans)\s*(?:la|ma|notre)\s+liste(?:\s+(?:de\s+|d'|des\s+)?(.+))?$"
        ),
        rx!(r"^(?:enleve|retire|raye)\s+(.+)()$"),
    ];
    for re in removes {
        if let Some(c) = re.captures(n) {
            return remove_plan(list_name(inp.group(&c, 2)), items(&inp.group(&c, 1)?));
        }
    }

    for re in [
        rx!(
            r"^(?:what(?:'s|s|\s+is)\s+on|what\s+do\s+i\s+have\s+on|what\s+do\s+i\s+need\s+(?:from|at)|show(?:\s+me)?|see|view|read(?:\s+me)?|check|open|get)\s+(?:my|the|our)\s+(?:(.+?)\s+)?list$"
        ),
        rx!(r"^(?:my\s+|the\s+|our\s+)?(?:(\S+)\s+)?list$"),
        rx!(
            r"^(?:qu'est-ce\s+qu'il\s+y\s+a|qu'y\s+a-t-il|quoi|c'est\s+quoi|y\s+a\s+quoi)\s+(?:sur|dans)?\s*(?:ma|la|notre)\s+liste(?:\s+(?:de\s+|d'|des\s+)?(.+))?$"
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

pub(super) fn expenses(inp: &Input, ctx: &Ctx) -> Option<Plan> {
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

pub(super) fn recall(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    const STOP: &[&str] = &[
        // English
        "my", "the", "a", "an", "is", "are", "was", "were", "did", "do", "does", "i", "me", "of",
        "your", "you", "about", "again", "remember", "tell", "what", "what's", "whats", "where",
        "when", "who", "which", "it", "that", "this", "please", "to", "for", "s",
        // French
        "le", "la", "les", "de", "du", "des", "mon", "ma", "mes", "un", "une", "est", "sont",
        "c'est", "quoi", "quel", "quelle", "quels", "quelles", "ou", "j'ai", "je", "ai", "a", "au",
        "aux", "en", "que", "ce", "cette", "ton", "ta", "tes", "notre", "nos", "votre", "vos",
        "moi", "tu", "te", "deja", "encore", "again", "does", "did", "how", "much", "many",
        "quand", "qui", "me", "suis", "je", "where's", "when's", "who's", "wear", "know", "still",
        "already",
    ];
    let n = inp.norm();
    let question = rx!(
        r"^(?:what(?:'s|s|\s+is|\s+was|\s+are|\s+were)|where(?:'s|s|\s+is|\s+are|\s+was|\s+did|\s+do)|when(?:'s|s|\s+is|\s+was|\s+did)|who(?:'s|s|\s+is|\s+was)|which|do\s+you\s+remember|do\s+you\s+know|what\s+did\s+i\s+(?:say|tell\s+you)\s+about|recall|remind\s+me\s+(?:what|where|when|who))\s+(.+)$"
    )
    .captures(n)
    .or_else(|| {
        rx!(
            r"^(?:quel(?:le)?s?\s+(?:est|sont|etait)|c'est\s+quoi|c'est\s+quand|c'est\s+ou|c'est\s+qui|qu'est-ce\s+que|ou\s+(?:est|sont|ai-je|j'ai|se\s+trouve)|quand\s+(?:est|a\s+lieu)|qui\s+est|tu\s+te\s+souviens\s+(?:de|d'|du|des)|te\s+souviens-tu\s+(?:de|d'|du|des)|rappelle-moi\s+(?:quel|quelle|ou|quand|qui))\s*(.+)$"
        )
        .captures(n)
    })
    // "what size shoes does emma wear", "where did i park", "je me suis
    // garé où", "gate code?": any other question about a thing.
    .or_else(|| rx!(r"^(?:what|where|when|who|which|how|quel|quelle|ou|quand|qui)\s+(.+)$").captures(n))
    .or_else(|| rx!(r"^(.+?)\s+(?:ou|quand)$").captures(n));
    let c = match question {
        Some(c) => c,
        None if ctx.question && n.split_whitespace().count() <= 5 => rx!(r"^(.+)$").captures(n)?,
        None => return None,
    };
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
        &[
            "now",
            "today",
            "maintenant",
            "for now",
            "pour l'instant",
            "this week",
            "for the week",
            "cette semaine",
            "pour la semaine",
            "until sunday",
            "for a few days",
        ],
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

// ---------------------------------------------------------------- small talk

/// Words that acknowledge, thank or greet, and nothing more.
const ACK: &[&str] = &[
    "ok",
    "okay",
    "k",
    "kk",
    "okk",
    "cool",
    "great",
    "perfect",
    "nice",
    "awesome",
    "amazing",
    "good",
    "gotcha",
    "got",
    "it",
    "sounds",
    "sound",
    "alright",
    "all",
    "right",
    "sure",
    "fine",
    "thanks",
    "thank",
    "you",
    "so",
    "much",
    "very",
    "a",
    "lot",
    "that's",
    "thats",
    "helpful",
    "haha",
    "hahaha",
    "lol",
    "lmao",
    "hehe",
    "yay",
    "wow",
    "neat",
    "sweet",
    "brilliant",
    "appreciate",
    "appreciated",
    "cheers",
    "ta",
    "np",
    "yup",
    "yep",
    "yeah",
    "oh",
    "ah",
    "hmm",
    "merci",
    "beaucoup",
    "bcp",
    "super",
    "parfait",
    "nickel",
    "genial",
    "top",
    "d'accord",
    "daccord",
    "dac",
    "ca",
    "marche",
    "mdr",
    "ptdr",
    "bon",
    "tres",
    "gentil",
    "c'est",
    "cool",
    "excellent",
    "impeccable",
    "bien",
    "vu",
    "recu",
    "ouf",
    "trop",
    "bravo",
    "and",
    "et",
    "yes",
    "no",
    "oui",
    "non",
    "ouais",
    "nope",
    "good",
    "bye",
    "ciao",
    "bisous",
];

const GREET_EN: &[&str] = &["hi", "hello", "hey", "yo", "hiya", "howdy", "sup"];
const GREET_FR: &[&str] = &[
    "salut", "bonjour", "coucou", "bonsoir", "allo", "cc", "slt", "hello",
];

/// A short answer to "haha ok thanks", "👍", "merci bcp": no menu.
pub(super) fn ack(raw: &str, lang: Locale) -> String {
    let n = Input::new(raw);
    let thanks = rx!(r"\b(?:thanks|thank|merci|appreciate|cheers|ty)\b").is_match(n.norm());
    match (lang, thanks) {
        (Locale::En, true) => "Anytime! 👍",
        (Locale::Fr, true) => "Avec plaisir ! 👍",
        (_, false) => "👍",
    }
    .to_string()
}

fn words(n: &str) -> Vec<&str> {
    n.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect()
}

pub(super) fn small_talk(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let w = words(n);
    if w.is_empty() {
        return Some(Plan::Reply(ack(inp.orig(), ctx.lang)));
    }
    if let Some(c) = rx!(r"^good\s+(morning|afternoon|evening|night)\b").captures(n) {
        let part = c.get(1).map_or("day", |m| m.as_str());
        return Some(Plan::Reply(if part == "night" {
            "Good night! 🌙".to_string()
        } else {
            format!("Good {part}! What can I do for you?")
        }));
    }
    if w.iter().all(|x| GREET_EN.contains(x) || ACK.contains(x)) && GREET_EN.contains(&w[0]) {
        return Some(Plan::Reply(match ctx.lang {
            Locale::Fr => "Salut ! Je peux t'aider ?".to_string(),
            Locale::En => "Hi! What can I do for you?".to_string(),
        }));
    }
    if w.iter().all(|x| GREET_FR.contains(x) || ACK.contains(x)) && GREET_FR.contains(&w[0]) {
        return Some(Plan::Reply(if w[0] == "bonsoir" {
            "Bonsoir ! Je peux t'aider ?".to_string()
        } else {
            "Salut ! Je peux t'aider ?".to_string()
        }));
    }
    if w.len() <= 8 && w.iter().all(|x| ACK.contains(x)) {
        return Some(Plan::Reply(ack(inp.orig(), ctx.lang)));
    }
    None
}

// ---------------------------------------------------------------- agenda

/// "anything I need to do today?", "what do i have tmrw", "j'ai quoi
/// aujourd'hui": the day's reminders (and, for today, the open tasks).
pub(super) fn agenda(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let c = rx!(
        r"^(?:(?:is\s+there\s+)?anything|what(?:'s|s)?(?:\s+do\s+i\s+have|\s+have\s+i\s+got|\s+is)?(?:\s+(?:planned|on|going\s+on|happening|up))?|what\s+do\s+i\s+(?:need|have)\s+to\s+do|do\s+i\s+have\s+anything|what(?:'s|s)\s+my\s+(?:day|schedule|agenda|plan)(?:\s+look\s+like)?|my\s+(?:day|schedule|agenda)|agenda|schedule|plans?)(?:\s+(?:i\s+(?:need|have)\s+to\s+do|to\s+do|planned|on|for|going\s+on|happening))?\s*(?P<day>today|tonight|tomorrow|for\s+today|for\s+tomorrow|look\s+like(?:\s+today)?|like\s+today)?$"
    )
    .captures(n)
    .filter(|c| c.name("day").is_some() || rx!(r"\b(?:day|schedule|agenda)\b").is_match(n))
    .or_else(|| {
        rx!(
            r"^(?:(?:j'ai|qu'est-ce\s+que\s+j'ai|y\s+a|il\s+y\s+a|qu'est-ce\s+qu'il\s+y\s+a|quoi)(?:\s+quoi)?(?:\s+(?:de\s+prevu|a\s+faire|au\s+programme|comme\s+trucs?))?|quoi\s+de\s+prevu|(?:mon|le)\s+programme|(?:c'est\s+quoi\s+)?mon\s+(?:agenda|planning|programme))(?:\s+(?:pour\s+)?(?P<day>aujourd'hui|demain|ce\s+soir))?$"
        )
        .captures(n)
        .filter(|c| c.name("day").is_some())
    })?;
    let day_word = c.name("day").map_or("today", |m| m.as_str());
    let tomorrow = day_word.contains("tomorrow") || day_word.contains("demain");
    let day = if tomorrow {
        ctx.now.date().succ_opt()?
    } else {
        ctx.now.date()
    };
    Some(Plan::Lookup(Lookup::new(
        Then::Agenda {
            day,
            tasks: !tomorrow,
        },
        Vec::new(),
    )))
}

// ---------------------------------------------------------------- statements

/// "my new gate code is 4411", "the gate code changed to 9876", "mon
/// nouveau code de portail c'est 4411": a fact worth keeping, said without
/// "remember". Only with a number or a word of change, so that "my day is
/// long" stays small talk.
pub(super) fn statement(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    // "my flight is at 7pm tomorrow" is for a reminder, found later.
    if inp.orig().contains('?') || time::extract(inp, ctx.now).schedule.is_anchored() {
        return None;
    }
    let hit = rx!(
        r"^(?:my|our|the)\s+(?:new\s+)?\S.*?\s+(?:is|are|is\s+now|changed\s+to|has\s+changed\s+to|'s)\s+\S.*$"
    )
    .is_match(n)
        || rx!(
            r"^(?:mon|ma|mes|notre|nos|le|la|les|l')\s*(?:nouveau\s+|nouvelle\s+)?\S.*?\s+(?:est|c'est|sont|est\s+maintenant|a\s+change\s+pour|devient)\s+\S.*$"
        )
        .is_match(n);
    let worth = rx!(r"\d|\b(?:new|changed|now|nouveau|nouvelle|change|maintenant)\b").is_match(n);
    (hit && worth).then(|| Plan::call("remember", json!({ "fact": said(inp) })))
}

/// "i booked the dentist!!", "vélo réparé !": something done, said as news.
/// Read against the open tasks and the shopping list; without a match the
/// person hears what is there.
pub(super) fn done_statement(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    if n.split_whitespace().count() > 7 {
        return None;
    }
    let c = rx!(r"^(?:i\s+|we\s+)?(?:just\s+|finally\s+|already\s+)?(\w{2,}ed)\s+(.+)$")
        .captures(n)
        .or_else(|| rx!(r"^j'ai\s+(?:enfin\s+|deja\s+)?(\w{3,}e)\s+(.+)$").captures(n))
        .or_else(|| rx!(r"^(\S+(?:\s+\S+)?)\s+(\w{3,}e)$").captures(n))?;
    let words = resolve::key_words(c.get(0)?.as_str());
    (words.len() >= 2 && words.len() <= 6)
        .then(|| Plan::Lookup(Lookup::new(Then::Complete { guessed: true }, words)))
}

// ---------------------------------------------------------------- to-dos

/// "i need to call the dentist", "faut que je rappelle Paul": something to
/// do, with no time (a time makes it a reminder, matched earlier).
pub(super) fn need_to(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let c = rx!(
        r"^(?:i\s+(?:really\s+)?(?:need|have|got)\s+to|i\s+gotta|gotta|i\s+must|need\s+to|have\s+to|je\s+dois|(?:il\s+)?faut\s+(?:absolument\s+)?que\s+je|(?:il\s+)?faudrait\s+que\s+je|je\s+devrais)\s+(.+)$"
    )
    .captures(n)?;
    let title = said(&inp.group(&c, 1)?);
    (title.split_whitespace().count() >= 2 || title.chars().count() >= 5)
        .then(|| Plan::call("add_task", json!({ "title": title })))
}
