//! `nudge admin`: the operator CLI. It connects as the owner role
//! (`DATABASE_ADMIN_URL`), writes every change to `audit_log` with actor
//! `admin`, prints tables for people and `--json` for scripts, and exits 2
//! with a one-line reason when the operator's input is refused.
//!
//! Commands about one person run in that person's scope with the
//! application role's rights ([`Operator::scoped`]), so row-level security
//! applies to operators as it does to the application; only the views
//! across people (the list of people, missed reminders, dead jobs) read on
//! the owner role, and each such read is itself audited.

mod audit;
mod chat;
mod integrations;
mod jobs;
mod knowledge;
mod llm;
mod output;
mod phones;
mod privacy;
mod reminders;
mod sms;
mod users;

use std::process::ExitCode;

use clap::{Args, Subcommand};
use secrecy::SecretString;
use serde_json::json;
use sqlx::PgPool;

use crate::config::Config;
use crate::db::{self, AppRole, SessionRole, UserTx};
use crate::store::{Actor, PhoneNumber, StoreError, UserId, admin_views, record_audit};

pub use output::Output;

#[derive(Debug, Args)]
pub struct AdminCommand {
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: AdminSubcommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminSubcommand {
    /// Manage people.
    #[command(subcommand)]
    User(users::UserCommand),
    /// Manage phone numbers.
    #[command(subcommand)]
    Phone(phones::PhoneCommand),
    /// Talk to the agent as a user, from the terminal.
    Chat(chat::ChatCommand),
    /// Reminders: upcoming per person, and missed ones.
    #[command(subcommand)]
    Reminders(reminders::RemindersCommand),
    /// Dead jobs: list and retry.
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
    /// SMS tools for development.
    #[command(subcommand)]
    Sms(sms::SmsCommand),
    /// Language models: check each configured provider with a real request.
    #[command(subcommand)]
    Llm(llm::LlmCommand),
    /// The audit log, newest first (filter by person, time, action).
    Audit(audit::AuditCommand),
    /// Connected accounts (OAuth): list, disconnect.
    #[command(subcommand)]
    Integrations(integrations::IntegrationsCommand),
    /// The knowledge base (notes, Notion): sync, status, reindex, search.
    #[command(subcommand)]
    Knowledge(knowledge::KnowledgeCommand),
    /// Token encryption keys: rotate.
    #[command(subcommand)]
    Keys(integrations::KeysCommand),
}

/// Why an admin command did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The operator's input is refused: exit code 2.
    #[error("{0}")]
    Refused(String),
    /// Something else failed: exit code 1.
    #[error("{0:#}")]
    Failed(#[from] anyhow::Error),
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(why) => AdminError::Refused(why),
            StoreError::NotFound => AdminError::Refused("not found".into()),
            other => AdminError::Failed(other.into()),
        }
    }
}

impl From<sqlx::Error> for AdminError {
    fn from(e: sqlx::Error) -> Self {
        AdminError::Failed(db::redact(&e).into())
    }
}

impl AdminError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            AdminError::Refused(_) => ExitCode::from(2),
            AdminError::Failed(_) => ExitCode::FAILURE,
        }
    }
}

/// Runs one admin command and prints its result; returns the exit code.
pub async fn run(config: Config, cmd: AdminCommand) -> ExitCode {
    let out = Output::new(cmd.json);
    // Needs the server, not the database.
    if let AdminSubcommand::Sms(sms) = cmd.command {
        return match sms::execute(&config, sms).await {
            Ok(rendered) => {
                out.print(rendered);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("nudge admin: {e}");
                e.exit_code()
            }
        };
    }
    // Needs the providers, not the database.
    if let AdminSubcommand::Llm(command) = cmd.command {
        return match llm::execute(&config, command, &out).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("nudge admin: {e}");
                e.exit_code()
            }
        };
    }
    let pool = match connect(&config).await {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("nudge admin: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    if let AdminSubcommand::Chat(chat) = cmd.command {
        let result = chat::run(&config, &pool, chat).await;
        pool.close().await;
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("nudge admin: {e}");
                e.exit_code()
            }
        };
    }
    let operator = Operator {
        pool: pool.clone(),
        app_role: app_role(&config),
    };
    let result = match cmd.command {
        // These need the OAuth settings too.
        AdminSubcommand::Integrations(c) => integrations::execute(&operator, &config, c).await,
        AdminSubcommand::Keys(c) => integrations::keys(&operator, &config, c).await,
        AdminSubcommand::Knowledge(c) => knowledge::execute(&operator, &config, c).await,
        other => execute(&operator, other).await,
    };
    pool.close().await;
    match result {
        Ok(rendered) => {
            out.print(rendered);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nudge admin: {e}");
            e.exit_code()
        }
    }
}

/// What admin commands run with: the owner pool, and the application role
/// whose rights commands about one person take.
pub struct Operator {
    pub pool: PgPool,
    /// `None` when no `DATABASE_URL` names it: per-person commands refuse.
    pub app_role: Option<AppRole>,
}

impl Operator {
    /// A transaction in `user`'s scope with the application role's rights:
    /// RLS applies, and every store query names the person too.
    pub async fn scoped(&self, user: UserId) -> Result<UserTx, AdminError> {
        let role = self.app_role.as_ref().ok_or_else(|| {
            AdminError::Refused(
                "commands about one person run with the application role's rights: \
                 set DATABASE_URL (its user is that role)"
                    .into(),
            )
        })?;
        let mut tx = UserTx::begin_as(&self.pool, user, role)
            .await
            .map_err(|e| {
                AdminError::Failed(anyhow::anyhow!(
                    "cannot take the rights of role '{role}' (GRANT {role} TO the owner role): {}",
                    db::redact(&e)
                ))
            })?;
        // Fail closed: a role that bypasses RLS would make this scope a no-op.
        let effective = SessionRole::current(tx.conn()).await?;
        if effective.bypasses_rls() {
            return Err(AdminError::Refused(format!(
                "DATABASE_URL's role '{}' bypasses row-level security; point it at the application role",
                effective.name
            )));
        }
        Ok(tx)
    }

    /// Records a read across people (actor `admin`, no person) on the owner role.
    /// A person's scope for a command that only reads their data; the read
    /// is audited in the same transaction, so it is recorded if it happens.
    pub async fn scoped_read(&self, user: UserId, action: &str) -> Result<UserTx, AdminError> {
        let mut tx = self.scoped(user).await?;
        record_audit(tx.conn(), Some(user), Actor::Admin, action, json!({})).await?;
        Ok(tx)
    }

    pub async fn audit_view(
        &self,
        action: &str,
        details: serde_json::Value,
    ) -> Result<(), AdminError> {
        let mut conn = self.pool.acquire().await?;
        record_audit(&mut conn, None, Actor::Admin, action, details).await?;
        Ok(())
    }
}

/// The application role: the user of `DATABASE_URL`, or of the one a
/// running `nudge dev` announced in `.nudge/dev.env`. In development with
/// `DATABASE_URL` alone, that URL is the owner and `nudge dev` ran as
/// [`db::DEV_APP_ROLE`].
fn app_role(config: &Config) -> Option<AppRole> {
    if config.env.is_development()
        && config.database_admin_url.is_none()
        && config.database_url.is_some()
    {
        return db::DEV_APP_ROLE.parse().ok();
    }
    let url = config.database_url.clone().or_else(|| {
        let env = std::fs::read_to_string(".nudge/dev.env").ok()?;
        env.lines()
            .find_map(|l| l.strip_prefix("DATABASE_URL="))
            .map(|u| SecretString::from(u.trim().to_string()))
    })?;
    let options = db::connect_options(&url).ok()?;
    db::app_role_from_url(&options).parse().ok()
}

/// Runs one admin command as `operator`; what it returns is printed.
pub async fn execute(
    operator: &Operator,
    command: AdminSubcommand,
) -> Result<output::Rendered, AdminError> {
    match command {
        AdminSubcommand::User(c) => users::execute(operator, c).await,
        AdminSubcommand::Phone(c) => phones::execute(operator, c).await,
        AdminSubcommand::Jobs(c) => jobs::execute(operator, c).await,
        AdminSubcommand::Reminders(c) => reminders::execute(operator, c).await,
        AdminSubcommand::Audit(c) => audit::execute(operator, c).await,
        AdminSubcommand::Chat(_)
        | AdminSubcommand::Sms(_)
        | AdminSubcommand::Llm(_)
        | AdminSubcommand::Integrations(_)
        | AdminSubcommand::Knowledge(_)
        | AdminSubcommand::Keys(_) => Err(AdminError::Refused(
            "this command runs through `nudge admin`".into(),
        )),
    }
}

async fn connect(config: &Config) -> anyhow::Result<PgPool> {
    let url = admin_url(config)?;
    let pool = db::connect_pool(db::connect_options(&url)?, 2)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot connect to the database as the owner role: {}",
                one_line(&e)
            )
        })?;
    Ok(pool)
}

/// `DATABASE_ADMIN_URL`; in development, also `DATABASE_URL` or the private
/// cluster a running `nudge dev` announced in `.nudge/dev.env`.
fn admin_url(config: &Config) -> anyhow::Result<SecretString> {
    if let Some(url) = &config.database_admin_url {
        return Ok(url.clone());
    }
    if config.env.is_development() {
        if let Some(url) = &config.database_url {
            return Ok(url.clone());
        }
        if let Ok(env) = std::fs::read_to_string(".nudge/dev.env")
            && let Some(url) = env
                .lines()
                .find_map(|l| l.strip_prefix("DATABASE_ADMIN_URL="))
        {
            return Ok(url.trim().to_string().into());
        }
    }
    anyhow::bail!("DATABASE_ADMIN_URL is not set (and no `nudge dev` is running here)")
}

fn one_line(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

/// A person named by id or by one of their numbers.
pub(crate) async fn resolve_user(pool: &PgPool, reference: &str) -> Result<UserId, AdminError> {
    if let Ok(id) = reference.parse::<UserId>() {
        return if admin_views::user_exists(pool, id).await? {
            Ok(id)
        } else {
            Err(AdminError::Refused(format!("no user with id {id}")))
        };
    }
    let phone: PhoneNumber = reference.parse().map_err(|_| {
        AdminError::Refused(format!(
            "'{reference}' is neither a user id nor a valid phone number"
        ))
    })?;
    let id = admin_views::owner_of_number(pool, &phone).await?;
    id.ok_or_else(|| AdminError::Refused(format!("no user has the number {phone}")))
}

pub(crate) fn parse_phone(raw: &str) -> Result<PhoneNumber, AdminError> {
    raw.parse()
        .map_err(|e: crate::store::PhoneError| AdminError::Refused(e.to_string()))
}
