//! Paced sending with the real binaries: reminders due at one instant for
//! many people, the account limited to 75 messages a second (the fake
//! Twilio answers 429 above it, as Twilio's 20429), and people texting
//! while that backlog drains. Nothing is lost, the rate is never exceeded
//! (no 429), and every reply goes out ahead of the backlog instead of
//! behind it.
//!
//! Reduced size in the suite (300 reminders, four seconds of sending);
//! `bench/all.sh` runs a minute's worth and reads the `BENCH paced` line:
//! the share of the allowed rate used and the replies' latency.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;

use common::drill::{bulk_people, bulk_reminders, env_or};
use common::stack::Stack;

/// The account's rate: a messaging service's, as in the performance goals.
const MPS: usize = 75;

#[tokio::test]
async fn a_paced_backlog_never_exceeds_the_rate_and_replies_go_out_ahead_of_it() {
    let total = env_or("NUDGE_PACED_REMINDERS", 300);
    let people = env_or("NUDGE_PACED_PEOPLE", 100).min(total);
    let texters = env_or("NUDGE_PACED_TEXTERS", 5).min(people);
    // The only setting besides the defaults is the account's rate: the
    // default (1 a second, one long code) would take minutes per hundred.
    let stack = Stack::start_with_env(&[("TWILIO_MAX_MPS", &MPS.to_string())]).await;
    stack.twilio.limit_rate(MPS);
    let users = bulk_people(&stack.db, people).await;
    let start = Utc::now() + chrono::Duration::seconds(2);
    let due = bulk_reminders(&stack.db, &users, total, start, Duration::ZERO).await;
    let backlog = Duration::from_secs_f64(total as f64 / MPS as f64);

    // A third of the way through the backlog, people text in.
    let texting_at = start + chrono::Duration::from_std(backlog / 3).unwrap();
    tokio::time::sleep((texting_at - Utc::now()).to_std().unwrap_or_default()).await;
    let mut texts = Vec::new();
    for i in 0..texters {
        let from = format!("+1514{}", 5_000_001 + i);
        let sent_at = Utc::now();
        let (status, _) = stack.text(&from, "what's on my list today?").await;
        assert_eq!(status, 200, "{}", stack.serve_log());
        texts.push((from, sent_at));
        tokio::time::sleep(backlog / (3 * texters as u32)).await;
    }

    stack
        .wait_delivered(total + texters, backlog * 2 + Duration::from_secs(60))
        .await;
    let attempts = stack.twilio.attempts();
    let rejected = attempts.iter().filter(|a| !a.accepted).count();
    let accepted: Vec<_> = attempts.iter().filter(|a| a.accepted).collect();
    let reminders: Vec<_> = accepted
        .iter()
        .filter(|a| due.contains_key(&a.body))
        .collect();
    let distinct: HashSet<&str> = reminders.iter().map(|a| a.body.as_str()).collect();
    assert_eq!(distinct.len(), total, "reminders lost");
    assert_eq!(reminders.len(), total, "reminders sent twice");
    assert_eq!(
        rejected, 0,
        "over the account's rate: {rejected} answered 429"
    );

    let last_reminder = reminders.iter().map(|a| a.at).max().unwrap();
    let first_reminder = reminders.iter().map(|a| a.at).min().unwrap();
    let mut latencies = Vec::new();
    for (from, sent_at) in &texts {
        let reply = accepted
            .iter()
            .filter(|a| &a.to == from && a.at > *sent_at && !due.contains_key(&a.body))
            .map(|a| a.at)
            .min()
            .unwrap_or_else(|| panic!("no reply to {from}: {}", stack.worker_log()));
        assert!(
            reply < last_reminder,
            "a reply waited behind the whole backlog"
        );
        latencies.push((reply - *sent_at).num_milliseconds() as f64);
    }
    latencies.sort_by(f64::total_cmp);

    // The busiest second, and the share of the allowed rate used while
    // the backlog drained.
    let times: Vec<_> = {
        let mut t: Vec<_> = accepted.iter().map(|a| a.at).collect();
        t.sort();
        t
    };
    let busiest = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            times[i..]
                .iter()
                .take_while(|u| **u - *t < chrono::Duration::seconds(1))
                .count()
        })
        .max()
        .unwrap_or(0);
    let span = (last_reminder - first_reminder).num_milliseconds() as f64 / 1000.0;
    let sent_in_span = accepted
        .iter()
        .filter(|a| a.at >= first_reminder && a.at <= last_reminder)
        .count();
    let used = (sent_in_span.saturating_sub(1)) as f64 / span.max(0.001) / MPS as f64;
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    println!(
        "BENCH paced reminders={total} people={people} mps={MPS} rate_used={used:.3} busiest_second={busiest} \
         rejected={rejected} replies={} reply_p50_ms={:.0} reply_p95_ms={:.0} reply_max_ms={:.0}",
        latencies.len(),
        pct(0.5),
        pct(0.95),
        pct(1.0)
    );
}
