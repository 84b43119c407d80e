//! Reminder delivery against real PostgreSQL: scheduling with every write,
//! DST, quiet hours, the missed policy, replies to a reminder, STOP, and
//! the worker end to end.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use common::sms::SmsHarness;
use nudge::db::UserTx;
use nudge::db::queue::ReminderDueJob;
use nudge::store::recurrence::{Day, Recurrence};
use nudge::store::{NewReminder, Reminder, UserId};
use nudge::workers::reminder_due::{self, Fired};

const ANA: &str = "+15145550101";

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

async fn harness() -> (SmsHarness, UserId) {
    let h = SmsHarness::start_with(|_| {}, |_| {}, false).await;
    let ana = common::create_user(&h.db, "Ana", ANA).await;
    (h, ana)
}

async fn create(h: &SmsHarness, user: UserId, new: NewReminder) -> Reminder {
    let mut tx = UserTx::begin(&h.state.db, user).await.unwrap();
    let r = Reminder::create(&mut tx, new).await.unwrap();
    tx.commit().await.unwrap();
    r
}

fn daily_at(body: &str, first: &str, tz: &str, local: &str) -> NewReminder {
    NewReminder {
        body: body.into(),
        due_at: utc(first),
        timezone: tz.into(),
        local_time: Some(chrono::NaiveTime::parse_from_str(local, "%H:%M").unwrap()),
        recurrence: Some(Recurrence::Daily),
        explicit_time: true,
    }
}

fn one_off(body: &str, at: &str) -> NewReminder {
    NewReminder {
        body: body.into(),
        due_at: utc(at),
        timezone: "America/Montreal".into(),
        local_time: None,
        recurrence: None,
        explicit_time: false,
    }
}

async fn fire(h: &SmsHarness, user: UserId, id: Uuid, now: &str) -> Fired {
    reminder_due::run(
        &h.state,
        &ReminderDueJob {
            user_id: user.0,
            reminder_id: id,
        },
        utc(now),
    )
    .await
    .unwrap()
}

async fn due_of(h: &SmsHarness, id: Uuid) -> (String, DateTime<Utc>) {
    sqlx::query_as("select status, due_at from reminders where id = $1")
        .bind(id)
        .fetch_one(&h.db.owner)
        .await
        .unwrap()
}

async fn pending_jobs(h: &SmsHarness, id: Uuid) -> i64 {
    sqlx::query_scalar(
        "select count(*) from apalis.jobs where job_type = 'reminder_due' and status = 'Pending' \
         and convert_from(job, 'UTF8')::jsonb ->> 'reminder_id' = $1",
    )
    .bind(id.to_string())
    .fetch_one(&h.db.owner)
    .await
    .unwrap()
}

async fn outbound(h: &SmsHarness) -> Vec<String> {
    sqlx::query_scalar("select body from messages where direction = 'outbound' order by created_at")
        .fetch_all(&h.db.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn creating_schedules_and_cancelling_removes_the_delivery_job() {
    let (h, ana) = harness().await;
    let r = create(&h, ana, one_off("call the bank", "2026-11-22T15:00:00Z")).await;
    assert_eq!(pending_jobs(&h, r.id).await, 1);
    let run_at: DateTime<Utc> =
        sqlx::query_scalar("select run_at from apalis.jobs where job_type = 'reminder_due'")
            .fetch_one(&h.db.owner)
            .await
            .unwrap();
    assert_eq!(run_at, utc("2026-11-22T15:00:00Z"));
    let mut tx = UserTx::begin(&h.state.db, ana).await.unwrap();
    Reminder::cancel(&mut tx, r.id).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(pending_jobs(&h, r.id).await, 0);
    // A job that still fired (already claimed) does nothing.
    assert_eq!(
        fire(&h, ana, r.id, "2026-11-22T15:00:00Z").await,
        Fired::Skipped
    );
    assert!(outbound(&h).await.is_empty());
}

#[tokio::test]
async fn a_daily_reminder_stays_at_8_local_across_both_montreal_transitions() {
    let (h, ana) = harness().await;
    // 2026-03-07 08:00 EST = 13:00Z; the next day is EDT (12:00Z).
    let r = create(
        &h,
        ana,
        daily_at("meds", "2026-03-07T13:00:00Z", "America/Montreal", "08:00"),
    )
    .await;
    assert!(matches!(
        fire(&h, ana, r.id, "2026-03-07T13:00:05Z").await,
        Fired::Sent { late: false }
    ));
    assert_eq!(
        due_of(&h, r.id).await,
        ("scheduled".into(), utc("2026-03-08T12:00:00Z"))
    );
    assert!(matches!(
        fire(&h, ana, r.id, "2026-03-08T12:00:02Z").await,
        Fired::Sent { .. }
    ));
    assert_eq!(due_of(&h, r.id).await.1, utc("2026-03-09T12:00:00Z"));
    // Fall back: 2026-10-31 08:00 EDT = 12:00Z, then 2026-11-01 08:00 EST = 13:00Z.
    let r = create(
        &h,
        ana,
        daily_at("walk", "2026-10-31T12:00:00Z", "America/Montreal", "08:00"),
    )
    .await;
    fire(&h, ana, r.id, "2026-10-31T12:00:01Z").await;
    assert_eq!(due_of(&h, r.id).await.1, utc("2026-11-01T13:00:00Z"));
    assert_eq!(
        pending_jobs(&h, r.id).await,
        2,
        "first and next occurrence jobs"
    );
}

#[tokio::test]
async fn weekly_in_paris_keeps_local_time_across_both_transitions() {
    let (h, ana) = harness().await;
    let sundays = |first: &str| NewReminder {
        recurrence: Some(Recurrence::Weekly {
            days: vec![Day::Sun],
        }),
        ..daily_at("call grandma", first, "Europe/Paris", "09:30")
    };
    // Sunday 2026-03-22 09:30 CET = 08:30Z; next Sunday is CEST (07:30Z).
    let r = create(&h, ana, sundays("2026-03-22T08:30:00Z")).await;
    fire(&h, ana, r.id, "2026-03-22T08:30:00Z").await;
    assert_eq!(due_of(&h, r.id).await.1, utc("2026-03-29T07:30:00Z"));
    // Sunday 2026-10-18 09:30 CEST = 07:30Z; 2026-10-25 is CET (08:30Z).
    let r = create(&h, ana, sundays("2026-10-18T07:30:00Z")).await;
    fire(&h, ana, r.id, "2026-10-18T07:30:00Z").await;
    assert_eq!(due_of(&h, r.id).await.1, utc("2026-10-25T08:30:00Z"));
}

#[tokio::test]
async fn quiet_hours_defer_a_reminder_unless_its_time_was_explicit() {
    let (h, ana) = harness().await;
    sqlx::query("update users set quiet_hours_start = '22:00', quiet_hours_end = '07:00'")
        .execute(&h.db.owner)
        .await
        .unwrap();
    // 23:30 Montreal (EST) = 04:30Z next day.
    let relaxed = create(&h, ana, one_off("stretch", "2026-11-22T04:30:00Z")).await;
    assert_eq!(
        fire(&h, ana, relaxed.id, "2026-11-22T04:30:00Z").await,
        Fired::Deferred
    );
    assert_eq!(
        due_of(&h, relaxed.id).await,
        ("scheduled".into(), utc("2026-11-22T12:00:00Z"))
    );
    assert!(outbound(&h).await.is_empty());
    let explicit = create(
        &h,
        ana,
        NewReminder {
            explicit_time: true,
            ..one_off("catch the red-eye", "2026-11-22T04:30:00Z")
        },
    )
    .await;
    assert!(matches!(
        fire(&h, ana, explicit.id, "2026-11-22T04:30:00Z").await,
        Fired::Sent { .. }
    ));
}

#[tokio::test]
async fn missed_policy_sends_young_ones_late_records_stale_ones_and_never_bursts() {
    let (h, ana) = harness().await;
    let young = create(
        &h,
        ana,
        one_off("take the pizza out", "2026-11-21T15:00:00Z"),
    )
    .await;
    assert_eq!(
        fire(&h, ana, young.id, "2026-11-21T15:30:00Z").await,
        Fired::Sent { late: true }
    );
    assert_eq!(outbound(&h).await, ["Reminder: take the pizza out (late)"]);

    let stale = create(&h, ana, one_off("join the call", "2026-11-21T12:00:00Z")).await;
    assert_eq!(
        fire(&h, ana, stale.id, "2026-11-21T15:00:00Z").await,
        Fired::Missed
    );
    assert_eq!(due_of(&h, stale.id).await.0, "missed");
    assert_eq!(
        outbound(&h).await.len(),
        1,
        "a stale occurrence is not sent"
    );

    // A daily reminder whose system was down for three days: one missed
    // record, no catch-up burst, the next occurrence after now.
    let daily = create(
        &h,
        ana,
        daily_at("meds", "2026-11-18T13:00:00Z", "America/Montreal", "08:00"),
    )
    .await;
    assert_eq!(
        fire(&h, ana, daily.id, "2026-11-21T14:00:00Z").await,
        Fired::Missed
    );
    assert_eq!(
        due_of(&h, daily.id).await,
        ("scheduled".into(), utc("2026-11-22T13:00:00Z"))
    );
    assert_eq!(outbound(&h).await.len(), 1);
    let missed: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'reminder.missed'")
            .fetch_one(&h.db.owner)
            .await
            .unwrap();
    assert_eq!(missed, 2);
}

#[tokio::test]
async fn done_and_snooze_replies_act_on_the_reminder_just_delivered() {
    let (h, ana) = harness().await;
    let agent = h.state.agent.clone();
    let now = Utc::now();
    let r = create(&h, ana, one_off("stretch", &now.to_rfc3339())).await;
    assert!(matches!(
        fire(&h, ana, r.id, &now.to_rfc3339()).await,
        Fired::Sent { .. }
    ));

    let snoozed = agent.handle_text(ana, "snooze 5").await.unwrap();
    assert!(snoozed.reply.contains("stretch"), "{}", snoozed.reply);
    let (status, due) = due_of(&h, r.id).await;
    assert_eq!(status, "scheduled");
    assert!(
        (due - now).num_minutes() >= 4 && (due - now).num_minutes() <= 6,
        "{due}"
    );

    let done = agent.handle_text(ana, "fait").await.unwrap();
    assert!(done.reply.contains("stretch"), "{}", done.reply);
    assert_eq!(due_of(&h, r.id).await.0, "done");
    assert_eq!(
        pending_jobs(&h, r.id).await,
        2,
        "old jobs stay but find it done"
    );
    assert_eq!(
        fire(
            &h,
            ana,
            r.id,
            &(now + chrono::Duration::minutes(5)).to_rfc3339()
        )
        .await,
        Fired::Skipped
    );

    // French "plus tard" on a recurring reminder snoozes a copy, the series stays.
    let then = (now + chrono::Duration::seconds(2)).to_rfc3339();
    let daily = create(
        &h,
        ana,
        daily_at("meds", &then, "America/Montreal", "08:00"),
    )
    .await;
    fire(&h, ana, daily.id, &then).await;
    let later = agent.handle_text(ana, "plus tard").await.unwrap();
    assert!(later.reply.contains("meds"), "{}", later.reply);
    let copies: i64 = sqlx::query_scalar(
        "select count(*) from reminders where body = 'meds' and status = 'scheduled'",
    )
    .fetch_one(&h.db.owner)
    .await
    .unwrap();
    assert_eq!(copies, 2);
}

#[tokio::test]
async fn stop_suppresses_reminders_at_send_time() {
    let (h, ana) = harness().await;
    let r = create(
        &h,
        ana,
        one_off("water the plants", &Utc::now().to_rfc3339()),
    )
    .await;
    sqlx::query("update user_phone_numbers set opted_out_at = now()")
        .execute(&h.db.owner)
        .await
        .unwrap();
    assert!(matches!(
        fire(&h, ana, r.id, &Utc::now().to_rfc3339()).await,
        Fired::Sent { .. }
    ));
    let id: Uuid = sqlx::query_scalar("select id from messages where direction = 'outbound'")
        .fetch_one(&h.db.owner)
        .await
        .unwrap();
    let d = nudge::sms_router::outbound::deliver(&h.state.outbound, ana, id)
        .await
        .unwrap();
    assert_eq!(
        d,
        nudge::sms_router::outbound::Delivery::Suppressed("opted_out")
    );
    assert!(h.sent().await.is_empty());
}

#[tokio::test]
async fn the_worker_delivers_a_reminder_at_its_time() {
    let mut h = SmsHarness::start_with(|_| {}, |_| {}, false).await;
    let ana = common::create_user(&h.db, "Ana", ANA).await;
    let soon = Utc::now() + chrono::Duration::seconds(2);
    create(&h, ana, one_off("stand up", &soon.to_rfc3339())).await;
    h.start_workers();
    let sent = h.wait_sent(1).await;
    assert_eq!(sent[0].to, ANA);
    assert_eq!(sent[0].body, "Reminder: stand up");
    let lateness = Utc::now() - soon;
    assert!(lateness < chrono::Duration::seconds(10), "{lateness}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(h.sent().await.len(), 1);
}

#[tokio::test]
async fn fifty_reminders_at_5_per_second_never_leave_faster_and_a_reply_jumps_the_queue() {
    let mut h = SmsHarness::start_with(|c| c.twilio.max_mps = 5.0, |_| {}, false).await;
    let ana = common::create_user(&h.db, "Ana", ANA).await;
    let arrivals = common::sms::Arrivals::default();
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(common::sms::Recorder(arrivals.clone()))
        .with_priority(1)
        .mount(&h.twilio)
        .await;
    let due = Utc::now() + chrono::Duration::seconds(1);
    for i in 0..50 {
        create(&h, ana, one_off(&format!("r{i:02}"), &due.to_rfc3339())).await;
    }
    h.start_workers();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let resp = h.text(ANA, "add milk", "SMpace").await;
    assert_eq!(resp.status(), 200);
    let sent = h.wait_sent(51).await;
    assert_eq!(sent.len(), 51);

    let arrivals = arrivals.lock().unwrap().clone();
    let secs = |d: chrono::Duration| d.num_milliseconds() as f64 / 1000.0;
    // Never faster than the rate; how close to it a loaded machine gets is
    // for the benchmarks, not a pass/fail here.
    let span = secs(arrivals[arrivals.len() - 1].1 - arrivals[0].1);
    assert!(span >= 8.5, "51 messages over {span:.1} s");
    // Never faster than the rate: any 6 consecutive messages span ≥ ~1 s.
    for w in arrivals.windows(6) {
        let gap = secs(w[5].1 - w[0].1);
        assert!(gap >= 0.9, "6 messages within {gap:.2} s");
    }
    let reply_at = arrivals
        .iter()
        .position(|(b, _)| b.contains("milk"))
        .unwrap();
    // First come, first served would send it last: it was queued behind
    // ~35 reminders still waiting for the pacer.
    assert!(reply_at < 50, "the reply left {reply_at}th of 51");
}

#[tokio::test]
async fn changing_the_timezone_moves_future_occurrences_and_their_jobs() {
    let (h, ana) = harness().await;
    // Daily 08:00 Montreal, next on 2026-11-22 (13:00Z).
    let r = create(
        &h,
        ana,
        daily_at("meds", "2026-11-22T13:00:00Z", "America/Montreal", "08:00"),
    )
    .await;
    let mut tx = UserTx::begin(&h.state.db, ana).await.unwrap();
    Reminder::retime_all(&mut tx, "Europe/Paris").await.unwrap();
    tx.commit().await.unwrap();
    // 08:00 in Paris on that day is 07:00Z.
    assert_eq!(
        due_of(&h, r.id).await,
        ("scheduled".into(), utc("2026-11-22T07:00:00Z"))
    );
    let run_ats: Vec<DateTime<Utc>> = sqlx::query_scalar(
        "select run_at from apalis.jobs where job_type = 'reminder_due' order by run_at",
    )
    .fetch_all(&h.db.owner)
    .await
    .unwrap();
    assert_eq!(
        run_ats,
        [utc("2026-11-22T07:00:00Z"), utc("2026-11-22T13:00:00Z")]
    );
    // The new job delivers at the new time; the old one then stands down.
    assert!(matches!(
        fire(&h, ana, r.id, "2026-11-22T07:00:00Z").await,
        Fired::Sent { .. }
    ));
    assert_eq!(due_of(&h, r.id).await.1, utc("2026-11-23T07:00:00Z"));
    assert_eq!(
        fire(&h, ana, r.id, "2026-11-22T13:00:00Z").await,
        Fired::Skipped
    );
}

#[tokio::test]
async fn a_far_future_date_from_the_model_gets_a_short_answer_not_a_panic() {
    use common::scripted_llm::{ScriptedLlm, Step};
    use nudge::agent::tools::ToolRegistry;
    use nudge::agent::{Agent, TurnBudget, TurnEnd};
    use serde_json::json;
    use std::sync::Arc;

    let db = common::TestDb::new().await;
    let ana = common::create_user(&db, "Ana", ANA).await;
    // The year a model once sent, one-off and recurring, and the first day
    // past the ten-year horizon.
    let cases = [
        json!({"text": "x", "due_local": "+262142-12-31T23:59"}),
        json!({"text": "x", "due_local": "+262142-06-01T08:00", "recurrence": {"frequency": "daily"}}),
        json!({"text": "x", "due_local": "+262142-12-31T08:00", "recurrence": {"frequency": "monthly", "day_of_month": 31}}),
        json!({"text": "x", "due_local": "9999-12-31T23:59", "recurrence": {"frequency": "weekly", "days": ["sun"]}}),
        json!({"text": "x", "due_local": "2036-11-23T09:00"}),
    ];
    for args in cases {
        let llm = Arc::new(ScriptedLlm::new(vec![Step::Calls(vec![(
            "create_reminder",
            args.clone(),
        )])]));
        let agent = Agent::new(
            db.app.clone(),
            llm,
            Arc::new(ToolRegistry::builtin()),
            TurnBudget::default(),
        )
        .with_clock(|| utc("2026-11-21T15:00:00Z"));
        let outcome = agent.handle_text(ana, "remind me then").await.unwrap();
        assert_eq!(outcome.end, TurnEnd::InputRefused, "{args}");
        assert_eq!(
            outcome.reply, "That's too far ahead — I can set reminders up to 10 years from now.",
            "{args}"
        );
    }
    let stored: i64 = sqlx::query_scalar("select count(*) from reminders where user_id = $1")
        .bind(ana.0)
        .fetch_one(&db.owner)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}
