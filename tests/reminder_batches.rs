//! Reminders handed off and delivered in batches (`workers::batch`): many
//! people's occurrences in one transaction, each written under its own
//! person's scope; one occurrence that fails is undone alone and retried;
//! deliveries keep their send-time checks, and a provider outage gives the
//! claim back for a later batch.

mod common;

use chrono::{Duration, Utc};
use uuid::Uuid;
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, ResponseTemplate};

use common::sms::SmsHarness;
use nudge::db::UserTx;
use nudge::store::UserId;
use nudge::workers::{deliver_sms, reminder_due};

async fn harness() -> SmsHarness {
    SmsHarness::start_with(|_| {}, |_| {}, false).await
}

/// A one-off reminder due a minute ago (well inside its staleness window).
async fn due_reminder(h: &SmsHarness, user: UserId, body: &str) -> Uuid {
    let due = Utc::now() - Duration::minutes(1);
    common::one_off_reminder(&h.state.db, user, body, due, "UTC")
        .await
        .id
}

async fn rows(h: &SmsHarness, sql: &str) -> Vec<(String, String)> {
    sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_all(&h.db.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_batch_hands_off_everyones_reminders_each_to_its_person_and_one_failure_stays_alone() {
    let h = harness().await;
    let people = [
        common::create_user(&h.db, "Ana", "+15145550101").await,
        common::create_user(&h.db, "Ben", "+15145550102").await,
        common::create_user(&h.db, "Chloé", "+15145550103").await,
    ];
    for (i, person) in people.iter().enumerate() {
        for n in 0..3 {
            due_reminder(&h, *person, &format!("p{i} r{n}")).await;
        }
    }
    let poison = due_reminder(&h, people[1], "poison").await;
    // A database failure on one occurrence's write (a trigger the test
    // owns), not on the others'.
    sqlx::raw_sql(
        "create function refuse_poison() returns trigger language plpgsql as $$ \
         begin if new.body like '%poison%' then raise exception 'refused'; end if; return new; end $$; \
         create trigger refuse_poison before insert on messages for each row execute function refuse_poison();",
    )
    .execute(&h.db.owner)
    .await
    .unwrap();

    let claimed = reminder_due::hand_off(&h.state, 100).await.unwrap();
    assert_eq!(claimed, 10);

    // Every stored text belongs to the person whose reminder it is.
    let texts = rows(
        &h,
        "select m.user_id::text, m.body from messages m where m.direction = 'outbound' order by m.body",
    )
    .await;
    assert_eq!(texts.len(), 9, "{texts:?}");
    for (user, body) in &texts {
        let i: usize = body["Reminder: p".len()..]
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(user, &people[i].0.to_string(), "{body}");
    }
    // Each fired occurrence has one delivery job, for its own person's message.
    let deliveries = rows(
        &h,
        "select convert_from(j.job, 'UTF8')::jsonb ->> 'user_id', m.user_id::text \
         from apalis.jobs j join messages m on m.id = (convert_from(j.job, 'UTF8')::jsonb ->> 'message_id')::uuid \
         where j.job_type = 'deliver_reminder'",
    )
    .await;
    assert_eq!(deliveries.len(), 9);
    assert!(deliveries.iter().all(|(job, message)| job == message));

    // The poisoned occurrence alone is untouched and waits for its retry.
    let (status, attempts, later): (String, i32, bool) = sqlx::query_as(
        "select status, attempts, run_at > now() from apalis.jobs \
         where job_type = 'reminder_due' and convert_from(job, 'UTF8')::jsonb ->> 'reminder_id' = $1",
    )
    .bind(poison.to_string())
    .fetch_one(&h.db.owner)
    .await
    .unwrap();
    assert_eq!((status.as_str(), attempts, later), ("Failed", 1, true));
    let poison_status: String = sqlx::query_scalar("select status from reminders where id = $1")
        .bind(poison)
        .fetch_one(&h.db.owner)
        .await
        .unwrap();
    assert_eq!(poison_status, "scheduled");
    assert_eq!(
        h.count("select count(*) from reminders where status = 'sent'")
            .await,
        9
    );
    assert_eq!(
        h.count(
            "select count(*) from apalis.jobs where job_type = 'reminder_due' and status = 'Done'"
        )
        .await,
        9
    );
    // Nothing left to claim until the retry is due.
    assert_eq!(reminder_due::hand_off(&h.state, 100).await.unwrap(), 0);
}

#[tokio::test]
async fn a_visit_sees_one_person_and_leaving_sees_nobody() {
    let h = harness().await;
    let ana = common::create_user(&h.db, "Ana", "+15145550101").await;
    let ben = common::create_user(&h.db, "Ben", "+15145550102").await;
    due_reminder(&h, ana, "ana's").await;
    due_reminder(&h, ben, "ben's").await;
    due_reminder(&h, ben, "ben's too").await;

    let count = "select count(*) from reminders";
    let mut tx = UserTx::begin_batch(&h.state.db).await.unwrap();
    let seen = |n: i64| n;
    let none: i64 = sqlx::query_scalar(count)
        .fetch_one(tx.conn())
        .await
        .unwrap();
    tx.visit(ana).await.unwrap();
    let ana_sees: i64 = sqlx::query_scalar(count)
        .fetch_one(tx.conn())
        .await
        .unwrap();
    tx.leave(true);
    tx.visit(ben).await.unwrap();
    let ben_sees: i64 = sqlx::query_scalar(count)
        .fetch_one(tx.conn())
        .await
        .unwrap();
    // A failed visit is undone alone.
    sqlx::query("delete from reminders")
        .execute(tx.conn())
        .await
        .unwrap();
    tx.leave(false);
    tx.end_visits().await.unwrap();
    let after: i64 = sqlx::query_scalar(count)
        .fetch_one(tx.conn())
        .await
        .unwrap();
    // A failed last visit is undone by the commit too.
    tx.visit(ana).await.unwrap();
    sqlx::query("delete from reminders")
        .execute(tx.conn())
        .await
        .unwrap();
    tx.leave(false);
    tx.commit().await.unwrap();
    assert_eq!(
        (seen(none), ana_sees, ben_sees, after),
        (0, 1, 2, 0),
        "nobody, Ana's one, Ben's two, nobody"
    );
    assert_eq!(h.count(count).await, 3);

    // The acknowledging commit undoes a failed last visit as well.
    let mut tx = UserTx::begin_batch(&h.state.db).await.unwrap();
    tx.visit(ben).await.unwrap();
    sqlx::query("delete from reminders")
        .execute(tx.conn())
        .await
        .unwrap();
    tx.leave(false);
    tx.commit_durably().await.unwrap();
    assert_eq!(h.count(count).await, 3);
}

#[tokio::test]
async fn a_delivery_batch_checks_each_person_at_send_time_and_an_outage_gives_the_claim_back() {
    let h = harness().await;
    let ana = common::create_user(&h.db, "Ana", "+15145550101").await;
    let ben = common::create_user(&h.db, "Ben", "+15145550102").await;
    let chloe = common::create_user(&h.db, "Chloé", "+15145550103").await;
    for person in [ana, ben, chloe] {
        due_reminder(&h, person, "take the pills").await;
    }
    reminder_due::hand_off(&h.state, 100).await.unwrap();
    // Ben texted STOP after his reminder was handed off; Twilio is down
    // for Chloé's number.
    sqlx::query("update user_phone_numbers set opted_out_at = now() where user_id = $1")
        .bind(ben.0)
        .execute(&h.db.owner)
        .await
        .unwrap();
    Mock::given(method("POST"))
        .and(body_string_contains("5550103"))
        .respond_with(ResponseTemplate::new(503))
        .with_priority(1)
        .mount(&h.twilio)
        .await;

    let claimed = deliver_sms::send_reminders(&h.state, 100).await.unwrap();
    assert_eq!(claimed, 3);

    let sent = h.sent().await;
    let to_ana: Vec<_> = sent.iter().filter(|s| s.to.ends_with("0101")).collect();
    assert_eq!(to_ana.len(), 1);
    assert!(!sent.iter().any(|s| s.to.ends_with("0102")), "opted out");
    let statuses = rows(
        &h,
        "select u.display_name, m.status from messages m join users u on u.id = m.user_id \
         where m.direction = 'outbound' order by u.display_name",
    )
    .await;
    let statuses: Vec<(&str, &str)> = statuses
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("Ana", "queued"),
            ("Ben", "suppressed"),
            ("Chloé", "generated")
        ]
    );
    let jobs = rows(
        &h,
        "select u.display_name, j.status from apalis.jobs j \
         join users u on u.id = (convert_from(j.job, 'UTF8')::jsonb ->> 'user_id')::uuid \
         where j.job_type = 'deliver_reminder' order by u.display_name",
    )
    .await;
    let jobs: Vec<(&str, &str)> = jobs.iter().map(|(n, s)| (n.as_str(), s.as_str())).collect();
    assert_eq!(
        jobs,
        [("Ana", "Done"), ("Ben", "Done"), ("Chloé", "Failed")]
    );
    // Chloé's waits for its backoff, then goes out once Twilio is back.
    assert_eq!(deliver_sms::send_reminders(&h.state, 100).await.unwrap(), 0);
    h.twilio.reset().await;
    common::sms::mount_twilio(&h.twilio).await;
    sqlx::query("update apalis.jobs set run_at = now() where status = 'Failed'")
        .execute(&h.db.owner)
        .await
        .unwrap();
    assert_eq!(deliver_sms::send_reminders(&h.state, 100).await.unwrap(), 1);
    let sent = h.sent().await;
    assert_eq!(sent.len(), 1);
    assert!(sent[0].to.ends_with("0103"));
}
