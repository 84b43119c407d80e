//! The crash drill: many reminders due within a short window, the `nudge
//! worker` PROCESS killed with SIGKILL during the run and restarted. Nothing
//! may be lost; at most one duplicate per kill.
//!
//! Reduced size in the normal suite (200 reminders, 20 people, 1 kill).
//! `bench/reminder_drill.sh` runs it at full size (2,000 reminders, 200
//! people, 3 kills) through the NUDGE_DRILL_* variables.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

use common::TestDb;
use common::drill::{env_or, sigkill, spawn_worker};
use common::sms::{Arrivals, Recorder};

#[tokio::test]
async fn reminders_survive_a_killed_worker_none_lost_at_most_one_duplicate_per_kill() {
    let total = env_or("NUDGE_DRILL_REMINDERS", 200);
    let people = env_or("NUDGE_DRILL_USERS", 20);
    let kills = env_or("NUDGE_DRILL_KILLS", 1);
    let window = Duration::from_secs(env_or("NUDGE_DRILL_WINDOW_SECONDS", 20) as u64);

    let db = TestDb::new().await;
    let twilio = MockServer::start().await;
    let received = Arrivals::default();
    Mock::given(method("POST"))
        .respond_with(Recorder(received.clone()))
        .mount(&twilio)
        .await;

    // Bulk set-up for big runs: the same rows and jobs `Reminder::create`
    // writes, inserted in a few statements.
    let bulk = std::env::var("NUDGE_DRILL_BULK").is_ok();
    let users = if bulk {
        common::drill::bulk_people(&db, people).await
    } else {
        let mut users = Vec::new();
        for i in 0..people {
            users.push(
                common::create_user(&db, &format!("p{i}"), &format!("+1514556{:04}", i)).await,
            );
        }
        users
    };
    // Due times spread over the window, starting a few seconds from now.
    let start = Utc::now() + chrono::Duration::seconds(if bulk { 20 } else { 3 });
    let mut due: HashMap<String, DateTime<Utc>> = HashMap::new();
    if bulk {
        due = common::drill::bulk_reminders(&db, &users, total, start, window).await;
    }
    for i in (0..total).filter(|_| !bulk) {
        let at = start
            + chrono::Duration::milliseconds((window.as_millis() as i64 * i as i64) / total as i64);
        let body = format!("drill {i:05}");
        let user = users[i % people];
        common::one_off_reminder(&db.app, user, &body, at, "UTC").await;
        due.insert(format!("Reminder: {body}"), at);
    }

    let prefix = format!("drill:{}:", uuid::Uuid::new_v4().simple());
    let mut worker = spawn_worker(&db, &twilio, &prefix);
    // Kill at evenly spread moments inside the window.
    for k in 0..kills {
        let at = start
            + chrono::Duration::milliseconds(
                window.as_millis() as i64 * (k as i64 + 1) / (kills as i64 + 1),
            );
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        sigkill(&mut worker);
        worker = spawn_worker(&db, &twilio, &prefix);
    }

    // Wait for everything (orphans come back after 3 missed heartbeats).
    let deadline = std::time::Instant::now() + window + Duration::from_secs(60);
    loop {
        let distinct: std::collections::HashSet<String> = received
            .lock()
            .unwrap()
            .iter()
            .map(|(b, _)| b.clone())
            .collect();
        if distinct.len() >= total || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Resident memory after the burst (bench/all.sh's memory figure).
    let rss_kb = std::fs::read_to_string(format!("/proc/{}/status", worker.id()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0);
    sigkill(&mut worker);

    let received = received.lock().unwrap().clone();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (body, _) in &received {
        *counts.entry(body.as_str()).or_default() += 1;
    }
    let delivered = counts.len();
    let lost = total - delivered.min(total);
    let duplicates: usize = counts.values().map(|c| c - 1).sum();
    let mut lateness: Vec<f64> = received
        .iter()
        .filter_map(|(body, at)| {
            due.get(body)
                .map(|d| (*at - *d).num_milliseconds() as f64 / 1000.0)
        })
        .collect();
    lateness.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| lateness[((lateness.len() as f64 * p) as usize).min(lateness.len() - 1)];
    // From the first due instant to the last hand-off: the burst figure.
    let handoff = received
        .iter()
        .map(|(_, at)| *at)
        .max()
        .map_or(f64::NAN, |last| {
            (last - start).num_milliseconds() as f64 / 1000.0
        });
    println!(
        "drill: {total} reminders, {people} people, {kills} kill(s): delivered {delivered}, lost {lost}, \
         duplicates {duplicates}, lateness p50 {:.2} s, p99 {:.2} s",
        pct(0.5),
        pct(0.99)
    );
    println!(
        "BENCH drill reminders={total} people={people} delivered={delivered} lost={lost} \
         handoff_s={handoff:.3} rate_per_s={:.1} late_p50_ms={:.1} late_p99_ms={:.1} worker_rss_mb={:.1}",
        delivered as f64 / handoff.max(0.001),
        pct(0.5) * 1000.0,
        pct(0.99) * 1000.0,
        rss_kb as f64 / 1024.0
    );
    assert_eq!(lost, 0, "reminders lost");
    assert!(
        duplicates <= kills,
        "{duplicates} duplicates for {kills} kill(s)"
    );
    assert!(
        counts.keys().all(|b| due.contains_key(*b)),
        "unexpected messages"
    );
}
