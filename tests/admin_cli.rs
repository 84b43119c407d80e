//! `nudge admin` as an operator runs it: the real binary, the owner role,
//! exit codes, tables and JSON, and the audit log.

mod common;

use common::admin;

use std::process::Output;

use common::TestDb;

fn admin_with(db: &TestDb, app_url: Option<&str>, args: &[&str]) -> Output {
    let cwd = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_nudge"));
    cmd.arg("admin")
        .args(args)
        .current_dir(cwd.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NUDGE_ENV", "development")
        .env("DATABASE_ADMIN_URL", db.owner_url());
    if let Some(url) = app_url {
        cmd.env("DATABASE_URL", url);
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_refused(o: &Output, reason: &str) {
    assert_eq!(
        o.status.code(),
        Some(2),
        "stdout: {} stderr: {}",
        stdout(o),
        stderr(o)
    );
    let err = stderr(o);
    assert_eq!(err.trim().lines().count(), 1, "one line expected: {err}");
    assert!(err.contains(reason), "'{reason}' not in: {err}");
}

#[tokio::test]
async fn user_add_then_list_json_round_trips() {
    let db = TestDb::new().await;
    let add = admin(
        &db,
        &[
            "user",
            "add",
            "--name",
            "Ada Lovelace",
            "--phone",
            "+1 514 555 0101",
            "--timezone",
            "America/Montreal",
            "--locale",
            "fr",
        ],
    );
    assert!(add.status.success(), "{}", stderr(&add));
    assert!(stdout(&add).contains("+15145550101"));

    let list = admin(&db, &["user", "list", "--json"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let users: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["display_name"], "Ada Lovelace");
    assert_eq!(users[0]["primary_phone"], "+15145550101");
    assert_eq!(users[0]["timezone"], "America/Montreal");
    assert_eq!(users[0]["locale"], "fr");
    assert_eq!(users[0]["status"], "active");

    let table = admin(&db, &["user", "list"]);
    let text = stdout(&table);
    assert!(text.starts_with("ID"), "{text}");
    assert!(text.contains("Ada Lovelace") && text.contains("America/Montreal"));

    let audit: Vec<(String, String)> =
        sqlx::query_as("select actor, action from audit_log order by id")
            .fetch_all(&db.owner)
            .await
            .unwrap();
    // The change, and each read across people.
    assert_eq!(
        audit,
        vec![
            ("admin".into(), "user.add".into()),
            ("admin".into(), "user.list".into()),
            ("admin".into(), "user.list".into())
        ]
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_exit_code_2_and_one_line() {
    let db = TestDb::new().await;
    assert_refused(
        &admin(&db, &["user", "add", "--name", "X", "--phone", "12"]),
        "'12' is not a phone number",
    );
    assert_refused(
        &admin(
            &db,
            &[
                "user",
                "add",
                "--name",
                "X",
                "--phone",
                "+15145550101",
                "--timezone",
                "Mars/Olympus",
            ],
        ),
        "unknown timezone 'Mars/Olympus'",
    );
    assert_refused(
        &admin(
            &db,
            &[
                "user",
                "add",
                "--name",
                "X",
                "--phone",
                "+15145550101",
                "--locale",
                "de",
            ],
        ),
        "unsupported locale",
    );
    assert!(
        admin(
            &db,
            &["user", "add", "--name", "A", "--phone", "+15145550101"]
        )
        .status
        .success()
    );
    assert_refused(
        &admin(
            &db,
            &["user", "add", "--name", "B", "--phone", "+1 (514) 555-0101"],
        ),
        "+15145550101 is already registered",
    );
    assert_refused(
        &admin(&db, &["user", "show", "+15145559999"]),
        "no user has the number",
    );
    assert_refused(
        &admin(
            &db,
            &["user", "show", "2b1e7c4c-0000-4000-8000-000000000000"],
        ),
        "no user with id",
    );
    // The refused add left nothing behind.
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&db.owner)
        .await
        .unwrap();
    assert_eq!(users, 1);
}

#[tokio::test]
async fn disable_enable_phone_management_and_reads_are_audited() {
    let db = TestDb::new().await;
    assert!(
        admin(
            &db,
            &["user", "add", "--name", "Bo", "--phone", "+15145550101"]
        )
        .status
        .success()
    );

    let disabled = admin(&db, &["user", "disable", "+15145550101"]);
    assert!(disabled.status.success(), "{}", stderr(&disabled));
    let show = admin(&db, &["user", "show", "+15145550101", "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(shown["user"]["status"], "disabled");
    let id = shown["user"]["id"].as_str().unwrap().to_string();

    assert!(admin(&db, &["user", "enable", &id]).status.success());
    assert!(
        admin(&db, &["phone", "add", &id, "+33 6 12 34 56 78"])
            .status
            .success()
    );
    let phones = admin(&db, &["phone", "list", &id, "--json"]);
    let phones: serde_json::Value = serde_json::from_slice(&phones.stdout).unwrap();
    let numbers: Vec<(&str, bool)> = phones
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["e164"].as_str().unwrap(),
                p["is_primary"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        numbers,
        vec![("+15145550101", true), ("+33612345678", false)]
    );

    // Removing the primary promotes the other number.
    assert!(
        admin(&db, &["phone", "remove", "+15145550101"])
            .status
            .success()
    );
    let phones = admin(&db, &["phone", "list", "+33612345678", "--json"]);
    let phones: serde_json::Value = serde_json::from_slice(&phones.stdout).unwrap();
    assert_eq!(phones[0]["e164"], "+33612345678");
    assert_eq!(phones[0]["is_primary"], true);
    assert_refused(
        &admin(&db, &["phone", "remove", "+15145550101"]),
        "is not registered",
    );

    let actions: Vec<String> =
        sqlx::query_scalar("select action from audit_log where actor = 'admin' order by id")
            .fetch_all(&db.owner)
            .await
            .unwrap();
    assert_eq!(
        actions,
        [
            "user.add",
            "user.disable",
            "user.show",
            "user.enable",
            "phone.add",
            "phone.list",
            "phone.remove",
            "phone.list"
        ]
    );
}

#[tokio::test]
async fn unreachable_database_is_a_one_line_failure() {
    let cwd = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
        .args(["admin", "user", "list"])
        .current_dir(cwd.path())
        .env_clear()
        .env("NUDGE_ENV", "development")
        .env(
            "DATABASE_ADMIN_URL",
            "postgres://x:secretpw@127.0.0.1:1/nudge",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!err.contains("secretpw"), "{err}");
}

#[tokio::test]
async fn reminders_list_in_local_time_and_missed_and_dead_jobs_retry() {
    let db = TestDb::new().await;
    let user = common::create_user(&db, "Ana", "+15145550101").await;
    sqlx::query(
        "insert into reminders (user_id, body, due_at, timezone) values ($1, 'dentist', '2026-11-23T14:00:00Z', 'America/Montreal')",
    )
    .bind(user.0)
    .execute(&db.owner)
    .await
    .unwrap();
    let list = admin(&db, &["reminders", "list", "+15145550101"]);
    let text = stdout(&list);
    assert!(list.status.success(), "{}", stderr(&list));
    assert!(
        text.contains("Mon 2026-11-23 09:00 EST") && text.contains("dentist"),
        "{text}"
    );

    sqlx::query("insert into audit_log (user_id, actor, action, details) values ($1, 'system', 'reminder.missed', $2)")
        .bind(user.0)
        .bind(serde_json::json!({"reminder_id": uuid::Uuid::new_v4(), "due_at": "2026-11-20T13:00:00Z", "late_secs": 10800.0}))
        .execute(&db.owner)
        .await
        .unwrap();
    let missed = admin(&db, &["reminders", "missed", "--json"]);
    let missed: serde_json::Value = serde_json::from_slice(&missed.stdout).unwrap();
    assert_eq!(missed[0]["display_name"], "Ana");

    sqlx::query(
        "insert into apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, last_result) \
         values ('01JZZZZZZZZZZZZZZZZZZZZZZZ', 'agent_turn', convert_to('{}', 'UTF8'), 'Failed', 10, 10, now(), '{\"Err\": \"boom\"}')",
    )
    .execute(&db.owner)
    .await
    .unwrap();
    let queues = admin(&db, &["jobs", "queues", "--json"]);
    assert!(queues.status.success(), "{}", stderr(&queues));
    let queues: serde_json::Value = serde_json::from_slice(&queues.stdout).unwrap();
    let names: Vec<&str> = queues
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["queue"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        nudge::db::queue::QUEUES,
        "every queue, reminders included"
    );
    assert_eq!(queues[0]["queue"], "agent_turn");
    assert_eq!(queues[0]["dead"], 1);
    let failed = admin(&db, &["jobs", "failed"]);
    assert!(
        stdout(&failed).contains("01JZZZZZZZZZZZZZZZZZZZZZZZ") && stdout(&failed).contains("boom")
    );
    let retried = admin(&db, &["jobs", "retry", "01JZZZZZZZZZZZZZZZZZZZZZZZ"]);
    assert!(retried.status.success(), "{}", stderr(&retried));
    let status: String = sqlx::query_scalar(
        "select status from apalis.jobs where id = '01JZZZZZZZZZZZZZZZZZZZZZZZ'",
    )
    .fetch_one(&db.owner)
    .await
    .unwrap();
    assert_eq!(status, "Pending");
    assert_refused(
        &admin(&db, &["jobs", "retry", "01JZZZZZZZZZZZZZZZZZZZZZZZ"]),
        "no dead job",
    );
}

/// Operators get the application's rights inside one person's scope: the
/// owner role (which bypasses RLS) never shows or changes another person's
/// rows through a per-person command.
#[tokio::test]
async fn per_person_commands_stay_in_that_persons_scope() {
    let db = TestDb::new().await;
    // Bravo first: their number is the oldest in the whole table.
    let bravo = common::create_user(&db, "Bravo", "+15145550121").await;
    let alpha = common::create_user(&db, "Alpha", "+15145550111").await;
    for (user, body) in [(alpha, "alpha dentist"), (bravo, "bravo secret")] {
        sqlx::query(
            "insert into reminders (user_id, body, due_at, timezone) values ($1, $2, now() + interval '1 day', 'UTC')",
        )
        .bind(user.0)
        .bind(body)
        .execute(&db.owner)
        .await
        .unwrap();
    }
    assert!(
        admin(&db, &["phone", "add", "+15145550111", "+15145550112"])
            .status
            .success()
    );
    assert!(
        admin(&db, &["phone", "add", "+15145550121", "+15145550122"])
            .status
            .success()
    );

    let list = admin(&db, &["reminders", "list", "+15145550111", "--json"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let text = stdout(&list);
    assert!(
        text.contains("alpha dentist") && !text.contains("bravo"),
        "{text}"
    );

    let phones = admin(&db, &["phone", "list", "+15145550111", "--json"]);
    let text = stdout(&phones);
    assert!(
        text.contains("+15145550112") && !text.contains("+1514555012"),
        "{text}"
    );
    let show = admin(&db, &["user", "show", "+15145550111", "--json"]);
    let text = stdout(&show);
    assert!(
        text.contains("Alpha") && !text.contains("+1514555012"),
        "{text}"
    );

    // Removing Alpha's primary promotes Alpha's other number, not the
    // oldest number in the table (Bravo's).
    assert!(
        admin(&db, &["phone", "remove", "+15145550111"])
            .status
            .success()
    );
    let primaries: Vec<(uuid::Uuid, String)> = sqlx::query_as(
        "select user_id, e164 from user_phone_numbers where is_primary order by e164",
    )
    .fetch_all(&db.owner)
    .await
    .unwrap();
    assert_eq!(
        primaries,
        vec![
            (alpha.0, "+15145550112".to_string()),
            (bravo.0, "+15145550121".to_string())
        ]
    );

    // Fail closed: without the application role, or with one that
    // bypasses RLS, per-person commands refuse; cross-person views run.
    assert_refused(
        &admin_with(&db, None, &["reminders", "list", "+15145550112"]),
        "set DATABASE_URL",
    );
    assert_refused(
        &admin_with(
            &db,
            Some(&db.owner_url()),
            &["phone", "list", "+15145550112"],
        ),
        "bypasses row-level security",
    );
    assert!(admin_with(&db, None, &["user", "list"]).status.success());
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where actor = 'admin' and action = 'user.list' and user_id is null",
    )
    .fetch_one(&db.owner)
    .await
    .unwrap();
    assert_eq!(audited, 1);
}
