//! `nudge admin llm check`: one tiny real request through each configured
//! provider, in chain order, with the model check first. Prints provider,
//! model, whether the provider serves the model, latency, tokens in and out
//! and the estimated cost; exits 1 when the first provider fails, since
//! then every turn runs on a fallback. Needs no database.

use std::time::Instant;

use clap::Subcommand;
use serde_json::json;

use super::AdminError;
use super::output::{Output, Rendered};
use crate::agent::llm::chain::BreakerSettings;
use crate::agent::llm::{LlmClient, LlmRequest, Message, ModelCheckError, TurnContext, prices};
use crate::config::Config;
use crate::store::Locale;

#[derive(Debug, Subcommand)]
pub enum LlmCommand {
    /// Send one tiny real request through each configured provider.
    Check,
}

/// One provider's line of the report.
struct Line {
    provider: String,
    model: String,
    model_check: String,
    outcome: Result<(), String>,
    latency_ms: u128,
    input_tokens: u32,
    output_tokens: u32,
    cost_micros: Option<u64>,
}

pub async fn execute(config: &Config, command: LlmCommand, out: &Output) -> Result<(), AdminError> {
    let LlmCommand::Check = command;
    let chain = crate::agent::llm_chain_from_config(
        config,
        reqwest::Client::new(),
        &BreakerSettings::default(),
    )?;
    let request = LlmRequest {
        system: "You are a connectivity check. Reply with the single word OK.".into(),
        messages: vec![Message::user_text("Say OK.")],
        tools: Vec::new(),
        context: TurnContext {
            now: chrono::Utc::now(),
            timezone: chrono_tz::UTC,
            locale: Locale::En,
        },
    };
    let mut lines = Vec::new();
    for client in chain.clients() {
        lines.push(check_one(client.as_ref(), &request).await);
    }
    let first_failure = lines.first().and_then(|l| {
        l.outcome
            .as_ref()
            .err()
            .map(|e| (l.provider.clone(), e.clone()))
    });
    out.print(render(&lines));
    match first_failure {
        Some((provider, why)) => Err(AdminError::Failed(anyhow::anyhow!(
            "the first provider ({provider}) failed: {why}"
        ))),
        None => Ok(()),
    }
}

async fn check_one(client: &dyn LlmClient, request: &LlmRequest) -> Line {
    let checks = client.check_models().await;
    let model_check = match checks.first() {
        None => "-".to_owned(),
        Some(Ok(_)) => "served".to_owned(),
        Some(Err(ModelCheckError::Unknown { message, .. })) => format!("NOT SERVED: {message}"),
        Some(Err(ModelCheckError::Unreachable { message, .. })) => {
            format!("unchecked: {message}")
        }
    };
    let started = Instant::now();
    let result = client.generate(request).await;
    let latency_ms = started.elapsed().as_millis();
    let model = client.model().to_owned();
    match result {
        Ok(response) => {
            let remote = response.provider != crate::agent::llm::offline::PROVIDER;
            Line {
                provider: client.provider().to_owned(),
                cost_micros: match remote {
                    true => prices::cost_micros(&response.model, response.usage),
                    false => Some(0),
                },
                model: response.model,
                model_check,
                outcome: Ok(()),
                latency_ms,
                input_tokens: response.usage.input_tokens,
                output_tokens: response.usage.output_tokens,
            }
        }
        Err(e) => Line {
            provider: client.provider().to_owned(),
            model,
            model_check,
            outcome: Err(e.to_string()),
            latency_ms,
            input_tokens: 0,
            output_tokens: 0,
            cost_micros: None,
        },
    }
}

fn dollars(micros: Option<u64>) -> String {
    match micros {
        Some(m) => format!("${:.6}", m as f64 / 1_000_000.0),
        None => "unknown".into(),
    }
}

fn render(lines: &[Line]) -> Rendered {
    let json = json!(
        lines
            .iter()
            .map(|l| json!({
                "provider": l.provider,
                "model": l.model,
                "model_check": l.model_check,
                "ok": l.outcome.is_ok(),
                "error": l.outcome.as_ref().err(),
                "latency_ms": l.latency_ms,
                "input_tokens": l.input_tokens,
                "output_tokens": l.output_tokens,
                "estimated_cost_micros": l.cost_micros,
            }))
            .collect::<Vec<_>>()
    );
    let rows = lines
        .iter()
        .map(|l| {
            vec![
                l.provider.clone(),
                l.model.clone(),
                l.model_check.clone(),
                match &l.outcome {
                    Ok(()) => "ok".to_owned(),
                    Err(e) => format!("FAILED: {e}"),
                },
                format!("{} ms", l.latency_ms),
                l.input_tokens.to_string(),
                l.output_tokens.to_string(),
                dollars(l.cost_micros),
            ]
        })
        .collect();
    Rendered::table(
        json,
        vec![
            "PROVIDER",
            "MODEL",
            "MODEL CHECK",
            "ANSWER",
            "LATENCY",
            "TOKENS IN",
            "TOKENS OUT",
            "EST. COST",
        ],
        rows,
    )
}
