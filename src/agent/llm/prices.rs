//! What model calls cost: one table of list prices, per model, in US
//! dollars per million tokens, as Google's Gemini API pricing page gave
//! them on [`CHECKED`] (paid tier, prompts up to 200k tokens, text). Output
//! prices include thinking tokens, which Gemini bills as output and which
//! [`Usage::output_tokens`] already counts.
//!
//! Estimates feed `llm_estimated_cost_micros_total{provider,model}`
//! (millionths of a dollar) and `nudge admin llm check`. A model missing
//! from the table costs nothing here, which the check prints as "unknown"
//! so an operator knows to add it.

use super::Usage;

/// When the prices below were last compared with the provider's page.
pub const CHECKED: &str = "2026-11-29";

/// List price of one model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    /// USD per 1M input tokens.
    pub input_per_million: f64,
    /// USD per 1M output tokens (thinking included).
    pub output_per_million: f64,
}

/// Model name → price. Names match exactly, or as the prefix of a dated
/// or suffixed variant (`gemini-3.5-flash-lite-001`). Longest match wins.
const PRICES: &[(&str, Price)] = &[
    // Launch price until 2026-12-31; $1.50 / $7.50 from 2027-01-01.
    ("gemini-3.8-flash", price(0.75, 3.75)),
    ("gemini-3.7-flash", price(0.75, 3.75)),
    ("gemini-3.5-flash", price(1.50, 9.00)),
    ("gemini-3.5-flash-lite", price(0.30, 2.50)),
    ("gemini-3.1-flash-lite", price(0.25, 1.50)),
    ("gemini-3.1-pro-preview", price(2.00, 12.00)),
    ("gemini-2.5-flash", price(0.30, 2.50)),
    ("gemini-2.5-flash-lite", price(0.10, 0.40)),
    ("gemini-2.5-pro", price(1.25, 10.00)),
];

const fn price(input_per_million: f64, output_per_million: f64) -> Price {
    Price {
        input_per_million,
        output_per_million,
    }
}

/// The listed price of `model`, if the table has it.
pub fn price_of(model: &str) -> Option<Price> {
    let model = model.strip_prefix("models/").unwrap_or(model);
    PRICES
        .iter()
        .filter(|(name, _)| {
            model == *name
                || model
                    .strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('-') && !is_family_suffix(rest))
        })
        .max_by_key(|(name, _)| name.len())
        .map(|(_, price)| *price)
}

/// `-lite`, `-pro`, `-image`…: another model of the family, not a version
/// of this one.
fn is_family_suffix(rest: &str) -> bool {
    let next = rest.trim_start_matches('-');
    next.starts_with(|c: char| c.is_ascii_alphabetic())
        && !next.starts_with("preview")
        && !next.starts_with("latest")
}

/// Estimated cost in millionths of a dollar, `None` for an unpriced model.
pub fn cost_micros(model: &str, usage: Usage) -> Option<u64> {
    cost_micros_of(
        model,
        u64::from(usage.input_tokens),
        u64::from(usage.output_tokens),
    )
}

/// [`cost_micros`] of token counts summed over many calls (a day's usage).
pub fn cost_micros_of(model: &str, input_tokens: u64, output_tokens: u64) -> Option<u64> {
    let price = price_of(model)?;
    // USD per million tokens is exactly micro-dollars per token.
    let micros = input_tokens as f64 * price.input_per_million
        + output_tokens as f64 * price.output_per_million;
    Some(micros.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u32, output: u32) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            total_tokens: input + output,
        }
    }

    #[test]
    fn a_one_tool_turn_costs_a_fraction_of_a_cent() {
        // Two calls of ~2,000 prompt tokens, ~150 output tokens each.
        let turn = usage(4_000, 300);
        assert_eq!(cost_micros("gemini-3.5-flash-lite", turn), Some(1_950));
        assert_eq!(cost_micros("gemini-3.8-flash", turn), Some(4_125));
    }

    #[test]
    fn names_match_exactly_or_as_a_version_never_as_a_sibling() {
        assert_eq!(
            price_of("models/gemini-3.5-flash-lite"),
            Some(price(0.30, 2.50))
        );
        assert_eq!(
            price_of("gemini-3.5-flash-lite-001"),
            Some(price(0.30, 2.50))
        );
        assert_eq!(price_of("gemini-3.5-flash"), Some(price(1.50, 9.00)));
        assert_eq!(
            price_of("gemini-3.5-flash-preview-09-2026"),
            Some(price(1.50, 9.00))
        );
        // A sibling model is not priced as its family's flagship.
        assert_eq!(price_of("gemini-3.5-flash-image"), None);
        assert_eq!(price_of("llama-3.2-1b-instruct"), None);
        assert_eq!(cost_micros("mystery", usage(1, 1)), None);
    }
}
