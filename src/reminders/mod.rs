//! Reminder rules in one home: when an occurrence fires, waits for the end
//! of quiet hours, or is recorded as missed ([`decide`], pure and tested
//! without a database), and what the person reads when it fires
//! ([`wording`]). Storage and scheduling are `store::Reminder` and
//! `store::recurrence`; the `reminder_due` job only loads, decides and
//! applies.

mod policy;
pub mod wording;

pub use policy::{Outcome, Person, decide};
