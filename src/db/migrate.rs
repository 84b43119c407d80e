//! `nudge migrate`: schema migrations, apalis' own setup, and the grants
//! the application role needs — run as the owner role.

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, PgPool};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the owner role '{0}' can neither bypass row-level security nor is a superuser; \
         give it BYPASSRLS (ALTER ROLE {0} BYPASSRLS) so migrations and the admin CLI see every row"
    )]
    OwnerCannotBypassRls(String),
    #[error(
        "the application role '{0}' is a superuser or has BYPASSRLS, which would defeat \
         row-level security; use a plain role for DATABASE_URL"
    )]
    AppRoleTooPowerful(String),
    #[error("applying migrations failed: {0}")]
    Migrations(#[from] sqlx::migrate::MigrateError),
    #[error("setting up the job queue failed: {0}")]
    JobQueue(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The role name in an application `DATABASE_URL`.
pub fn app_role_from_url(options: &PgConnectOptions) -> String {
    options.get_username().to_string()
}

/// Applies every migration and grants `app_role` what it needs. Idempotent.
///
/// When `app_role` is the owner itself (allowed only in development) the
/// grants are skipped: an owner needs none.
pub async fn migrate(
    admin: &PgPool,
    app_role: &str,
    app_password: Option<&str>,
) -> Result<(), MigrateError> {
    let (owner, owner_bypasses): (String, bool) = sqlx::query_as(
        "select rolname::text, rolsuper or rolbypassrls from pg_roles where rolname = current_user",
    )
    .fetch_one(admin)
    .await?;
    if !owner_bypasses {
        return Err(MigrateError::OwnerCannotBypassRls(owner));
    }

    // The job queue first: our functions read `apalis.jobs`.
    apalis_postgres::PostgresStorage::setup(admin)
        .await
        .map_err(|e| MigrateError::JobQueue(e.to_string()))?;
    MIGRATOR.run(admin).await?;

    if app_role == owner {
        tracing::warn!(
            role = app_role,
            "application role is the owner role: row-level security is bypassed (development only)"
        );
        return Ok(());
    }
    ensure_role(admin, app_role, app_password).await?;
    grant(admin, app_role).await?;
    let_owner_act_as(admin, app_role).await?;
    Ok(())
}

async fn ensure_role(
    admin: &PgPool,
    role: &str,
    password: Option<&str>,
) -> Result<(), MigrateError> {
    let existing: Option<(bool,)> =
        sqlx::query_as("select rolsuper or rolbypassrls from pg_roles where rolname = $1")
            .bind(role)
            .fetch_optional(admin)
            .await?;
    match existing {
        Some((true,)) => return Err(MigrateError::AppRoleTooPowerful(role.to_string())),
        Some((false,)) => {}
        None => {
            let ident = quote_ident(admin, role).await?;
            let created = // Identifiers cannot be bound; `ident` comes from quote_ident().
            sqlx::query(AssertSqlSafe(format!(
                "create role {ident} login nosuperuser nobypassrls nocreatedb nocreaterole"
            )))
            .execute(admin)
            .await;
            // Another process (a parallel test, a second replica) may have
            // created it between our check and our CREATE.
            if let Err(e) = created
                && !matches!(&e, sqlx::Error::Database(d) if d.code().as_deref() == Some("42710") || d.code().as_deref() == Some("23505"))
            {
                return Err(e.into());
            }
        }
    }
    if let Some(password) = password {
        let ident = quote_ident(admin, role).await?;
        sqlx::query(AssertSqlSafe(password_statement(&ident, password)))
            .execute(admin)
            .await?;
    }
    Ok(())
}

/// `ALTER ROLE … PASSWORD` with a SCRAM-SHA-256 verifier computed here:
/// the statement (which the server may log) never holds the password.
/// A verifier is base64, digits, `$` and `:` only, so it needs no escaping.
fn password_statement(ident: &str, password: &str) -> String {
    format!(
        "alter role {ident} password '{}'",
        super::scram::verifier(password)
    )
}

/// Lets the owner take the application role's rights (`SET LOCAL ROLE`),
/// which admin commands about one person do so that row-level security
/// applies to operators too. A superuser needs no membership.
async fn let_owner_act_as(admin: &PgPool, role: &str) -> Result<(), MigrateError> {
    let superuser: bool =
        sqlx::query_scalar("select rolsuper from pg_roles where rolname = current_user")
            .fetch_one(admin)
            .await?;
    if superuser {
        return Ok(());
    }
    let ident = quote_ident(admin, role).await?;
    if let Err(e) = sqlx::query(AssertSqlSafe(format!("grant {ident} to current_user")))
        .execute(admin)
        .await
    {
        // A role created by someone else may not be grantable by the
        // owner; admin commands about one person then refuse to run
        // (fail closed) until a DBA grants it.
        tracing::warn!(
            role,
            error = %super::redact(&e),
            "cannot grant the application role to the owner; run GRANT <app role> TO <owner> as a superuser"
        );
    }
    Ok(())
}

async fn grant(admin: &PgPool, role: &str) -> Result<(), MigrateError> {
    let r = quote_ident(admin, role).await?;
    let statements = [
        format!(
            "grant connect on database {} to {r}",
            current_database(admin).await?
        ),
        format!("grant usage on schema public to {r}"),
        format!("grant select, insert, update, delete on all tables in schema public to {r}"),
        format!("revoke all on public._sqlx_migrations from {r}"),
        // The audit log is append-only for the application.
        format!("revoke update, delete, truncate on audit_log from {r}"),
        format!("grant usage, select on all sequences in schema public to {r}"),
        format!("grant execute on function nudge_user_id_for_phone(text) to {r}"),
        format!("grant execute on function nudge_due_reminders(timestamptz, integer) to {r}"),
        format!(
            "grant execute on function nudge_log_identification(text, uuid, text, text) to {r}"
        ),
        format!("grant execute on function nudge_purge_expired(interval) to {r}"),
        format!("grant execute on function nudge_log_unknown_sender(text, text, interval) to {r}"),
        format!("grant execute on function nudge_user_id_for_provider_message(text) to {r}"),
        format!("grant execute on function nudge_stranded_inbound(interval, integer) to {r}"),
        format!("grant execute on function nudge_expiring_tokens(interval, integer) to {r}"),
        format!("grant execute on function nudge_due_notion_syncs(interval, integer) to {r}"),
        format!(
            "grant execute on function nudge_stranded_knowledge_runs(interval, integer) to {r}"
        ),
        // Deletion by text and retention; the erase itself stays the owner's.
        format!("grant execute on function nudge_due_deletion(uuid) to {r}"),
        format!("grant execute on function nudge_due_deletions(integer) to {r}"),
        format!("grant execute on function nudge_erase_due_deletion(uuid, jsonb) to {r}"),
        format!("grant execute on function nudge_purge_old_messages(interval, integer) to {r}"),
        format!("grant usage on schema apalis to {r}"),
        format!("grant select, insert, update, delete on all tables in schema apalis to {r}"),
        format!("revoke all on apalis._sqlx_migrations from {r}"),
        format!("grant usage, select on all sequences in schema apalis to {r}"),
        format!("grant execute on all functions in schema apalis to {r}"),
    ];
    let mut tx = admin.begin().await?;
    for statement in statements {
        sqlx::query(AssertSqlSafe(statement))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn quote_ident(admin: &PgPool, name: &str) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("select quote_ident($1)")
        .bind(name)
        .fetch_one(admin)
        .await
}

async fn current_database(admin: &PgPool) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("select quote_ident(current_database())")
        .fetch_one(admin)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_statement_carries_a_verifier_not_the_password() {
        let statement = password_statement("\"nudge_app\"", "correct horse battery");
        assert!(!statement.contains("correct horse"), "{statement}");
        assert!(
            statement.starts_with("alter role \"nudge_app\" password 'SCRAM-SHA-256$4096:"),
            "{statement}"
        );
    }
}
