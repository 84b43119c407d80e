//! Reminder rules: create (with "remind me", or recognised by its time
//! alone), list, cancel one or all, snooze.

use serde_json::json;

use super::text::{self, Input};
use super::time::{self, When};
use super::{Ctx, Plan};
use crate::store::Locale;

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
    let query = if let Some(c) = rx!(
        r"^(?:cancel|delete|remove|stop|drop|forget)\s+(?:my\s+|the\s+|that\s+)?(?:(.+?)\s+reminder|reminder(?:\s+(?:about|for|to|of|called|named|on))?\s+(.+))$"
    )
    .captures(n)
    {
        inp.group(&c, 1).or_else(|| inp.group(&c, 2))?
    } else if let Some(c) = rx!(
        r"^(?:annule|annuler|supprime|supprimer|efface|effacer|enleve|retire|arrete)\s+(?:le\s+|mon\s+|ce\s+)?rappel\s+(?:(?:du|des|de\s+la|de|pour|sur|concernant|a\s+propos\s+de|au|a\s+la)\s+|de\s+l'|d')?(.+)$"
    )
    .captures(n)
    {
        inp.group(&c, 1)?
    } else {
        return None;
    };
    let query = text::strip_lead(&query, text::ARTICLES, false);
    let query = query.orig().to_lowercase();
    (!query.is_empty()).then(|| Plan::call("cancel_reminder", json!({ "query": query })))
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
        || rx!(r"^(?:(?:est-ce\s+que\s+)?j'ai\s+des\s+rappels|quels\s+rappels\s+(?:ai-je|j'ai))$")
            .is_match(n);
    hit.then(|| Plan::call("list_reminders", json!({})))
}

/// "remind me …", "rappelle-moi …": a reminder even when its time is
/// missing (then the person is asked when).
pub(super) fn explicit(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let en = rx!(
        r"\b(?:(?:can|could|would)\s+you\s+)?(?:remind\s+me|(?:set|add|create|make)\s+(?:me\s+)?(?:a\s+)?(?:new\s+)?reminder(?:\s+(?:to|for|about))?|new\s+reminder|reminder)\b\s*:?"
    );
    let fr = rx!(
        r"\b(?:(?:peux-tu|pourrais-tu|tu\s+peux)\s+me\s+rappeler|rappelle[- ]moi|rappelez[- ]moi|fais[- ]moi\s+penser\s+(?:a|de)|n'oublie\s+pas\s+de\s+me\s+rappeler|(?:cree|creer|ajoute|mets|programme)\s+(?:moi\s+)?(?:un\s+)?rappel(?:\s+(?:pour|de))?|nouveau\s+rappel|rappel)\b\s*:?"
    );
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
    let ex = time::extract(inp, ctx.now);
    if !explicit && !ex.schedule.is_anchored() {
        return None;
    }
    let text = task_text(&ex.rest);
    let Some(when) = time::resolve(&ex.schedule, ctx.now) else {
        return explicit.then(|| Plan::Reply(ask_when(lang)));
    };
    if text.is_empty() {
        return explicit.then(|| Plan::Reply(ask_what(lang)));
    }
    let mut args = json!({ "text": text });
    match when {
        When::InMinutes(m) => args["in_minutes"] = json!(m),
        When::At { due, rec } => {
            args["due_local"] = json!(due.format("%Y-%m-%dT%H:%M").to_string());
            if let Some(rec) = rec {
                args["recurrence"] = rec.to_json();
            }
        }
    }
    Some(Plan::call("create_reminder", args))
}

/// What to be reminded of: the words left once the trigger and the time
/// are gone, without the joining words ("to", "de", "d'").
fn task_text(rest: &Input) -> String {
    const LEAD: &[&str] = &[
        "don't forget to",
        "dont forget to",
        "n'oublie pas de",
        "n'oublie pas d'",
        "remember to",
        "pense a",
        "a propos de",
        "concernant",
        "that",
        "about",
        "to",
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
    const TRAIL: &[&str] = &["please", "stp", "svp", "s'il te plait", "merci", "thanks"];
    let t = text::strip_trail(&text::strip_lead(rest, LEAD, true), TRAIL);
    t.orig().to_string()
}

fn ask_when(lang: Locale) -> String {
    match lang {
        Locale::En => "When should I remind you? For example: \"remind me to call mom at 6pm\" or \"in 20 minutes check the oven\".",
        Locale::Fr => "Quand dois-je te le rappeler ? Par exemple : « rappelle-moi d'appeler maman à 18h » ou « dans 20 minutes vérifier le four ».",
    }
    .to_string()
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
