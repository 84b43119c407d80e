//! The agent: planner, runner, conversation, memory, language models and
//! tools. `Agent::handle_text` is one turn: store the message, plan, call
//! the model and tools, store and return the reply.

pub mod calendar_offer;
pub mod conversation;
pub mod focus_replies;
pub mod llm;
pub mod planner;
pub mod reminder_replies;
pub mod runner;
pub mod tools;

pub use runner::{Agent, AgentError, MAX_UNCONFIRMED_REMOVALS, TurnBudget, TurnEnd, TurnOutcome};

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Config;
use llm::LlmClient;
use llm::chain::{BreakerSettings, LlmChain};
use llm::gemini::{GeminiClient, GeminiSettings};
use llm::offline::OfflinePlanner;
use llm::openai::{OpenAiCompatibleClient, OpenAiSettings};

/// The chain the configuration asks for: Gemini when `GEMINI_API_KEY` is
/// set, then the OpenAI-compatible fallback when configured, then the
/// offline planner.
pub fn llm_chain_from_config(
    config: &Config,
    http: reqwest::Client,
    breakers: &BreakerSettings,
) -> anyhow::Result<LlmChain> {
    let mut remote: Vec<Arc<dyn LlmClient>> = Vec::new();
    if let Some(settings) = GeminiSettings::from_config(&config.llm)? {
        remote.push(Arc::new(GeminiClient::new(settings, http.clone())?));
    }
    if let Some(settings) = OpenAiSettings::from_config(&config.llm) {
        remote.push(Arc::new(OpenAiCompatibleClient::new(settings, http)?));
    }
    let chain = LlmChain::new(remote, Arc::new(OfflinePlanner::new()), breakers)
        .with_remote_budget(config.llm.remote_budget);
    Ok(match config.llm.provider_deadline {
        Some(cap) => chain.with_provider_cap(cap),
        None => chain,
    })
}

/// An agent wired as configured, on the application-role pool. `http` is
/// shared by every provider client: building a client loads the system's
/// TLS roots (~20 ms each), and one connection pool serves them all.
pub fn agent_from_config(
    config: &Config,
    pool: PgPool,
    http: reqwest::Client,
) -> anyhow::Result<Agent> {
    let chain = llm_chain_from_config(config, http.clone(), &BreakerSettings::default())?;
    let budget = TurnBudget {
        daily_tokens: config.llm.daily_token_budget,
        daily_cost_micros: config.llm.daily_cost_budget_micros,
        ..TurnBudget::default()
    };
    // The connect/disconnect tools need the OAuth service; without its keys
    // they answer that connecting is not set up here.
    let oauth = crate::oauth::OAuthService::from_config(config, pool.clone(), http.clone())
        .map_err(|why| anyhow::anyhow!("OAuth is misconfigured: {why}"))?;
    // Export links are signed with the connect links' keys.
    let export_links = crate::privacy::ExportLinks::from_config(config)
        .map_err(|why| anyhow::anyhow!("CONNECT_LINK_KEYS: {why}"))?;
    let integrations =
        crate::integrations::Integrations::new(oauth, config.integrations.clone(), http.clone());
    Ok(Agent::new(
        pool,
        Arc::new(chain),
        Arc::new(
            tools::ToolRegistry::with_providers(integrations)
                .with_privacy(export_links, config.account_deletion_grace)
                .with_knowledge(crate::knowledge::online::QueryEmbedder::from_config(
                    config, http,
                )),
        ),
        budget,
    ))
}
