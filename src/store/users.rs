//! People: their id, name, timezone, language and status.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::StoreError;
use super::follow_through::{self, FollowThrough};
use crate::db::UserTx;

pub use crate::db::UserId;

/// An IANA timezone that chrono-tz knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timezone(pub chrono_tz::Tz);

impl FromStr for Timezone {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse::<chrono_tz::Tz>()
            .map(Timezone)
            .map_err(|_| {
                format!(
                    "unknown timezone '{}' (expected Area/City, e.g. America/Montreal)",
                    s.trim()
                )
            })
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    En,
    Fr,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Fr => "fr",
        }
    }
}

impl FromStr for Locale {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Locale::En),
            "fr" => Ok(Locale::Fr),
            other => Err(format!("unsupported locale '{other}' (expected en or fr)")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }

    pub(super) fn from_db(s: &str) -> Self {
        if s == "disabled" {
            UserStatus::Disabled
        } else {
            UserStatus::Active
        }
    }
}

/// A person as stored.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: UserId,
    pub display_name: String,
    pub timezone: String,
    pub locale: String,
    pub status: UserStatus,
    pub quiet_hours_start: Option<NaiveTime>,
    pub quiet_hours_end: Option<NaiveTime>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A `users` row as selected; embed it with `#[sqlx(flatten)]`.
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    display_name: String,
    timezone: String,
    locale: String,
    status: String,
    quiet_hours_start: Option<NaiveTime>,
    quiet_hours_end: Option<NaiveTime>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: UserId(r.id),
            display_name: r.display_name,
            timezone: r.timezone,
            locale: r.locale,
            status: UserStatus::from_db(&r.status),
            quiet_hours_start: r.quiet_hours_start,
            quiet_hours_end: r.quiet_hours_end,
            created_at: r.created_at,
        }
    }
}

macro_rules! user_columns {
    () => {
        "id, display_name, timezone, locale, status, quiet_hours_start, quiet_hours_end, created_at"
    };
}

impl User {
    /// Creates the person whose id the transaction is scoped to.
    pub async fn insert(
        tx: &mut UserTx,
        display_name: &str,
        timezone: Timezone,
        locale: Locale,
    ) -> Result<User, StoreError> {
        let id = tx.uuid();
        let row: UserRow = sqlx::query_as(concat!(
            "insert into users (id, display_name, timezone, locale) values ($1, $2, $3, $4) \
             returning ",
            user_columns!()
        ))
        .bind(id)
        .bind(display_name)
        .bind(timezone.to_string())
        .bind(locale.as_str())
        .fetch_one(tx.conn())
        .await?;
        Ok(row.into())
    }

    /// The person the transaction is scoped to.
    pub async fn current(tx: &mut UserTx) -> Result<User, StoreError> {
        let id = tx.uuid();
        let row: Option<UserRow> = sqlx::query_as(concat!(
            "select ",
            user_columns!(),
            " from users where id = $1"
        ))
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
        row.map(Into::into).ok_or(StoreError::NotFound)
    }

    /// The person with their follow-through settings, in one read: what a
    /// reminder's hand-off needs.
    pub async fn current_with_follow_through(
        tx: &mut UserTx,
    ) -> Result<(User, FollowThrough), StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            #[sqlx(flatten)]
            follow: FollowThrough,
        }
        let id = tx.uuid();
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {}, {} from users where id = $1",
            user_columns!(),
            follow_through::COLUMNS
        )))
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
        row.map(|r| (r.user.into(), r.follow))
            .ok_or(StoreError::NotFound)
    }

    pub async fn set_status(tx: &mut UserTx, status: UserStatus) -> Result<(), StoreError> {
        let id = tx.uuid();
        let done = sqlx::query("update users set status = $2, updated_at = now() where id = $1")
            .bind(id)
            .bind(status.as_str())
            .execute(tx.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Every person, for the operator. Takes the owner connection, which
    /// bypasses row-level security by design.
    pub async fn list_all(admin: &sqlx::PgPool) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = sqlx::query_as(concat!(
            "select ",
            user_columns!(),
            " from users order by created_at, id"
        ))
        .fetch_all(admin)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

impl User {
    pub async fn set_timezone(tx: &mut UserTx, timezone: Timezone) -> Result<(), StoreError> {
        let id = tx.uuid();
        sqlx::query("update users set timezone = $2, updated_at = now() where id = $1")
            .bind(id)
            .bind(timezone.to_string())
            .execute(tx.conn())
            .await?;
        Ok(())
    }

    pub async fn set_display_name(tx: &mut UserTx, name: &str) -> Result<(), StoreError> {
        let id = tx.uuid();
        sqlx::query("update users set display_name = $2, updated_at = now() where id = $1")
            .bind(id)
            .bind(name)
            .execute(tx.conn())
            .await?;
        Ok(())
    }

    pub async fn set_quiet_hours(
        tx: &mut UserTx,
        hours: Option<(NaiveTime, NaiveTime)>,
    ) -> Result<(), StoreError> {
        let id = tx.uuid();
        sqlx::query(
            "update users set quiet_hours_start = $2, quiet_hours_end = $3, updated_at = now() where id = $1",
        )
        .bind(id)
        .bind(hours.map(|h| h.0))
        .bind(hours.map(|h| h.1))
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// The person's timezone, falling back to UTC for a value chrono-tz
    /// no longer knows (it was validated when stored).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    pub fn locale(&self) -> Locale {
        self.locale.parse().unwrap_or(Locale::En)
    }
}
