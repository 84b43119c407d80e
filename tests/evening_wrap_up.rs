//! Follow-through, the evening (issue 15) through the real workers, the
//! fake Twilio and the offline planner: the opt-in wrap-up once a local
//! day with the day's done count and one question (YES moves a task to
//! tomorrow), archiving a task untouched for 14 days, a leave-by offer for
//! tomorrow's calendar event with a place (a local server speaking Google
//! Calendar v3), STUCK asking a model (scripted), and brb → back counted
//! in "how long does it usually take me?".

mod common;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use serde_json::json;
use uuid::Uuid;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::follow::{ANA, harness, sql};
use common::integrations::{connect, integrations, oauth, quick_breakers};
use common::scripted_llm::{ScriptedLlm, Step};
use common::sms::SmsHarness;
use nudge::agent::llm::offline::OfflinePlanner;
use nudge::db::UserTx;
use nudge::db::queue::EveningCheckinJob;
use nudge::oauth::Provider;
use nudge::store::follow_through::Daily;
use nudge::store::{FollowThrough, Task, UserId};
use nudge::workers::evening_checkin::{Evening, run};

fn montreal() -> chrono_tz::Tz {
    "America/Montreal".parse().unwrap()
}

async fn add_task(h: &SmsHarness, user: UserId, title: &str) -> Uuid {
    let mut tx = UserTx::begin(&h.state.db, user).await.unwrap();
    let task = Task::add(&mut tx, title).await.unwrap();
    tx.commit().await.unwrap();
    task.id
}

/// The evening jobs written so far, in run order.
async fn evening_jobs(h: &SmsHarness) -> Vec<(EveningCheckinJob, DateTime<Utc>)> {
    common::follow::scheduled(h).await
}

async fn evening_texts(h: &SmsHarness) -> Vec<String> {
    sqlx::query_scalar(
        "select body from messages where idempotency_key like 'evening:%' order by created_at",
    )
    .fetch_all(&h.db.owner)
    .await
    .unwrap()
}

async fn task_row(h: &SmsHarness, id: Uuid) -> (String, Option<DateTime<Utc>>) {
    sqlx::query_as("select status, due_at from tasks where id = $1")
        .bind(id)
        .fetch_one(&h.db.owner)
        .await
        .unwrap()
}

/// The evening wrap-up set for right now (today, local), its job due in a
/// second: the workers pick it up as they would at 9 pm.
async fn evening_due_now(h: &SmsHarness, user: UserId) -> NaiveDate {
    let now = Utc::now();
    let local = now.with_timezone(&montreal());
    let at = NaiveTime::from_hms_opt(21, 0, 0).unwrap();
    let mut tx = UserTx::begin(&h.state.db, user).await.unwrap();
    FollowThrough::set_daily(
        &mut tx,
        Daily::Evening,
        Some(at),
        local.date_naive(),
        now + chrono::Duration::seconds(1),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    local.date_naive()
}

#[tokio::test]
async fn the_wrap_up_arrives_through_the_workers_with_the_days_done_count_and_yes_moves_the_task() {
    let (mut h, ana) = harness(false).await;
    // Two tasks done today, one yesterday (not counted), one open.
    for (title, hours_ago) in [("email Sam", 0), ("book flights", 0), ("old one", 30)] {
        let id = add_task(&h, ana, title).await;
        sqlx::query(
            "update tasks set status = 'done', completed_at = now() - make_interval(hours => $2) \
             where id = $1",
        )
        .bind(id)
        .bind(hours_ago)
        .execute(&h.db.owner)
        .await
        .unwrap();
    }
    let passport = add_task(&h, ana, "renew passport").await;
    let today = evening_due_now(&h, ana).await;
    h.start_workers();
    let sent = h.wait_sent(1).await;
    assert_eq!(
        sent[0].body,
        "Done today: 2 ✅. Move 'renew passport' to tomorrow? YES/NO"
    );
    assert_eq!(sent[0].to, ANA);

    h.text(ANA, "YES", "SMyes1").await;
    let sent = h.wait_sent(2).await;
    assert_eq!(sent[1].body, "Moved to tomorrow: renew passport.");
    let (status, due) = task_row(&h, passport).await;
    assert_eq!(status, "open");
    let tomorrow = today.succ_opt().unwrap();
    assert_eq!(
        due.unwrap(),
        montreal()
            .from_local_datetime(&tomorrow.and_time(NaiveTime::MIN))
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    );
    // The next evening is scheduled at 9 pm local tomorrow, once.
    let jobs = evening_jobs(&h).await;
    let next: Vec<_> = jobs.iter().filter(|(j, _)| j.day == tomorrow).collect();
    assert_eq!(next.len(), 1, "{jobs:?}");
    assert_eq!(
        next[0].1,
        montreal()
            .from_local_datetime(&tomorrow.and_hms_opt(21, 0, 0).unwrap())
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    );
    assert_eq!(evening_texts(&h).await.len(), 1);
}

#[tokio::test]
async fn once_a_local_day_across_dst_no_guilt_and_turned_off_by_text_in_both_languages() {
    let (h, ana) = harness(false).await;
    // Saturday 2026-03-07, 15:00 in Montreal (EST); clocks spring forward that night.
    let agent = h
        .state
        .agent
        .clone()
        .with_clock(|| "2026-03-07T20:00:00Z".parse().unwrap());
    let set = agent
        .handle_text(ana, "evening check-in at 9pm")
        .await
        .unwrap();
    assert!(
        set.reply.starts_with("Every evening at 9:00 PM"),
        "{}",
        set.reply
    );
    let jobs = evening_jobs(&h).await;
    assert_eq!(jobs.len(), 1);
    // Saturday 21:00 EST = 02:00Z.
    assert_eq!(
        jobs[0].1,
        "2026-03-08T02:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    let (job, at) = jobs[0].clone();
    // Nothing done, nothing open: no pile, no guilt.
    assert_eq!(run(&h.state, &job, at).await.unwrap(), Evening::Sent);
    assert_eq!(
        run(&h.state, &job, at).await.unwrap(),
        Evening::Skipped("already_sent")
    );
    assert_eq!(
        evening_texts(&h).await,
        ["Evening check-in. Nothing open. Rest well."]
    );
    // Sunday 21:00 EDT = 01:00Z Monday: the same local time after the change.
    let jobs = evening_jobs(&h).await;
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        jobs[1].1,
        "2026-03-09T01:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );

    // In French, turned off by text: the scheduled one stands down.
    sql(&h, "update users set locale = 'fr'").await;
    let off = agent
        .handle_text(ana, "arrête le bilan du soir")
        .await
        .unwrap();
    assert_eq!(off.reply, "Bilan du soir désactivé.");
    assert_eq!(
        run(&h.state, &jobs[1].0, jobs[1].1).await.unwrap(),
        Evening::Skipped("changed")
    );
    let on = agent.handle_text(ana, "bilan du soir à 21h").await.unwrap();
    assert!(on.reply.starts_with("Chaque soir à 21"), "{}", on.reply);
    sql(&h, "update users set locale = 'en'").await;
    let off = agent
        .handle_text(ana, "stop the evening texts")
        .await
        .unwrap();
    assert_eq!(off.reply, "Evening wrap-up off.");
    let fresh = evening_jobs(&h).await.pop().unwrap();
    assert_eq!(
        run(&h.state, &fresh.0, fresh.1).await.unwrap(),
        Evening::Skipped("changed")
    );
    assert_eq!(evening_texts(&h).await.len(), 1);
}

#[tokio::test]
async fn a_task_untouched_for_14_days_is_offered_for_archiving_once_and_archived_tasks_leave_lists()
{
    let (h, ana) = harness(false).await;
    let old = add_task(&h, ana, "learn the ukulele").await;
    let other = add_task(&h, ana, "clean the garage").await;
    add_task(&h, ana, "call the bank").await;
    sqlx::query(
        "update tasks set touched_at = now() - make_interval(days => 14 + array_position($1, id)), \
                          created_at = now() - make_interval(days => 14 + array_position($1, id)) \
         where id = any($1)",
    )
    // The ukulele untouched for 16 days, the garage for 15.
    .bind(vec![other, old])
    .execute(&h.db.owner)
    .await
    .unwrap();
    let today = evening_due_now(&h, ana).await;
    let (job, _) = evening_jobs(&h).await.remove(0);
    assert_eq!(job.day, today);
    assert_eq!(
        run(&h.state, &job, Utc::now()).await.unwrap(),
        Evening::Sent
    );
    let texts = evening_texts(&h).await;
    assert_eq!(
        texts,
        ["Evening check-in. Still want 'learn the ukulele'? ARCHIVE / KEEP"]
    );
    let archived = h.state.agent.handle_text(ana, "ARCHIVE").await.unwrap();
    assert_eq!(
        archived.reply,
        "Archived: learn the ukulele. It's off your lists."
    );
    assert_eq!(task_row(&h, old).await.0, "archived");
    let list = h.state.agent.handle_text(ana, "my tasks").await.unwrap();
    assert!(
        !list.reply.contains("ukulele") && list.reply.contains("call the bank"),
        "{}",
        list.reply
    );

    // In French: the next evening offers the other one; GARDER keeps it,
    // and it is not offered again the evening after (the first open task
    // is moved instead).
    sql(&h, "update users set locale = 'fr'").await;
    let (job, _) = evening_jobs(&h)
        .await
        .into_iter()
        .find(|(j, _)| j.day > today)
        .unwrap();
    assert_eq!(
        run(&h.state, &job, Utc::now()).await.unwrap(),
        Evening::Sent
    );
    assert_eq!(
        evening_texts(&h).await[1],
        "Bilan du soir. Tu veux encore « clean the garage » ? ARCHIVER / GARDER"
    );
    let kept = h.state.agent.handle_text(ana, "garder").await.unwrap();
    assert_eq!(kept.reply, "D'accord, je la garde.");
    assert_eq!(task_row(&h, other).await.0, "open");
    let (job, _) = evening_jobs(&h).await.pop().unwrap();
    assert_eq!(
        run(&h.state, &job, Utc::now()).await.unwrap(),
        Evening::Sent
    );
    assert_eq!(
        evening_texts(&h).await[2],
        "Bilan du soir. Je mets « clean the garage » à demain ? OUI/NON"
    );
}

fn google_event(
    id: &str,
    summary: &str,
    start: &str,
    end: &str,
    location: Option<&str>,
) -> serde_json::Value {
    let mut e = json!({"kind": "calendar#event", "id": id, "status": "confirmed", "summary": summary,
           "start": {"dateTime": start, "timeZone": "America/Montreal"}, "end": {"dateTime": end},
           "htmlLink": "https://www.google.com/calendar/event?eid=x"});
    if let Some(l) = location {
        e["location"] = json!(l);
    }
    e
}

/// Saturday 2026-03-07, 21:00 EST: the evening before the clocks go forward.
fn saturday_evening() -> DateTime<Utc> {
    "2026-03-08T02:00:00Z".parse().unwrap()
}

/// Ana connected to Google on `server`, and the harness's agent wired to
/// it with the offline planner, its clock at `now`.
async fn with_google(h: &mut SmsHarness, ana: UserId, server: &MockServer, now: DateTime<Utc>) {
    let breakers = quick_breakers();
    let oauth = oauth(&h.db, server, &breakers);
    connect(&h.db, &oauth, ana, Provider::Google, "ya29.ana").await;
    h.state.agent = common::integrations::agent(
        &h.db,
        Arc::new(OfflinePlanner::new()),
        integrations(Some(oauth), server, None, &breakers),
        now,
    );
}

/// Ana's wrap-up of Saturday 2026-03-07 at 21:00.
fn saturday_job(ana: UserId) -> EveningCheckinJob {
    EveningCheckinJob {
        user_id: ana.0,
        day: NaiveDate::from_ymd_opt(2026, 3, 7).unwrap(),
        at: NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
    }
}

#[tokio::test]
async fn tomorrows_event_with_a_place_gets_one_leave_by_offer_and_yes_schedules_the_texts() {
    let (mut h, ana) = harness(false).await;
    let server = MockServer::start().await;
    // Sunday 2026-03-08 (the clocks went forward at 2:00): a call with no
    // place first, then the dentist across town.
    let events = json!({"kind": "calendar#events", "timeZone": "America/Montreal", "items": [
        google_event("call", "Standup", "2026-03-08T09:00:00-04:00", "2026-03-08T09:15:00-04:00", None),
        google_event("dentist", "Dentist", "2026-03-08T10:00:00-04:00", "2026-03-08T11:00:00-04:00", Some("12 Rue X")),
    ]});
    Mock::given(method("GET"))
        .and(path("/calendar/v3/calendars/primary/events"))
        .and(header("authorization", "Bearer ya29.ana"))
        .respond_with(ResponseTemplate::new(200).set_body_json(events))
        .expect(1)
        .mount(&server)
        .await;
    let evening = saturday_evening();
    // The answer comes two hours later.
    with_google(&mut h, ana, &server, evening + chrono::Duration::hours(2)).await;
    add_task(&h, ana, "renew passport").await;
    let job = saturday_job(ana);
    sql(&h, "update users set evening_checkin_at = '21:00'").await;
    assert_eq!(run(&h.state, &job, evening).await.unwrap(), Evening::Sent);
    assert_eq!(
        evening_texts(&h).await,
        ["Evening check-in. Dentist 10:00 at 12 Rue X tomorrow — want leave-by texts? YES"]
    );
    let yes = h.state.agent.handle_text(ana, "yes").await.unwrap();
    assert!(yes.reply.contains("9:30 AM"), "{}", yes.reply);
    // 30 min of travel: get ready at 9:15, leave at 9:30 EDT (13:15Z, 13:30Z).
    let due: Vec<DateTime<Utc>> =
        sqlx::query_scalar("select due_at from reminders order by due_at")
            .fetch_all(&h.db.owner)
            .await
            .unwrap();
    assert_eq!(
        due,
        [
            "2026-03-08T13:15:00Z".parse::<DateTime<Utc>>().unwrap(),
            "2026-03-08T13:30:00Z".parse().unwrap()
        ]
    );

    // Turned off by text: the next evening asks about the task instead,
    // without reading the calendar (the mock expects exactly one call).
    sql(&h, "update users set locale = 'fr'").await;
    let off = h
        .state
        .agent
        .handle_text(ana, "arrête les propositions de départ")
        .await
        .unwrap();
    assert!(off.reply.starts_with("Désactivé"), "{}", off.reply);
    let next = EveningCheckinJob {
        day: NaiveDate::from_ymd_opt(2026, 3, 8).unwrap(),
        ..job
    };
    let sunday: DateTime<Utc> = "2026-03-09T01:00:00Z".parse().unwrap();
    assert_eq!(run(&h.state, &next, sunday).await.unwrap(), Evening::Sent);
    assert_eq!(
        evening_texts(&h).await[1],
        "Bilan du soir. Je mets « renew passport » à demain ? OUI/NON"
    );
}

#[tokio::test]
async fn stuck_asks_the_model_for_one_next_step_after_the_session_is_committed() {
    let (mut h, ana) = harness(false).await;
    let llm = Arc::new(ScriptedLlm::new(vec![Step::Text(
        "Open the report and type only its title\n".into(),
    )]));
    h.state.agent = nudge::agent::Agent::new(
        h.db.app.clone(),
        llm.clone(),
        Arc::new(nudge::agent::tools::ToolRegistry::builtin()),
        nudge::agent::TurnBudget::default(),
    );
    sqlx::query(
        "insert into focus_sessions (user_id, task, first_step, started_at, ends_at, status, checked_in_at) \
         values ($1, 'the report', 'find the notes', now() - interval '26 minutes', now() - interval '1 minute', \
                 'checked_in', now() - interval '1 minute')",
    )
    .bind(ana.0)
    .execute(&h.db.owner)
    .await
    .unwrap();
    let out = h.state.agent.handle_text(ana, "STUCK").await.unwrap();
    assert_eq!(
        out.reply,
        "Stuck is normal. One small step: Open the report and type only its title. Then text \"starting 10 min on the report\"."
    );
    assert_eq!(out.providers, ["scripted"]);
    // The model was told the task and the step the person had named.
    let asked = llm.request(0).messages[0].text();
    assert!(
        asked.contains("the report") && asked.contains("find the notes"),
        "{asked}"
    );
    assert!(llm.request(0).tools.is_empty());
    let status: String = sqlx::query_scalar("select status from focus_sessions")
        .fetch_one(&h.db.owner)
        .await
        .unwrap();
    assert_eq!(status, "stuck");
    let used: i64 =
        sqlx::query_scalar("select count(*) from llm_usage where provider = 'scripted'")
            .fetch_one(&h.db.owner)
            .await
            .unwrap();
    assert_eq!(used, 1);

    // A model that fails: the step the person wrote.
    let failing = Arc::new(ScriptedLlm::new(vec![Step::Fail]));
    h.state.agent = nudge::agent::Agent::new(
        h.db.app.clone(),
        failing,
        Arc::new(nudge::agent::tools::ToolRegistry::builtin()),
        nudge::agent::TurnBudget::default(),
    );
    sql(
        &h,
        "update focus_sessions set status = 'checked_in', checked_in_at = now()",
    )
    .await;
    let out = h.state.agent.handle_text(ana, "STUCK").await.unwrap();
    assert!(
        out.reply.contains("One small step: find the notes."),
        "{}",
        out.reply
    );
}

#[tokio::test]
async fn brb_to_back_counts_in_how_long_a_task_usually_takes() {
    let (h, ana) = harness(false).await;
    // A focus session on taxes of 40 min two days ago, then a brb on taxes
    // 50 minutes ago.
    sqlx::query(
        "insert into focus_sessions (user_id, task, started_at, ends_at, status, ended_at) \
         values ($1, 'taxes', now() - interval '2 days', now() - interval '2 days' + interval '25 minutes', \
                 'done', now() - interval '2 days' + interval '40 minutes')",
    )
    .bind(ana.0)
    .execute(&h.db.owner)
    .await
    .unwrap();
    let agent = &h.state.agent;
    agent
        .handle_text(ana, "brb — doing taxes, next: find the receipt")
        .await
        .unwrap();
    sql(
        &h,
        "update bookmarks set created_at = now() - interval '50 minutes'",
    )
    .await;
    let back = agent.handle_text(ana, "I'm back").await.unwrap();
    assert!(
        back.reply.starts_with("You were doing: taxes"),
        "{}",
        back.reply
    );
    let how = agent
        .handle_text(ana, "how long does taxes usually take me?")
        .await
        .unwrap();
    assert_eq!(how.reply, "taxes, last 2 times: 50, 40 min.");
    // Coming back again does not stretch the bookmark already closed.
    agent.handle_text(ana, "what was I doing?").await.unwrap();
    let how = agent
        .handle_text(ana, "how long does taxes usually take me?")
        .await
        .unwrap();
    assert_eq!(how.reply, "taxes, last 2 times: 50, 40 min.");
}

#[tokio::test]
async fn two_people_get_their_daily_texts_the_same_day_and_quiet_hours_hold_one_back() {
    use nudge::db::queue::MorningCheckinJob;
    use nudge::workers::morning_checkin::{self, Morning};
    let (h, ana) = harness(false).await;
    let bea = common::create_user(&h.db, "Bea", "+15145550102").await;
    sql(
        &h,
        "update users set evening_checkin_at = '21:00', morning_checkin_at = '08:00'",
    )
    .await;
    let day = NaiveDate::from_ymd_opt(2026, 3, 7).unwrap();
    let evening: DateTime<Utc> = "2026-03-08T02:00:00Z".parse().unwrap();
    let morning: DateTime<Utc> = "2026-03-07T13:00:00Z".parse().unwrap();
    // The texts' keys name the person: one person's day never blocks another's.
    for user in [ana, bea] {
        let job = EveningCheckinJob {
            user_id: user.0,
            day,
            at: NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
        };
        assert_eq!(run(&h.state, &job, evening).await.unwrap(), Evening::Sent);
        let job = MorningCheckinJob {
            user_id: user.0,
            day,
            at: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
        };
        assert_eq!(
            morning_checkin::run(&h.state, &job, morning).await.unwrap(),
            Morning::Sent
        );
    }
    assert_eq!(evening_texts(&h).await.len(), 2);

    // Bea's quiet hours start at 20:00: Sunday's wrap-up is held back, and
    // Monday's is still scheduled.
    sqlx::query(
        "update users set quiet_hours_start = '20:00', quiet_hours_end = '07:00' where id = $1",
    )
    .bind(bea.0)
    .execute(&h.db.owner)
    .await
    .unwrap();
    let sunday = EveningCheckinJob {
        user_id: bea.0,
        day: day.succ_opt().unwrap(),
        at: NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
    };
    assert_eq!(
        run(&h.state, &sunday, "2026-03-09T01:00:00Z".parse().unwrap())
            .await
            .unwrap(),
        Evening::Skipped("quiet_hours")
    );
    assert_eq!(evening_texts(&h).await.len(), 2);
    let monday = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
    assert!(
        evening_jobs(&h)
            .await
            .iter()
            .any(|(j, _)| j.user_id == bea.0 && j.day == monday)
    );
}

/// Answers only once the test has looked at the database while the
/// request is held open.
struct Held {
    reached: std::sync::mpsc::SyncSender<()>,
    release: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
    body: serde_json::Value,
}

impl wiremock::Respond for Held {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        let _ = self.reached.send(());
        let _ = self.release.lock().unwrap().recv();
        ResponseTemplate::new(200).set_body_json(self.body.clone())
    }
}

#[tokio::test]
async fn no_transaction_is_open_while_the_calendar_is_read() {
    let (mut h, ana) = harness(false).await;
    let server = MockServer::start().await;
    let (reached_tx, reached) = std::sync::mpsc::sync_channel(1);
    let (release, release_rx) = std::sync::mpsc::sync_channel(1);
    Mock::given(method("GET"))
        .and(path("/calendar/v3/calendars/primary/events"))
        .respond_with(Held {
            reached: reached_tx,
            release: std::sync::Mutex::new(release_rx),
            body: json!({"kind": "calendar#events", "items": [
                google_event("dentist", "Dentist", "2026-03-08T10:00:00-04:00", "2026-03-08T11:00:00-04:00", Some("12 Rue X")),
            ]}),
        })
        .mount(&server)
        .await;
    let evening = saturday_evening();
    with_google(&mut h, ana, &server, evening).await;
    sql(&h, "update users set evening_checkin_at = '21:00'").await;
    let job = saturday_job(ana);
    let state = h.state.clone();
    let running = tokio::spawn(async move { run(&state, &job, evening).await });
    tokio::task::spawn_blocking(move || reached.recv().unwrap())
        .await
        .unwrap();
    // The provider holds the request: no session of this database is
    // inside a transaction (the next day's job is already committed).
    let open: Vec<String> = sqlx::query_scalar(
        "select coalesce(query, '') from pg_stat_activity \
         where datname = current_database() and pid <> pg_backend_pid() \
           and (state like 'idle in transaction%' or (state = 'active' and xact_start is not null))",
    )
    .fetch_all(&h.db.owner)
    .await
    .unwrap();
    let next_day: i64 = sqlx::query_scalar(
        "select count(*) from apalis.jobs where job_type = 'evening_checkin' and run_at > $1",
    )
    .bind(evening)
    .fetch_one(&h.db.owner)
    .await
    .unwrap();
    release.send(()).unwrap();
    assert!(
        open.is_empty(),
        "transactions open during the call: {open:?}"
    );
    assert_eq!(next_day, 1);
    assert_eq!(running.await.unwrap().unwrap(), Evening::Sent);
    assert_eq!(
        evening_texts(&h).await,
        ["Evening check-in. Dentist 10:00 at 12 Rue X tomorrow — want leave-by texts? YES"]
    );
}
