//! `nudge admin integrations …` and `nudge admin keys rotate`: connected
//! accounts as operators see them (never a token), disconnecting one, and
//! re-sealing every token with the newest key.

use clap::Subcommand;
use serde_json::json;

use super::output::Rendered;
use super::{AdminError, Operator, resolve_user};
use crate::config::Config;
use crate::oauth::rotate::{self, Rotated};
use crate::oauth::{OAuthService, Provider, Vault};
use crate::store::integrations::{self, Integration};
use crate::store::{Actor, UserId, admin_views, record_audit};

#[derive(Debug, Subcommand)]
pub enum IntegrationsCommand {
    /// Provider, scopes, status, expiry, last refresh and last error of
    /// one person's integrations (or everyone's).
    List {
        /// User id or one of their numbers; everyone when left out.
        user: Option<String>,
    },
    /// Revoke at the provider (where it can), delete the tokens.
    Disconnect {
        /// User id or one of their numbers.
        user: String,
        /// google, microsoft or notion.
        provider: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-seal every token with the newest key of TOKEN_ENCRYPTION_KEYS.
    /// Safe to interrupt and run again.
    Rotate {
        /// Rows per transaction.
        #[arg(long, default_value_t = 100)]
        batch: i64,
    },
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}

fn row(user: Option<UserId>, i: &Integration) -> Vec<String> {
    let mut r = Vec::new();
    if let Some(u) = user {
        r.push(u.to_string());
    }
    r.extend([
        i.provider.clone(),
        i.scopes.join(" "),
        i.status.clone(),
        time(i.expires_at),
        time(i.last_refresh_at),
        i.last_error.clone().unwrap_or_else(|| "-".into()),
    ]);
    r
}

pub async fn execute(
    op: &Operator,
    config: &Config,
    command: IntegrationsCommand,
) -> Result<Rendered, AdminError> {
    match command {
        IntegrationsCommand::List { user: Some(user) } => {
            let id = resolve_user(&op.pool, &user).await?;
            let mut tx = op.scoped_read(id, "integrations.list").await?;
            let list = integrations::list(&mut tx).await?;
            tx.commit().await?;
            let rows = list.iter().map(|i| row(None, i)).collect();
            Ok(Rendered::table(
                json!(list),
                vec![
                    "provider",
                    "scopes",
                    "status",
                    "expires",
                    "last refresh",
                    "last error",
                ],
                rows,
            ))
        }
        IntegrationsCommand::List { user: None } => {
            op.audit_view("integrations.list", json!({})).await?;
            // Across people: the owner role, which reads every row; no
            // token column is selected.
            let users = admin_views::people_with_integrations(&op.pool).await?;
            let mut all = Vec::new();
            let mut rows = Vec::new();
            for id in users {
                let mut tx = op.scoped(id).await?;
                for i in integrations::list(&mut tx).await? {
                    rows.push(row(Some(id), &i));
                    all.push(json!({ "user": id, "integration": i }));
                }
                tx.commit().await?;
            }
            Ok(Rendered::table(
                json!(all),
                vec![
                    "user",
                    "provider",
                    "scopes",
                    "status",
                    "expires",
                    "last refresh",
                    "last error",
                ],
                rows,
            ))
        }
        IntegrationsCommand::Disconnect { user, provider } => {
            let provider: Provider =
                provider
                    .parse()
                    .map_err(|e: crate::oauth::providers::UnknownProvider| {
                        AdminError::Refused(e.to_string())
                    })?;
            let id = resolve_user(&op.pool, &user).await?;
            let service =
                OAuthService::from_config(config, op.pool.clone(), reqwest::Client::new())
                    .map_err(AdminError::Refused)?
                    .ok_or_else(|| {
                        AdminError::Refused(
                            "TOKEN_ENCRYPTION_KEYS and CONNECT_LINK_KEYS are not set".into(),
                        )
                    })?;
            let begin = async || {
                op.scoped(id)
                    .await
                    .map_err(|e| crate::store::StoreError::Conflict(e.to_string()))
            };
            match service.disconnect(begin, provider, Actor::Admin).await? {
                Some(revocation) => Ok(Rendered::message(
                    json!({ "user": id, "provider": provider.as_str(), "revocation": revocation }),
                    format!("disconnected {provider} for user {id} (revocation: {revocation:?})"),
                )),
                None => Err(AdminError::Refused(format!(
                    "user {id} has no {provider} connection"
                ))),
            }
        }
    }
}

pub async fn keys(
    op: &Operator,
    config: &Config,
    command: KeysCommand,
) -> Result<Rendered, AdminError> {
    let KeysCommand::Rotate { batch } = command;
    let raw = config
        .token_encryption_keys
        .as_ref()
        .ok_or_else(|| AdminError::Refused("TOKEN_ENCRYPTION_KEYS is not set".into()))?;
    let vault = Vault::from_config(raw).map_err(|e| AdminError::Refused(e.to_string()))?;
    let done: Rotated = rotate::rotate_all(&op.pool, &vault, batch.clamp(1, 10_000), |_| {})
        .await
        .map_err(|e| AdminError::Failed(anyhow::anyhow!("{e}")))?;
    let mut conn = op.pool.acquire().await?;
    record_audit(
        &mut conn,
        None,
        Actor::Admin,
        "keys.rotate",
        json!({ "key_id": vault.current_key_id(), "tokens": done.tokens, "states": done.states, "unreadable": done.unreadable }),
    )
    .await?;
    Ok(Rendered::message(
        json!(done),
        format!(
            "re-sealed {} token rows and {} states with key {}{}",
            done.tokens,
            done.states,
            vault.current_key_id(),
            if done.unreadable > 0 {
                format!(
                    "; {} rows use a key no longer listed and were left as they are",
                    done.unreadable
                )
            } else {
                String::new()
            }
        ),
    ))
}
