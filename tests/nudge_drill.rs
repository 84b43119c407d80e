//! The nudge crash drill: reminders that persist until acknowledged, due
//! within a short window, one person each; half the people answer as soon
//! as their reminder arrives. The `nudge worker` PROCESS is killed with
//! SIGKILL during the run and restarted. No text may be lost (every
//! unanswered reminder gets its K nudges), none may be sent after an
//! answer, and at most one duplicate per kill.
//!
//! Reduced size in the normal suite (100 reminders, 1 kill);
//! `bench/nudge_drill.sh` runs it at full size (500 reminders, 3 kills).

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use wiremock::Mock;
use wiremock::matchers::method;

use common::TestDb;
use common::drill::{env_or, sigkill, spawn_worker};
use common::sms::{Arrivals, Recorder};

/// Nudges per unanswered reminder.
const K: usize = 3;

#[tokio::test]
async fn nudges_survive_a_killed_worker_none_lost_none_after_an_answer() {
    let total = env_or("NUDGE_DRILL_REMINDERS", 100);
    let kills = env_or("NUDGE_DRILL_KILLS", 1);
    let window = Duration::from_secs(env_or("NUDGE_DRILL_WINDOW_SECONDS", 10) as u64);
    let interval_s = env_or("NUDGE_DRILL_INTERVAL_SECONDS", 3);

    let db = TestDb::new().await;
    let twilio = wiremock::MockServer::start().await;
    let received = Arrivals::default();
    Mock::given(method("POST"))
        .respond_with(Recorder(received.clone()))
        .mount(&twilio)
        .await;

    // One person per reminder (an answer acknowledges everything that
    // person was sent before it), persisting by default, nudged every few
    // seconds; the reminders and their jobs as `Reminder::create` writes them.
    let start = Utc::now() + chrono::Duration::seconds(3);
    let rows: Vec<(uuid::Uuid, uuid::Uuid, String)> = sqlx::query_as(
        "with u as (insert into users (display_name, timezone, persist_reminders, nudge_interval, nudge_max) \
           select 'p' || n, 'UTC', true, make_interval(secs => $4), $5 from generate_series(0, $1 - 1) n \
           returning id, display_name), \
         p as (insert into user_phone_numbers (user_id, e164, verified, is_primary) \
           select id, '+1514' || lpad((5000000 + substr(display_name, 2)::int)::text, 7, '0'), true, true from u), \
         r as (insert into reminders (user_id, body, due_at, timezone, explicit_time) \
           select id, 'drill ' || lpad(substr(display_name, 2), 5, '0'), \
                  $2 + make_interval(secs => $3 * substr(display_name, 2)::int / $1), 'UTC', true from u \
           returning id, user_id, body, due_at), \
         j as (insert into apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, priority) \
           select apalis.generate_ulid(), 'reminder_due', \
                  convert_to(json_build_object('user_id', user_id, 'reminder_id', id)::text, 'UTF8'), \
                  'Pending', 0, 25, due_at, 0 from r) \
         select id, user_id, body from r",
    )
    .bind(total as i64)
    .bind(start)
    .bind(window.as_secs_f64())
    .bind(interval_s as f64)
    .bind(K as i16)
    .fetch_all(&db.owner)
    .await
    .unwrap();
    // Even-numbered people answer.
    let answering: HashMap<String, uuid::Uuid> = rows
        .iter()
        .filter(|(_, _, body)| body[6..].parse::<usize>().unwrap() % 2 == 0)
        .map(|(_, user, body)| (body.clone(), *user))
        .collect();

    let prefix = format!("drill:{}:", uuid::Uuid::new_v4().simple());
    let mut worker = spawn_worker(&db, &twilio, &prefix);
    let chain = Duration::from_secs((interval_s * K) as u64);
    let kill_at: Vec<DateTime<Utc>> = (0..kills)
        .map(|k| {
            start
                + chrono::Duration::milliseconds(
                    (window + chain).as_millis() as i64 * (k as i64 + 1) / (kills as i64 + 1),
                )
        })
        .collect();
    let mut kills_done = 0;
    // Answers: the moment a person's reminder arrives, they text back.
    let mut answered: HashMap<String, DateTime<Utc>> = HashMap::new();
    let expected = (total - answering.len()) * (1 + K) + answering.len();
    let deadline = std::time::Instant::now() + window + chain + Duration::from_secs(60);
    loop {
        if kills_done < kills && Utc::now() >= kill_at[kills_done] {
            sigkill(&mut worker);
            worker = spawn_worker(&db, &twilio, &prefix);
            kills_done += 1;
        }
        let arrived: Vec<String> = received
            .lock()
            .unwrap()
            .iter()
            .map(|(b, _)| b.clone())
            .collect();
        for body in &arrived {
            if let Some(what) = body.strip_prefix("Reminder: ")
                && let Some(user) = answering.get(what)
                && !answered.contains_key(what)
            {
                let at: DateTime<Utc> = sqlx::query_scalar(
                    "insert into messages (user_id, direction, body) values ($1, 'inbound', 'ok') returning created_at",
                )
                .bind(user)
                .fetch_one(&db.owner)
                .await
                .unwrap();
                answered.insert(what.to_string(), at);
            }
        }
        let distinct: HashSet<&String> = arrived.iter().collect();
        if (distinct.len() >= expected && kills_done == kills)
            || std::time::Instant::now() > deadline
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Two more intervals: anything still to come would come now.
    tokio::time::sleep(Duration::from_secs(2 * interval_s as u64)).await;
    sigkill(&mut worker);

    let received = received.lock().unwrap().clone();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (body, _) in &received {
        *counts.entry(body.as_str()).or_default() += 1;
    }
    let duplicates: usize = counts.values().map(|c| c - 1).sum();
    let mut lost = 0;
    let mut after_answer = 0;
    for (_, _, body) in &rows {
        let nudges: Vec<&(String, DateTime<Utc>)> = received
            .iter()
            .filter(|(b, _)| b.contains("nudge") && b.contains(body.as_str()))
            .collect();
        let distinct_nudges: HashSet<&str> = nudges.iter().map(|(b, _)| b.as_str()).collect();
        if !counts.contains_key(format!("Reminder: {body}").as_str()) {
            lost += 1;
        }
        match answered.get(body) {
            // Nudges decided before the answer may still arrive: a nudge
            // handed to Twilio after it is one the answer did not stop.
            Some(at) => {
                let stored_after: i64 = sqlx::query_scalar(
                    "select count(*) from messages m join reminders r on m.idempotency_key like 'nudge:' || r.id || ':%' \
                     where r.body = $1 and m.created_at > $2",
                )
                .bind(body)
                .bind(at)
                .fetch_one(&db.owner)
                .await
                .unwrap();
                let sent_after = nudges
                    .iter()
                    .filter(|(_, arrived)| *arrived > *at + chrono::Duration::seconds(1))
                    .count();
                after_answer += stored_after as usize + sent_after;
            }
            None if answering.contains_key(body) => lost += 1,
            None => lost += K - distinct_nudges.len().min(K),
        }
    }
    println!(
        "nudge drill: {total} persisting reminders, {} answered, {kills} kill(s): {} texts, lost {lost}, \
         after an answer {after_answer}, duplicates {duplicates}",
        answered.len(),
        received.len()
    );
    assert_eq!(lost, 0, "texts lost");
    assert_eq!(after_answer, 0, "nudges after an answer");
    assert!(
        duplicates <= kills,
        "{duplicates} duplicates for {kills} kill(s)"
    );
}
