//! The offline rules planner: the last link of the model chain, used when
//! no remote model answers. It reads English and French with plain rules
//! and emits the same function calls a model would (see the tool
//! catalogue), so the same tools run and confirm in the same words.
//!
//! A turn is two calls: the person's text is turned into calls (or a short
//! text when nothing needs a tool); then the tools' results come back as
//! function responses and are turned into the reply, built from each
//! tool's `confirmation`.
//!
//! Rules are tried in a fixed order (see [`plan_text`]): narrow, whole-message
//! commands first (help, snooze), then phrasings anchored on a verb, and
//! last a reminder recognised only by a time expression ("tomorrow at 9
//! dentist"). Anything else gets an honest "offline, here is what I can do".

/// A lazily compiled pattern, one per call site. Patterns are constants, so
/// a bad one fails every test that reaches it rather than some input.
macro_rules! rx {
    ($re:expr) => {{
        static RE: std::sync::LazyLock<regex::Regex> =
            std::sync::LazyLock::new(|| regex::Regex::new($re).expect("offline planner pattern"));
        &*RE
    }};
}

// Shared pattern fragments, as macros so that `concat!` can splice them.
macro_rules! num_pat {
    () => {
        r"\d+(?:[.,]\d+)?|an|a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty-five|forty five|forty|fifty|sixty|ninety|une|un|deux|trois|quatre|cinq|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|quarante-cinq|quarante cinq|quarante|cinquante|soixante|quatre-vingt-dix"
    };
}
macro_rules! unit_pat {
    () => {
        r"minutes|minute|mins|min|mn|m|hours|hour|hrs|hr|heures|heure|h|days|day|jours|jour|weeks|week|semaines|semaine"
    };
}
macro_rules! days_en {
    () => {
        r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    };
}
macro_rules! days_en_any {
    () => {
        r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun"
    };
}
macro_rules! days_fr {
    () => {
        r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
    };
}
macro_rules! months_en {
    () => {
        r"january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
    };
}
macro_rules! months_fr {
    () => {
        r"janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre"
    };
}

mod intents;
mod lookup;
mod reminders;
mod resolve;
mod text;
mod time;

#[cfg(test)]
mod tests;

use chrono::NaiveDateTime;
use serde_json::Value;

use super::{
    FunctionCall, FunctionResponse, LlmClient, LlmError, LlmRequest, LlmResponse, Message, Part,
    Role, Usage,
};
use crate::store::Locale;
use text::Input;

pub const PROVIDER: &str = "offline";
pub const MODEL: &str = "rules";

/// The offline planner. Stateless: everything it needs is in the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflinePlanner;

impl OfflinePlanner {
    pub fn new() -> Self {
        OfflinePlanner
    }
}

#[async_trait::async_trait]
impl LlmClient for OfflinePlanner {
    fn provider(&self) -> &str {
        PROVIDER
    }

    async fn generate(&self, request: &LlmRequest) -> Result<LlmResponse, LlmError> {
        Ok(LlmResponse {
            message: respond(request),
            usage: Usage::default(),
            provider: PROVIDER.to_string(),
            model: MODEL.to_string(),
        })
    }
}

/// What a rule decided: tools to call, a text to send as is, or reads
/// whose results decide what to do (see [`lookup`]).
#[derive(Debug)]
enum Plan {
    Calls(Vec<(String, Value)>),
    /// Calls, and what to add to their confirmation: an assumption the
    /// person should know about ("I assumed 7:00 PM").
    Noted(Vec<(String, Value)>, String),
    Reply(String),
    Lookup(lookup::Lookup),
}

impl Plan {
    fn call(name: &str, args: Value) -> Plan {
        Plan::Calls(vec![(name.to_string(), args)])
    }
}

/// What rules know about the moment: the person's local wall-clock time,
/// and the language to answer in when nothing more specific is known.
struct Ctx {
    now: NaiveDateTime,
    lang: Locale,
    /// The message ended with "?" (trimmed away before rules see it).
    question: bool,
}

type Rule = fn(&Input, &Ctx) -> Option<Plan>;

fn respond(request: &LlmRequest) -> Message {
    let locale = request.context.locale;
    let last = match request.messages.last() {
        Some(m) if m.role == Role::User => m,
        _ => return Message::model_text(unknown_text(locale)),
    };
    let now = request
        .context
        .now
        .with_timezone(&request.context.timezone)
        .naive_local();
    let responses = last.function_responses();
    if responses.is_empty() {
        // With a calendar connected, "what's on tomorrow" reads it; a
        // question about mail reads it (or asks for access to it); an
        // explicit search goes to the web or YouTube.
        let plan = intents::calendar_plan(request, &last.text(), now, locale)
            .or_else(|| intents::mail_plan(request, &last.text(), locale))
            .or_else(|| intents::search_plan(request, &last.text()));
        let plan = plan.unwrap_or_else(|| plan_turn(&request.messages, now, locale));
        return to_message(plan, locale);
    }
    let lang = conversation_lang(&request.messages, locale);
    // The person's message this turn answers, and whether the results are
    // those of the reads its plan asked for (the first round of calls).
    let asked = request
        .messages
        .iter()
        .rposition(|m| m.role == Role::User && m.function_responses().is_empty());
    if let Some(i) = asked {
        let rounds = request.messages[i + 1..]
            .iter()
            .filter(|m| m.role == Role::Model)
            .count();
        let plan = (rounds == 1).then(|| plan_turn(&request.messages[..=i], now, locale));
        if let Some(Plan::Noted(_, note)) = &plan
            && !responses.iter().any(|r| r.response.get("error").is_some())
        {
            return Message::model_text(format!("{} {note}", compose_reply(&responses, lang)));
        }
        if let Some(Plan::Lookup(lookup)) = plan {
            let results: Vec<(String, Value)> = responses
                .iter()
                .map(|r| (r.name.clone(), r.response.clone()))
                .collect();
            // Exactly the reads asked for: anything else came from another
            // model (a fallback mid-turn) and is only reported.
            let reads: Vec<String> = lookup.reads().into_iter().map(|(n, _)| n).collect();
            let got: Vec<&String> = results.iter().map(|(n, _)| n).collect();
            if reads.iter().collect::<Vec<_>>() == got {
                return to_message(lookup::next(&lookup, &results, lang, now), lang);
            }
        }
    }
    Message::model_text(compose_reply(&responses, lang))
}

fn to_message(plan: Plan, locale: Locale) -> Message {
    let calls = match plan {
        Plan::Reply(text) => return Message::model_text(text),
        Plan::Calls(calls) | Plan::Noted(calls, _) => calls,
        Plan::Lookup(lookup) => lookup.reads(),
    };
    if calls.is_empty() {
        return Message::model_text(unknown_text(locale));
    }
    Message {
        role: Role::Model,
        parts: calls
            .into_iter()
            .enumerate()
            .map(|(i, (name, args))| {
                Part::FunctionCall(FunctionCall {
                    id: Some(format!("offline-{}", i + 1)),
                    name,
                    args,
                    thought_signature: None,
                })
            })
            .collect(),
    }
}

/// The plan for the conversation's last message, read in the light of the
/// question just asked: a time answering "what time?", a number or a few
/// words answering "which one?", a second message not understood either.
fn plan_turn(messages: &[Message], now: NaiveDateTime, locale: Locale) -> Plan {
    let Some((last, before)) = messages.split_last() else {
        return Plan::Reply(unknown_text(locale));
    };
    let text = last.text();
    let asked = before
        .last()
        .filter(|m| m.role == Role::Model)
        .map(Message::text)
        .unwrap_or_default();
    let earlier = before
        .len()
        .checked_sub(2)
        .and_then(|i| before.get(i))
        .filter(|m| m.role == Role::User)
        .map(Message::text);
    if let Some(earlier) = &earlier
        && let Some(plan) = follow_up(&text, &asked, earlier, now, locale)
    {
        return plan;
    }
    match plan_text(&text, now, locale) {
        Some(plan) => plan,
        None => {
            let lang = text::detect_lang(&text::polite_trimmed(&Input::new(&text)), locale);
            if asked.starts_with(UNKNOWN_EN) || asked.starts_with(UNKNOWN_FR) {
                // Twice in a row: the menu of what works.
                Plan::Reply(help_text(lang))
            } else {
                Plan::Reply(unknown_text(lang))
            }
        }
    }
}

/// An answer to the planner's own question, merged with what it asked about.
fn follow_up(
    text: &str,
    asked: &str,
    earlier: &str,
    now: NaiveDateTime,
    locale: Locale,
) -> Option<Plan> {
    if asked.starts_with(lookup::WHICH_EN) || asked.starts_with(lookup::WHICH_FR) {
        let Some(Plan::Lookup(mut lookup)) = plan_text(earlier, now, locale) else {
            return None;
        };
        if let Some(n) = resolve::ordinal(text) {
            lookup.pick = Some(n);
            return Some(Plan::Lookup(lookup));
        }
        let words = resolve::key_words(text);
        if plan_text(text, now, locale).is_none() && !words.is_empty() && words.len() <= 5 {
            lookup.words.extend(words);
            return Some(Plan::Lookup(lookup));
        }
        return None;
    }
    let asked_time = [
        reminders::ASK_TIME_EN,
        reminders::ASK_WHEN_EN,
        reminders::ASK_TIME_FR,
        reminders::ASK_WHEN_FR,
    ]
    .iter()
    .any(|p| asked.starts_with(p));
    if asked_time && reminders::is_time_only(&Input::new(text), now) {
        let merged = format!("{earlier} {text}");
        if let Some(plan @ (Plan::Calls(_) | Plan::Noted(..))) = plan_text(&merged, now, locale) {
            return Some(plan);
        }
    }
    None
}

/// Turns one message into calls or a text; `None` when no rule applies.
/// `now` is local wall-clock time.
fn plan_text(raw: &str, now: NaiveDateTime, locale: Locale) -> Option<Plan> {
    if raw.trim() == "?" {
        return Some(Plan::Reply(help_text(locale)));
    }
    let inp = text::polite_trimmed(&Input::new(raw));
    let lang = text::detect_lang(&inp, locale);
    let ctx = Ctx {
        now,
        lang,
        question: raw.trim_end().ends_with('?'),
    };
    if inp.is_empty() {
        // Only emoji, a greeting, or only "thanks": small talk.
        return intents::small_talk(&Input::new(raw), &ctx)
            .or_else(|| Some(Plan::Reply(intents::ack(raw, lang))));
    }
    // "… and keep at it until I answer": the same plan, persisting.
    if let Some(rest) = intents::persisting(raw)
        && let Some(plan) = plan_text(&rest, now, locale).and_then(intents::persist_reminders)
    {
        return Some(plan);
    }
    // Order matters: a whole-message command must win over a looser rule
    // ("in 30 min" alone snoozes; with a task it is a reminder), and the
    // time-only reminder rule comes last because a time appears in many
    // other requests ("quiet hours 22:00 to 07:00").
    const RULES: &[Rule] = &[
        help,
        intents::small_talk,
        // Before the reminder rules: "cancel deletion" is not a reminder.
        intents::privacy,
        intents::integrations,
        intents::follow_through,
        intents::bookmarks,
        intents::focus,
        intents::leave_by,
        reminders::snooze,
        reminders::cancel_all,
        reminders::cancel_one,
        reminders::list,
        intents::agenda,
        reminders::explicit,
        intents::tasks,
        intents::goals,
        intents::lists,
        intents::expenses,
        intents::note,
        intents::ask_notes,
        intents::sync_notion,
        intents::remember,
        intents::timezone,
        intents::display_name,
        intents::quiet_hours,
        intents::statement,
        intents::recall,
        reminders::implicit,
        intents::need_to,
        intents::done_statement,
    ];
    RULES.iter().find_map(|rule| rule(&inp, &ctx))
}

/// "eggs", "eggs and milk", "du lait et des œufs".
fn said_list(items: &[String], lang: Locale) -> String {
    let and = match lang {
        Locale::En => " and ",
        Locale::Fr => " et ",
    };
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{}{and}{last}", init.join(", ")),
    }
}

fn help(inp: &Input, ctx: &Ctx) -> Option<Plan> {
    let n = inp.norm();
    let lang = if rx!(r"^(?:help|commands|what can you do|how does (?:this|it) work)$").is_match(n)
    {
        Locale::En
    } else if rx!(r"^(?:aide|commandes|a l'aide|que (?:peux|sais)-tu faire|comment ca marche)$")
        .is_match(n)
    {
        Locale::Fr
    } else if rx!(r"^(?:menu|info|infos)$").is_match(n) {
        ctx.lang
    } else {
        return None;
    };
    Some(Plan::Reply(help_text(lang)))
}

fn help_text(lang: Locale) -> String {
    match lang {
        Locale::En => "Offline mode, simple commands only. Reminders: \"remind me to call mom at 6pm\", \"in 20 minutes check the oven\", \"every weekday at 8am take meds\", \"my reminders\", \"snooze 10\". Lists: \"add milk to my list\". Tasks: \"add task buy stamps\". Expenses: \"spent 12.50 on lunch\". Memory: \"remember my locker is 42\".",
        Locale::Fr => "Hors ligne, commandes simples. Rappels : « rappelle-moi d'appeler maman à 18h », « dans 20 minutes vérifier le four », « mes rappels ». Listes : « ajoute du lait à ma liste ». Tâches : « ajoute la tâche payer le loyer ». Dépenses : « dépensé 12,50 € pour le déjeuner ». Mémoire : « retiens que mon casier est le 42 ».",
    }
    .to_string()
}

/// The first words of [`unknown_text`]: a second miss in a row gets the menu.
const UNKNOWN_EN: &str = "Sorry, I didn't get that.";
const UNKNOWN_FR: &str = "Désolé, je n'ai pas compris.";

fn unknown_text(lang: Locale) -> String {
    match lang {
        Locale::En => format!(
            "{UNKNOWN_EN} Try \"remind me to call mom at 6pm\" or \"add milk to my list\", or text HELP."
        ),
        Locale::Fr => format!(
            "{UNKNOWN_FR} Essaie « rappelle-moi d'appeler maman à 18h » ou « ajoute du lait à ma liste », ou écris AIDE."
        ),
    }
}

/// The language of the person's last words, for replies that follow tool
/// results (the tools' own confirmations are already in their language).
fn conversation_lang(messages: &[Message], locale: Locale) -> Locale {
    messages
        .iter()
        .rev()
        .filter(|m| m.role == Role::User)
        .map(Message::text)
        .find(|t| !t.trim().is_empty())
        .map_or(locale, |t| {
            text::detect_lang(&text::polite_trimmed(&Input::new(&t)), locale)
        })
}

/// The reply to the tools' results: their confirmations, in order.
fn compose_reply(responses: &[&FunctionResponse], lang: Locale) -> String {
    let parts: Vec<String> = responses
        .iter()
        .map(|r| describe(r, lang))
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        return done_text(lang);
    }
    parts.join(" ")
}

fn done_text(lang: Locale) -> String {
    match lang {
        Locale::En => "Done.",
        Locale::Fr => "C'est fait.",
    }
    .to_string()
}

fn describe(r: &FunctionResponse, lang: Locale) -> String {
    // Data read from others reaches the person, never a rule's decision.
    let response = &crate::agent::tools::untrusted::unwrapped(&r.response);
    if let Some(err) = response.get("error").filter(|e| !e.is_null()) {
        let reason = match err {
            Value::String(s) => s.trim().trim_end_matches('.').to_string(),
            other => other.to_string(),
        };
        let reason = text::truncate(&reason, 200);
        return match lang {
            Locale::En => format!("Sorry, that didn't work: {reason}."),
            Locale::Fr => format!("Désolé, ça n'a pas marché : {reason}."),
        };
    }
    if let Some(c) = response.get("confirmation").and_then(Value::as_str)
        && !c.trim().is_empty()
    {
        return c.trim().to_string();
    }
    summarize(response, lang)
}

/// A short reply from a result's data, for tools that sent no confirmation.
fn summarize(response: &Value, lang: Locale) -> String {
    const KEYS: &[(&str, &str, &str)] = &[
        ("reminders", "Reminders", "Rappels"),
        ("items", "List", "Liste"),
        ("tasks", "Tasks", "Tâches"),
        ("goals", "Goals", "Objectifs"),
        ("facts", "Memories", "Souvenirs"),
        ("memories", "Memories", "Souvenirs"),
    ];
    let Some((arr, en, fr)) = KEYS.iter().find_map(|(k, en, fr)| {
        response
            .get(*k)
            .and_then(Value::as_array)
            .map(|a| (a, *en, *fr))
    }) else {
        return done_text(lang);
    };
    let label = match lang {
        Locale::En => en,
        Locale::Fr => fr,
    };
    let entries: Vec<String> = arr.iter().filter_map(entry_text).collect();
    if entries.is_empty() {
        return match lang {
            Locale::En => format!("{label}: nothing yet."),
            Locale::Fr => format!("{label} : rien pour l'instant."),
        };
    }
    let sep = if lang == Locale::Fr { " : " } else { ": " };
    text::truncate(&format!("{label}{sep}{}.", entries.join("; ")), 320)
}

fn entry_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => ["text", "title", "name", "fact", "item", "content"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str))
            .map(str::to_string),
        _ => None,
    }
}
