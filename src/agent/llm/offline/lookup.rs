//! Plans that read before they act. "forget the yoga reminder", "the
//! dentist thing is done", "bought the eggs, cross them off", "anything I
//! need to do today?": the planner first calls the read tools (as a model
//! would), and when their results come back, [`next`] picks the thing
//! meant (see [`super::resolve`]) and acts on it by id, asks which one when
//! several fit, or answers from what it read.
//!
//! The planner keeps no state between its calls: the same message always
//! yields the same [`Lookup`], so the second call rebuilds it from the
//! conversation and reads the results it asked for.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};

use super::resolve::{self, best};
use super::text;
use super::{Plan, said_list};
use crate::store::Locale;

/// What to do once the read tools have answered.
#[derive(Debug, Clone)]
pub(super) enum Then {
    /// Cancel the reminder these words name.
    CancelReminder,
    /// Mark a task done, or cross an item off the shopping list.
    /// `guessed`: the message only sounded like news of something done, so
    /// finding nothing means it was not understood.
    Complete { guessed: bool },
    /// Add a progress note to the goal these words name.
    Progress { note: String },
    /// Take these items off a list, each matched to what is on it.
    RemoveItems { list: String, items: Vec<String> },
    /// Say what is planned on a day (with the open tasks, for today).
    Agenda { day: NaiveDate, tasks: bool },
}

/// A read-then-act plan: the words that name the thing, and the person's
/// pick among numbered candidates when they answered "which one?".
#[derive(Debug, Clone)]
pub(super) struct Lookup {
    pub(super) then: Then,
    pub(super) words: Vec<String>,
    /// 1-based; `usize::MAX` for "the last one".
    pub(super) pick: Option<usize>,
}

impl Lookup {
    pub(super) fn new(then: Then, words: Vec<String>) -> Lookup {
        Lookup {
            then,
            words,
            pick: None,
        }
    }

    /// The read calls that come first.
    pub(super) fn reads(&self) -> Vec<(String, Value)> {
        let call = |name: &str, args: Value| (name.to_string(), args);
        match &self.then {
            Then::CancelReminder => vec![call("list_reminders", json!({}))],
            Then::Complete { .. } => vec![
                call("list_tasks", json!({})),
                call("show_list", json!({"list": "shopping"})),
            ],
            Then::Progress { .. } => vec![call("list_goals", json!({}))],
            Then::RemoveItems { list, .. } => vec![call("show_list", json!({"list": list}))],
            Then::Agenda { tasks: true, .. } => vec![
                call("list_reminders", json!({})),
                call("list_tasks", json!({})),
            ],
            Then::Agenda { tasks: false, .. } => vec![call("list_reminders", json!({}))],
        }
    }
}

/// The results of the reads, by tool name.
fn result<'a>(results: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    results.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

fn array<'a>(v: Option<&'a Value>, key: &str) -> Vec<&'a Value> {
    v.and_then(|v| v.get(key))
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// One thing the person may mean: what to show them and how to act on it.
struct Candidate {
    label: String,
    act: (String, Value),
}

/// The step after the reads.
pub(super) fn next(
    lookup: &Lookup,
    results: &[(String, Value)],
    lang: Locale,
    now: NaiveDateTime,
) -> Plan {
    let pick = |cands: Vec<Candidate>, what: What| -> Plan {
        let labels: Vec<String> = cands.iter().map(|c| c.label.clone()).collect();
        let mut found = best(&lookup.words, &labels);
        if found.is_empty() && lookup.words.is_empty() && cands.len() == 1 {
            // "progress: ran 3k" with a single goal: there is nothing to choose.
            found = vec![0];
        }
        if let Some(n) = lookup.pick {
            let i = if n == usize::MAX {
                found.len().checked_sub(1)
            } else {
                Some(n - 1)
            };
            return match i.and_then(|i| found.get(i)) {
                Some(&i) => Plan::Calls(vec![cands[i].act.clone()]),
                None => Plan::Reply(which(&found, &labels, lang)),
            };
        }
        match found.as_slice() {
            [] => Plan::Reply(not_found(&lookup.words, &labels, what, lang)),
            [one] => Plan::Calls(vec![cands[*one].act.clone()]),
            many => Plan::Reply(which(many, &labels, lang)),
        }
    };
    match &lookup.then {
        Then::CancelReminder => {
            let cands = array(result(results, "list_reminders"), "reminders")
                .into_iter()
                .map(|r| Candidate {
                    label: str_of(r, "text").to_string(),
                    act: (
                        "cancel_reminder".into(),
                        json!({"reminder_id": str_of(r, "id")}),
                    ),
                })
                .collect();
            pick(cands, What::Reminder)
        }
        Then::Complete { guessed } => {
            let shopping = result(results, "show_list");
            let list = shopping
                .and_then(|s| s.get("list"))
                .and_then(Value::as_str)
                .unwrap_or("shopping")
                .to_string();
            let mut cands: Vec<Candidate> = array(result(results, "list_tasks"), "tasks")
                .into_iter()
                .map(|t| Candidate {
                    label: str_of(t, "title").to_string(),
                    act: ("complete_task".into(), json!({"task_id": str_of(t, "id")})),
                })
                .collect();
            cands.extend(array(shopping, "items").into_iter().filter_map(|i| {
                let item = i.as_str()?;
                Some(Candidate {
                    label: item.to_string(),
                    act: (
                        "remove_list_items".into(),
                        json!({"list": list, "items": [item]}),
                    ),
                })
            }));
            if *guessed
                && best(
                    &lookup.words,
                    &cands.iter().map(|c| c.label.clone()).collect::<Vec<_>>(),
                )
                .is_empty()
            {
                return Plan::Reply(super::unknown_text(lang));
            }
            pick(cands, What::Task)
        }
        Then::Progress { note } => {
            let cands = array(result(results, "list_goals"), "goals")
                .into_iter()
                .map(|g| Candidate {
                    label: str_of(g, "title").to_string(),
                    act: (
                        "add_goal_progress".into(),
                        json!({"goal_id": str_of(g, "id"), "note": note}),
                    ),
                })
                .collect();
            pick(cands, What::Goal)
        }
        Then::RemoveItems { list, items } => {
            let on_list: Vec<String> = array(result(results, "show_list"), "items")
                .into_iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect();
            let mut matched: Vec<String> = Vec::new();
            for item in items {
                let exact = on_list
                    .iter()
                    .find(|o| text::fold_str(o) == text::fold_str(item));
                let found: Vec<&String> = match exact {
                    Some(o) => vec![o],
                    None => best(&resolve::key_words(item), &on_list)
                        .into_iter()
                        .map(|i| &on_list[i])
                        .collect(),
                };
                for f in found {
                    if !matched.contains(f) {
                        matched.push(f.clone());
                    }
                }
            }
            if matched.is_empty() {
                return Plan::Reply(match lang {
                    Locale::En => format!("{} isn't on your {list} list.", said_list(items, lang)),
                    Locale::Fr => {
                        format!("{} n'est pas sur ta liste {list}.", said_list(items, lang))
                    }
                });
            }
            Plan::Calls(vec![(
                "remove_list_items".into(),
                json!({"list": list, "items": matched}),
            )])
        }
        Then::Agenda { day, tasks } => Plan::Reply(agenda(results, *day, *tasks, lang, now)),
    }
}

#[derive(Clone, Copy)]
enum What {
    Reminder,
    Task,
    Goal,
}

/// The question that names the candidates; its first words mark it, so
/// the person's answer is read as a choice (see `super::follow_up`).
fn which(found: &[usize], labels: &[String], lang: Locale) -> String {
    let shown: Vec<String> = found
        .iter()
        .take(5)
        .enumerate()
        .map(|(n, i)| format!("{}) {}", n + 1, text::truncate(&labels[*i], 60)))
        .collect();
    match lang {
        Locale::En => format!("{} {}. Reply with the number.", WHICH_EN, shown.join("; ")),
        Locale::Fr => format!(
            "{} {}. Réponds avec le numéro.",
            WHICH_FR,
            shown.join(" ; ")
        ),
    }
}

pub(super) const WHICH_EN: &str = "Which one?";
pub(super) const WHICH_FR: &str = "Lequel ?";

fn not_found(words: &[String], labels: &[String], what: What, lang: Locale) -> String {
    let asked = words.join(" ");
    let have = text::truncate(&labels.join("; "), 160);
    match (lang, what, labels.is_empty()) {
        (Locale::En, What::Reminder, true) => "You have no upcoming reminders.".into(),
        (Locale::En, What::Reminder, false) => {
            format!("I can't find a reminder about \"{asked}\". Your reminders: {have}.")
        }
        (Locale::En, What::Task, true) => "You have no open tasks.".into(),
        (Locale::En, What::Task, false) => {
            format!("I can't find \"{asked}\" in your tasks or list. You have: {have}.")
        }
        (Locale::En, What::Goal, true) => {
            "You have no goals yet. Add one with \"new goal: …\".".into()
        }
        (Locale::En, What::Goal, false) => {
            format!("Which goal is that for? Your goals: {have}.")
        }
        (Locale::Fr, What::Reminder, true) => "Tu n'as aucun rappel à venir.".into(),
        (Locale::Fr, What::Reminder, false) => {
            format!("Je ne trouve pas de rappel « {asked} ». Tes rappels : {have}.")
        }
        (Locale::Fr, What::Task, true) => "Tu n'as aucune tâche en cours.".into(),
        (Locale::Fr, What::Task, false) => {
            format!("Je ne trouve pas « {asked} » dans tes tâches ni ta liste. Tu as : {have}.")
        }
        (Locale::Fr, What::Goal, true) => {
            "Tu n'as pas encore d'objectif. Ajoute-en un : « nouvel objectif : … ».".into()
        }
        (Locale::Fr, What::Goal, false) => {
            format!("C'est pour quel objectif ? Tes objectifs : {have}.")
        }
    }
}

/// "Today: call the vet at 4:00 PM. Tasks: fix the bike."
fn agenda(
    results: &[(String, Value)],
    day: NaiveDate,
    with_tasks: bool,
    lang: Locale,
    now: NaiveDateTime,
) -> String {
    let stamp = day.format("%Y-%m-%d").to_string();
    let reminders: Vec<String> = array(result(results, "list_reminders"), "reminders")
        .into_iter()
        .filter(|r| str_of(r, "due_local").starts_with(&stamp))
        .map(|r| {
            let at = NaiveDateTime::parse_from_str(str_of(r, "due_local"), "%Y-%m-%dT%H:%M")
                .map(|t| clock(t, lang))
                .unwrap_or_default();
            match lang {
                Locale::En => format!("{} at {at}", str_of(r, "text")),
                Locale::Fr => format!("{} à {at}", str_of(r, "text")),
            }
        })
        .collect();
    let tasks: Vec<String> = if with_tasks {
        array(result(results, "list_tasks"), "tasks")
            .into_iter()
            .map(|t| str_of(t, "title").to_string())
            .collect()
    } else {
        Vec::new()
    };
    let today = day == now.date();
    let (when_en, when_fr) = if today {
        ("today", "aujourd'hui")
    } else if Some(day) == now.date().succ_opt() {
        ("tomorrow", "demain")
    } else {
        ("that day", "ce jour-là")
    };
    let mut out = match (lang, reminders.is_empty()) {
        (Locale::En, true) => format!("No reminders {when_en}."),
        (Locale::En, false) => format!(
            "{}{}: {}.",
            when_en[..1].to_uppercase(),
            &when_en[1..],
            reminders.join("; ")
        ),
        (Locale::Fr, true) => format!("Aucun rappel {when_fr}."),
        (Locale::Fr, false) => format!(
            "{}{} : {}.",
            when_fr[..1].to_uppercase(),
            &when_fr[1..],
            reminders.join(" ; ")
        ),
    };
    if !tasks.is_empty() {
        let list = tasks.join("; ");
        out.push_str(&match lang {
            Locale::En => format!(" Open tasks: {list}."),
            Locale::Fr => format!(" Tâches en cours : {list}."),
        });
    } else if reminders.is_empty() {
        out = match lang {
            Locale::En => format!(
                "Nothing planned {when_en}: no reminders{}.",
                if with_tasks { " and no open tasks" } else { "" }
            ),
            Locale::Fr => format!(
                "Rien de prévu {when_fr} : aucun rappel{}.",
                if with_tasks {
                    " ni tâche en cours"
                } else {
                    ""
                }
            ),
        };
    }
    text::truncate(&out, 600)
}

fn clock(t: NaiveDateTime, lang: Locale) -> String {
    match lang {
        Locale::En => t.format("%-I:%M %p").to_string(),
        Locale::Fr => t.format("%-H h %M").to_string().replace(" h 00", " h"),
    }
}
