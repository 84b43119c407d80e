//! A person's data, whole: `nudge admin user export` contains a row of
//! every per-person table and nothing of anyone else; `nudge admin user
//! delete` leaves no row anywhere, jobs included, that mentions the
//! person's id or numbers. Tables come from the catalog, so a new
//! per-person table that export and erase do not know fails here.

mod common;

use std::collections::BTreeSet;

use common::person_rows::{seed, user_tables};
use common::{TestDb, admin};
use nudge::db::queue::{self, JobOptions, OnboardingSmsJob, ReminderDueJob};
use nudge::store::person_data::PERSON_TABLES;

/// Rows anywhere (every table of `public` and `apalis`, whole rows as
/// text, job payloads decoded) that mention `needle`.
async fn mentions(db: &TestDb, needle: &str) -> Vec<String> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "select table_schema::text, table_name::text from information_schema.tables \
         where table_schema in ('public', 'apalis') and table_type = 'BASE TABLE' \
           and table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&db.owner)
    .await
    .unwrap();
    let mut found = Vec::new();
    for (schema, table) in tables {
        let text = if (schema.as_str(), table.as_str()) == ("apalis", "jobs") {
            "convert_from(t.job, 'UTF8') || t::text"
        } else {
            "t::text"
        };
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select count(*) from {schema}.{table} t where strpos({text}, $1) > 0"
        )))
        .bind(needle)
        .fetch_one(&db.owner)
        .await
        .unwrap();
        if n > 0 {
            found.push(format!("{schema}.{table}: {n}"));
        }
    }
    found
}

#[tokio::test]
async fn export_and_erase_know_every_per_person_table() {
    let db = TestDb::new().await;
    let catalog = user_tables(&db.owner).await;
    let known: BTreeSet<String> = PERSON_TABLES.iter().map(|t| t.to_string()).collect();
    assert_eq!(
        catalog, known,
        "store::person_data::PERSON_TABLES must list every per-person table"
    );
}

#[tokio::test]
async fn export_holds_every_table_and_delete_leaves_nothing() {
    let db = TestDb::new().await;
    let people = seed(&db, 2).await;
    let (ana, bob) = (people[0], people[1]);
    let ana_phone = "+15145550100";
    // Jobs carry the person's id or number in their payloads; a text from
    // Ana's number before it was hers is in the identification log.
    let mut tx = db.owner.begin().await.unwrap();
    queue::enqueue(
        &mut tx,
        &ReminderDueJob {
            user_id: ana.0,
            reminder_id: uuid::Uuid::new_v4(),
        },
        JobOptions::default(),
    )
    .await
    .unwrap();
    queue::enqueue(
        &mut tx,
        &OnboardingSmsJob {
            phone: ana_phone.into(),
        },
        JobOptions::default(),
    )
    .await
    .unwrap();
    sqlx::query(
        "insert into user_identification_logs (user_id, phone_e164, outcome) values (null, $1, 'unknown')",
    )
    .bind(ana_phone)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let out = admin(&db, &["user", "export", &ana.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(document["schema_version"], 1);
    for table in PERSON_TABLES {
        let rows = document["tables"][table].as_array().unwrap();
        assert!(!rows.is_empty(), "{table} missing from the export");
    }
    let text = document.to_string();
    assert!(!text.contains(&bob.to_string()), "Bob is in Ana's export");
    assert!(
        !text.contains("_ciphertext") && !text.contains("_nonce"),
        "a sealed secret was exported"
    );

    let refused = admin(&db, &["user", "delete", &ana.to_string()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));

    let bob_before = mentions(&db, &bob.to_string()).await;
    let out = admin(&db, &["user", "delete", &ana.to_string(), "--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mentions(&db, &ana.to_string()).await, Vec::<String>::new());
    assert_eq!(mentions(&db, ana_phone).await, Vec::<String>::new());
    assert_eq!(
        mentions(&db, &bob.to_string()).await,
        bob_before,
        "Bob untouched"
    );
    let erased: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'user.delete' and user_id is null",
    )
    .fetch_one(&db.owner)
    .await
    .unwrap();
    assert_eq!(erased, 1);
}

/// The audit log is append-only for the application role: it can add an
/// entry, never change or remove one, not even its own person's.
#[tokio::test]
async fn the_application_cannot_rewrite_the_audit_log() {
    let db = TestDb::new().await;
    let ana = seed(&db, 1).await[0];
    for statement in [
        "update audit_log set action = 'rewritten' where user_id = $1",
        "delete from audit_log where user_id = $1",
    ] {
        let mut tx = nudge::db::UserTx::begin(&db.app, ana).await.unwrap();
        let refused = sqlx::query(statement)
            .bind(ana.0)
            .execute(tx.conn())
            .await
            .unwrap_err();
        assert_eq!(
            refused
                .as_database_error()
                .and_then(|e| e.code())
                .as_deref(),
            Some("42501"),
            "{statement}"
        );
    }
    let mut tx = nudge::db::UserTx::begin(&db.app, ana).await.unwrap();
    sqlx::query("insert into audit_log (user_id, actor, action) values ($1, 'system', 'ok')")
        .bind(ana.0)
        .execute(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let out = admin(
        &db,
        &[
            "audit",
            "--user",
            &ana.to_string(),
            "--action",
            "ok",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 1);
    let bad = admin(&db, &["audit", "--since", "yesterday"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("RFC 3339"));
}
