//! Confirmation by effect, not by tool name. A turn that would remove or
//! cancel more than [`MAX_UNCONFIRMED_REMOVALS`] items — in one bulk call
//! or in many single ones — and any call to a tool that sends, spends or
//! deletes in bulk, waits for the person's "yes". The held calls are stored
//! as one pending action, shown to the person with their arguments, and
//! re-validated against their schemas before the confirmed run.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::execute::{ToolRun, failed};
use super::journal::Journal;
use super::{Agent, AgentError, CONFIRMATION_WINDOW, Turn};
use crate::agent::llm::FunctionCall;
use crate::agent::tools::{Effect, Integration, Tool, ToolContext, Wording};
use crate::db::UserTx;
use crate::store::{PendingAction, User};

/// Removals a turn may make without asking. One or two cancellations are
/// everyday requests; a fourth in one turn is a clean-up worth a "yes".
pub const MAX_UNCONFIRMED_REMOVALS: u32 = 3;

/// The `tool_name` of a pending action holding several calls.
const BATCH: &str = "batch";

/// The result the model gets for a call held for confirmation.
pub(super) fn held_result() -> Value {
    json!({"status": "awaiting the person's confirmation"})
}

/// A call waiting for the person's "yes".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct HeldCall {
    pub name: String,
    pub args: Value,
}

/// Held calls as a pending action stores them: one call as itself (as
/// before batches existed), several under [`BATCH`].
fn to_pending(calls: &[HeldCall]) -> (String, Value) {
    match calls {
        [one] => (one.name.clone(), one.args.clone()),
        many => (BATCH.to_string(), json!({ "calls": many })),
    }
}

pub(super) fn from_pending(pending: &PendingAction) -> Option<Vec<HeldCall>> {
    if pending.tool_name != BATCH {
        return Some(vec![HeldCall {
            name: pending.tool_name.clone(),
            args: pending.arguments.clone(),
        }]);
    }
    let calls: Vec<HeldCall> =
        serde_json::from_value(pending.arguments.get("calls")?.clone()).ok()?;
    (!calls.is_empty()).then_some(calls)
}

/// Where the held calls sit in the turn, to record the question with them.
pub(super) struct HeldAt<'a> {
    pub journal: &'a mut Journal,
    pub round: u32,
    /// Position of each held call in the model's response.
    pub indices: Vec<u32>,
}

impl Agent {
    /// Stores the held calls as one pending action and returns the
    /// question; the journal records the held calls in the same
    /// transaction, so a retried turn asks the same question, once.
    pub(super) async fn ask_confirmation(
        &self,
        user: &User,
        connected: &HashSet<Integration>,
        calls: &[HeldCall],
        now: DateTime<Utc>,
        say: Wording,
        at: HeldAt<'_>,
    ) -> Result<String, AgentError> {
        // Calls to providers describe themselves first, with no
        // transaction open while they ask the provider.
        let remote = self
            .describe_remote_held(user, connected, calls, now, say)
            .await;
        // Read in a transaction of its own: a preview that fails must not
        // spoil the one that stores the question.
        let mut read = UserTx::begin(&self.pool, user.id).await?;
        let what = self
            .describe_held(&mut read, user, calls, &remote, now, say)
            .await;
        read.rollback().await?;
        let code = short_code();
        let question = say.pick(
            &format!("To confirm: {what}? Reply YES (or {code}) within 10 minutes; anything else cancels."),
            &format!("Pour confirmer : {what} ? Réponds OUI (ou {code}) dans les 10 minutes ; toute autre réponse annule."),
        );
        let (tool_name, arguments) = to_pending(calls);
        let mut tx = UserTx::begin(&self.pool, user.id).await?;
        PendingAction::create(
            &mut tx,
            &tool_name,
            &arguments,
            &what,
            &code,
            now + CONFIRMATION_WINDOW,
        )
        .await?;
        for (i, (call, index)) in calls.iter().zip(&at.indices).enumerate() {
            let mut result = held_result();
            if i == 0 {
                result["question"] = json!(question);
            }
            at.journal
                .record(&mut tx, at.round, *index, &call.name, &call.args, &result)
                .await?;
        }
        tx.commit().await?;
        at.journal.committed(at.round);
        Ok(question)
    }

    /// "2 changes: cancel "a" — today at 6:00 PM; cancel "b" — …": every
    /// held call with what it would change and when, counted when there
    /// are several.
    async fn describe_held(
        &self,
        tx: &mut UserTx,
        user: &User,
        calls: &[HeldCall],
        remote: &[Option<String>],
        now: DateTime<Utc>,
        say: Wording,
    ) -> String {
        let mut parts = Vec::with_capacity(calls.len());
        for (call, described) in calls.iter().zip(remote) {
            let part = match self.registry.get(&call.name) {
                _ if described.is_some() => described.clone().unwrap_or_default(),
                Some(tool) => {
                    let mut ctx = ToolContext {
                        tx: &mut *tx,
                        user,
                        tz: user.tz(),
                        now,
                        say,
                    };
                    tool.describe_effect(&mut ctx, &call.args).await
                }
                None => call.name.clone(),
            };
            parts.push(part);
        }
        match parts.as_slice() {
            [one] => one.clone(),
            many => say.pick(
                &format!("{} changes: {}", many.len(), many.join("; ")),
                &format!("{} changements : {}", many.len(), many.join(" ; ")),
            ),
        }
    }

    /// Runs a confirmed action inside the transaction that marked it done,
    /// so it runs exactly once even if "yes" arrives twice at the same time.
    /// The stored arguments are checked against the schemas again first:
    /// they were written by a model, and a tool may have changed since.
    pub(super) async fn run_confirmed(
        &self,
        tx: &mut UserTx,
        user: &User,
        pending: &PendingAction,
        connected: &HashSet<Integration>,
        now: DateTime<Utc>,
        say: Wording,
    ) -> Result<String, AgentError> {
        let stale = || {
            say.pick(
                "That request can no longer run as it was asked, so nothing was changed. Could you ask again?",
                "Cette demande ne peut plus s'exécuter telle quelle, donc rien n'a changé. Peux-tu la refaire ?",
            )
        };
        let Some(calls) = from_pending(pending) else {
            tracing::warn!("stored pending action unreadable");
            return Ok(stale());
        };
        let mut tools = Vec::with_capacity(calls.len());
        for call in &calls {
            match self.registry.validate(&call.name, &call.args, connected) {
                Ok(tool) => tools.push(tool),
                Err(e) => {
                    tracing::warn!(tool = %call.name, error = %e, "stored pending action no longer valid");
                    return Ok(stale());
                }
            }
        }
        let mut confirmations = Vec::new();
        let mut failures = 0usize;
        let mut refusals: Vec<String> = Vec::new();
        for (call, tool) in calls.iter().zip(tools) {
            // Each call behind a savepoint: one that fails (a reminder
            // already cancelled) leaves the others and the transaction intact.
            tx.savepoint().await?;
            let ran = {
                let mut ctx = ToolContext {
                    tx: &mut *tx,
                    user,
                    tz: user.tz(),
                    now,
                    say,
                };
                tokio::time::timeout(
                    self.budget.tool_timeout,
                    tool.call(&mut ctx, call.args.clone()),
                )
                .await
            };
            match ran {
                Ok(Ok(value)) => {
                    tx.release_savepoint().await?;
                    if let Some(c) = value.get("confirmation").and_then(Value::as_str) {
                        confirmations.push(c.to_string());
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!(tool = %call.name, error = %e, "confirmed action failed");
                    tx.rollback_to_savepoint().await?;
                    failures += 1;
                    // Over a limit: the person learns which, in their words.
                    if let (ToolRun::Refused { reply, .. }, _) = failed(e, say) {
                        refusals.push(reply);
                    }
                }
                Err(_) => {
                    tracing::warn!(tool = %call.name, "confirmed action timed out");
                    tx.rollback_to_savepoint().await?;
                    failures += 1;
                }
            }
        }
        let mut reply = confirmed_reply(calls.len(), &confirmations, failures, say);
        for refusal in refusals {
            reply.push(' ');
            reply.push_str(&refusal);
        }
        Ok(reply)
    }
}

/// What one function call of a model response becomes.
pub(super) enum Plan {
    /// Not run; this goes back to the model.
    Error(Value),
    Run(Arc<dyn Tool>),
    /// Waits for the person's "yes".
    Hold,
}

impl Agent {
    /// Decides, before anything runs, what each call of one model response
    /// becomes: an error (unknown tool, bad arguments, budget spent), a
    /// call to run, or a call held for the person's "yes". Holding is by
    /// effect: any tool that always asks, or removals that would take the
    /// turn past [`MAX_UNCONFIRMED_REMOVALS`] — all the removing calls of
    /// the response are then held together, so one question covers them.
    pub(super) fn plan_round(
        &self,
        calls: &[FunctionCall],
        connected: &HashSet<Integration>,
        turn: &mut Turn,
        removed: &mut u32,
    ) -> Vec<Plan> {
        let mut planned: Vec<(Plan, u32, bool)> = calls
            .iter()
            .map(|call| {
                if turn.tool_calls >= self.budget.max_tool_calls {
                    return (
                        Plan::Error(json!({"error": "tool call budget for this turn is spent; answer with what you have"})),
                        0,
                        false,
                    );
                }
                turn.tool_calls += 1;
                match self.registry.validate(&call.name, &call.args, connected) {
                    Err(e) => (Plan::Error(json!({"error": e.to_string()})), 0, false),
                    Ok(tool) => {
                        let removes = tool.removals(&call.args);
                        // After untrusted content was read (an earlier
                        // round), anything but a private read asks first,
                        // whatever the model was told inside that content.
                        let tainted = turn.read_untrusted
                            && (tool.effect() != Effect::Read || tool.discloses());
                        let always = tool.needs_confirmation_for(&call.args) || tainted;
                        (Plan::Run(tool), removes, always)
                    }
                }
            })
            .collect();
        // Calls of one round were chosen together, before any of their
        // results: the round's own reads taint the rounds after it.
        turn.read_untrusted |= calls.iter().any(|c| {
            self.registry
                .get(&c.name)
                .is_some_and(|t| t.reads_untrusted().is_some())
        });
        let round_removals = planned
            .iter()
            .fold(0u32, |sum, (_, n, _)| sum.saturating_add(*n));
        let must_ask = planned.iter().any(|(_, _, always)| *always)
            || removed.saturating_add(round_removals) > MAX_UNCONFIRMED_REMOVALS;
        if must_ask {
            for (plan, removes, always) in &mut planned {
                if matches!(plan, Plan::Run(_)) && (*removes > 0 || *always) {
                    *plan = Plan::Hold;
                }
            }
        } else {
            *removed = removed.saturating_add(round_removals);
        }
        planned.into_iter().map(|(plan, _, _)| plan).collect()
    }
}

/// The answer to "yes": the tools' own confirmations when they are few,
/// a count when there are many, and what could not be done.
pub(super) fn confirmed_reply(
    total: usize,
    confirmations: &[String],
    failures: usize,
    say: Wording,
) -> String {
    if failures == total {
        return say.pick(
            "Sorry, that didn't work. Nothing was changed.",
            "Désolé, ça n'a pas marché. Rien n'a changé.",
        );
    }
    let done = total - failures;
    let mut reply = match confirmations.len() {
        0 => say.pick("Done.", "C'est fait."),
        1..=3 => confirmations.join(" "),
        _ => say.pick(
            &format!("Done: {done} changes."),
            &format!("C'est fait : {done} changements."),
        ),
    };
    if failures > 0 {
        reply.push(' ');
        reply.push_str(&say.pick(
            &format!("{failures} of them couldn't be done."),
            &format!("{failures} n'ont pas pu être faits."),
        ));
    }
    reply
}

fn normalise(text: &str) -> String {
    text.trim().trim_end_matches(['.', '!', ' ']).to_lowercase()
}

/// "yes" in the ways people text it.
pub fn is_yes(text: &str) -> bool {
    matches!(
        normalise(text).as_str(),
        "yes"
            | "y"
            | "yep"
            | "yeah"
            | "yes please"
            | "ok"
            | "okay"
            | "confirm"
            | "sure"
            | "oui"
            | "o"
            | "ouais"
            | "confirme"
            | "confirmer"
            | "d'accord"
            | "daccord"
            | "ok go"
            | "go"
    )
}

pub fn is_no(text: &str) -> bool {
    matches!(
        normalise(text).as_str(),
        "no" | "n" | "nope" | "cancel" | "stop it" | "non" | "annule" | "annuler" | "laisse tomber"
    )
}

fn short_code() -> String {
    let mut rng = rand::rng();
    // No 0/O or 1/I: codes are read on small screens.
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    format!(
        "{}{}",
        LETTERS[rng.random_range(0..LETTERS.len())] as char,
        rng.random_range(2..10)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_calls_round_trip_through_a_pending_action() {
        let calls = vec![
            HeldCall {
                name: "cancel_reminder".into(),
                args: json!({"query": "a"}),
            },
            HeldCall {
                name: "remove_list_items".into(),
                args: json!({"items": ["milk"]}),
            },
        ];
        let (tool_name, arguments) = to_pending(&calls);
        let pending = PendingAction {
            id: uuid::Uuid::nil(),
            tool_name,
            arguments,
            summary: String::new(),
            short_code: "A2".into(),
            expires_at: Utc::now(),
        };
        assert_eq!(from_pending(&pending), Some(calls.clone()));
        let (tool_name, arguments) = to_pending(&calls[..1]);
        assert_eq!(tool_name, "cancel_reminder");
        let one = PendingAction {
            tool_name,
            arguments,
            ..pending.clone()
        };
        assert_eq!(from_pending(&one).unwrap(), calls[..1]);
        let broken = PendingAction {
            tool_name: BATCH.into(),
            arguments: json!({"calls": "nope"}),
            ..pending
        };
        assert_eq!(from_pending(&broken), None);
    }

    #[test]
    fn many_confirmations_become_a_count() {
        let say = Wording { french: false };
        let four: Vec<String> = (0..4).map(|i| format!("Cancelled: {i}.")).collect();
        assert_eq!(confirmed_reply(4, &four, 0, say), "Done: 4 changes.");
        assert_eq!(
            confirmed_reply(2, &four[..1], 1, say),
            "Cancelled: 0. 1 of them couldn't be done."
        );
        assert!(confirmed_reply(2, &[], 2, say).starts_with("Sorry"));
    }
}
