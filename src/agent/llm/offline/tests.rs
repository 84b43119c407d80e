//! Table-driven tests of the offline planner: each phrasing with the exact
//! call it must produce, at a fixed moment, plus DST transitions, replies
//! built from tool results, and odd inputs.
//!
//! Default moment: Wednesday 2026-03-04 at 14:30 local, in Montreal (EST)
//! for English and in Paris (CET) for French.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use super::OfflinePlanner;
use crate::agent::llm::{
    FunctionResponse, LlmClient, LlmRequest, Message, Part, Role, TurnContext,
};
use crate::store::Locale;

const MTL: Tz = chrono_tz::America::Montreal;
const PAR: Tz = chrono_tz::Europe::Paris;
/// Wednesday 14:30 EST.
const NOW_MTL: &str = "2026-03-04T19:30:00Z";
/// Wednesday 14:30 CET.
const NOW_PAR: &str = "2026-03-04T13:30:00Z";

fn request(messages: Vec<Message>, now_utc: &str, tz: Tz, locale: Locale) -> LlmRequest {
    let now: DateTime<Utc> = now_utc.parse().expect("test instant");
    LlmRequest {
        system: String::new(),
        messages,
        tools: Vec::new(),
        context: TurnContext {
            now,
            timezone: tz,
            locale,
        },
    }
}

fn run(request: &LlmRequest) -> Message {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let response = rt
        .block_on(OfflinePlanner::new().generate(request))
        .expect("the offline planner never fails");
    assert_eq!(response.provider, "offline");
    assert_eq!(response.model, "rules");
    assert_eq!(response.message.role, Role::Model);
    response.message
}

fn locale_of(tz: Tz) -> Locale {
    if tz == PAR { Locale::Fr } else { Locale::En }
}

/// The calls planned for `text`, as (name, args).
fn plan(text: &str, now_utc: &str, tz: Tz) -> Vec<(String, Value)> {
    let msg = run(&request(
        vec![Message::user_text(text)],
        now_utc,
        tz,
        locale_of(tz),
    ));
    msg.function_calls()
        .into_iter()
        .map(|c| (c.name.clone(), c.args.clone()))
        .collect()
}

/// The text reply to `text` (empty when it planned calls).
fn reply(text: &str, tz: Tz, locale: Locale) -> String {
    run(&request(
        vec![Message::user_text(text)],
        NOW_MTL,
        tz,
        locale,
    ))
    .text()
}

struct Case {
    text: &'static str,
    now: &'static str,
    tz: Tz,
    name: &'static str,
    args: Value,
}

/// English, at the default moment in Montreal.
fn en(text: &'static str, name: &'static str, args: Value) -> Case {
    Case {
        text,
        now: NOW_MTL,
        tz: MTL,
        name,
        args,
    }
}

/// French, at the default moment in Paris.
fn fr(text: &'static str, name: &'static str, args: Value) -> Case {
    Case {
        text,
        now: NOW_PAR,
        tz: PAR,
        name,
        args,
    }
}

/// At another moment.
fn at(now: &'static str, tz: Tz, text: &'static str, name: &'static str, args: Value) -> Case {
    Case {
        text,
        now,
        tz,
        name,
        args,
    }
}

fn due(text: &str, due_local: &str) -> Value {
    json!({ "text": text, "due_local": due_local })
}

fn due_rec(text: &str, due_local: &str, recurrence: Value) -> Value {
    json!({ "text": text, "due_local": due_local, "recurrence": recurrence })
}

fn rel(text: &str, minutes: i64) -> Value {
    json!({ "text": text, "in_minutes": minutes })
}

#[rustfmt::skip]
fn reminder_cases() -> Vec<Case> {
    const R: &str = "create_reminder";
    vec![
        // English, absolute and relative
        en("remind me to call mom at 6pm", R, due("call mom", "2026-03-04T18:00")),
        en("Remind me at 6:30 pm to call mom", R, due("call mom", "2026-03-04T18:30")),
        en("tomorrow at 9 dentist", R, due("dentist", "2026-03-05T09:00")),
        en("tomorrow at 9am dentist", R, due("dentist", "2026-03-05T09:00")),
        en("in 20 minutes check the oven", R, rel("check the oven", 20)),
        en("in 2 hours call back", R, rel("call back", 120)),
        en("in an hour stretch", R, rel("stretch", 60)),
        en("in half an hour take the pills", R, rel("take the pills", 30)),
        en("remind me in 90 minutes to move the car", R, rel("move the car", 90)),
        en("in an hour and a half leave for the airport", R, rel("leave for the airport", 90)),
        en("remind me on friday at 3pm to call the bank", R, due("call the bank", "2026-03-06T15:00")),
        en("remind me next tuesday at noon to renew my passport", R, due("renew my passport", "2026-03-10T12:00")),
        en("remind me next wednesday at 9am to pay the nanny", R, due("pay the nanny", "2026-03-11T09:00")),
        en("at 16:45 standup", R, due("standup", "2026-03-04T16:45")),
        en("at 14:00 standup", R, due("standup", "2026-03-05T14:00")),
        en("at noon lunch with Ana", R, due("lunch with Ana", "2026-03-05T12:00")),
        en("at midnight turn off the heater", R, due("turn off the heater", "2026-03-05T00:00")),
        en("tonight at 8 call grandma", R, due("call grandma", "2026-03-04T20:00")),
        en("this evening at 7 pick up the kids", R, due("pick up the kids", "2026-03-04T19:00")),
        // bare hour, no date: 6–11 take the next of am/pm; 1–5 are pm
        en("remind me to take out the trash at 7", R, due("take out the trash", "2026-03-04T19:00")),
        en("remind me to water the plants at 2", R, due("water the plants", "2026-03-05T14:00")),
        en("remind me to call Joe at 4", R, due("call Joe", "2026-03-04T16:00")),
        en("remind me on March 10 at 10am to call the school", R, due("call the school", "2026-03-10T10:00")),
        en("remind me on March 3 at 10am to renew the lease", R, due("renew the lease", "2027-03-03T10:00")),
        en("remind me tomorrow morning to send the invoice", R, due("send the invoice", "2026-03-05T09:00")),
        en("Reminder: dentist tomorrow at 10:15", R, due("dentist", "2026-03-05T10:15")),
        en("remind me at 8:30 to leave", R, due("leave", "2026-03-04T20:30")),
        en("at 08:30 gym", R, due("gym", "2026-03-05T08:30")),
        en("gym at 7am tomorrow", R, due("gym", "2026-03-05T07:00")),
        en("Remember to call mom at 5pm", R, due("call mom", "2026-03-04T17:00")),
        en("hey, can you remind me to call mom at 6pm please?", R, due("call mom", "2026-03-04T18:00")),
        en("remind me to look at the oven in 20 minutes", R, rel("look at the oven", 20)),
        // English recurrences
        en("every weekday at 8am take meds", R, due_rec("take meds", "2026-03-05T08:00", json!({"frequency": "weekdays"}))),
        en("every day at 8:00 take meds", R, due_rec("take meds", "2026-03-05T08:00", json!({"frequency": "daily"}))),
        en("every day at 5pm walk the dog", R, due_rec("walk the dog", "2026-03-04T17:00", json!({"frequency": "daily"}))),
        en("every monday at 10am team call", R, due_rec("team call", "2026-03-09T10:00", json!({"frequency": "weekly", "days": ["mon"]}))),
        en("every monday and thursday at 7pm gym", R, due_rec("gym", "2026-03-05T19:00", json!({"frequency": "weekly", "days": ["mon", "thu"]}))),
        en("on the 1st of every month at 9 pay rent", R, due_rec("pay rent", "2026-04-01T09:00", json!({"frequency": "monthly", "day_of_month": 1}))),
        en("every month on the 15th at 9am pay rent", R, due_rec("pay rent", "2026-03-15T09:00", json!({"frequency": "monthly", "day_of_month": 15}))),
        en("remind me every wednesday at 3pm to water the plants", R, due_rec("water the plants", "2026-03-04T15:00", json!({"frequency": "weekly", "days": ["wed"]}))),
        // French
        fr("rappelle-moi demain à 9h d'appeler le dentiste", R, due("appeler le dentiste", "2026-03-05T09:00")),
        fr("rappelle-moi de sortir les poubelles à 19h", R, due("sortir les poubelles", "2026-03-04T19:00")),
        fr("dans 20 minutes vérifier le four", R, rel("vérifier le four", 20)),
        fr("rappelle-moi dans 2 heures de rappeler Marc", R, rel("rappeler Marc", 120)),
        fr("rappelle-moi dans une heure de rappeler Paul", R, rel("rappeler Paul", 60)),
        fr("dans 1h30 sortir le gâteau", R, rel("sortir le gâteau", 90)),
        fr("le vendredi à 15h appeler la banque", R, due("appeler la banque", "2026-03-06T15:00")),
        fr("rappelle-moi vendredi prochain à 10h de voir Léa", R, due("voir Léa", "2026-03-06T10:00")),
        fr("ce soir à 20h appeler Julie", R, due("appeler Julie", "2026-03-04T20:00")),
        fr("ce soir à 8h sortir le chien", R, due("sortir le chien", "2026-03-04T20:00")),
        fr("à midi manger", R, due("manger", "2026-03-05T12:00")),
        fr("rappelle-moi à 9h30 de payer le loyer", R, due("payer le loyer", "2026-03-05T09:30")),
        fr("18h45 sortir le chien", R, due("sortir le chien", "2026-03-04T18:45")),
        fr("18h acheter du pain", R, due("acheter du pain", "2026-03-04T18:00")),
        fr("rappelle-moi à 18:45 de partir", R, due("partir", "2026-03-04T18:45")),
        fr("demain matin à 9h aller à la poste", R, due("aller à la poste", "2026-03-05T09:00")),
        fr("rappelle-moi le 12 mars à 10h d'appeler l'école", R, due("appeler l'école", "2026-03-12T10:00")),
        fr("Rappelle-moi à 8 heures et demie de partir", R, due("partir", "2026-03-05T08:30")),
        fr("rappel : dentiste demain à 10h", R, due("dentiste", "2026-03-05T10:00")),
        fr("fais-moi penser à acheter du pain à 18h", R, due("acheter du pain", "2026-03-04T18:00")),
        fr("dans une demi-heure sortir le linge", R, rel("sortir le linge", 30)),
        fr("rappelle-moi cet après-midi à 3h de faire la sieste", R, due("faire la sieste", "2026-03-04T15:00")),
        // French recurrences
        fr("tous les jours à 8h prendre mes médicaments", R, due_rec("prendre mes médicaments", "2026-03-05T08:00", json!({"frequency": "daily"}))),
        fr("chaque jour à 8h30 promener le chien", R, due_rec("promener le chien", "2026-03-05T08:30", json!({"frequency": "daily"}))),
        fr("en semaine à 7h faire du sport", R, due_rec("faire du sport", "2026-03-05T07:00", json!({"frequency": "weekdays"}))),
        fr("tous les jours de semaine à 7h méditer", R, due_rec("méditer", "2026-03-05T07:00", json!({"frequency": "weekdays"}))),
        fr("tous les lundis à 10h réunion d'équipe", R, due_rec("réunion d'équipe", "2026-03-09T10:00", json!({"frequency": "weekly", "days": ["mon"]}))),
        fr("tous les lundis et jeudis à 19h gym", R, due_rec("gym", "2026-03-05T19:00", json!({"frequency": "weekly", "days": ["mon", "thu"]}))),
        fr("le 1er de chaque mois à 9h payer le loyer", R, due_rec("payer le loyer", "2026-04-01T09:00", json!({"frequency": "monthly", "day_of_month": 1}))),
        fr("chaque mois le 15 à 9h payer la carte", R, due_rec("payer la carte", "2026-03-15T09:00", json!({"frequency": "monthly", "day_of_month": 15}))),
        fr("tous les soirs à 22h lire", R, due_rec("lire", "2026-03-04T22:00", json!({"frequency": "daily"}))),
        en("mondays and thursdays at 7pm gym", R, due_rec("gym", "2026-03-05T19:00", json!({"frequency": "weekly", "days": ["mon", "thu"]}))),
        en("remind me every morning at 7 to stretch", R, due_rec("stretch", "2026-03-05T07:00", json!({"frequency": "daily"}))),
        // DST, America/Montreal: spring forward 2026-03-08 02:00 → 03:00
        at("2026-03-08T03:00:00Z", MTL, "tomorrow at 9am dentist", R, due("dentist", "2026-03-08T09:00")),
        at("2026-03-08T03:00:00Z", MTL, "every day at 8am take meds", R, due_rec("take meds", "2026-03-08T08:00", json!({"frequency": "daily"}))),
        at("2026-03-08T06:30:00Z", MTL, "in 90 minutes check the baby", R, rel("check the baby", 90)),
        // 07:30Z is 03:30 EDT (it would be 02:30 with the old offset)
        at("2026-03-08T07:30:00Z", MTL, "at 3am feed the cat", R, due("feed the cat", "2026-03-09T03:00")),
        at("2026-03-08T07:30:00Z", MTL, "at 4am feed the cat", R, due("feed the cat", "2026-03-08T04:00")),
        // DST, America/Montreal: fall back 2026-11-01 02:00 → 01:00
        at("2026-11-01T03:00:00Z", MTL, "tomorrow at 9am dentist", R, due("dentist", "2026-11-01T09:00")),
        at("2026-11-01T03:00:00Z", MTL, "every weekday at 8am take meds", R, due_rec("take meds", "2026-11-02T08:00", json!({"frequency": "weekdays"}))),
        at("2026-11-01T05:30:00Z", MTL, "in 90 minutes check the oven", R, rel("check the oven", 90)),
        // 06:30Z is 01:30 EST, the second 01:30 of the night
        at("2026-11-01T06:30:00Z", MTL, "at 2:30am call Tokyo", R, due("call Tokyo", "2026-11-01T02:30")),
        // DST, Europe/Paris: 2026-03-29 02:00 → 03:00 and 2026-10-25 03:00 → 02:00
        at("2026-03-28T22:00:00Z", PAR, "demain à 9h courir", R, due("courir", "2026-03-29T09:00")),
        at("2026-03-28T22:00:00Z", PAR, "tous les jours à 8h prendre mes médicaments", R, due_rec("prendre mes médicaments", "2026-03-29T08:00", json!({"frequency": "daily"}))),
        at("2026-03-29T00:30:00Z", PAR, "dans 90 minutes vérifier le chauffage", R, rel("vérifier le chauffage", 90)),
        at("2026-10-24T21:30:00Z", PAR, "every day at 8am take meds", R, due_rec("take meds", "2026-10-25T08:00", json!({"frequency": "daily"}))),
        at("2026-10-24T21:30:00Z", PAR, "demain à 9h marché", R, due("marché", "2026-10-25T09:00")),
        at("2026-10-25T00:30:00Z", PAR, "dans 90 minutes dormir", R, rel("dormir", 90)),
    ]
}

#[rustfmt::skip]
fn other_cases() -> Vec<Case> {
    vec![
        // list, cancel, snooze
        en("what are my reminders?", "list_reminders", json!({})),
        en("list my reminders", "list_reminders", json!({})),
        en("show reminders", "list_reminders", json!({})),
        fr("quels sont mes rappels ?", "list_reminders", json!({})),
        fr("mes rappels", "list_reminders", json!({})),
        en("cancel all my reminders", "cancel_all_reminders", json!({})),
        fr("annule tous mes rappels", "cancel_all_reminders", json!({})),
        en("snooze 10", "snooze_reminder", json!({"minutes": 10})),
        en("snooze for 15 minutes", "snooze_reminder", json!({"minutes": 15})),
        en("Snooze", "snooze_reminder", json!({"minutes": 10})),
        en("snooze 1 hour", "snooze_reminder", json!({"minutes": 60})),
        en("later", "snooze_reminder", json!({"minutes": 30})),
        en("in 30 min", "snooze_reminder", json!({"minutes": 30})),
        fr("plus tard", "snooze_reminder", json!({"minutes": 30})),
        fr("reporte de 15 minutes", "snooze_reminder", json!({"minutes": 15})),
        fr("dans 5 minutes", "snooze_reminder", json!({"minutes": 5})),
        // tasks
        en("add task buy stamps", "add_task", json!({"title": "buy stamps"})),
        en("todo: call the plumber", "add_task", json!({"title": "call the plumber"})),
        fr("ajoute la tâche payer le loyer", "add_task", json!({"title": "payer le loyer"})),
        en("my tasks", "list_tasks", json!({})),
        en("what's on my todo list?", "list_tasks", json!({})),
        fr("mes tâches", "list_tasks", json!({})),
        // goals
        en("new goal: run a 5k", "add_goal", json!({"title": "run a 5k"})),
        en("my goals", "list_goals", json!({})),
        fr("nouvel objectif : courir 5 km", "add_goal", json!({"title": "courir 5 km"})),
        en("my goal is to read 12 books", "add_goal", json!({"title": "read 12 books"})),
        fr("mes objectifs", "list_goals", json!({})),
        // lists
        en("add milk and eggs", "add_list_items", json!({"list": "shopping", "items": ["milk", "eggs"]})),
        en("add milk, eggs and bread to my shopping list", "add_list_items", json!({"list": "shopping", "items": ["milk", "eggs", "bread"]})),
        en("add bananas to the grocery list", "add_list_items", json!({"list": "shopping", "items": ["bananas"]})),
        en("put tape on the hardware list", "add_list_items", json!({"list": "hardware", "items": ["tape"]})),
        en("what's on my list?", "show_list", json!({"list": "shopping"})),
        en("show my shopping list", "show_list", json!({"list": "shopping"})),
        en("shopping list", "show_list", json!({"list": "shopping"})),
        en("clear my shopping list", "clear_list", json!({"list": "shopping"})),
        fr("ajoute du pain à la liste", "add_list_items", json!({"list": "shopping", "items": ["pain"]})),
        fr("ajoute du lait et des œufs", "add_list_items", json!({"list": "shopping", "items": ["lait", "œufs"]})),
        fr("ajoute des clous à la liste quincaillerie", "add_list_items", json!({"list": "quincaillerie", "items": ["clous"]})),
        fr("qu'est-ce qu'il y a sur ma liste ?", "show_list", json!({"list": "shopping"})),
        fr("ma liste de courses", "show_list", json!({"list": "shopping"})),
        fr("vide ma liste", "clear_list", json!({"list": "shopping"})),
        // expenses
        en("spent 12.50 on lunch", "log_expense", json!({"amount": 12.5, "category": "lunch"})),
        en("I spent $30 on gas", "log_expense", json!({"amount": 30, "category": "gas"})),
        en("paid 45€ for groceries", "log_expense", json!({"amount": 45, "currency": "EUR", "category": "groceries"})),
        en("paid £8 for the cinema", "log_expense", json!({"amount": 8, "currency": "GBP", "category": "cinema"})),
        en("expense 20 coffee", "log_expense", json!({"amount": 20, "category": "coffee"})),
        en("bought lunch for $12", "log_expense", json!({"amount": 12, "category": "lunch"})),
        en("spent 1,200 on rent", "log_expense", json!({"amount": 1200, "category": "rent"})),
        fr("dépensé 30$ en essence", "log_expense", json!({"amount": 30, "category": "essence"})),
        fr("j'ai dépensé 12,50 € pour le déjeuner", "log_expense", json!({"amount": 12.5, "currency": "EUR", "category": "déjeuner"})),
        en("how much did I spend this month?", "expense_summary", json!({"month": "2026-03"})),
        en("expenses this month", "expense_summary", json!({"month": "2026-03"})),
        en("spending in october", "expense_summary", json!({"month": "2025-10"})),
        en("expenses last month", "expense_summary", json!({"month": "2026-02"})),
        fr("combien j'ai dépensé ce mois-ci ?", "expense_summary", json!({"month": "2026-03"})),
        fr("mes dépenses de septembre", "expense_summary", json!({"month": "2025-09"})),
        en("how much did i spend this week", "expense_summary", json!({"since": "2026-03-02"})),
        en("spent since monday?", "expense_summary", json!({"since": "2026-03-02"})),
        en("what did i spend the last 7 days", "expense_summary", json!({"since": "2026-02-26"})),
        en("spending last week", "expense_summary", json!({"since": "2026-02-23", "until": "2026-03-01"})),
        en("how much have i spent since thursday", "expense_summary", json!({"since": "2026-02-26"})),
        en("expenses yesterday", "expense_summary", json!({"since": "2026-03-03", "until": "2026-03-03"})),
        fr("combien j'ai dépensé depuis lundi", "expense_summary", json!({"since": "2026-03-02"})),
        fr("combien j'ai dépensé cette semaine", "expense_summary", json!({"since": "2026-03-02"})),
        fr("combien j'ai dépensé depuis le 10", "expense_summary", json!({"since": "2026-02-10"})),
        fr("mes dépenses des 7 derniers jours", "expense_summary", json!({"since": "2026-02-26"})),
        // accounts (issue 9)
        en("connect my google calendar", "connect_integration", json!({"provider": "google"})),
        en("link outlook pls", "connect_integration", json!({"provider": "microsoft"})),
        en("hook up my gmail", "connect_integration", json!({"provider": "google"})),
        fr("connecte mon Notion", "connect_integration", json!({"provider": "notion"})),
        fr("relie mon agenda google", "connect_integration", json!({"provider": "google"})),
        en("disconnect gmail", "disconnect_integration", json!({"provider": "google"})),
        en("unlink my office 365 account", "disconnect_integration", json!({"provider": "microsoft"})),
        fr("déconnecte mon agenda outlook", "disconnect_integration", json!({"provider": "microsoft"})),
        fr("supprime mon compte notion", "disconnect_integration", json!({"provider": "notion"})),
        // a fact that updates one told before
        en("my new gate code is 4411", "remember", json!({"fact": "my new gate code is 4411", "replaces": "gate code"})),
        en("actually the wifi password is now tulip2", "remember", json!({"fact": "the wifi password is now tulip2", "replaces": "wifi password"})),
        fr("mon nouveau code de portail c'est 4411", "remember", json!({"fact": "mon nouveau code de portail c'est 4411", "replaces": "code portail"})),
        // memory
        en("remember my locker is 42", "remember", json!({"fact": "my locker is 42"})),
        en("remember that the wifi password is tulip", "remember", json!({"fact": "the wifi password is tulip"})),
        en("note that the spare key is under the mat", "remember", json!({"fact": "the spare key is under the mat"})),
        fr("souviens-toi que mon casier est le 42", "remember", json!({"fact": "mon casier est le 42"})),
        fr("retiens que le code du portail est 1234", "remember", json!({"fact": "le code du portail est 1234"})),
        en("what's my locker number?", "recall", json!({"query": "locker number"})),
        en("what is the wifi password?", "recall", json!({"query": "wifi password internet network réseau code passcode pin mdp passe"})),
        en("where did I park?", "recall", json!({"query": "park"})),
        fr("quel est mon numéro de casier ?", "recall", json!({"query": "numéro casier"})),
        fr("c'est quoi le mot de passe wifi ?", "recall", json!({"query": "mot passe wifi code password passcode pin mdp internet network réseau"})),
        // settings
        en("my timezone is Europe/Paris", "set_timezone", json!({"timezone": "Europe/Paris"})),
        en("set timezone to America/Montreal", "set_timezone", json!({"timezone": "America/Montreal"})),
        en("set my timezone to america/new_york", "set_timezone", json!({"timezone": "America/New_York"})),
        en("I'm in Paris", "set_timezone", json!({"timezone": "Europe/Paris"})),
        en("I moved to Montreal", "set_timezone", json!({"timezone": "America/Montreal"})),
        en("I'm in New York now", "set_timezone", json!({"timezone": "America/New_York"})),
        fr("mon fuseau horaire est Europe/Paris", "set_timezone", json!({"timezone": "Europe/Paris"})),
        fr("je suis à Paris", "set_timezone", json!({"timezone": "Europe/Paris"})),
        fr("je suis à Québec", "set_timezone", json!({"timezone": "America/Montreal"})),
        en("I live in Toronto", "set_timezone", json!({"timezone": "America/Toronto"})),
        en("call me Sam", "set_display_name", json!({"name": "Sam"})),
        en("my name is Sam", "set_display_name", json!({"name": "Sam"})),
        fr("appelle-moi Sam", "set_display_name", json!({"name": "Sam"})),
        en("quiet hours 22:00 to 07:00", "set_quiet_hours", json!({"start": "22:00", "end": "07:00"})),
        en("don't text me between 10pm and 7am", "set_quiet_hours", json!({"start": "22:00", "end": "07:00"})),
        fr("ne m'écris pas entre 22h et 7h", "set_quiet_hours", json!({"start": "22:00", "end": "07:00"})),
        en("quiet hours 10 to 7", "set_quiet_hours", json!({"start": "22:00", "end": "07:00"})),
    ]
}

#[test]
fn phrasings_plan_the_expected_call() {
    let cases: Vec<Case> = reminder_cases().into_iter().chain(other_cases()).collect();
    assert!(cases.len() >= 80, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let got = plan(case.text, case.now, case.tz);
        let want = vec![(case.name.to_string(), case.args.clone())];
        if got != want {
            failures.push(format!(
                "{:?} at {}: got {got:?}, want {want:?}",
                case.text, case.now
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn calls_carry_offline_ids() {
    let msg = run(&request(
        vec![Message::user_text("add milk")],
        NOW_MTL,
        MTL,
        Locale::En,
    ));
    let calls = msg.function_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id.as_deref(), Some("offline-1"));
    assert_eq!(calls[0].thought_signature, None);
}

fn tool_results(user_text: &str, responses: Vec<(&str, Value)>, locale: Locale) -> String {
    let parts = responses
        .into_iter()
        .enumerate()
        .map(|(i, (name, response))| {
            Part::FunctionResponse(FunctionResponse {
                id: Some(format!("offline-{}", i + 1)),
                name: name.to_string(),
                response,
            })
        })
        .collect();
    let messages = vec![
        Message::user_text(user_text),
        Message {
            role: Role::Model,
            parts: Vec::new(),
        },
        Message {
            role: Role::User,
            parts,
        },
    ];
    run(&request(messages, NOW_MTL, MTL, locale)).text()
}

#[test]
fn reply_joins_confirmations() {
    let text = tool_results(
        "add milk and remind me at 6pm",
        vec![
            (
                "add_list_items",
                json!({"confirmation": "Added milk to shopping.", "items": ["milk"]}),
            ),
            (
                "create_reminder",
                json!({"confirmation": "Reminder set: call mom, today at 6:00 PM."}),
            ),
        ],
        Locale::En,
    );
    assert_eq!(
        text,
        "Added milk to shopping. Reminder set: call mom, today at 6:00 PM."
    );
}

#[test]
fn reply_reports_errors_in_the_persons_language() {
    let en = tool_results(
        "cancel the dentist reminder",
        vec![(
            "cancel_reminder",
            json!({"error": "no reminder matches \"dentist\"."}),
        )],
        Locale::En,
    );
    assert_eq!(
        en,
        "Sorry, that didn't work: no reminder matches \"dentist\"."
    );
    let fr = tool_results(
        "annule le rappel du dentiste",
        vec![
            (
                "cancel_reminder",
                json!({"error": "aucun rappel ne correspond"}),
            ),
            (
                "list_reminders",
                json!({"confirmation": "Tu n'as aucun rappel."}),
            ),
        ],
        Locale::En,
    );
    assert_eq!(
        fr,
        "Désolé, ça n'a pas marché : aucun rappel ne correspond. Tu n'as aucun rappel."
    );
}

#[test]
fn reply_summarizes_results_without_confirmation() {
    let text = tool_results(
        "what's on my list",
        vec![("show_list", json!({"items": [{"text": "milk"}, "eggs"]}))],
        Locale::En,
    );
    assert_eq!(text, "List: milk; eggs.");
    let empty = tool_results(
        "mes rappels",
        vec![("list_reminders", json!({"reminders": []}))],
        Locale::Fr,
    );
    assert_eq!(empty, "Rappels : rien pour l'instant.");
    let other = tool_results(
        "call me Sam",
        vec![("set_display_name", json!({}))],
        Locale::En,
    );
    assert_eq!(other, "Done.");
}

#[test]
fn help_and_unknown_texts() {
    let help_en = reply("help", MTL, Locale::Fr);
    assert!(help_en.starts_with("Offline mode"), "{help_en}");
    let help_fr = reply("Aide", MTL, Locale::En);
    assert!(help_fr.starts_with("Hors ligne"), "{help_fr}");
    for text in [&help_en, &help_fr] {
        assert!(text.chars().count() <= 320, "{text}");
    }

    let unknown_en = reply("that was a lovely day for a picnic", MTL, Locale::Fr);
    assert!(
        unknown_en.starts_with("Sorry, I didn't get that."),
        "{unknown_en}"
    );
    let unknown_fr = reply("le chat de la voisine est très gentil", MTL, Locale::En);
    assert!(
        unknown_fr.starts_with("Désolé, je n'ai pas compris."),
        "{unknown_fr}"
    );
    // No telltale words either way: the person's locale decides.
    let blorp = reply("blorp", MTL, Locale::Fr);
    assert!(blorp.starts_with("Désolé, je n'ai pas compris."), "{blorp}");
    assert!(reply("blorp", MTL, Locale::En).starts_with("Sorry, I didn't get that."));
    // A bare "done" answers a delivered reminder elsewhere; not a task here.
    assert!(reply("done", MTL, Locale::En).starts_with("Sorry, I didn't get that."));
    assert!(reply("c'est fait", MTL, Locale::Fr).starts_with("Désolé, je n'ai pas compris."));
    // News about the world is not a fact about the person, and an
    // account nobody offers is not connected.
    for text in [
        "there's a new cafe on main st that is open now",
        "link my dropbox",
        "connect my yahoo mail",
    ] {
        assert!(plan(text, NOW_MTL, MTL).is_empty(), "{text}");
    }
    // The short miss stays short; the menu is for "help" or a second miss.
    for text in [&unknown_en, &unknown_fr] {
        assert!(text.chars().count() <= 160, "{text}");
    }
}

#[test]
fn reminders_without_a_time_or_a_task_ask() {
    let when = reply("remind me to call mom", MTL, Locale::En);
    assert!(
        when.starts_with("When should I remind you to call mom?"),
        "{when}"
    );
    // A day without a time: the hour is asked, not guessed.
    let hour = reply("remind me tomorrow to call the garage", MTL, Locale::En);
    assert!(
        hour.starts_with("What time should I remind you to call the garage?"),
        "{hour}"
    );
    let heure = reply("rappelle-moi demain d'appeler le garage", PAR, Locale::Fr);
    assert!(heure.starts_with("À quelle heure"), "{heure}");
    let quand = reply("rappelle-moi d'appeler maman", PAR, Locale::En);
    assert!(quand.starts_with("Quand dois-je"), "{quand}");
    let what = reply("remind me at 6pm", MTL, Locale::En);
    assert!(
        what.starts_with("What should I remind you about?"),
        "{what}"
    );
}

#[test]
fn odd_inputs_never_fail() {
    let long = "remind me ".repeat(2000) + "at 6pm";
    let mut inputs: Vec<String> = [
        "",
        "   ",
        "?",
        "!!!",
        "🙂",
        "⏰🙂 remind me 🍕 at 6pm 🎉",
        "at 99:99",
        "remind me at 99:99 to x",
        "in -5 minutes",
        "in 0 minutes check",
        "in 99999999999999999999999 minutes check",
        "rappelle-moi",
        "remind me",
        "remind me to",
        "snooze 0",
        "spent 0 on nothing",
        "spent 99999999999 on a yacht",
        "on the 31st of every month at 9 pay",
        "on the 45th of every month at 9 pay",
        "remind me on february 30 at 9 to x",
        "remind me on february 29 at 9 to x",
        "at 24:00 x",
        "à 25h x",
        "quiet hours 99 to 77",
        "my timezone is Mars/Olympus",
        "call me 123",
        "l'",
        "d'",
        "e\u{301}te\u{301}",
        "Ǆ İstanbul ß ﬁ",
        "\u{0}\u{7}\u{feff}",
        "add , , and",
        "ajoute à la liste",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    inputs.push(long);
    inputs.push("é".repeat(5000));
    // Every prefix of a few rich phrasings, cut at each char boundary.
    for sample in [
        "rappelle-moi demain à 9h d'appeler le dentiste",
        "j'ai dépensé 12,50 € pour le déjeuner",
        "every monday and thursday at 7pm gym",
        "ajoute du lait et des œufs à la liste quincaillerie",
    ] {
        for (i, _) in sample.char_indices() {
            inputs.push(sample[..i].to_string());
        }
    }
    for text in &inputs {
        for (tz, locale) in [(MTL, Locale::En), (PAR, Locale::Fr)] {
            let msg = run(&request(
                vec![Message::user_text(text.as_str())],
                NOW_MTL,
                tz,
                locale,
            ));
            let has_calls = !msg.function_calls().is_empty();
            assert!(
                has_calls || !msg.text().is_empty(),
                "{text:?}: empty answer"
            );
        }
    }
    // Odd requests: no messages, or a model message last.
    let none = run(&request(Vec::new(), NOW_MTL, MTL, Locale::En));
    assert!(!none.text().is_empty());
    let model_last = run(&request(
        vec![Message::model_text("hi")],
        NOW_MTL,
        MTL,
        Locale::En,
    ));
    assert!(!model_last.text().is_empty());
}

/// The second call of a read-then-act plan: the person's text, the reads
/// the planner asked for, and the results the tools gave.
fn after_reads(history: Vec<Message>, results: Vec<(&str, Value)>, locale: Locale) -> Message {
    let mut messages = history;
    let first = run(&request(messages.clone(), NOW_MTL, MTL, locale));
    let asked: Vec<String> = first
        .function_calls()
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let given: Vec<&str> = results.iter().map(|(n, _)| *n).collect();
    assert_eq!(asked, given, "the planner read something else");
    messages.push(first);
    messages.push(Message {
        role: Role::User,
        parts: results
            .into_iter()
            .enumerate()
            .map(|(i, (name, response))| {
                Part::FunctionResponse(FunctionResponse {
                    id: Some(format!("offline-{}", i + 1)),
                    name: name.to_string(),
                    response,
                })
            })
            .collect(),
    });
    run(&request(messages, NOW_MTL, MTL, locale))
}

fn reminders(list: &[(&str, &str)]) -> Value {
    json!({"reminders": list.iter().map(|(id, text)| json!({"id": id, "text": text, "due_local": "2026-03-05T09:00"})).collect::<Vec<_>>()})
}

#[test]
fn references_are_resolved_by_shared_words_or_asked_about() {
    // One match: acted on by id.
    let msg = after_reads(
        vec![Message::user_text("forget the yoga reminder")],
        vec![(
            "list_reminders",
            reminders(&[("r1", "call mom"), ("r2", "yoga class")]),
        )],
        Locale::En,
    );
    let calls = msg.function_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].name, "cancel_reminder");
    assert_eq!(calls[0].args, json!({"reminder_id": "r2"}));

    // Two matches: a question naming both, nothing done.
    let two = reminders(&[
        ("r1", "dentist appointment"),
        ("r2", "pay the dentist bill"),
    ]);
    let msg = after_reads(
        vec![Message::user_text("cancel the dentist one")],
        vec![("list_reminders", two.clone())],
        Locale::En,
    );
    let text = msg.text();
    assert!(msg.function_calls().is_empty());
    assert!(
        text.starts_with("Which one?")
            && text.contains("1) dentist appointment")
            && text.contains("2) pay the dentist bill"),
        "{text}"
    );

    // The answer narrows the same search: by number or by words.
    for answer in ["2", "the bill one", "the second one"] {
        let msg = after_reads(
            vec![
                Message::user_text("cancel the dentist one"),
                Message::model_text(text.clone()),
                Message::user_text(answer),
            ],
            vec![("list_reminders", two.clone())],
            Locale::En,
        );
        let calls = msg.function_calls();
        assert_eq!(calls.len(), 1, "{answer}: {}", msg.text());
        assert_eq!(calls[0].args, json!({"reminder_id": "r2"}), "{answer}");
    }

    // Tasks by a word they share, in French, and list items by a partial name.
    let msg = after_reads(
        vec![Message::user_text("vélo réparé !")],
        vec![
            (
                "list_tasks",
                json!({"tasks": [{"id": "t1", "title": "prendre rdv chez le dentiste"}, {"id": "t2", "title": "réparer le vélo"}]}),
            ),
            ("show_list", json!({"list": "shopping", "items": ["lait"]})),
        ],
        Locale::Fr,
    );
    assert_eq!(msg.function_calls()[0].name, "complete_task");
    assert_eq!(msg.function_calls()[0].args, json!({"task_id": "t2"}));
    let msg = after_reads(
        vec![Message::user_text("take apples off the list")],
        vec![(
            "show_list",
            json!({"list": "shopping", "items": ["green apples", "eggs"]}),
        )],
        Locale::En,
    );
    assert_eq!(
        msg.function_calls()[0].args,
        json!({"list": "shopping", "items": ["green apples"]})
    );
}

#[test]
fn a_time_answers_the_question_about_time() {
    let asked = reply("remind me to call the bank tmr", MTL, Locale::En);
    assert!(asked.starts_with("What time"), "{asked}");
    let msg = run(&request(
        vec![
            Message::user_text("remind me to call the bank tmr"),
            Message::model_text(asked),
            Message::user_text("9am"),
        ],
        NOW_MTL,
        MTL,
        Locale::En,
    ));
    let calls = msg.function_calls();
    assert_eq!(calls.len(), 1, "{}", msg.text());
    assert_eq!(calls[0].args, due("call the bank", "2026-03-05T09:00"));
}

#[test]
fn shorthand_and_emoji_are_read_but_the_persons_words_are_kept() {
    assert_eq!(
        plan("remnd me 2 call mom tmrw 7pm 🙏", NOW_MTL, MTL),
        vec![(
            "create_reminder".to_string(),
            due("call mom", "2026-03-05T19:00")
        )]
    );
    assert_eq!(
        plan("reminder 2day 6pm gym w/ alex", NOW_MTL, MTL),
        vec![(
            "create_reminder".to_string(),
            due("gym w/ alex", "2026-03-04T18:00")
        )]
    );
    assert_eq!(
        plan("rappel moi dem1 a 9h de payer le loyer stp", NOW_PAR, PAR),
        vec![(
            "create_reminder".to_string(),
            due("payer le loyer", "2026-03-05T09:00")
        )]
    );
}
