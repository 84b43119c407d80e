//! How much Gemini may think: the `GEMINI_THINKING_LEVEL` word or number,
//! and the `thinkingConfig` it becomes for each model generation.

use std::str::FromStr;

use super::wire::ThinkingConfig;

/// How much the model may think before answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thinking {
    /// Sent as `thinkingLevel` to Gemini 3 and later; translated into a
    /// budget for Gemini 2.x (see [`ThinkingLevel::budget`]).
    Level(ThinkingLevel),
    /// Sent as `thinkingBudget` to any model, as is (`-1` lets the model
    /// decide, `0` turns thinking off where the model allows it).
    Budget(i32),
}

impl Default for Thinking {
    fn default() -> Self {
        Thinking::Level(ThinkingLevel::Low)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThinkingLevel {
    Minimal,
    Low,
    Medium,
    High,
}

impl ThinkingLevel {
    fn as_str(self) -> &'static str {
        match self {
            ThinkingLevel::Minimal => "minimal",
            ThinkingLevel::Low => "low",
            ThinkingLevel::Medium => "medium",
            ThinkingLevel::High => "high",
        }
    }

    /// The Gemini 2.5 budget standing in for this level. 512 is the
    /// smallest budget every 2.5 model accepts (Pro cannot switch thinking
    /// off, Flash-Lite's floor is 512), so `minimal` and `low` share it.
    pub fn budget(self) -> i32 {
        match self {
            ThinkingLevel::Minimal | ThinkingLevel::Low => 512,
            ThinkingLevel::Medium => 2048,
            ThinkingLevel::High => 8192,
        }
    }
}

impl FromStr for Thinking {
    type Err = String;

    /// A level word (`minimal`, `low`, `medium`, `high`, any case) or an
    /// integer budget.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(budget) = s.parse::<i32>() {
            return Ok(Thinking::Budget(budget));
        }
        let level = match s.to_ascii_lowercase().as_str() {
            "minimal" => ThinkingLevel::Minimal,
            "low" => ThinkingLevel::Low,
            "medium" => ThinkingLevel::Medium,
            "high" => ThinkingLevel::High,
            _ => {
                return Err(format!(
                    "GEMINI_THINKING_LEVEL must be minimal, low, medium, high or an integer budget, not {s:?}"
                ));
            }
        };
        Ok(Thinking::Level(level))
    }
}

impl Thinking {
    /// The `thinkingConfig` for `model`. The rule, by model name:
    /// `gemini-1*` and `gemini-2.0*` do not think, so a level sends
    /// nothing; other `gemini-2*` (2.5) get the level's budget; everything
    /// else gets the level itself. A budget is always sent as is.
    pub(super) fn config_for(self, model: &str) -> Option<ThinkingConfig> {
        let model = model.strip_prefix("models/").unwrap_or(model);
        match self {
            Thinking::Budget(budget) => Some(ThinkingConfig {
                thinking_budget: Some(budget),
                thinking_level: None,
            }),
            Thinking::Level(_) if model.starts_with("gemini-1") => None,
            Thinking::Level(_) if model.starts_with("gemini-2.0") => None,
            Thinking::Level(level) if model.starts_with("gemini-2") => Some(ThinkingConfig {
                thinking_budget: Some(level.budget()),
                thinking_level: None,
            }),
            Thinking::Level(level) => Some(ThinkingConfig {
                thinking_budget: None,
                thinking_level: Some(level.as_str()),
            }),
        }
    }
}
