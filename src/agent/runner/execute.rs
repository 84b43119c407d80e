//! Running one tool call: in its own user-scoped transaction, with a
//! timeout, its journal step written in that same transaction (so the
//! effect and the record of it commit together), and every failure turned
//! into a result the model can read — a limit into the short answer the
//! person gets, a constraint violation into a clear validation message,
//! never "internal error" for the person's own input.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::journal::Journal;
use super::{Agent, AgentError};
use crate::agent::tools::limits::TextField;
use crate::agent::tools::{
    Integration, RemoteContext, Tool, ToolContext, ToolError, Wording, untrusted,
};
use crate::db::UserTx;
use crate::store::{StoreError, User, UserId};

/// What a call came to.
pub(super) enum ToolRun {
    /// Ran and committed, or replayed from the journal.
    Done(Value),
    /// Changed nothing; the error goes back to the model.
    Failed(Value),
    /// The person's input is over a limit: the error goes back to the
    /// model, and the turn answers with `reply`.
    Refused { result: Value, reply: String },
}

impl ToolRun {
    pub(super) fn into_result(self) -> Value {
        match self {
            ToolRun::Done(v) | ToolRun::Failed(v) | ToolRun::Refused { result: v, .. } => v,
        }
    }
}

/// Where a call sits in the turn: its journal, model call and position.
pub(super) struct CallSite<'a> {
    pub journal: &'a mut Journal,
    pub round: u32,
    pub index: u32,
}

/// One call to run.
pub(super) struct Call<'a> {
    pub name: &'a str,
    pub tool: Arc<dyn Tool>,
    pub args: &'a Value,
    pub connected: &'a HashSet<Integration>,
}

impl Agent {
    /// Runs one tool in its own transaction: committed with its journal
    /// step on success, rolled back on error or timeout; either way the
    /// model gets a result. A call the journal already holds is replayed.
    #[tracing::instrument(name = "agent.tool", skip_all, fields(tool = %call.name, replayed))]
    pub(super) async fn run_tool(
        &self,
        user_id: UserId,
        user: &User,
        call: Call<'_>,
        now: DateTime<Utc>,
        say: Wording,
        site: CallSite<'_>,
    ) -> Result<ToolRun, AgentError> {
        if let Some(result) = site
            .journal
            .replayed_result(site.round, site.index, call.name)
        {
            tracing::Span::current().record("replayed", true);
            metrics::counter!("agent_tool_calls_total", "tool" => call.name.to_string(), "outcome" => "replayed").increment(1);
            return Ok(ToolRun::Done(result));
        }
        if call.tool.remote() {
            return self.run_remote(user_id, user, call, now, say, site).await;
        }
        let mut tx = UserTx::begin_deferred(&self.pool, user_id).await?;
        let ran = {
            let mut ctx = ToolContext {
                tx: &mut tx,
                user,
                tz: user.tz(),
                now,
                say,
            };
            tokio::time::timeout(
                self.budget.tool_timeout,
                call.tool.call(&mut ctx, call.args.clone()),
            )
            .await
        };
        let (run, outcome) = match ran {
            Ok(Ok(value)) => {
                site.journal
                    .record(
                        &mut tx, site.round, site.index, call.name, call.args, &value,
                    )
                    .await?;
                tx.commit().await?;
                site.journal.committed(site.round);
                (ToolRun::Done(value), "ok")
            }
            Ok(Err(e)) => {
                tx.rollback().await?;
                failed(e, say)
            }
            Err(_) => {
                tx.rollback().await?;
                (
                    ToolRun::Failed(
                        json!({"error": "the tool took too long; nothing was changed"}),
                    ),
                    "timeout",
                )
            }
        };
        metrics::counter!("agent_tool_calls_total", "tool" => call.name.to_string(), "outcome" => outcome).increment(1);
        Ok(run)
    }
}

impl Agent {
    /// Runs a tool that calls a provider: no transaction while it runs;
    /// its result (wrapped as untrusted data when it carries others'
    /// words) is journaled afterwards in a short transaction of its own.
    async fn run_remote(
        &self,
        user_id: UserId,
        user: &User,
        call: Call<'_>,
        now: DateTime<Utc>,
        say: Wording,
        site: CallSite<'_>,
    ) -> Result<ToolRun, AgentError> {
        let ctx = RemoteContext {
            pool: &self.pool,
            user,
            tz: user.tz(),
            now,
            say,
            connected: call.connected,
        };
        let ran = tokio::time::timeout(
            self.budget.tool_timeout,
            call.tool.call_remote(&ctx, call.args.clone()),
        )
        .await;
        let (run, outcome) = match ran {
            Ok(Ok(value)) => {
                let value = match call.tool.reads_untrusted() {
                    Some(source) => untrusted::wrap(source, &value),
                    None => value,
                };
                let mut tx = UserTx::begin_deferred(&self.pool, user_id).await?;
                site.journal
                    .record(
                        &mut tx, site.round, site.index, call.name, call.args, &value,
                    )
                    .await?;
                tx.commit().await?;
                site.journal.committed(site.round);
                (ToolRun::Done(value), "ok")
            }
            Ok(Err(e)) => failed(e, say),
            Err(_) => (
                ToolRun::Failed(json!({"error": "the provider did not answer in time"})),
                "timeout",
            ),
        };
        metrics::counter!("agent_tool_calls_total", "tool" => call.name.to_string(), "outcome" => outcome).increment(1);
        Ok(run)
    }
}

/// A tool's error as the model (and, for limits, the person) sees it, and
/// its metric label.
pub(super) fn failed(e: ToolError, say: Wording) -> (ToolRun, &'static str) {
    let invalid = |reason: String| (ToolRun::Failed(json!({"error": reason})), "invalid");
    let refused = |reply: String| {
        (
            ToolRun::Refused {
                result: json!({"error": reply}),
                reply,
            },
            "refused",
        )
    };
    let refusal = match &e {
        ToolError::Store(StoreError::Database(db)) => refused_by_schema(db),
        _ => None,
    };
    if let Some((constraint, code)) = refusal {
        // The constraint's name, never the row: a "Failing row" detail
        // would carry the person's words.
        tracing::warn!(constraint, code, "a limit slipped past the tool's checks");
        return match TextField::from_constraint(constraint) {
            Some(field) => refused(field.too_long(say)),
            None => invalid(
                "a value is too long or out of range for what can be saved; nothing was changed"
                    .into(),
            ),
        };
    }
    match e {
        ToolError::Invalid(reason) => invalid(reason),
        ToolError::Limit(reply) => refused(reply),
        ToolError::Provider(reason) => (ToolRun::Failed(json!({"error": reason})), "provider"),
        ToolError::Store(StoreError::NotFound) => invalid("not found".into()),
        ToolError::Store(StoreError::Conflict(reason)) => invalid(reason),
        ToolError::Store(e) => {
            tracing::error!(error = %e, "tool failed");
            (
                ToolRun::Failed(
                    json!({"error": "internal error while saving; nothing was changed"}),
                ),
                "error",
            )
        }
    }
}

/// The constraint (or "") and SQLSTATE of an error caused by the data
/// itself — a CHECK, a value too long or out of range — rather than by
/// the database being unwell.
fn refused_by_schema(e: &sqlx::Error) -> Option<(&str, &'static str)> {
    let sqlx::Error::Database(db) = e else {
        return None;
    };
    let code = match db.code().as_deref() {
        Some("23514") => "23514", // check_violation
        Some("23502") => "23502", // not_null_violation
        Some("22001") => "22001", // string_data_right_truncation
        Some("22003") => "22003", // numeric_value_out_of_range
        Some("22007") => "22007", // invalid_datetime_format
        Some("22008") => "22008", // datetime_field_overflow
        _ => return None,
    };
    Some((db.constraint().unwrap_or(""), code))
}
