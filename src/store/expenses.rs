//! Expenses: amounts in minor units with a currency and a category.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::StoreError;
use crate::db::UserTx;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Expense {
    pub id: Uuid,
    pub amount_minor: i64,
    pub currency: String,
    pub category: String,
    pub note: Option<String>,
    pub spent_at: DateTime<Utc>,
}

/// A month's total for one category and currency.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq, Eq)]
pub struct CategoryTotal {
    pub category: String,
    pub currency: String,
    pub total_minor: i64,
}

impl Expense {
    pub async fn add(
        tx: &mut UserTx,
        amount_minor: i64,
        currency: &str,
        category: &str,
        note: Option<&str>,
    ) -> Result<Expense, StoreError> {
        let user = tx.uuid();
        Ok(sqlx::query_as(
            "insert into expenses (user_id, amount_minor, currency, category, note) \
             values ($1, $2, $3, $4, $5) returning id, amount_minor, currency, category, note, spent_at",
        )
        .bind(user)
        .bind(amount_minor)
        .bind(currency)
        .bind(category)
        .bind(note)
        .fetch_one(tx.conn())
        .await?)
    }

    /// Totals by category for the month `year-month` in the person's timezone.
    pub async fn month_totals(
        tx: &mut UserTx,
        timezone: &str,
        year: i32,
        month: u32,
    ) -> Result<Vec<CategoryTotal>, StoreError> {
        // A month that is not on the calendar has no expenses.
        let Some((first, next)) = NaiveDate::from_ymd_opt(year, month, 1)
            .and_then(|first| Some((first, first.checked_add_months(Months::new(1))?)))
        else {
            return Ok(Vec::new());
        };
        Self::totals_between(tx, timezone, first, next).await
    }

    /// Totals by category for the local days `from` (included) to `until`
    /// (excluded) in the person's timezone: a week, "since monday".
    pub async fn totals_between(
        tx: &mut UserTx,
        timezone: &str,
        from: NaiveDate,
        until: NaiveDate,
    ) -> Result<Vec<CategoryTotal>, StoreError> {
        Ok(sqlx::query_as(
            "select category, currency, sum(amount_minor)::bigint as total_minor from expenses \
             where user_id = $4 and spent_at >= ($2::date::timestamp at time zone $1) \
               and spent_at < ($3::date::timestamp at time zone $1) \
             group by category, currency order by total_minor desc, category",
        )
        .bind(timezone)
        .bind(from)
        .bind(until)
        .bind(tx.uuid())
        .fetch_all(tx.conn())
        .await?)
    }
}
