//! Follow-through: a reminder that persists until answered ("… and keep at
//! it until I answer", "… insiste"), the person's default for it, nudge
//! spacing, the morning and evening texts ("evening check-in at 9pm",
//! "bilan du soir à 21h"), and turning each proactive text off or on
//! ("stop the nudges", "arrête les relances").

use serde_json::{Value, json};

use crate::agent::llm::offline::text::Input;
use crate::agent::llm::offline::{Ctx, Plan};

/// The message without its "keep at it until I answer" tail, when it has
/// one and something is left to plan.
pub(in crate::agent::llm::offline) fn persisting(raw: &str) -> Option<String> {
    let tail = rx!(
        r"(?i)[\s,;.!\-—]*(?:\b(?:and|&|et)\s+)?(?:keep\s+at\s+(?:it|me)|keep\s+(?:nudging|pinging|reminding|bugging)(?:\s+me)?|nag\s+me|don['’]?t\s+(?:stop|let\s+go)|insiste(?:r|z)?|relance[- ]moi|continue\s+(?:de|à|a)\s+me\s+relancer)(?:\s+(?:until|till|'?til)\s+(?:i\s+(?:answer|reply|respond|say\s+(?:done|so))|i['’]?m\s+done|it['’]?s\s+done|done)|\s+jusqu['’](?:à|a)\s+(?:ce\s+que\s+je\s+r[ée]ponde|ma\s+r[ée]ponse))?[\s.!]*$"
    );
    let m = tail.find(raw)?;
    let rest = raw[..m.start()].trim_end_matches([' ', ',', ';', '-', '—']);
    (!rest.trim().is_empty()).then(|| rest.to_string())
}

/// The plan with `"persist": true` on each reminder it creates; `None`
/// when it creates none (the tail then meant something else).
pub(in crate::agent::llm::offline) fn persist_reminders(plan: Plan) -> Option<Plan> {
    let mark = |calls: Vec<(String, Value)>| -> Option<Vec<(String, Value)>> {
        let mut any = false;
        let calls = calls
            .into_iter()
            .map(|(name, mut args)| {
                if name == "create_reminder"
                    && let Some(o) = args.as_object_mut()
                {
                    o.insert("persist".into(), Value::Bool(true));
                    any = true;
                }
                (name, args)
            })
            .collect();
        any.then_some(calls)
    };
    match plan {
        Plan::Calls(calls) => mark(calls).map(Plan::Calls),
        Plan::Noted(calls, note) => mark(calls).map(|c| Plan::Noted(c, note)),
        _ => None,
    }
}

/// Which proactive text the words name ("the nudges", "les relances").
fn kind_of(words: &str) -> Option<&'static str> {
    let words = rx!(r"^(?:the|my|les|mes)\s+").replace(words, "");
    if rx!(r"^(?:nudges?|nudging(?:\s+me)?|nagging(?:\s+me)?|follow[- ]ups?|relances?|insistances?)$").is_match(&words) {
        Some("nudges")
    } else if rx!(r"^(?:brb\s+(?:offers?|texts?|check-?ins?)|back\s+offers?|bookmark\s+(?:offers?|texts?)|messages?\s+de\s+retour|rappels?\s+de\s+pause)$").is_match(&words) {
        Some("bookmark_offer")
    } else if rx!(r"^(?:morning\s+(?:texts?|messages?|check-?ins?)|messages?\s+du\s+matin)$").is_match(&words) {
        Some("morning_checkin")
    } else if rx!(r"^(?:leave-?by\s+(?:offers?|texts?)|calendar\s+(?:offers?|leave-?by\s+offers?)|propositions?\s+(?:d'heure\s+)?de\s+depart|heures?\s+de\s+depart)$").is_match(&words) {
        Some("leave_by_offer")
    } else if rx!(r"^(?:focus\s+check-?ins?|check-?ins?|points?\s+de\s+(?:fin\s+de\s+)?concentration|points?\s+focus)$").is_match(&words) {
        Some("focus_checkin")
    } else {
        None
    }
}

pub(in crate::agent::llm::offline) fn settings(inp: &Input, _ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    // "text me every morning at 8", "écris-moi chaque matin à 8h".
    if let Some(c) = rx!(r"^(?:text|message|check\s+in\s+with)\s+me\s+every\s+morning\s+at\s+(\d{1,2})(?::(\d{2}))?\s*(am)?$")
        .captures(n)
        .or_else(|| rx!(r"^(?:ecris-moi|envoie-moi\s+un\s+message)\s+(?:chaque|tous\s+les)\s+matins?\s+a\s+(\d{1,2})\s*h\s*(\d{2})?()$").captures(n))
    {
        let h: u32 = c[1].parse().ok().filter(|h| *h < 13)?;
        let m: u32 = c.get(2).map_or(Some(0), |m| m.as_str().parse().ok())?;
        let at = format!("{:02}:{m:02}", if h == 12 { 0 } else { h });
        return Some(Plan::call("set_morning_checkin", json!({ "at": at })));
    }
    if rx!(r"^(?:stop|no\s+more|turn\s+off)\s+(?:the\s+)?morning\s+(?:texts?|messages?|check-?ins?)$|^(?:arrete|plus\s+de)\s+(?:les\s+)?messages?\s+du\s+matin$").is_match(n) {
        return Some(Plan::call("set_morning_checkin", json!({"at": "off"})));
    }
    // "evening check-in at 9pm", "text me every evening at 9", "bilan du soir à 21h".
    if let Some(c) = rx!(r"^(?:(?:an?\s+)?evening\s+(?:check-?in|wrap-?up|text)|(?:text|message|check\s+in\s+with)\s+me\s+every\s+(?:evening|night))\s+at\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")
        .captures(n)
        .or_else(|| rx!(r"^(?:(?:un\s+)?bilan\s+(?:du|chaque)\s+soir|(?:ecris-moi|envoie-moi\s+un\s+message)\s+(?:chaque|tous\s+les)\s+soirs?)\s+a\s+(\d{1,2})\s*h\s*(\d{2})?()$").captures(n))
    {
        let h: u32 = c[1].parse().ok().filter(|h| *h < 24)?;
        let m: u32 = c.get(2).map_or(Some(0), |m| m.as_str().parse().ok())?;
        // An evening: "at 9" is 21:00 unless said "am".
        let h = match c.get(3).map(|x| x.as_str()) {
            Some("am") => h % 12,
            _ if h < 12 => h + 12,
            _ => h,
        };
        return Some(Plan::call("set_evening_checkin", json!({ "at": format!("{h:02}:{m:02}") })));
    }
    if rx!(r"^(?:stop|no\s+more|turn\s+off)\s+(?:the\s+)?evening\s+(?:texts?|messages?|check-?ins?|wrap-?ups?)$|^(?:arrete|plus\s+de)\s+(?:le\s+|les\s+)?(?:bilans?\s+du\s+soir|messages?\s+du\s+soir)$").is_match(n) {
        return Some(Plan::call("set_evening_checkin", json!({"at": "off"})));
    }
    let call = |args: Value| Some(Plan::call("set_follow_through", args));
    // The default: every reminder persists (or not).
    if rx!(r"^(?:always\s+)?(?:keep\s+at\s+(?:it|me)|keep\s+nudging\s+me|nudge\s+me\s+again)\s+(?:for\s+(?:all\s+)?(?:my\s+)?reminders\s+)?until\s+i\s+(?:answer|reply|respond)(?:\s+(?:to|for|on|with)?\s*(?:my|all\s+my|every)\s+reminders?)?$").is_match(n)
        || rx!(r"^(?:make\s+)?(?:all\s+)?(?:my\s+)?reminders\s+(?:should\s+)?(?:persist|keep\s+going|repeat)\s+until\s+i\s+(?:answer|reply)$").is_match(n)
        || rx!(r"^(?:insiste|relance-moi)\s+(?:toujours|pour\s+tous\s+mes\s+rappels|sur\s+tous\s+mes\s+rappels)(?:\s+jusqu'a\s+(?:ce\s+que\s+je\s+reponde|ma\s+reponse))?$").is_match(n)
    {
        return call(json!({"persist_reminders": true}));
    }
    if rx!(r"^(?:send\s+)?(?:my\s+)?reminders\s+(?:only\s+)?once(?:\s+only)?$|^(?:don't|do\s+not|dont)\s+(?:keep\s+at\s+it|nag\s+me|persist)$").is_match(n)
        || rx!(r"^(?:n'insiste\s+plus|rappels?\s+une\s+seule\s+fois|une\s+seule\s+fois\s+pour\s+mes\s+rappels)$").is_match(n)
    {
        return call(json!({"persist_reminders": false}));
    }
    if let Some(c) = rx!(
        r"^(?:nudge|ping|remind)\s+me\s+(?:again\s+)?every\s+(\d{1,3})\s*(?:min|mins|minutes|m)$"
    )
    .captures(n)
    .or_else(|| rx!(r"^relance-moi\s+toutes\s+les\s+(\d{1,3})\s*(?:min|minutes|mn)$").captures(n))
    {
        let minutes: i64 = c[1].parse().ok()?;
        return call(json!({"nudge_every_minutes": minutes}));
    }
    // "stop the nudges", "no more check-ins", "arrête les relances".
    let off = rx!(
        r"^(?:stop|no\s+more|turn\s+off|disable|pause|cancel|quit)\s+(?:sending\s+(?:me\s+)?)?(.+)$"
    )
    .captures(n)
    .or_else(|| {
        rx!(r"^(?:arrete|stoppe|desactive|coupe|plus\s+de|fini\s+les)\s+(.+)$").captures(n)
    });
    if let Some(c) = off
        && let Some(kind) = kind_of(&c[1])
    {
        return call(json!({"turn_off": [kind]}));
    }
    let on = rx!(r"^(?:turn\s+on|enable|resume|restart|start)\s+(?:the\s+|my\s+)?(.+?)(?:\s+again)?$|^(.+?)\s+(?:back\s+)?on(?:\s+again)?$")
        .captures(n)
        .or_else(|| rx!(r"^(?:remets|reactive|active|relance)\s+(.+)$").captures(n));
    if let Some(c) = on
        && let Some(words) = c.get(1).or_else(|| c.get(2))
        && let Some(kind) = kind_of(words.as_str())
    {
        return call(json!({"turn_on": [kind]}));
    }
    None
}

/// The calls the planner makes for `text` at 10:00 local on 2026-03-04.
#[cfg(test)]
pub(in crate::agent::llm::offline) fn calls_for(text: &str) -> Vec<(String, Value)> {
    let now = chrono::NaiveDate::from_ymd_opt(2026, 3, 4)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .unwrap();
    match crate::agent::llm::offline::plan_text(text, now, crate::store::Locale::En) {
        Some(Plan::Calls(c) | Plan::Noted(c, _)) => c,
        other => panic!("{text}: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> (String, Value) {
        let mut calls = calls_for(text);
        assert_eq!(calls.len(), 1, "{text}: {calls:?}");
        calls.remove(0)
    }

    #[test]
    fn a_reminder_can_persist_in_english_and_french() {
        for text in [
            "remind me to take my meds at 8pm and keep at it until I answer",
            "remind me to take my meds at 8pm, keep nudging me until I'm done",
            "rappelle-moi de prendre mes médicaments à 20h, insiste",
            "rappelle-moi de prendre mes médicaments à 20h et relance-moi jusqu'à ce que je réponde",
        ] {
            let (name, args) = one(text);
            assert_eq!(name, "create_reminder", "{text}");
            assert_eq!(args["persist"], json!(true), "{text}");
            assert_eq!(args["due_local"], json!("2026-03-04T20:00"), "{text}");
            let body = args["text"].as_str().unwrap();
            assert!(
                body.contains("meds") || body.contains("médicaments"),
                "{text}: {body}"
            );
            assert!(
                !body.contains("keep") && !body.contains("insiste"),
                "{text}: {body}"
            );
        }
        // Without the tail, nothing persists.
        let (_, args) = one("remind me to take my meds at 8pm");
        assert_eq!(args.get("persist"), None);
    }

    #[test]
    fn settings_by_text_in_english_and_french() {
        let mut wrong = Vec::new();
        for (text, want) in [
            (
                "keep at it until I answer for all my reminders",
                json!({"persist_reminders": true}),
            ),
            (
                "always keep at it until I answer",
                json!({"persist_reminders": true}),
            ),
            ("insiste toujours", json!({"persist_reminders": true})),
            (
                "send my reminders only once",
                json!({"persist_reminders": false}),
            ),
            ("n'insiste plus", json!({"persist_reminders": false})),
            (
                "nudge me every 5 minutes",
                json!({"nudge_every_minutes": 5}),
            ),
            (
                "relance-moi toutes les 15 minutes",
                json!({"nudge_every_minutes": 15}),
            ),
            ("stop the nudges", json!({"turn_off": ["nudges"]})),
            ("no more nudging me", json!({"turn_off": ["nudges"]})),
            ("arrête les relances", json!({"turn_off": ["nudges"]})),
            (
                "stop the brb offers",
                json!({"turn_off": ["bookmark_offer"]}),
            ),
            ("stop the check-ins", json!({"turn_off": ["focus_checkin"]})),
            (
                "plus de points de concentration",
                json!({"turn_off": ["focus_checkin"]}),
            ),
            ("turn on the nudges again", json!({"turn_on": ["nudges"]})),
            ("remets les relances", json!({"turn_on": ["nudges"]})),
        ] {
            let got = std::panic::catch_unwind(|| one(text)).ok();
            if got != Some(("set_follow_through".to_string(), want.clone())) {
                wrong.push(format!("{text}: {got:?}"));
            }
        }
        for (text, want) in [
            ("text me every morning at 8", json!({"at": "08:00"})),
            ("text me every morning at 7:30am", json!({"at": "07:30"})),
            ("écris-moi chaque matin à 8h", json!({"at": "08:00"})),
            ("stop the morning texts", json!({"at": "off"})),
            ("arrête les messages du matin", json!({"at": "off"})),
        ] {
            let got = std::panic::catch_unwind(|| one(text)).ok();
            if got != Some(("set_morning_checkin".to_string(), want.clone())) {
                wrong.push(format!("{text}: {got:?}"));
            }
        }
        for (text, want) in [
            ("evening check-in at 9pm", json!({"at": "21:00"})),
            ("evening wrap-up at 8:30", json!({"at": "20:30"})),
            ("text me every evening at 9", json!({"at": "21:00"})),
            ("bilan du soir à 21h", json!({"at": "21:00"})),
            ("écris-moi chaque soir à 20h30", json!({"at": "20:30"})),
            ("stop the evening texts", json!({"at": "off"})),
            ("arrête le bilan du soir", json!({"at": "off"})),
        ] {
            let got = std::panic::catch_unwind(|| one(text)).ok();
            if got != Some(("set_evening_checkin".to_string(), want.clone())) {
                wrong.push(format!("{text}: {got:?}"));
            }
        }
        for (text, want) in [
            (
                "stop the leave-by offers",
                json!({"turn_off": ["leave_by_offer"]}),
            ),
            (
                "arrête les propositions de départ",
                json!({"turn_off": ["leave_by_offer"]}),
            ),
        ] {
            let got = std::panic::catch_unwind(|| one(text)).ok();
            if got != Some(("set_follow_through".to_string(), want.clone())) {
                wrong.push(format!("{text}: {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}
