//! `nudge admin phone …`

use clap::Subcommand;
use serde_json::json;

use super::output::Rendered;
use super::{AdminError, Operator, parse_phone, resolve_user};
use crate::store::{Actor, PhoneRecord, admin_views, record_audit};

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

pub async fn execute(op: &Operator, command: PhoneCommand) -> Result<Rendered, AdminError> {
    match command {
        PhoneCommand::Add { user, number } => add(op, &user, &number).await,
        PhoneCommand::Remove { number } => remove(op, &number).await,
        PhoneCommand::List { user } => list(op, &user).await,
    }
}

async fn add(op: &Operator, reference: &str, number: &str) -> Result<Rendered, AdminError> {
    let phone = parse_phone(number)?;
    let id = resolve_user(&op.pool, reference).await?;
    let mut tx = op.scoped(id).await?;
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

async fn remove(op: &Operator, number: &str) -> Result<Rendered, AdminError> {
    let phone = parse_phone(number)?;
    // Whose number it is: the owner's one look across people, id only.
    let owner = admin_views::owner_of_number(&op.pool, &phone).await?;
    let id = owner.ok_or_else(|| AdminError::Refused(format!("{phone} is not registered")))?;
    let mut tx = op.scoped(id).await?;
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

async fn list(op: &Operator, reference: &str) -> Result<Rendered, AdminError> {
    let id = resolve_user(&op.pool, reference).await?;
    let mut tx = op.scoped_read(id, "phone.list").await?;
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
