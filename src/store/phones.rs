//! Phone numbers: parsing to E.164, ownership, opt-out state.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{StoreError, UserId, is_unique_violation};
use crate::db::UserTx;

/// A phone number known to be valid, held in E.164 form (`+15145550101`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhoneError {
    #[error("'{0}' is not a phone number (expected international form, e.g. +15145550101)")]
    Unparseable(String),
    #[error("'{0}' is not a valid phone number for its country")]
    Invalid(String),
}

impl PhoneNumber {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PhoneNumber {
    type Err = PhoneError;

    /// Accepts `+` followed by the country code, with spaces, dashes, dots
    /// or parentheses; a number without `+` is read as if it had one
    /// (Twilio always sends `+`, people sometimes forget it).
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let trimmed = raw.trim();
        let candidate = if trimmed.starts_with('+') {
            trimmed.to_string()
        } else {
            format!("+{trimmed}")
        };
        let parsed = phonenumber::parse(None, &candidate)
            .map_err(|_| PhoneError::Unparseable(trimmed.to_string()))?;
        if !phonenumber::is_valid(&parsed) {
            return Err(PhoneError::Invalid(trimmed.to_string()));
        }
        Ok(PhoneNumber(
            parsed.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One of a person's numbers as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PhoneRecord {
    pub id: Uuid,
    pub user_id: UserId,
    pub e164: String,
    pub verified: bool,
    pub is_primary: bool,
    pub opted_out_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The keyword that opted the number out ("CANCEL", "STOP"…).
    pub opted_out_via: Option<String>,
    /// Set when the carrier reported the number unreachable, unknown or a
    /// landline: nothing is sent to it until it texts in again.
    pub unreachable_at: Option<DateTime<Utc>>,
    pub unreachable_reason: Option<String>,
    pub unreachable_code: Option<String>,
}

macro_rules! phone_columns {
    () => {
        "id, user_id, e164, verified, is_primary, opted_out_at, created_at, \
         opted_out_via, unreachable_at, unreachable_reason, unreachable_code"
    };
}

impl PhoneRecord {
    /// Adds a number to the person; their first number becomes primary.
    pub async fn add(
        tx: &mut UserTx,
        phone: &PhoneNumber,
        verified: bool,
    ) -> Result<PhoneRecord, StoreError> {
        let user = tx.uuid();
        let result = sqlx::query_as::<_, PhoneRecord>(concat!(
            "insert into user_phone_numbers (user_id, e164, verified, is_primary) \
             values ($1, $2, $3, not exists (select 1 from user_phone_numbers where user_id = $1)) \
             returning ",
            phone_columns!()
        ))
        .bind(user)
        .bind(phone.as_str())
        .bind(verified)
        .fetch_one(tx.conn())
        .await;
        match result {
            Ok(record) => Ok(record),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
                "{phone} is already registered"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list(tx: &mut UserTx) -> Result<Vec<PhoneRecord>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as::<_, PhoneRecord>(concat!(
            "select ",
            phone_columns!(),
            " from user_phone_numbers where user_id = $1 order by is_primary desc, created_at, id"
        ))
        .bind(user)
        .fetch_all(tx.conn())
        .await?)
    }

    /// Removes a number; when it was primary, the oldest remaining one is promoted.
    pub async fn remove(tx: &mut UserTx, phone: &PhoneNumber) -> Result<(), StoreError> {
        let user = tx.uuid();
        let removed: Option<(bool,)> = sqlx::query_as(
            "delete from user_phone_numbers where user_id = $1 and e164 = $2 returning is_primary",
        )
        .bind(user)
        .bind(phone.as_str())
        .fetch_optional(tx.conn())
        .await?;
        match removed {
            None => Err(StoreError::NotFound),
            Some((true,)) => {
                sqlx::query(
                    "update user_phone_numbers set is_primary = true where user_id = $1 and id = \
                     (select id from user_phone_numbers where user_id = $1 order by created_at, id limit 1)",
                )
                .bind(user)
                .execute(tx.conn())
                .await?;
                Ok(())
            }
            Some((false,)) => Ok(()),
        }
    }
}

impl PhoneRecord {
    /// This person's record for `phone`, if it is theirs.
    pub async fn find(
        tx: &mut UserTx,
        phone: &PhoneNumber,
    ) -> Result<Option<PhoneRecord>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as::<_, PhoneRecord>(concat!(
            "select ",
            phone_columns!(),
            " from user_phone_numbers where user_id = $1 and e164 = $2"
        ))
        .bind(user)
        .bind(phone.as_str())
        .fetch_optional(tx.conn())
        .await?)
    }

    /// The number messages go to: the primary one.
    pub async fn primary(tx: &mut UserTx) -> Result<Option<PhoneRecord>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as::<_, PhoneRecord>(concat!(
            "select ",
            phone_columns!(),
            " from user_phone_numbers where user_id = $1 order by is_primary desc, created_at limit 1"
        ))
        .bind(user)
        .fetch_optional(tx.conn())
        .await?)
    }

    /// STOP (true) or START (false) for one number.
    pub async fn set_opted_out(
        tx: &mut UserTx,
        e164: &str,
        opted_out: bool,
    ) -> Result<(), StoreError> {
        let user = tx.uuid();
        sqlx::query(
            "update user_phone_numbers set opted_out_at = case when $2 then coalesce(opted_out_at, now()) end, \
             opted_out_via = case when $2 then opted_out_via end where user_id = $3 and e164 = $1",
        )
        .bind(e164)
        .bind(opted_out)
        .bind(user)
        .execute(tx.conn())
        .await?;
        Ok(())
    }
}

impl PhoneRecord {
    /// Opts a number out by keyword; `true` when it was opted in until now
    /// (only then is the confirmation sent).
    pub async fn opt_out_by_keyword(
        tx: &mut UserTx,
        e164: &str,
        word: &str,
    ) -> Result<bool, StoreError> {
        let user = tx.uuid();
        let changed = sqlx::query(
            "update user_phone_numbers set opted_out_at = now(), opted_out_via = $3 \
             where user_id = $1 and e164 = $2 and opted_out_at is null",
        )
        .bind(user)
        .bind(e164)
        .bind(word)
        .execute(tx.conn())
        .await?;
        Ok(changed.rows_affected() > 0)
    }

    /// Marks a number the carrier cannot deliver to; `Some(id)` when it was
    /// not marked yet (only then is it audited and counted).
    pub async fn mark_unreachable(
        tx: &mut UserTx,
        e164: &str,
        reason: &str,
        code: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_scalar(
            "update user_phone_numbers set unreachable_at = now(), unreachable_reason = $3, \
             unreachable_code = $4 where user_id = $1 and e164 = $2 and unreachable_at is null \
             returning id",
        )
        .bind(user)
        .bind(e164)
        .bind(reason)
        .bind(code)
        .fetch_optional(tx.conn())
        .await?)
    }

    /// The number proved reachable (it texted in): sending resumes.
    pub async fn clear_unreachable(tx: &mut UserTx, e164: &str) -> Result<bool, StoreError> {
        let user = tx.uuid();
        let changed = sqlx::query(
            "update user_phone_numbers set unreachable_at = null, unreachable_reason = null, \
             unreachable_code = null where user_id = $1 and e164 = $2 and unreachable_at is not null",
        )
        .bind(user)
        .bind(e164)
        .execute(tx.conn())
        .await?;
        Ok(changed.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_to_e164() {
        for raw in [
            "+1 514 555 0101",
            "+1 (514) 555-0101",
            "15145550101",
            " +15145550101 ",
        ] {
            assert_eq!(
                raw.parse::<PhoneNumber>().unwrap().as_str(),
                "+15145550101",
                "{raw}"
            );
        }
        assert_eq!(
            "+33 6 12 34 56 78".parse::<PhoneNumber>().unwrap().as_str(),
            "+33612345678"
        );
    }

    #[test]
    fn refuses_garbage_and_invalid_numbers() {
        for raw in ["12", "", "hello", "+1 000", "+999 1234567"] {
            assert!(raw.parse::<PhoneNumber>().is_err(), "{raw} accepted");
        }
    }
}
