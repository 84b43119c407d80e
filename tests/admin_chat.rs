//! `nudge admin chat` with no API key: the offline planner, the real
//! binary, the application role.

mod common;

use common::TestDb;

fn chat(db: &TestDb, user: &str, message: &str) -> std::process::Output {
    let cwd = tempfile::tempdir().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
        .args(["admin", "chat", "--user", user, "--message", message])
        .current_dir(cwd.path())
        .env_clear()
        .env("NUDGE_ENV", "development")
        .env("DATABASE_URL", db.app_url())
        .env("DATABASE_ADMIN_URL", db.owner_url())
        .output()
        .unwrap()
}

#[tokio::test]
async fn chat_sets_and_lists_a_reminder_offline() {
    let db = TestDb::new().await;
    common::create_user(&db, "Ana", "+15145550101").await;

    let set = chat(
        &db,
        "+15145550101",
        "remind me to take my meds every day at 8am",
    );
    let reply = String::from_utf8_lossy(&set.stdout);
    assert!(
        set.status.success(),
        "{reply}{}",
        String::from_utf8_lossy(&set.stderr)
    );
    assert!(reply.contains("take my meds"), "{reply}");
    assert!(
        reply.contains("every day") && reply.contains("8:00 AM"),
        "{reply}"
    );

    let list = chat(&db, "+15145550101", "what are my reminders?");
    let reply = String::from_utf8_lossy(&list.stdout);
    assert!(list.status.success());
    assert!(
        reply.contains("take my meds") && reply.contains("8:00 AM"),
        "{reply}"
    );

    // French, and a list.
    let fr = chat(&db, "+15145550101", "ajoute du pain à la liste");
    let reply = String::from_utf8_lossy(&fr.stdout);
    assert!(reply.contains("pain"), "{reply}");

    let unknown = chat(&db, "+15145559999", "hello");
    assert_eq!(unknown.status.code(), Some(2));
}
