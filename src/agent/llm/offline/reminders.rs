//! Reminder rules: create (with "remind me", or recognised by its time
//! alone), list, cancel one or all, snooze.

use chrono::NaiveDateTime;
use serde_json::json;

use super::lookup::{Lookup, Then};
use super::resolve;
use super::text::{self, Input};
use super::time::{self, When};
use super::{Ctx, Plan};
use crate::store::Locale;

/// First words of the questions asked when a reminder lacks its time; an
/// answer that is only a time completes the earlier request.
pub(super) const ASK_TIME_EN: &str = "What time";
pub(super) const ASK_WHEN_EN: &str = "When should I remind you";
pub(super) const ASK_TIME_FR: &str = "À quelle heure";
pub(super) const ASK_WHEN_FR: &str = "Quand dois-je";

/// "9am", "at 8", "dans 15 min", "tomorrow 9am": a time and nothing else.
pub(super) fn is_time_only(inp: &Input, now: NaiveDateTime) -> bool {
    let inp = text::polite_trimmed(inp);
    let ex = time::extract(&inp, now);
    let left = ex
        .rest
        .norm()
        .split_whitespace()
        .filter(|w| {
            !matches!(
                *w,
                "at" | "a" | "ok" | "okay" | "then" | "alors" | "vers" | "around"
            )
        })
        .count();
    ex.schedule.is_anchored() && left == 0
}

/// "snooze 10", "later", "plus tard", and "in 30 min" as a whole message:
/// an answer to a reminder that was just delivered.
pub(super) fn snooze(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let minutes = if rx!(
        r"^(?:later|plus\s+tard|(?:remind\s+me|rappelle[- ]moi|rappelle[- ]le\s+moi)\s+(?:later|plus\s+tard)|in\s+half\s+an\s+hour|dans\s+une?\s+demi[- ]heure)$"
    )
    .is_match(n)
    {
        30
    } else if let Some(c) = rx!(concat!(
        r"^(?:snooze|snoozer|repousse|repousser|reporte|reporter|decale|decaler)(?:\s+(?:it|le|for|by|of|de|pour|dans|a))*(?:\s+(",
        num_pat!(),
        r")\s*(",
        unit_pat!(),
        r")?)?$"
    ))
    .captures(n)
    {
        match c.get(1) {
            None => 10,
            Some(v) => time::duration_minutes(v.as_str(), c.get(2).map_or("min", |u| u.as_str()))?,
        }
    } else if let Some(c) = rx!(concat!(
        r"^(?:in|dans)\s+(",
        num_pat!(),
        r")\s*(",
        unit_pat!(),
        r")$"
    ))
    .captures(n)
    {
        time::duration_minutes(c.get(1)?.as_str(), c.get(2)?.as_str())?
    } else {
        return None;
    };
    if minutes > MAX_SNOOZE_MINUTES {
        return Some(Plan::Reply(snooze_too_long(ctx.lang)));
    }
    Some(Plan::call("snooze_reminder", json!({ "minutes": minutes })))
}

/// The `snooze_reminder` tool's maximum: a week.
const MAX_SNOOZE_MINUTES: i64 = 7 * 24 * 60;

fn snooze_too_long(lang: Locale) -> String {
    match lang {
        Locale::En => "I can snooze a reminder by a week at most. For later, ask for a new one, e.g. \"remind me to call mom in 2 weeks\".",
        Locale::Fr => "Je peux repousser un rappel d'une semaine au plus. Pour plus tard, demande un nouveau rappel, par ex. « rappelle-moi d'appeler maman dans 2 semaines ».",
    }
    .to_string()
}

pub(super) fn cancel_all(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let all = rx!(
        r"^(?:cancel|delete|remove|clear|erase|wipe|stop)\s+(?:(?:all|every|each)(?:\s+of)?\s+(?:my\s+|the\s+)?reminders?|(?:my|the)\s+reminders)$"
    )
    .is_match(n)
        || rx!(
            r"^(?:annule|annuler|supprime|supprimer|efface|effacer|arrete)\s+(?:tous\s+)?(?:mes|les)\s+rappels$"
        )
        .is_match(n);
    all.then(|| Plan::call("cancel_all_reminders", json!({})))
}

pub(super) fn cancel_one(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    // With the word "reminder" any of these verbs cancels; without it, only
    // the verbs that cannot mean a list item or a task ("cancel yoga").
    let named = rx!(
        r"^(?:cancel|delete|remove|stop|drop|forget(?:\s+about)?|kill|skip|scrap|ditch|trash|erase|clear|get\s+rid\s+of|lose|never\s+mind(?:\s+about)?|(?:i\s+)?don't\s+need|no\s+need\s+for|annule|annuler|supprime|supprimer|efface|effacer|enleve|retire|arrete|oublie|laisse\s+tomber|(?:j'ai\s+|je\s+n'ai\s+)?plus\s+besoin\s+(?:de|du|des|d'))\b\s*(.*\brappels?\b.*|.*\breminders?\b.*)$"
    );
    let bare = rx!(
        r"^(?:cancel|never\s+mind(?:\s+about)?|forget(?:\s+about)?|stop\s+reminding\s+me(?:\s+(?:about|to|of))?|annule|oublie|laisse\s+tomber|arrete\s+de\s+me\s+rappeler(?:\s+(?:de|d'))?)\s+(.+)$"
    );
    let words = if let Some(c) = named.captures(n) {
        resolve::key_words(inp.group(&c, 1)?.orig())
    } else if let Some(c) = bare.captures(n) {
        let rest = inp.group(&c, 1)?;
        // "cancel all …" and "forget it" are not about one reminder.
        if rx!(r"^(?:all|every|tous|toutes|it|that|ca|tout)\b").is_match(rest.norm()) {
            return None;
        }
        resolve::key_words(rest.orig())
    } else {
        return None;
    };
    (!words.is_empty()).then(|| Plan::Lookup(Lookup::new(Then::CancelReminder, words)))
}

pub(super) fn list(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let hit = rx!(
        r"^(?:(?:what\s+are|what're|show|list|see|view|check|get|read)(?:\s+me)?\s+)?(?:all\s+)?(?:of\s+)?(?:my|the|our)?\s*(?:upcoming\s+|current\s+|active\s+|pending\s+)?reminders(?:\s+list)?$"
    )
    .is_match(n)
        || rx!(r"^(?:what\s+reminders\s+do\s+i\s+have|do\s+i\s+have\s+(?:any\s+)?reminders|any\s+reminders)$")
            .is_match(n)
        || rx!(
            r"^(?:(?:quels\s+sont|montre|liste|affiche|voir|donne|lis)(?:-moi)?\s+)?(?:tous\s+)?(?:mes|les|nos)?\s*rappels(?:\s+(?:a\s+venir|en\s+cours|prevus))?$"
        )
        .is_match(n)
        || rx!(r"^(?:(?:est-ce\s+que\s+)?j'ai\s+des\s+rappels|quels\s+rappels\s+(?:ai-je|j'ai)|(?:j'ai|y\s+a)\s+quoi\s+comme\s+rappels?|c'est\s+quoi\s+mes\s+rappels|any\s+reminders\s+(?:coming\s+up|left))$")
            .is_match(n);
    hit.then(|| Plan::call("list_reminders", json!({})))
}

/// "remind me …", "rappelle-moi …": a reminder even when its time is
/// missing (then the person is asked when).
pub(super) fn explicit(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let en = rx!(
        r"\b(?:(?:can|could|would)\s+you\s+)?(?:remind\s+me|(?:ping|nudge|buzz|alert)\s+me(?:\s+(?:to|about))?|don't\s+let\s+me\s+forget(?:\s+to)?|(?:set|add|create|make)\s+(?:me\s+)?(?:a\s+)?(?:new\s+)?reminder(?:\s+(?:to|for|about))?|new\s+reminder|reminder)\b\s*:?"
    );
    let fr = rx!(
        r"\b(?:(?:peux-tu|pourrais-tu|tu\s+peux)\s+me\s+rappeler|rappelle[- ]moi|previens[- ]moi|envoie[- ]moi\s+un\s+(?:rappel|message|texto|sms)(?:\s+pour)?|rappelez[- ]moi|fais[- ]moi\s+penser\s+(?:a|de)|n'oublie\s+pas\s+de\s+me\s+rappeler|(?:cree|creer|ajoute|mets|programme)\s+(?:moi\s+)?(?:un\s+)?rappel(?:\s+(?:pour|de))?|nouveau\s+rappel|rappel)\b\s*:?"
    );
    // "remind me what jo's address is" asks about a fact.
    if rx!(r"^remind\s+me\s+(?:what|where|who|which|how)\b").is_match(n) {
        return None;
    }
    let (m, lang) = if let Some(m) = en.find(n) {
        (m, Locale::En)
    } else if let Some(m) = fr.find(n) {
        (m, Locale::Fr)
    } else {
        return None;
    };
    create(&inp.without(m.range()), ctx, lang, true)
}

/// A reminder recognised by its time alone: "tomorrow at 9 dentist",
/// "dans 20 minutes vérifier le four".
pub(super) fn implicit(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    create(inp, ctx, ctx.lang, false)
}

fn create(inp: &Input, ctx: &Ctx, lang: Locale, explicit: bool) -> Option<Plan> {
    // Reminders repeat at most weekly: say so rather than store a one-off.
    if rx!(
        r"\b(?:every\s+(?:other|second|2nd)\s+\w+|every\s+(?:2|two)\s+weeks|bi-?weekly|fortnightly|every\s+fortnight|une?\s+\w+\s+sur\s+deux|toutes\s+les\s+(?:deux|2)\s+semaines|tous\s+les\s+(?:deux|2)\s+\w+s)\b"
    )
    .is_match(inp.norm())
    {
        return Some(Plan::Reply(every_other(lang)));
    }
    let ex = time::extract(inp, ctx.now);
    if !explicit && !ex.schedule.is_anchored() {
        return None;
    }
    let text = task_text(&ex.rest);
    if ex.schedule.lacks_clock() {
        // A day or a rhythm but no time: ask, rather than pick an hour the
        // person never said.
        return explicit.then(|| Plan::Reply(ask_time(&text, lang)));
    }
    let Some(when) = time::resolve(&ex.schedule, ctx.now) else {
        return explicit.then(|| Plan::Reply(ask_when(&text, lang)));
    };
    if text.is_empty() {
        return explicit.then(|| Plan::Reply(ask_what(lang)));
    }
    let mut args = json!({ "text": text });
    let mut note = None;
    match when {
        When::InMinutes(m) => args["in_minutes"] = json!(m),
        When::At { due, rec } => {
            args["due_local"] = json!(due.format("%Y-%m-%dT%H:%M").to_string());
            if let Some(rec) = rec {
                args["recurrence"] = rec.to_json();
            }
            if ex.schedule.assumes_hour() {
                note = Some(assumed(due, lang));
            }
        }
    }
    let calls = vec![("create_reminder".to_string(), args)];
    Some(match note {
        Some(note) => Plan::Noted(calls, note),
        None => Plan::Calls(calls),
    })
}

/// Said after the confirmation when the hour was not given as such.
fn assumed(due: NaiveDateTime, lang: Locale) -> String {
    match lang {
        Locale::En => format!(
            "(I assumed {}; tell me if you meant another time.)",
            due.format("%-I:%M %p")
        ),
        Locale::Fr => format!(
            "(J'ai compris {}; dis-moi si tu voulais une autre heure.)",
            due.format("%-H h %M").to_string().replace(" h 00", " h")
        ),
    }
}

fn every_other(lang: Locale) -> String {
    match lang {
        Locale::En => "I can repeat a reminder every week, but not every other week yet. Want it every week instead? Say it again with \"every\" (e.g. \"every monday at 7pm …\").",
        Locale::Fr => "Je peux répéter un rappel chaque semaine, mais pas une semaine sur deux pour l'instant. Tu le veux chaque semaine ? Redis-le avec « tous les » (ex. « tous les lundis à 19h … »).",
    }
    .to_string()
}

/// The person's words said back to them: "renew my pass" → "renew your pass".
fn echo(text: &str, lang: Locale) -> String {
    if lang == Locale::Fr {
        return text.to_string();
    }
    text.split(' ')
        .map(|w| match w.to_lowercase().as_str() {
            "my" => "your".to_string(),
            "me" => "you".to_string(),
            "mine" => "yours".to_string(),
            "myself" => "yourself".to_string(),
            "i" => "you".to_string(),
            "i'm" => "you're".to_string(),
            "am" => "are".to_string(),
            _ => w.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn ask_time(text: &str, lang: Locale) -> String {
    let text = &echo(text, lang);
    match (lang, text.is_empty()) {
        (Locale::En, false) => {
            format!("{ASK_TIME_EN} should I remind you to {text}? For example \"9am\".")
        }
        (Locale::En, true) => format!("{ASK_TIME_EN} should I remind you? For example \"9am\"."),
        (Locale::Fr, false) => {
            format!("{ASK_TIME_FR} dois-je te le rappeler ({text}) ? Par exemple « 9h ».")
        }
        (Locale::Fr, true) => format!("{ASK_TIME_FR} dois-je te le rappeler ? Par exemple « 9h »."),
    }
}

/// What to be reminded of: the words left once the trigger and the time
/// are gone, without the joining words ("to", "de", "d'").
fn task_text(rest: &Input) -> String {
    const LEAD: &[&str] = &[
        "don't forget to",
        "dont forget to",
        "make sure i",
        "make sure to",
        "i need to",
        "i have to",
        "i gotta",
        "gotta",
        "n'oublie pas de",
        "n'oublie pas d'",
        "remember to",
        "pense a",
        "a propos de",
        "concernant",
        "i need a",
        "need a",
        "i want a",
        "want a",
        "can i get a",
        "can i have a",
        "give me a",
        "gimme a",
        "get a",
        "that",
        "about",
        "to",
        "2",
        "4",
        "of",
        "for",
        "and",
        "then",
        "de",
        "d'",
        "que",
        "qu'",
        "pour",
        "et",
    ];
    const TRAIL: &[&str] = &[
        "please",
        "stp",
        "svp",
        "s'il te plait",
        "merci",
        "thanks",
        "ok",
        "okay",
        "lol",
        "haha",
        "mdr",
        "is",
        "are",
        "est",
        "c'est",
    ];
    let t = text::strip_trail(&text::strip_lead(rest, LEAD, true), TRAIL);
    t.orig().to_string()
}

fn ask_when(text: &str, lang: Locale) -> String {
    let text = &echo(text, lang);
    match (lang, text.is_empty()) {
        (Locale::En, false) => format!(
            "{ASK_WHEN_EN} to {text}? For example \"at 6pm\", \"tomorrow 9am\" or \"in 20 minutes\"."
        ),
        (Locale::En, true) => {
            format!("{ASK_WHEN_EN}? For example \"at 6pm\", \"tomorrow 9am\" or \"in 20 minutes\".")
        }
        (Locale::Fr, false) => format!(
            "{ASK_WHEN_FR} te le rappeler ({text}) ? Par exemple « à 18h », « demain 9h » ou « dans 20 minutes »."
        ),
        (Locale::Fr, true) => format!(
            "{ASK_WHEN_FR} te le rappeler ? Par exemple « à 18h », « demain 9h » ou « dans 20 minutes »."
        ),
    }
}

fn ask_what(lang: Locale) -> String {
    match lang {
        Locale::En => {
            "What should I remind you about? For example: \"remind me to call mom at 6pm\"."
        }
        Locale::Fr => {
            "Je dois te rappeler quoi ? Par exemple : « rappelle-moi d'appeler maman à 18h »."
        }
    }
    .to_string()
}
