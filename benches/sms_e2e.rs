//! End to end: a signed webhook → PostgreSQL → agent turn (offline rules
//! planner, no network model) → the reply received by a fake Twilio on
//! loopback. 50 people text at once, each waiting for their answer and then
//! a think time (`NUDGE_BENCH_THINK_MS`, default 1000; 0 = saturate) before
//! texting again. Prints p50/p95/p99 of webhook-to-reply latency.
//!
//! `cargo bench --bench sms_e2e` (PostgreSQL and Redis as for the tests).

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Notify;
use wiremock::matchers::method;
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use common::sms::SmsHarness;

const PEOPLE: usize = 50;
const ROUNDS: usize = 12;

/// Twilio's answer, noting which person's reply just arrived.
struct Arrivals(Arc<Mutex<HashMap<String, Arc<Notify>>>>);

impl Respond for Arrivals {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let to = url::form_urlencoded::parse(&request.body)
            .find(|(k, _)| k == "To")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if let Some(n) = self.0.lock().unwrap().get(&to) {
            n.notify_one();
        }
        ResponseTemplate::new(201).set_body_json(json!({
            "sid": format!("SM{}", uuid::Uuid::new_v4().simple()), "status": "queued"
        }))
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test` runs benches too; this one is only for `cargo bench`.
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // Limits raised so the bench measures turns, not the limiter; the
        // pool stays at the default a user runs (the worker's connection
        // budget fits in it).
        let h = SmsHarness::start(|c| {
            c.twilio.inbound_per_minute = 1_000_000;
            c.edge_requests_per_second = 1_000_000;
            c.edge_burst = 1_000_000;
        })
        .await;
        let waiters: Arc<Mutex<HashMap<String, Arc<Notify>>>> = Arc::default();
        Mock::given(method("POST"))
            .respond_with(Arrivals(waiters.clone()))
            .with_priority(1)
            .mount(&h.twilio)
            .await;
        let mut phones = Vec::new();
        for i in 0..PEOPLE {
            let phone = format!("+1514555{:04}", 2000 + i);
            common::create_user(&h.db, &format!("p{i}"), &phone).await;
            waiters.lock().unwrap().insert(phone.clone(), Arc::new(Notify::new()));
            phones.push(phone);
        }
        let h = Arc::new(h);
        let think = Duration::from_millis(
            std::env::var("NUDGE_BENCH_THINK_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000),
        );
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (i, phone) in phones.into_iter().enumerate() {
            let h = h.clone();
            let notify = waiters.lock().unwrap()[&phone].clone();
            tasks.push(tokio::spawn(async move {
                let mut samples = Vec::new();
                for round in 0..ROUNDS {
                    let t0 = Instant::now();
                    let resp = h.text(&phone, &format!("add item{round}"), &format!("SMe2e{i}x{round}")).await;
                    assert_eq!(resp.status(), 200);
                    let acked = t0.elapsed();
                    if acked > Duration::from_millis(500) {
                        println!("slow ack: {acked:?}");
                    }
                    tokio::time::timeout(Duration::from_secs(30), notify.notified())
                        .await
                        .expect("reply within 30 s");
                    samples.push(t0.elapsed());
                    // People do not all text at the same instant.
                    let jitter = Duration::from_millis(rand::random::<u64>() % 200);
                    tokio::time::sleep(think + jitter).await;
                }
                samples
            }));
        }
        let mut all: Vec<Duration> = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let elapsed = started.elapsed();
        let retried: Vec<(i32, Option<String>)> = sqlx::query_as(
            "select attempts, last_result::text from apalis.jobs where attempts > 1 limit 5",
        )
        .fetch_all(&h.db.owner)
        .await
        .unwrap();
        if !retried.is_empty() {
            println!("retried jobs (sample): {retried:?}");
        }
        let waits: Vec<(String, f64, f64, f64)> = sqlx::query_as(
            "select job_type, \
               percentile_cont(0.5) within group (order by extract(epoch from lock_at - run_at))::float8, \
               percentile_cont(0.95) within group (order by extract(epoch from lock_at - run_at))::float8, \
               percentile_cont(0.95) within group (order by extract(epoch from done_at - lock_at))::float8 \
             from apalis.jobs group by job_type",
        )
        .fetch_all(&h.db.owner)
        .await
        .unwrap();
        println!("queue wait p50/p95 and run p95 (s): {waits:?}");
        let phases: Vec<(f64, f64, f64, f64)> = sqlx::query_as(
            "select percentile_cont(0.5) within group (order by extract(epoch from r.created_at - i.created_at))::float8, \
                    percentile_cont(0.95) within group (order by extract(epoch from r.created_at - i.created_at))::float8, \
                    percentile_cont(0.5) within group (order by extract(epoch from r.updated_at - r.created_at))::float8, \
                    percentile_cont(0.95) within group (order by extract(epoch from r.updated_at - r.created_at))::float8 \
             from messages i join messages r on r.in_reply_to = i.id",
        )
        .fetch_all(&h.db.owner)
        .await
        .unwrap();
        println!("inbound->reply stored p50/p95, stored->sent p50/p95 (s): {phases:?}");
        for line in h.state.metrics.render().lines() {
            if line.starts_with("sms_outbound_retries_total") || line.starts_with("sms_outbound_requests_total") || line.starts_with("agent_turn_jobs_total") || line.starts_with("agent_turn_pickup_seconds{quantile") || line.starts_with("agent_turn_pickup_seconds_bucket") || line.starts_with("agent_turn_duration_seconds_bucket") {
                println!("{line}");
            }
        }
        all.sort();
        let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
        println!(
            "sms_e2e: {} replies from {PEOPLE} people in {:.1} s ({:.0}/s): p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
            all.len(),
            elapsed.as_secs_f64(),
            all.len() as f64 / elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.95),
            pct(0.99)
        );
    });
}
