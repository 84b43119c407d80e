//! Confirmed actions that call a provider (an event deleted, an
//! invitation sent), and the questions that describe them. The person's
//! "yes" is committed first; then each call runs with no transaction open
//! — a provider call never holds a database connection — and a local call
//! of the same action runs in a short transaction of its own. At most
//! once: a crash between the "yes" and the call loses the action rather
//! than repeating it (the person can ask again; a repeated invitation or
//! deletion cannot be taken back).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::confirm::{HeldCall, confirmed_reply, from_pending};
use super::execute::{ToolRun, failed};
use super::{Agent, AgentError};
use crate::agent::tools::{Integration, RemoteContext, ToolContext, Wording};
use crate::db::UserTx;
use crate::store::{PendingAction, User};

impl Agent {
    /// Whether a pending action holds a call to a provider.
    pub(super) fn calls_providers(&self, pending: &PendingAction) -> bool {
        from_pending(pending).is_some_and(|calls| {
            calls
                .iter()
                .any(|c| self.registry.get(&c.name).is_some_and(|t| t.remote()))
        })
    }

    /// Each held call's description read from its provider, when it is a
    /// remote tool that can say more than its arguments.
    pub(super) async fn describe_remote_held(
        &self,
        user: &User,
        connected: &HashSet<Integration>,
        calls: &[HeldCall],
        now: DateTime<Utc>,
        say: Wording,
    ) -> Vec<Option<String>> {
        let ctx = RemoteContext {
            pool: &self.pool,
            user,
            tz: user.tz(),
            now,
            say,
            connected,
        };
        let mut described = Vec::with_capacity(calls.len());
        for call in calls {
            let text = match self.registry.get(&call.name) {
                Some(tool) if tool.remote() => {
                    let ask = tool.describe_remote(&ctx, &call.args);
                    tokio::time::timeout(self.budget.tool_timeout, ask)
                        .await
                        .ok()
                        .flatten()
                }
                _ => None,
            };
            described.push(text);
        }
        described
    }

    /// Runs a confirmed action whose "yes" is already committed.
    pub(super) async fn run_confirmed_remote(
        &self,
        user: &User,
        pending: &PendingAction,
        connected: &HashSet<Integration>,
        now: DateTime<Utc>,
        say: Wording,
    ) -> Result<String, AgentError> {
        let Some(calls) = from_pending(pending) else {
            return Ok(say.pick(
                "That request can no longer run as it was asked, so nothing was changed. Could you ask again?",
                "Cette demande ne peut plus s'exécuter telle quelle, donc rien n'a changé. Peux-tu la refaire ?",
            ));
        };
        let ctx = RemoteContext {
            pool: &self.pool,
            user,
            tz: user.tz(),
            now,
            say,
            connected,
        };
        let mut confirmations = Vec::new();
        let mut failures = 0usize;
        for call in &calls {
            let tool = match self.registry.validate(&call.name, &call.args, connected) {
                Ok(tool) => tool,
                Err(e) => {
                    tracing::warn!(tool = %call.name, error = %e, "stored pending action no longer valid");
                    failures += 1;
                    continue;
                }
            };
            let ran = if tool.remote() {
                tokio::time::timeout(
                    self.budget.tool_timeout,
                    tool.call_remote(&ctx, call.args.clone()),
                )
                .await
            } else {
                let mut tx = UserTx::begin(&self.pool, user.id).await?;
                let ran = {
                    let mut local = ToolContext {
                        tx: &mut tx,
                        user,
                        tz: user.tz(),
                        now,
                        say,
                    };
                    tokio::time::timeout(
                        self.budget.tool_timeout,
                        tool.call(&mut local, call.args.clone()),
                    )
                    .await
                };
                match &ran {
                    Ok(Ok(_)) => tx.commit().await?,
                    _ => tx.rollback().await?,
                }
                ran
            };
            match ran {
                Ok(Ok(value)) => {
                    if let Some(c) = value.get("confirmation").and_then(Value::as_str) {
                        confirmations.push(c.to_string());
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!(tool = %call.name, error = %e, "confirmed action failed");
                    failures += 1;
                    // Over a limit: the person learns which, in their words.
                    if let (ToolRun::Refused { reply, .. }, _) = failed(e, say) {
                        confirmations.push(reply);
                    }
                }
                Err(_) => {
                    tracing::warn!(tool = %call.name, "confirmed action timed out");
                    failures += 1;
                }
            }
        }
        Ok(confirmed_reply(calls.len(), &confirmations, failures, say))
    }
}
