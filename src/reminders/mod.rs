//! Reminder rules in one home: when an occurrence fires, waits for the end
//! of quiet hours, or is recorded as missed ([`decide`], pure and tested
//! without a database), and what the person reads when it fires
//! ([`wording`]). Storage and scheduling are `store::Reminder` and
//! `store::recurrence`; the `reminder_due` job only loads, decides and
//! applies. A reminder that persists until acknowledged is texted again
//! by the `reminder_nudge` job, under the rules of [`decide_nudge`].

mod nudge;
mod policy;
pub mod wording;

pub use nudge::{NudgeFacts, NudgeOutcome, NudgePlan, decide_nudge};
pub use policy::{Outcome, Person, decide};
