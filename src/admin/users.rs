//! `nudge admin user …`

use clap::Subcommand;
use serde_json::json;

use super::output::Rendered;
use super::{AdminError, Operator, parse_phone, resolve_user};
use crate::store::{
    Actor, Locale, PhoneRecord, Timezone, User, UserId, UserStatus, admin_views, record_audit,
};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Register a person with their first (primary) number.
    Add {
        #[arg(long)]
        name: String,
        /// International form, e.g. +15145550101.
        #[arg(long)]
        phone: String,
        /// IANA timezone, e.g. America/Montreal.
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// en or fr.
        #[arg(long, default_value = "en")]
        locale: String,
    },
    /// Every person.
    List,
    /// One person and their numbers.
    Show {
        /// User id or phone number.
        user: String,
    },
    /// Stop serving a person (nothing is sent to them).
    Disable { user: String },
    /// Serve a disabled person again.
    Enable { user: String },
    /// Everything the person stored, as one JSON document (secrets withheld).
    Export {
        user: String,
        /// Write it here instead of printing it.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Erase the person and everything that mentions them, for good.
    Delete {
        user: String,
        /// Required: there is no undo.
        #[arg(long)]
        yes: bool,
    },
}

pub async fn execute(op: &Operator, command: UserCommand) -> Result<Rendered, AdminError> {
    match command {
        UserCommand::Add {
            name,
            phone,
            timezone,
            locale,
        } => add(op, &name, &phone, &timezone, &locale).await,
        UserCommand::List => list(op).await,
        UserCommand::Show { user } => show(op, &user).await,
        UserCommand::Disable { user } => set_status(op, &user, UserStatus::Disabled).await,
        UserCommand::Enable { user } => set_status(op, &user, UserStatus::Active).await,
        UserCommand::Export { user, out } => {
            super::privacy::export(op, &user, out.as_deref()).await
        }
        UserCommand::Delete { user, yes } => super::privacy::delete(op, &user, yes).await,
    }
}

async fn add(
    op: &Operator,
    name: &str,
    phone: &str,
    timezone: &str,
    locale: &str,
) -> Result<Rendered, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AdminError::Refused(
            "--name must be 1 to 200 characters".into(),
        ));
    }
    let phone = parse_phone(phone)?;
    let timezone: Timezone = timezone.parse().map_err(AdminError::Refused)?;
    let locale: Locale = locale.parse().map_err(AdminError::Refused)?;

    let id = UserId(uuid::Uuid::new_v4());
    let mut tx = op.scoped(id).await?;
    let user = User::insert(&mut tx, name, timezone, locale).await?;
    let number = PhoneRecord::add(&mut tx, &phone, true).await?;
    record_audit(
        tx.conn(),
        Some(id),
        Actor::Admin,
        "user.add",
        json!({ "phone": phone.as_str(), "timezone": timezone.to_string(), "locale": locale.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(Rendered::message(
        json!({ "user": user, "phones": [number] }),
        format!("added {} ({}) with {}", user.display_name, user.id, phone),
    ))
}

/// Across people: on the owner role, and audited.
async fn list(op: &Operator) -> Result<Rendered, AdminError> {
    let users = User::list_all(&op.pool).await.map_err(AdminError::from)?;
    let primaries = admin_views::primary_numbers(&op.pool).await?;
    op.audit_view("user.list", json!({ "count": users.len() }))
        .await?;
    let primary_of = |id: UserId| {
        primaries
            .iter()
            .find(|(u, _)| *u == id)
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    };
    let rows = users
        .iter()
        .map(|u| {
            vec![
                u.id.to_string(),
                u.display_name.clone(),
                primary_of(u.id),
                u.timezone.clone(),
                u.locale.clone(),
                u.status.as_str().to_string(),
            ]
        })
        .collect();
    let json = json!(
        users
            .iter()
            .map(|u| {
                let mut v = serde_json::to_value(u).unwrap_or_default();
                v["primary_phone"] = json!(primary_of(u.id));
                v
            })
            .collect::<Vec<_>>()
    );
    Ok(Rendered::table(
        json,
        vec!["ID", "NAME", "PHONE", "TIMEZONE", "LOCALE", "STATUS"],
        rows,
    ))
}

async fn show(op: &Operator, reference: &str) -> Result<Rendered, AdminError> {
    let id = resolve_user(&op.pool, reference).await?;
    let mut tx = op.scoped_read(id, "user.show").await?;
    let user = User::current(&mut tx).await?;
    let phones = PhoneRecord::list(&mut tx).await?;
    tx.commit().await?;
    let quiet = match (user.quiet_hours_start, user.quiet_hours_end) {
        (Some(s), Some(e)) => format!("{} to {}", s.format("%H:%M"), e.format("%H:%M")),
        _ => "none".into(),
    };
    let mut rows = vec![
        vec!["id".into(), user.id.to_string()],
        vec!["name".into(), user.display_name.clone()],
        vec!["timezone".into(), user.timezone.clone()],
        vec!["locale".into(), user.locale.clone()],
        vec!["status".into(), user.status.as_str().into()],
        vec!["quiet hours".into(), quiet],
        vec!["created".into(), user.created_at.to_rfc3339()],
    ];
    for p in &phones {
        let mut flags = Vec::new();
        if p.is_primary {
            flags.push("primary");
        }
        if p.verified {
            flags.push("verified");
        }
        let mut flags: Vec<String> = flags.into_iter().map(String::from).collect();
        if p.opted_out_at.is_some() {
            flags.push(match &p.opted_out_via {
                Some(word) => format!("opted out by {word}"),
                None => "opted out".into(),
            });
        }
        // Nothing is sent to it (reminders included) until it texts in.
        if let (Some(at), Some(reason)) = (p.unreachable_at, &p.unreachable_reason) {
            let code = p.unreachable_code.as_deref().unwrap_or("?");
            flags.push(format!(
                "UNREACHABLE: {reason} (Twilio {code}) since {}, sending paused",
                at.format("%Y-%m-%d %H:%M UTC")
            ));
        }
        rows.push(vec![
            "phone".into(),
            format!("{} ({})", p.e164, flags.join(", ")),
        ]);
    }
    Ok(Rendered::table(
        json!({ "user": user, "phones": phones }),
        vec!["FIELD", "VALUE"],
        rows,
    ))
}

async fn set_status(
    op: &Operator,
    reference: &str,
    status: UserStatus,
) -> Result<Rendered, AdminError> {
    let id = resolve_user(&op.pool, reference).await?;
    let mut tx = op.scoped(id).await?;
    User::set_status(&mut tx, status).await?;
    let action = match status {
        UserStatus::Active => "user.enable",
        UserStatus::Disabled => "user.disable",
    };
    record_audit(tx.conn(), Some(id), Actor::Admin, action, json!({})).await?;
    tx.commit().await?;
    Ok(Rendered::message(
        json!({ "id": id, "status": status }),
        format!("user {id} is now {}", status.as_str()),
    ))
}
