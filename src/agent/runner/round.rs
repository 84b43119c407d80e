//! One round of the model/tool loop: the model asked for calls; each is
//! planned (run, held for a "yes", or answered with an error), run through
//! the journal, and answered. A held call or an input over a limit ends the
//! turn with a question instead.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Agent;
use super::confirm::{self, HeldAt, HeldCall, Plan};
use super::execute::{Call, CallSite, ToolRun};
use super::journal::Journal;
use super::turn::{AgentError, Turn, TurnEnd};
use crate::agent::llm::{FunctionCall, FunctionResponse, Part};
use crate::agent::planner::TurnFacts;
use crate::agent::tools::Wording;
use crate::store::UserId;

/// Who and when a round runs for.
pub(super) struct Round<'a> {
    pub user_id: UserId,
    pub facts: &'a TurnFacts,
    pub now: DateTime<Utc>,
    pub say: Wording,
    /// Which model call of the turn this round answers.
    pub index: u32,
}

/// How a round ended.
pub(super) enum RoundEnd {
    /// Every call answered: these go back to the model.
    Continue(Vec<Part>),
    /// The turn ends here with this reply.
    Stop(String, TurnEnd),
}

impl Agent {
    pub(super) async fn run_round(
        &self,
        round: Round<'_>,
        calls: &[FunctionCall],
        turn: &mut Turn,
        journal: &mut Journal,
        removed: &mut u32,
        confirmations: &mut Vec<String>,
    ) -> Result<RoundEnd, AgentError> {
        let planned = self.plan_round(calls, &round.facts.connected, turn, removed);
        let mut responses = Vec::with_capacity(calls.len());
        let mut held = Vec::new();
        let mut held_at = Vec::new();
        let mut asked = None;
        let mut refused = false;
        for (index, (call, plan)) in (0u32..).zip(calls.iter().zip(planned)) {
            let result = match plan {
                Plan::Error(result) => result,
                Plan::Hold => {
                    if let Some(q) = journal
                        .replayed_result(round.index, index, &call.name)
                        .and_then(|r| {
                            r.get("question")
                                .and_then(Value::as_str)
                                .map(str::to_string)
                        })
                    {
                        asked = Some(q);
                    }
                    held.push(HeldCall {
                        name: call.name.clone(),
                        args: call.args.clone(),
                    });
                    held_at.push(index);
                    confirm::held_result()
                }
                Plan::Run(tool) => {
                    let run = self
                        .run_tool(
                            round.user_id,
                            &round.facts.user,
                            Call {
                                name: &call.name,
                                tool,
                                args: &call.args,
                                connected: &round.facts.connected,
                            },
                            round.now,
                            round.say,
                            CallSite {
                                journal: &mut *journal,
                                round: round.index,
                                index,
                            },
                        )
                        .await?;
                    if let ToolRun::Refused { reply, .. } = &run {
                        confirmations.push(reply.clone());
                        refused = true;
                    }
                    let result = run.into_result();
                    if let Some(c) = result.get("confirmation").and_then(Value::as_str) {
                        confirmations.push(c.to_string());
                    }
                    result
                }
            };
            responses.push(Part::FunctionResponse(FunctionResponse {
                id: call.id.clone(),
                name: call.name.clone(),
                response: result,
            }));
        }
        if !held.is_empty() {
            let question = match asked {
                Some(question) => question,
                None => {
                    self.ask_confirmation(
                        &round.facts.user,
                        &round.facts.connected,
                        &held,
                        round.now,
                        round.say,
                        HeldAt {
                            journal: &mut *journal,
                            round: round.index,
                            indices: held_at,
                        },
                    )
                    .await?
                }
            };
            confirmations.push(question);
            return Ok(RoundEnd::Stop(
                confirmations.join(" "),
                TurnEnd::AwaitingConfirmation,
            ));
        }
        if refused {
            // The person's input is over a limit: they get the short
            // question, not a model's paraphrase of an error.
            return Ok(RoundEnd::Stop(
                confirmations.join(" "),
                TurnEnd::InputRefused,
            ));
        }
        Ok(RoundEnd::Continue(responses))
    }
}
