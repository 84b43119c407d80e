//! Follow-through (issue 15) through the real workers, the fake Twilio and
//! the offline planner: reminders that persist until acknowledged, "what
//! was I doing?" bookmarks, focus check-ins and time calibration, each
//! proactive text turned off by text. Intervals are set to seconds for the
//! worker tests (the person's settings), never by sleeping long.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use common::follow::{ANA, harness, sql};
use common::sms::SmsHarness;
use nudge::db::UserTx;
use nudge::db::queue::ReminderNudgeJob;
use nudge::store::{FocusSession, NewReminder, NudgeEnd, Reminder, UserId};
use nudge::workers::reminder_nudge::{self, Nudged};

/// A one-off reminder at `due`, its time asked for.
async fn one_off(h: &SmsHarness, user: UserId, body: &str, due: DateTime<Utc>) -> Reminder {
    common::one_off_reminder(&h.state.db, user, body, due, "America/Montreal").await
}

/// A one-off reminder that persists until acknowledged.
async fn persisting(h: &SmsHarness, user: UserId, body: &str, due: DateTime<Utc>) -> Reminder {
    let r = one_off(h, user, body, due).await;
    let mut tx = UserTx::begin(&h.state.db, user).await.unwrap();
    Reminder::set_persist(&mut tx, r.id, Some(true))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    r
}

/// The agent on Saturday 2026-03-07, 15:00 in Montreal (EST); the clocks
/// spring forward from 2:00 to 3:00 that night.
fn agent_before_dst(h: &SmsHarness) -> nudge::agent::Agent {
    h.state
        .agent
        .clone()
        .with_clock(|| "2026-03-07T20:00:00Z".parse().unwrap())
}

async fn reminder(h: &SmsHarness, id: Uuid) -> (String, i16, Option<String>) {
    sqlx::query_as("select status, nudges_sent, nudge_end from reminders where id = $1")
        .bind(id)
        .fetch_one(&h.db.owner)
        .await
        .unwrap()
}

/// The nudge jobs written so far, in nudge order.
async fn nudge_jobs(h: &SmsHarness) -> Vec<ReminderNudgeJob> {
    let jobs: Vec<serde_json::Value> = sqlx::query_scalar(
        "select convert_from(job, 'UTF8')::jsonb from apalis.jobs where job_type = 'reminder_nudge'",
    )
    .fetch_all(&h.db.owner)
    .await
    .unwrap();
    let mut jobs: Vec<ReminderNudgeJob> = jobs
        .into_iter()
        .map(|j| serde_json::from_value(j).unwrap())
        .collect();
    jobs.sort_by_key(|j| j.nudge);
    jobs
}

async fn bodies(h: &SmsHarness) -> Vec<String> {
    h.sent().await.into_iter().map(|s| s.body).collect()
}

#[tokio::test]
async fn an_unanswered_reminder_gets_exactly_k_nudges_at_the_configured_spacing() {
    let (mut h, ana) = harness(false).await;
    sql(
        &h,
        "update users set nudge_interval = '2 seconds', nudge_max = 3",
    )
    .await;
    let due = Utc::now() + chrono::Duration::seconds(1);
    let r = persisting(&h, ana, "meds", due).await;
    h.start_workers();
    let sent = h.wait_sent(4).await;
    let got: Vec<&str> = sent.iter().map(|s| s.body.as_str()).collect();
    assert_eq!(
        got,
        [
            "Reminder: meds",
            "2nd nudge: meds",
            "3rd nudge: meds — still on?",
            "Last nudge for now: meds — reply DONE or SNOOZE 30",
        ]
    );
    // The first nudge is due exactly one interval after the delivery, and
    // each next one at least one interval after the one before.
    let jobs = nudge_jobs(&h).await;
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    let delivered = jobs[0].delivered_at;
    assert_eq!(jobs[0].at - delivered, chrono::Duration::seconds(2));
    for w in jobs.windows(2) {
        assert!(w[1].at - w[0].at >= chrono::Duration::seconds(2), "{w:?}");
    }
    // The texts went out in the same order, never before their time.
    let created: Vec<DateTime<Utc>> = sqlx::query_scalar(
        "select created_at from messages where direction = 'outbound' order by created_at",
    )
    .fetch_all(&h.db.owner)
    .await
    .unwrap();
    for (job, at) in jobs.iter().zip(&created[1..]) {
        assert!(
            *at >= job.at,
            "nudge {} stored at {at}, due {}",
            job.nudge,
            job.at
        );
    }
    // Three intervals later: still exactly K.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(h.sent().await.len(), 4);
    assert_eq!(
        reminder(&h, r.id).await,
        ("sent".into(), 3, Some("finished".into()))
    );
}

#[tokio::test]
async fn done_stops_the_nudges_and_none_is_sent_after_it() {
    let (mut h, ana) = harness(false).await;
    sql(
        &h,
        "update users set nudge_interval = '2 seconds', nudge_max = 3",
    )
    .await;
    let r = persisting(&h, ana, "meds", Utc::now() + chrono::Duration::seconds(1)).await;
    h.start_workers();
    h.wait_sent(2).await;
    assert_eq!(h.text(ANA, "done", "SMdone1").await.status(), 200);
    let sent = h.wait_sent(3).await;
    assert_eq!(sent[2].body, "Nice, done: meds.");
    // Two more intervals: the chain saw the answer and stopped.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        bodies(&h).await,
        ["Reminder: meds", "2nd nudge: meds", "Nice, done: meds."]
    );
    assert_eq!(
        reminder(&h, r.id).await,
        ("done".into(), 1, Some("acknowledged".into()))
    );
}

#[tokio::test]
async fn any_reply_counts_and_a_queued_nudge_is_not_sent_after_it() {
    let (h, ana) = harness(false).await;
    let due: DateTime<Utc> = "2027-01-04T15:00:00Z".parse().unwrap();
    let r = persisting(&h, ana, "call the bank", due).await;
    let fired = nudge::workers::reminder_due::run(
        &h.state,
        &nudge::db::queue::ReminderDueJob {
            user_id: ana.0,
            reminder_id: r.id,
        },
        due,
    )
    .await
    .unwrap();
    assert!(matches!(
        fired,
        nudge::workers::reminder_due::Fired::Sent { .. }
    ));
    let job = nudge_jobs(&h).await.remove(0);
    assert_eq!(
        job.at,
        due + chrono::Duration::minutes(10),
        "default spacing"
    );
    // The nudge is stored and queued...
    assert_eq!(
        reminder_nudge::run(&h.state, &job, job.at).await.unwrap(),
        Nudged::Sent { n: 1, last: false }
    );
    // ... run twice (a crash after its commit): nothing more.
    assert_eq!(
        reminder_nudge::run(&h.state, &job, job.at).await.unwrap(),
        Nudged::Skipped
    );
    let nudge_id: Uuid =
        sqlx::query_scalar("select id from messages where idempotency_key like 'nudge:%'")
            .fetch_one(&h.db.owner)
            .await
            .unwrap();
    // ... and the person answers (anything) before it leaves: not sent.
    sqlx::query("insert into messages (user_id, direction, body, created_at) values ($1, 'inbound', 'on it', $2)")
        .bind(ana.0)
        .bind(due + chrono::Duration::minutes(11))
        .execute(&h.db.owner)
        .await
        .unwrap();
    let d = nudge::sms_router::outbound::deliver(&h.state.outbound, ana, nudge_id)
        .await
        .unwrap();
    assert_eq!(
        d,
        nudge::sms_router::outbound::Delivery::Suppressed("acknowledged")
    );
    let next = nudge_jobs(&h).await.remove(1);
    assert_eq!(
        reminder_nudge::run(&h.state, &next, next.at).await.unwrap(),
        Nudged::Stopped(NudgeEnd::Acknowledged)
    );
    assert!(h.sent().await.is_empty());
}

/// Fires `r` at `due` and returns its first nudge's job.
async fn fire_and_first_nudge(
    h: &SmsHarness,
    ana: UserId,
    r: &Reminder,
    due: DateTime<Utc>,
) -> ReminderNudgeJob {
    nudge::workers::reminder_due::run(
        &h.state,
        &nudge::db::queue::ReminderDueJob {
            user_id: ana.0,
            reminder_id: r.id,
        },
        due,
    )
    .await
    .unwrap();
    nudge_jobs(h)
        .await
        .into_iter()
        .find(|j| j.reminder_id == r.id)
        .unwrap()
}

#[tokio::test]
async fn stop_quiet_hours_and_the_next_occurrence_end_the_chain() {
    let (h, ana) = harness(false).await;
    // STOP.
    let due: DateTime<Utc> = "2027-01-04T15:00:00Z".parse().unwrap();
    let r = persisting(&h, ana, "stretch", due).await;
    let job = fire_and_first_nudge(&h, ana, &r, due).await;
    sql(&h, "update user_phone_numbers set opted_out_at = now()").await;
    assert_eq!(
        reminder_nudge::run(&h.state, &job, job.at).await.unwrap(),
        Nudged::Stopped(NudgeEnd::OptedOut)
    );
    sql(&h, "update user_phone_numbers set opted_out_at = null").await;

    // Quiet hours: 10:10 in Montreal falls in 10:05–11:00.
    sql(&h, "update users set timezone = 'America/Montreal', quiet_hours_start = '10:05', quiet_hours_end = '11:00'").await;
    let r = persisting(&h, ana, "water", due).await;
    let job = fire_and_first_nudge(&h, ana, &r, due).await;
    assert_eq!(
        reminder_nudge::run(&h.state, &job, job.at).await.unwrap(),
        Nudged::Stopped(NudgeEnd::QuietHours)
    );
    sql(
        &h,
        "update users set quiet_hours_start = null, quiet_hours_end = null",
    )
    .await;

    // A daily reminder nudged until its next occurrence is due.
    let mut tx = UserTx::begin(&h.state.db, ana).await.unwrap();
    let daily = Reminder::create(
        &mut tx,
        NewReminder {
            body: "meds".into(),
            due_at: due,
            timezone: "America/Montreal".into(),
            local_time: Some(chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap()),
            recurrence: Some(nudge::store::recurrence::Recurrence::Daily),
            explicit_time: true,
        },
    )
    .await
    .unwrap();
    Reminder::set_persist(&mut tx, daily.id, Some(true))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let job = fire_and_first_nudge(&h, ana, &daily, due).await;
    let next_day = due + chrono::Duration::days(1);
    assert_eq!(
        reminder_nudge::run(&h.state, &job, next_day).await.unwrap(),
        Nudged::Stopped(NudgeEnd::NextDue)
    );
    let ends: Vec<Option<String>> =
        sqlx::query_scalar("select nudge_end from reminders order by created_at")
            .fetch_all(&h.db.owner)
            .await
            .unwrap();
    assert_eq!(
        ends,
        [
            Some("opted_out".to_string()),
            Some("quiet_hours".to_string()),
            Some("next_due".to_string())
        ]
    );
}

#[tokio::test]
async fn persisting_and_turning_nudges_off_by_text_in_both_languages() {
    let (h, ana) = harness(false).await;
    let agent = h.state.agent.clone();
    let set = agent
        .handle_text(
            ana,
            "remind me to take my meds at 11:59pm and keep at it until I answer",
        )
        .await
        .unwrap();
    assert!(
        set.reply.contains("keep at it until you answer"),
        "{}",
        set.reply
    );
    let persist: Option<bool> = sqlx::query_scalar("select persist from reminders")
        .fetch_one(&h.db.owner)
        .await
        .unwrap();
    assert_eq!(persist, Some(true));

    let fr = agent
        .handle_text(ana, "rappelle-moi d'appeler le dentiste à 23h58, insiste")
        .await
        .unwrap();
    // Tool confirmations are in the person's language (English here).
    assert!(
        fr.reply.contains("keep at it until you answer"),
        "{}",
        fr.reply
    );
    let stored: Vec<(String, Option<bool>)> =
        sqlx::query_as("select body, persist from reminders order by created_at")
            .fetch_all(&h.db.owner)
            .await
            .unwrap();
    assert_eq!(
        stored,
        [
            ("take my meds".to_string(), Some(true)),
            ("appeler le dentiste".to_string(), Some(true))
        ]
    );

    let default = agent
        .handle_text(ana, "always keep at it until I answer")
        .await
        .unwrap();
    assert!(default.reply.contains("keep at it"), "{}", default.reply);
    sql(&h, "update users set locale = 'fr'").await;
    let off = agent.handle_text(ana, "arrête les relances").await.unwrap();
    assert_eq!(off.reply, "Désactivé : relances jusqu'à ta réponse.");
    let (persist, off): (bool, Vec<String>) =
        sqlx::query_as("select persist_reminders, proactive_off from users")
            .fetch_one(&h.db.owner)
            .await
            .unwrap();
    assert!(persist);
    assert_eq!(off, ["nudges"]);

    // Turned off: a persisting reminder fires once, with no nudge after it.
    let due: DateTime<Utc> = "2027-01-04T15:00:00Z".parse().unwrap();
    let r = persisting(&h, ana, "stretch", due).await;
    nudge::workers::reminder_due::run(
        &h.state,
        &nudge::db::queue::ReminderDueJob {
            user_id: ana.0,
            reminder_id: r.id,
        },
        due,
    )
    .await
    .unwrap();
    assert!(nudge_jobs(&h).await.is_empty());
}

#[tokio::test]
async fn admin_reminders_list_shows_the_nudges() {
    let (h, ana) = harness(false).await;
    let due: DateTime<Utc> = "2027-01-04T15:00:00Z".parse().unwrap();
    let r = persisting(&h, ana, "call the bank", due).await;
    let before = common::admin(&h.db, &["reminders", "list", ANA]);
    assert!(before.status.success());
    assert!(String::from_utf8_lossy(&before.stdout).contains("persists"));
    let job = fire_and_first_nudge(&h, ana, &r, due).await;
    reminder_nudge::run(&h.state, &job, job.at).await.unwrap();
    let during = common::admin(&h.db, &["reminders", "list", ANA]);
    let out = String::from_utf8_lossy(&during.stdout);
    assert!(
        out.contains("NUDGES") && out.contains("1 sent, waiting"),
        "{out}"
    );
}

#[tokio::test]
async fn brb_saves_a_bookmark_offers_it_once_after_a_quiet_and_gives_it_back() {
    let (h, _ana) = harness(true).await;
    sql(&h, "update users set bookmark_offer_after = '2 seconds'").await;
    h.text(
        ANA,
        "brb — doing taxes, next: find last year's receipt",
        "SMbrb1",
    )
    .await;
    let sent = h.wait_sent(1).await;
    assert!(
        sent[0]
            .body
            .starts_with("Saved: taxes — next: find last year's receipt."),
        "{}",
        sent[0].body
    );
    let sent = h.wait_sent(2).await;
    assert_eq!(
        sent[1].body,
        "Back? You were doing: taxes — next: find last year's receipt. No pressure."
    );
    // One offer, never a chase.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(h.sent().await.len(), 2);

    h.text(ANA, "what was I doing?", "SMwhat1").await;
    let sent = h.wait_sent(3).await;
    assert!(
        sent[2].body.starts_with("You were doing: taxes")
            && sent[2].body.ends_with("— next: find last year's receipt."),
        "{}",
        sent[2].body
    );
    sql(&h, "update users set locale = 'fr'").await;
    h.text(ANA, "je faisais quoi ?", "SMwhat2").await;
    let sent = h.wait_sent(4).await;
    assert!(
        sent[3].body.starts_with("Tu faisais : taxes"),
        "{}",
        sent[3].body
    );

    // A bookmark followed by any text within the wait: no offer.
    h.text(ANA, "brb, doing the dishes", "SMbrb2").await;
    h.wait_sent(5).await;
    h.text(ANA, "add milk to my list", "SMmilk").await;
    h.wait_sent(6).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        !bodies(&h)
            .await
            .iter()
            .any(|b| b.starts_with("Back? You were doing: the dishes")),
        "{:?}",
        bodies(&h).await
    );
}

#[tokio::test]
async fn a_bookmark_offer_respects_quiet_hours_and_the_switch() {
    let (h, ana) = harness(false).await;
    let mut tx = UserTx::begin(&h.state.db, ana).await.unwrap();
    let b = nudge::store::Bookmark::create(&mut tx, "taxes", None, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let job = nudge::db::queue::BookmarkOfferJob {
        user_id: ana.0,
        bookmark_id: b.id,
    };
    use nudge::workers::bookmark_offer::{Offered, run};
    let later = Utc::now() + chrono::Duration::hours(1);
    // Quiet from an hour before `later` to an hour after, local time.
    let local = later.with_timezone(&chrono_tz::America::Montreal).time();
    sqlx::query("update users set timezone = 'America/Montreal', quiet_hours_start = $1, quiet_hours_end = $2")
        .bind(local - chrono::Duration::hours(1))
        .bind(local + chrono::Duration::hours(1))
        .execute(&h.db.owner)
        .await
        .unwrap();
    assert_eq!(
        run(&h.state, &job, later).await.unwrap(),
        Offered::Skipped("quiet_hours")
    );
    sql(
        &h,
        "update users set quiet_hours_start = null, quiet_hours_end = null",
    )
    .await;
    h.state
        .agent
        .handle_text(ana, "stop the brb offers")
        .await
        .unwrap();
    // That text was an answer too: the switch is checked on a bookmark
    // saved after it.
    let mut tx = UserTx::begin(&h.state.db, ana).await.unwrap();
    let b = nudge::store::Bookmark::create(&mut tx, "laundry", None, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let job = nudge::db::queue::BookmarkOfferJob {
        user_id: ana.0,
        bookmark_id: b.id,
    };
    assert_eq!(
        run(&h.state, &job, later).await.unwrap(),
        Offered::Skipped("turned_off")
    );
    assert!(h.sent().await.is_empty());
}

/// A focus session that started `minutes` ago less `left` seconds: its
/// check-in is due in `left` seconds.
async fn focus_ending_in(
    h: &SmsHarness,
    user: UserId,
    task: &str,
    first: Option<&str>,
    minutes: i64,
    left: i64,
) -> FocusSession {
    let started = Utc::now() - chrono::Duration::minutes(minutes) + chrono::Duration::seconds(left);
    let mut tx = UserTx::begin(&h.state.db, user).await.unwrap();
    let s = FocusSession::start(&mut tx, task, first, minutes, started)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    s
}

#[tokio::test]
async fn a_focus_session_checks_in_when_time_is_up_and_stuck_gets_the_first_step() {
    let (mut h, ana) = harness(false).await;
    focus_ending_in(
        &h,
        ana,
        "the report",
        Some("open the doc and write the title"),
        25,
        1,
    )
    .await;
    h.start_workers();
    let sent = h.wait_sent(1).await;
    assert_eq!(
        sent[0].body,
        "25 min up — how did it go? DONE / 10 MORE / STUCK"
    );
    h.text(ANA, "STUCK", "SMstuck").await;
    let sent = h.wait_sent(2).await;
    assert!(
        sent[1]
            .body
            .contains("One small step: open the doc and write the title"),
        "{}",
        sent[1].body
    );
    let status: String = sqlx::query_scalar("select status from focus_sessions")
        .fetch_one(&h.db.owner)
        .await
        .unwrap();
    assert_eq!(status, "stuck");
}

#[tokio::test]
async fn ten_more_moves_the_check_in_and_done_feeds_how_long_it_usually_takes() {
    let (mut h, ana) = harness(false).await;
    // Earlier sessions of the report: 40, 55 and 45 minutes (newest last).
    for (ago, took) in [(300, 40), (200, 55), (100, 45)] {
        sqlx::query(
            "insert into focus_sessions (user_id, task, started_at, ends_at, status, ended_at) \
             values ($1, 'report', now() - make_interval(mins => $2), now() - make_interval(mins => $2) + interval '25 minutes', \
                     'done', now() - make_interval(mins => $2) + make_interval(mins => $3))",
        )
        .bind(ana.0)
        .bind(ago)
        .bind(took)
        .execute(&h.db.owner)
        .await
        .unwrap();
    }
    let asked = h
        .state
        .agent
        .handle_text(ana, "how long does the report usually take me?")
        .await
        .unwrap();
    assert_eq!(asked.reply, "report, last 3 times: 45, 55, 40 min.");
    let fr = h
        .state
        .agent
        .handle_text(ana, "combien de temps me prend le rapport ?")
        .await
        .unwrap();
    assert!(
        fr.reply.starts_with("No timed sessions of \"rapport\""),
        "{}",
        fr.reply
    );

    let s = focus_ending_in(&h, ana, "report", None, 25, 1).await;
    h.start_workers();
    h.wait_sent(1).await;
    h.text(ANA, "10 more", "SMmore").await;
    let sent = h.wait_sent(2).await;
    assert!(
        sent[1].body.starts_with("OK, 10 more min on report."),
        "{}",
        sent[1].body
    );
    let ends: DateTime<Utc> =
        sqlx::query_scalar("select ends_at from focus_sessions where id = $1")
            .bind(s.id)
            .fetch_one(&h.db.owner)
            .await
            .unwrap();
    let run_at: DateTime<Utc> =
        sqlx::query_scalar("select max(run_at) from apalis.jobs where job_type = 'focus_checkin'")
            .fetch_one(&h.db.owner)
            .await
            .unwrap();
    assert!((ends - Utc::now()).num_minutes() >= 9, "{ends}");
    assert_eq!(run_at.timestamp(), ends.timestamp());
    // The person finishes before the new end.
    sql(
        &h,
        &format!("update focus_sessions set status = 'checked_in', checked_in_at = now() where id = '{}'", s.id),
    )
    .await;
    h.text(ANA, "done", "SMfocusdone").await;
    let sent = h.wait_sent(3).await;
    assert!(
        sent[2].body.starts_with("Nice work: report, 25 min."),
        "{}",
        sent[2].body
    );
    let asked = h
        .state
        .agent
        .handle_text(ana, "how long does the report usually take me?")
        .await
        .unwrap();
    assert_eq!(asked.reply, "report, last 3 times: 25, 45, 55 min.");
}

#[tokio::test]
async fn a_leave_by_request_schedules_two_texts_at_the_right_local_times_across_dst() {
    let (h, ana) = harness(false).await;
    let agent = agent_before_dst(&h);
    let out = agent
        .handle_text(ana, "dentist tomorrow at 3:30am, 20 min away")
        .await
        .unwrap();
    // 3:30 EDT less 20 min is 3:10 EDT; 15 min before that is 1:55 EST.
    assert_eq!(
        out.reply,
        "You're free until 1:55 AM. I'll text at 1:55 AM (get ready) and 3:10 AM (leave)."
    );
    let due = || async {
        sqlx::query_as::<_, (String, DateTime<Utc>)>(
            "select body, due_at from reminders order by due_at",
        )
        .fetch_all(&h.db.owner)
        .await
        .unwrap()
    };
    assert_eq!(
        due().await,
        [
            (
                "get ready for dentist — leave at 3:10 AM".to_string(),
                "2026-03-08T06:55:00Z".parse().unwrap()
            ),
            (
                "leave now for dentist (3:30 AM)".to_string(),
                "2026-03-08T07:10:00Z".parse().unwrap()
            ),
        ]
    );

    // "I was late": the next ones leave five minutes of margin.
    let late = agent.handle_text(ana, "I was late").await.unwrap();
    assert!(late.reply.contains("5 min of margin"), "{}", late.reply);
    sql(&h, "delete from reminders").await;
    let fr = agent
        .handle_text(ana, "rdv médecin lundi 15h, à 20 min")
        .await
        .unwrap();
    // Monday 15:00 EDT = 19:00Z; leave 14:35, get ready 14:20.
    assert_eq!(
        fr.reply,
        "You're free until 2:20 PM. I'll text at 2:20 PM (get ready) and 2:35 PM (leave)."
    );
    let times: Vec<DateTime<Utc>> = due().await.into_iter().map(|(_, at)| at).collect();
    assert_eq!(
        times,
        [
            "2026-03-09T18:20:00Z".parse::<DateTime<Utc>>().unwrap(),
            "2026-03-09T18:35:00Z".parse().unwrap()
        ]
    );
}

#[tokio::test]
async fn a_morning_check_in_arrives_once_a_day_at_the_chosen_local_time_with_the_days_items() {
    use nudge::db::queue::MorningCheckinJob;
    use nudge::workers::morning_checkin::{Morning, run};
    let (h, ana) = harness(false).await;
    let agent = agent_before_dst(&h);
    let set = agent
        .handle_text(ana, "text me every morning at 8")
        .await
        .unwrap();
    assert!(
        set.reply.starts_with("Every morning at 8:00 AM"),
        "{}",
        set.reply
    );
    // Sunday's items: two reminders that day, one the day after, a task.
    for (body, at) in [
        ("meds", "2026-03-08T13:00:00Z"),
        ("call Sam", "2026-03-08T18:00:00Z"),
        ("dentist", "2026-03-09T14:00:00Z"),
    ] {
        one_off(&h, ana, body, at.parse().unwrap()).await;
    }
    let mut tx = UserTx::begin(&h.state.db, ana).await.unwrap();
    nudge::store::Task::add(&mut tx, "renew passport")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let jobs = || common::follow::scheduled::<MorningCheckinJob>(&h);
    let first = jobs().await;
    assert_eq!(first.len(), 1);
    // Sunday 8:00 EDT (the clocks moved at 2:00) = 12:00Z.
    assert_eq!(
        first[0].1,
        "2026-03-08T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    let job = first[0].0.clone();
    let at: DateTime<Utc> = "2026-03-08T12:00:00Z".parse().unwrap();
    assert_eq!(run(&h.state, &job, at).await.unwrap(), Morning::Sent);
    // Run again (a retry): once a day.
    assert_eq!(
        run(&h.state, &job, at).await.unwrap(),
        Morning::Skipped("already_sent")
    );
    let texts: Vec<String> =
        sqlx::query_scalar("select body from messages where idempotency_key like 'morning:%'")
            .fetch_all(&h.db.owner)
            .await
            .unwrap();
    assert_eq!(
        texts,
        ["Good morning: 3 things today — 9:00 meds, 14:00 call Sam, task: renew passport"]
    );
    // The next day's, at 8:00 local again.
    let next = jobs().await;
    assert_eq!(next.len(), 2);
    assert_eq!(
        next[1].1,
        "2026-03-09T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    // "stop the morning texts": the scheduled one stands down.
    agent
        .handle_text(ana, "stop the morning texts")
        .await
        .unwrap();
    assert_eq!(
        run(&h.state, &next[1].0, next[1].1).await.unwrap(),
        Morning::Skipped("changed")
    );
}
