//! The person's settings: timezone (by IANA name or city), display name
//! and quiet hours.

use std::str::FromStr;

use serde_json::json;

use super::cities::CITIES;
use super::said;
use crate::agent::llm::offline::text::{self, Input};
use crate::agent::llm::offline::{Ctx, Plan};
use crate::store::Locale;

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

pub(in crate::agent::llm::offline) fn timezone(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
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

pub(in crate::agent::llm::offline) fn display_name(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
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

pub(in crate::agent::llm::offline) fn quiet_hours(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
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
