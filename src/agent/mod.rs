//! The agent: planner, runner, conversation, memory, language models and
//! tools. `Agent::handle_text` is one turn: store the message, plan, call
//! the model and tools, store and return the reply.

pub mod conversation;
pub mod llm;
pub mod planner;
pub mod runner;
pub mod tools;

pub use runner::{Agent, AgentError, TurnBudget, TurnEnd, TurnOutcome};
