//! Typed states and the schema agree: each status column's CHECK lists
//! exactly the values of its enum, so neither can drift from the other.

mod common;

use std::collections::BTreeSet;

use nudge::store::{MessageStatus, ReminderStatus};

/// The quoted values of a table's CHECK constraint.
async fn check_values(db: &common::TestDb, constraint: &str) -> BTreeSet<String> {
    let def: String = sqlx::query_scalar(
        "select pg_get_constraintdef(oid) from pg_constraint where conname = $1",
    )
    .bind(constraint)
    .fetch_one(&db.owner)
    .await
    .unwrap();
    def.split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn message_statuses_in_the_schema_are_the_enum() {
    let db = common::TestDb::new().await;
    let schema = check_values(&db, "messages_status_known").await;
    let typed: BTreeSet<String> = MessageStatus::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    assert_eq!(schema, typed);
}

#[tokio::test]
async fn reminder_statuses_in_the_schema_are_the_enum() {
    let db = common::TestDb::new().await;
    let schema = check_values(&db, "reminders_status_check").await;
    let typed: BTreeSet<String> = ReminderStatus::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    assert_eq!(schema, typed);
}

#[tokio::test]
async fn an_unknown_status_cannot_be_stored() {
    let db = common::TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    let refused = sqlx::query(
        "insert into messages (user_id, direction, body, status) values ($1, 'outbound', 'hi', 'cancelled')",
    )
    .bind(user.0)
    .execute(&db.owner)
    .await;
    let err = refused.unwrap_err();
    assert_eq!(
        err.as_database_error().and_then(|e| e.constraint()),
        Some("messages_status_known")
    );
}
