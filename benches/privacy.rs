//! Export and delete of one person with 10,000 messages (and a few hundred
//! rows elsewhere: reminders, list items, memories, usage, jobs), each
//! timed as the operator runs it — the whole `nudge admin user export
//! --out` and `nudge admin user delete --yes` processes — plus the export
//! document alone in-process (what an export link serves). Issue 13 asks
//! each to finish in under 5 s; the bench exits 1 if one does not.
//!
//! `cargo bench --bench privacy` (PostgreSQL and Redis as for the tests;
//! `NUDGE_BENCH_MESSAGES` changes the 10,000).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{TestDb, admin, create_user};

const BUDGET: Duration = Duration::from_secs(5);

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test` runs benches too; this one is only for `cargo bench`.
        return;
    }
    let messages: i64 = std::env::var("NUDGE_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let over = rt.block_on(run(messages));
    if over {
        std::process::exit(1);
    }
}

async fn run(messages: i64) -> bool {
    let db = TestDb::new().await;
    let ana = create_user(&db, "Ana", "+15145550199").await;
    let _bob = create_user(&db, "Bob", "+15145550198").await;
    for sql in [
        "insert into messages (user_id, direction, body, status, created_at) \
         select $1, case when g % 2 = 0 then 'inbound' else 'outbound' end, \
                'message number ' || g || ': pick up the dry cleaning before six, and call the dentist', \
                case when g % 2 = 0 then 'answered' else 'delivered' end, now() - make_interval(mins => g::int) \
         from generate_series(1, $2::bigint) g",
        "insert into sms_usage_logs (user_id, message_id, segments, encoding) \
         select $1, id, 1, 'gsm7' from messages where user_id = $1 and direction = 'outbound'",
        "insert into reminders (user_id, body, due_at, timezone) \
         select $1, 'reminder ' || g, now() + make_interval(hours => g::int), 'UTC' from generate_series(1, 300) g",
        "insert into list_items (user_id, item) select $1, 'item ' || g from generate_series(1, 300) g",
        "insert into memories (user_id, content) select $1, 'fact ' || g from generate_series(1, 300) g",
        "insert into llm_usage (user_id, provider, model, total_tokens) \
         select $1, 'offline', 'rules', 0 from generate_series(1, 1000) g",
        "insert into audit_log (user_id, actor, action) select $1, 'system', 'bench' from generate_series(1, 300) g",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ana.0)
            .bind(messages)
            .execute(&db.owner)
            .await
            .unwrap();
    }
    // Jobs naming her, among others' (the erase scans payloads).
    let mut tx = db.owner.begin().await.unwrap();
    for g in 0..2000 {
        let user_id = if g % 10 == 0 {
            ana.0
        } else {
            uuid::Uuid::new_v4()
        };
        let job = nudge::db::queue::ReminderDueJob {
            user_id,
            reminder_id: uuid::Uuid::new_v4(),
        };
        let options = nudge::db::queue::JobOptions {
            run_at: Some(std::time::SystemTime::now() + Duration::from_secs(86_400)),
            ..Default::default()
        };
        nudge::db::queue::enqueue(&mut tx, &job, options)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query("analyze").execute(&db.owner).await.unwrap();

    let mut tx = nudge::db::UserTx::begin(&db.app, ana).await.unwrap();
    let t = Instant::now();
    let document = nudge::store::person_data::export(&mut tx).await.unwrap();
    let in_process = t.elapsed();
    tx.rollback().await.unwrap();
    let exported = document["tables"]["messages"].as_array().unwrap().len();
    assert_eq!(exported as i64, messages);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.json");
    let t = Instant::now();
    let out = admin(
        &db,
        &[
            "user",
            "export",
            &ana.to_string(),
            "--out",
            file.to_str().unwrap(),
        ],
    );
    let export = t.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::metadata(&file).unwrap().len();

    let t = Instant::now();
    let out = admin(&db, &["user", "delete", &ana.to_string(), "--yes"]);
    let delete = t.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let left: i64 = sqlx::query_scalar("select count(*) from messages where user_id = $1")
        .bind(ana.0)
        .fetch_one(&db.owner)
        .await
        .unwrap();
    assert_eq!(left, 0);

    println!("privacy bench: one person, {messages} messages, export {bytes} bytes");
    println!(
        "  export document (in process)   {:>8.0} ms",
        ms(in_process)
    );
    println!(
        "  nudge admin user export --out  {:>8.0} ms  (budget {} ms)",
        ms(export),
        ms(BUDGET)
    );
    println!(
        "  nudge admin user delete --yes  {:>8.0} ms  (budget {} ms)",
        ms(delete),
        ms(BUDGET)
    );
    export > BUDGET || delete > BUDGET
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
