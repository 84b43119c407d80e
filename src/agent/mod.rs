//! The agent: planner, runner, conversation, memory, language models and tools.

pub mod llm;
pub mod tools;
