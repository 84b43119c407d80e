//! `nudge admin phone …`

use clap::Subcommand;
use serde_json::json;
use sqlx::PgPool;

use super::output::Rendered;
use super::{AdminError, parse_phone, resolve_user};
use crate::db::UserTx;
use crate::store::{Actor, PhoneRecord, UserId, record_audit};

#[derive(Debug, Subcommand)]
pub enum PhoneCommand {
    /// Give a person another number.
    Add {
        /// User id or one of their numbers.
        user: String,
        number: String,
    },
    /// Remove a number from whoever has it.
    Remove { number: String },
    /// A person's numbers.
    List { user: String },
}

pub async fn execute(pool: &PgPool, command: PhoneCommand) -> Result<Rendered, AdminError> {
    match command {
        PhoneCommand::Add { user, number } => add(pool, &user, &number).await,
        PhoneCommand::Remove { number } => remove(pool, &number).await,
        PhoneCommand::List { user } => list(pool, &user).await,
    }
}

async fn add(pool: &PgPool, reference: &str, number: &str) -> Result<Rendered, AdminError> {
    let phone = parse_phone(number)?;
    let id = resolve_user(pool, reference).await?;
    let mut tx = UserTx::begin(pool, id).await?;
    let record = PhoneRecord::add(&mut tx, &phone, true).await?;
    record_audit(
        tx.conn(),
        Some(id),
        Actor::Admin,
        "phone.add",
        json!({ "phone": phone.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(Rendered::message(
        json!(record),
        format!("added {phone} to user {id}"),
    ))
}

async fn remove(pool: &PgPool, number: &str) -> Result<Rendered, AdminError> {
    let phone = parse_phone(number)?;
    let owner: Option<UserId> =
        sqlx::query_scalar("select user_id from user_phone_numbers where e164 = $1")
            .bind(phone.as_str())
            .fetch_optional(pool)
            .await?;
    let id = owner.ok_or_else(|| AdminError::Refused(format!("{phone} is not registered")))?;
    let mut tx = UserTx::begin(pool, id).await?;
    PhoneRecord::remove(&mut tx, &phone).await?;
    record_audit(
        tx.conn(),
        Some(id),
        Actor::Admin,
        "phone.remove",
        json!({ "phone": phone.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(Rendered::message(
        json!({ "removed": phone.as_str(), "user_id": id }),
        format!("removed {phone} from user {id}"),
    ))
}

async fn list(pool: &PgPool, reference: &str) -> Result<Rendered, AdminError> {
    let id = resolve_user(pool, reference).await?;
    let mut tx = UserTx::begin(pool, id).await?;
    let phones = PhoneRecord::list(&mut tx).await?;
    tx.commit().await?;
    let rows = phones
        .iter()
        .map(|p| {
            vec![
                p.e164.clone(),
                yes_no(p.is_primary),
                yes_no(p.verified),
                p.opted_out_at
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    Ok(Rendered::table(
        json!(phones),
        vec!["NUMBER", "PRIMARY", "VERIFIED", "OPTED OUT"],
        rows,
    ))
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}
