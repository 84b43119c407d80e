//! A person's data, whole: `nudge admin user export` contains a row of
//! every per-person table and nothing of anyone else; `nudge admin user
//! delete` leaves no row anywhere, jobs included, that mentions the
//! person's id or numbers. Tables come from the catalog, so a new
//! per-person table that export and erase do not know fails here.

mod common;

use std::collections::BTreeSet;

use common::person_rows::{mentions, seed, user_tables};
use common::{TestDb, admin, admin_with_env};
use nudge::db::queue::{self, JobOptions, OnboardingSmsJob, ReminderDueJob};
use nudge::store::person_data::PERSON_TABLES;

/// PostgreSQL's "insufficient privilege".
const DENIED: &str = "42501";

fn sqlstate(e: &sqlx::Error) -> Option<String> {
    e.as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned())
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
        assert_eq!(sqlstate(&refused).as_deref(), Some(DENIED), "{statement}");
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

/// Retention deletes old texts in batches (more than one here) and nothing
/// else: summaries and memories survive, recent texts stay.
#[tokio::test]
async fn retention_purges_old_messages_in_batches_and_keeps_summaries_and_memories() {
    let db = TestDb::new().await;
    let ana = seed(&db, 1).await[0];
    let old = nudge::workers::maintenance::RETENTION_BATCH as i64 * 2 + 500;
    sqlx::query(
        "insert into messages (user_id, direction, body, created_at) \
         select $1, 'inbound', 'old ' || g, now() - interval '400 days' from generate_series(1, $2) g",
    )
    .bind(ana.0)
    .bind(old)
    .execute(&db.owner)
    .await
    .unwrap();
    sqlx::query("update memories set created_at = now() - interval '400 days'")
        .execute(&db.owner)
        .await
        .unwrap();
    let count = |table: &'static str| {
        let pool = db.owner.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                "select count(*) from {table}"
            )))
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let recent = count("messages").await - old;
    let year = std::time::Duration::from_secs(365 * 86_400);
    // As the worker runs it: the application role, through its function.
    let purged = nudge::workers::maintenance::purge_old_messages(&db.app, year)
        .await
        .unwrap();
    assert_eq!(purged, old as u64);
    assert_eq!(count("messages").await, recent);
    assert_eq!(count("memories").await, 1);
    assert_eq!(count("conversation_summaries").await, 1);
    assert_eq!(
        nudge::workers::maintenance::purge_old_messages(&db.app, year)
            .await
            .unwrap(),
        0
    );

    // A year unless told otherwise; 0 keeps texts.
    let default = nudge::config::Config::development();
    assert_eq!(default.message_retention, Some(year));
    assert_eq!(
        default.account_deletion_grace,
        std::time::Duration::from_secs(7 * 86_400)
    );
    let keep = nudge::config::Config::from_lookup(|n| {
        (n == "MESSAGE_RETENTION_DAYS").then(|| "0".to_string())
    })
    .unwrap();
    assert_eq!(keep.message_retention, None);
}

/// The operator's delete reaches beyond the rows: the person's grant is
/// revoked at the provider (wire format of Google's revoke endpoint: a
/// form with `token`) and their Redis keys go; another person's stay.
#[tokio::test]
async fn admin_delete_revokes_grants_at_the_provider_and_forgets_redis_keys() {
    use common::oauth::{LINK_KEYS, TOKEN_KEYS_ONE, revoke_endpoint, save_google_tokens};
    use redis::AsyncCommands;
    use secrecy::SecretString;

    let db = TestDb::new().await;
    let ana = common::create_user(&db, "Ana", "+15145550100").await;
    let bob = common::create_user(&db, "Bob", "+15145550101").await;
    let (google, revoke_url) = revoke_endpoint("1//ANA-refresh").await;
    let mut config = db.config();
    config.token_encryption_keys = Some(SecretString::from(TOKEN_KEYS_ONE));
    config.oauth.connect_link_keys = Some(SecretString::from(LINK_KEYS));
    let oauth =
        nudge::oauth::OAuthService::from_config(&config, db.app.clone(), reqwest::Client::new())
            .unwrap()
            .unwrap();
    save_google_tokens(&db.app, &oauth, ana, "ya29.ANA-access", "1//ANA-refresh").await;

    // Keys in the shapes the inbound limits write.
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let client = redis::Client::open(common::redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let ana_keys = [
        format!("{prefix}limit:gcra:in:user:{ana}"),
        format!("{prefix}limit:gcra:in:phone:+15145550100"),
        format!("{prefix}limit:once:slow:user:{ana}"),
    ];
    let bob_key = format!("{prefix}limit:gcra:in:user:{bob}");
    for key in ana_keys.iter().chain([&bob_key]) {
        let _: () = conn.set(key, 1).await.unwrap();
    }

    let redis_url = common::redis_url();
    let out = admin_with_env(
        &db,
        &["user", "delete", &ana.to_string(), "--yes", "--json"],
        &[
            ("REDIS_URL", redis_url.as_str()),
            ("REDIS_KEY_PREFIX", prefix.as_str()),
            ("TOKEN_ENCRYPTION_KEYS", TOKEN_KEYS_ONE),
            ("CONNECT_LINK_KEYS", LINK_KEYS),
            ("GOOGLE_CLIENT_ID", "google-client"),
            ("GOOGLE_CLIENT_SECRET", "google-secret"),
            ("GOOGLE_REVOKE_URL", revoke_url.as_str()),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["revoked"]["google"], "revoked", "{result}");
    assert_eq!(result["redis_keys"], 3, "{result}");
    google.verify().await;
    for key in &ana_keys {
        let exists: bool = conn.exists(key).await.unwrap();
        assert!(!exists, "{key} survived");
    }
    let exists: bool = conn.exists(&bob_key).await.unwrap();
    assert!(exists, "Bob's key went too");
    let _: () = conn.del(&bob_key).await.unwrap();
    assert_eq!(mentions(&db, &ana.to_string()).await, Vec::<String>::new());
    let details: serde_json::Value = sqlx::query_scalar(
        "select details from audit_log where action = 'user.delete' and user_id is null",
    )
    .fetch_one(&db.owner)
    .await
    .unwrap();
    assert_eq!(details["revoked"]["google"], "revoked");
    assert_eq!(details["redis_keys"], 3);
}

/// The application role's only way to erase: a deletion the person asked
/// for, once it is due. The erase function itself is the owner's.
#[tokio::test]
async fn the_application_erases_only_a_due_deletion_the_person_asked_for() {
    use nudge::store::cross_user::{due_deletion, erase_due_deletion};
    let db = TestDb::new().await;
    let ana = seed(&db, 1).await[0];
    let refused = sqlx::query("select * from nudge_erase_person($1)")
        .bind(ana.0)
        .execute(&db.app)
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&refused).as_deref(), Some(DENIED));
    // The fixture's deletion is due in 7 days.
    let deletion: uuid::Uuid =
        sqlx::query_scalar("select id from account_deletions where user_id = $1")
            .bind(ana.0)
            .fetch_one(&db.owner)
            .await
            .unwrap();
    assert_eq!(due_deletion(&db.app, deletion).await.unwrap(), None);
    let details = serde_json::json!({ "via": "test" });
    assert_eq!(
        erase_due_deletion(&db.app, deletion, &details)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        erase_due_deletion(&db.app, uuid::Uuid::new_v4(), &details)
            .await
            .unwrap(),
        None
    );
    let people = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from users")
            .fetch_one(&db.owner)
            .await
            .unwrap()
    };
    assert_eq!(people().await, 1);
    sqlx::query("update account_deletions set due_at = now() - interval '1 second'")
        .execute(&db.owner)
        .await
        .unwrap();
    assert_eq!(due_deletion(&db.app, deletion).await.unwrap(), Some(ana));
    assert!(
        erase_due_deletion(&db.app, deletion, &details)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(people().await, 0);
    assert_eq!(mentions(&db, &ana.to_string()).await, Vec::<String>::new());
    let entry: (String, serde_json::Value) = sqlx::query_as(
        "select actor, details from audit_log where action = 'user.delete' and user_id is null",
    )
    .fetch_one(&db.owner)
    .await
    .unwrap();
    assert_eq!(entry.0, "user");
    assert_eq!(entry.1["via"], "test");
}
