//! Rules for everything but reminders: tasks, goals, lists, expenses,
//! memory, and the person's settings (timezone, name, quiet hours).
//! Each rule matches the whole (folded) message, English then French.
//!
//! One file per family of intents; each rule is a `fn(&Input, &Ctx) ->
//! Option<Plan>` that [`super::plan_text`] tries in its fixed order.

mod agenda;
mod bookmarks;
mod calendar;
mod cities;
mod expenses;
mod focus;
mod follow_through;
mod integrations;
mod knowledge;
mod leave_by;
mod lists;
mod mail;
mod memory;
mod privacy;
mod settings;
mod small_talk;
mod statements;
mod tasks;
mod web;

use regex::Captures;

use super::text::{self, Input};

pub(super) use agenda::agenda;
pub(super) use bookmarks::bookmarks;
pub(super) use calendar::calendar_plan;
pub(super) use expenses::expenses;
pub(super) use focus::focus;
pub(super) use follow_through::{persist_reminders, persisting, settings as follow_through};
pub(super) use integrations::integrations;
pub(super) use knowledge::{ask_notes, note, sync_notion};
pub(super) use leave_by::leave_by;
pub(super) use lists::lists;
pub(super) use mail::mail_plan;
pub(super) use memory::{recall, remember};
pub(super) use privacy::privacy;
pub(super) use settings::{display_name, quiet_hours, timezone};
pub(super) use small_talk::{ack, small_talk};
pub(super) use statements::{done_statement, statement};
pub(super) use tasks::{goals, need_to, tasks};
pub(super) use web::search_plan;

/// The first capture group that matched, as said.
fn first_group(inp: &Input, c: &Captures<'_>) -> Option<Input> {
    (1..c.len()).find_map(|i| inp.group(c, i))
}

fn said(inp: &Input) -> String {
    text::trim_punct(inp).orig().to_string()
}
