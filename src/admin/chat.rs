//! `nudge admin chat`: talk to the agent as a person, from the terminal,
//! with the configured LLM chain (the offline planner when no key is set).
//! The agent runs on the application role, under row-level security, as it
//! does for SMS; without an application-role URL the chat is refused rather
//! than run on the owner connection. Its messages are on the `console`
//! channel: never texted, never swept.

use std::io::{BufRead, Write};

use clap::Args;
use secrecy::SecretString;
use sqlx::PgPool;

use serde_json::json;

use super::{AdminError, resolve_user};
use crate::agent::agent_from_config;
use crate::config::Config;
use crate::db;
use crate::store::UserId;
use crate::store::{Actor, record_audit};

#[derive(Debug, Args)]
pub struct ChatCommand {
    /// User id or phone number.
    #[arg(long)]
    pub user: String,
    /// Send one message, print the reply, exit.
    #[arg(long)]
    pub message: Option<String>,
}

pub async fn run(config: &Config, owner: &PgPool, cmd: ChatCommand) -> Result<(), AdminError> {
    let user = resolve_user(owner, &cmd.user).await?;
    let app_pool = match app_url(config) {
        Some(url) => db::connect_pool(db::connect_options(&url).map_err(anyhow::Error::from)?, 4)
            .await
            .map_err(|e| {
                AdminError::Failed(anyhow::anyhow!("cannot connect with DATABASE_URL: {e}"))
            })?,
        // The owner bypasses row-level security: a chat never runs on it.
        None => {
            return Err(AdminError::Refused(
                "admin chat runs as the application role: set DATABASE_URL, or start `nudge dev`"
                    .into(),
            ));
        }
    };
    let agent = agent_from_config(config, app_pool, reqwest::Client::new())?;
    // Talking as the person reads and changes their data: audited once per
    // session, before the first turn.
    let mut conn = owner.acquire().await?;
    record_audit(&mut conn, Some(user), Actor::Admin, "chat", json!({})).await?;
    drop(conn);
    match cmd.message {
        Some(message) => {
            println!("{}", turn(&agent, user, &message).await?);
            Ok(())
        }
        None => interactive(&agent, user).await,
    }
}

async fn turn(agent: &crate::agent::Agent, user: UserId, text: &str) -> Result<String, AdminError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AdminError::Refused("the message is empty".into()));
    }
    match agent.handle_text(user, text).await {
        Ok(outcome) => Ok(outcome.reply),
        Err(crate::agent::AgentError::DisabledUser) => {
            Err(AdminError::Refused("this user is disabled".into()))
        }
        Err(e) => Err(AdminError::Failed(anyhow::anyhow!(e))),
    }
}

async fn interactive(agent: &crate::agent::Agent, user: UserId) -> Result<(), AdminError> {
    eprintln!("Chatting as {user}. Ctrl-D or /quit to leave.");
    let stdin = std::io::stdin();
    loop {
        eprint!("you> ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        match stdin.lock().read_line(&mut line) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(AdminError::Failed(e.into())),
        }
        let line = line.trim();
        if line == "/quit" {
            return Ok(());
        }
        if line.is_empty() {
            continue;
        }
        match turn(agent, user, line).await {
            Ok(reply) => println!("nudge> {reply}"),
            Err(e) => eprintln!("error: {e}"),
        }
    }
}

/// The application-role URL: configured, or announced by a running `nudge dev`.
fn app_url(config: &Config) -> Option<SecretString> {
    if let Some(url) = &config.database_url {
        return Some(url.clone());
    }
    let env = std::fs::read_to_string(".nudge/dev.env").ok()?;
    env.lines()
        .find_map(|l| l.strip_prefix("DATABASE_URL="))
        .map(|u| SecretString::from(u.trim().to_string()))
}
