//! The fault suite: the real `nudge serve` and `nudge worker` binaries with
//! the default configuration (see `common::stack`), under load and faults.
//! Each scenario asserts on the database and on what the fake Twilio
//! received, and prints one `FAULTS …` line; `bench/faults.sh` runs the same
//! scenarios at full size through the `NUDGE_FAULTS_*` variables.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::stack::{self, Stack, TwilioMode, hanging_redis, p99, report, size};

/// The scenarios run one at a time: each starts two processes and loads
/// the machine, and timings measured beside another scenario would measure
/// that one.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn phone(i: usize) -> String {
    format!("+1514557{i:04}")
}

async fn people(stack: &Stack, n: usize) -> Vec<String> {
    let mut phones = Vec::new();
    for i in 0..n {
        let p = phone(i);
        common::create_user(&stack.db, &format!("p{i}"), &p).await;
        phones.push(p);
    }
    phones
}

/// Every person texts `per_person` list additions, one after the other,
/// all people at once. Returns the acknowledgement times.
async fn burst(stack: &Stack, phones: &[String], per_person: usize) -> Vec<Duration> {
    let sends = phones.iter().enumerate().map(|(i, p)| async move {
        let mut acks = Vec::new();
        for k in 0..per_person {
            let (status, took) = stack.text(p, &format!("add item{i}x{k} to my list")).await;
            assert_eq!(status, 200, "webhook for {p} #{k}");
            acks.push(took);
        }
        acks
    });
    futures::future::join_all(sends)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Checks every person got exactly their replies, once each, in order.
/// Returns (lost, duplicated).
fn check_replies(
    delivered: &[(String, String)],
    phones: &[String],
    per_person: usize,
) -> (usize, usize) {
    let mut by_person: HashMap<&str, Vec<&str>> = HashMap::new();
    for (to, body) in delivered {
        by_person
            .entry(to.as_str())
            .or_default()
            .push(body.as_str());
    }
    let (mut lost, mut duplicated) = (0, 0);
    for (i, p) in phones.iter().enumerate() {
        let got = by_person.get(p.as_str()).cloned().unwrap_or_default();
        let mut last_seen = None;
        for k in 0..per_person {
            let item = format!("item{i}x{k}");
            let positions: Vec<usize> = got
                .iter()
                .enumerate()
                .filter(|(_, b)| mentions(b, &item))
                .map(|(n, _)| n)
                .collect();
            match positions.len() {
                0 => lost += 1,
                1 => {}
                n => duplicated += n - 1,
            }
            if let Some(&pos) = positions.first() {
                assert!(
                    last_seen.is_none_or(|l| l < pos),
                    "{p}: replies out of order: {got:?}"
                );
                last_seen = Some(pos);
            }
        }
    }
    (lost, duplicated)
}

/// Whether `body` names `item` itself ("item1x1", not "item1x12").
fn mentions(body: &str, item: &str) -> bool {
    body.match_indices(item).any(|(at, _)| {
        !body[at + item.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

const ANSWERED: &str =
    "select count(*) from messages where direction = 'inbound' and status = 'answered'";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_people_text_at_once_and_everyone_is_answered_once_in_order() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let n = size("PEOPLE", 50);
    let per = size("MESSAGES", 3);
    let stack = Stack::start().await;
    let phones = people(&stack, n).await;

    let started = Instant::now();
    let mut acks = burst(&stack, &phones, per).await;
    let total = n * per;
    // 30 s for the suite's 50 people; the full-size bench scales it.
    let deadline = Duration::from_secs(30 * (n as u64 / 50).max(1));
    let delivered = stack.wait_delivered(total, deadline).await;
    let took = started.elapsed();

    let (lost, duplicated) = check_replies(&delivered, &phones, per);
    report(
        "burst",
        total,
        delivered.len(),
        lost,
        duplicated,
        p99(&mut acks),
    );
    println!("burst: {total} replies in {took:?}");
    assert_eq!(
        (lost, duplicated),
        (0, 0),
        "every message answered exactly once"
    );
    assert_eq!(stack.count(ANSWERED).await, total as i64);
    let log = stack.worker_log();
    assert!(!log.contains("pool timed out"), "pool exhausted:\n{log}");
    assert!(
        !log.contains("worker stopped; restarting"),
        "a worker restarted:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_cut_mid_burst_strand_no_job() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let n = size("PEOPLE", 50) / 2;
    let per = size("MESSAGES", 3);
    let stack = Stack::start().await;
    let phones = people(&stack, n).await;

    let cut = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Every connection of the worker and server dies at once: the
        // listener, fetches in flight, heartbeats, transactions.
        sqlx::query(
            "select pg_terminate_backend(pid) from pg_stat_activity \
             where datname = current_database() and usename = $1",
        )
        .bind(common::TEST_APP_ROLE)
        .execute(&stack.db.owner)
        .await
        .unwrap();
    };
    let (mut acks, ()) = tokio::join!(burst(&stack, &phones, per), cut);
    let total = n * per;
    let delivered = stack.wait_delivered(total, Duration::from_secs(45)).await;
    let (lost, duplicated) = check_replies(&delivered, &phones, per);
    report(
        "connections_cut",
        total,
        delivered.len(),
        lost,
        duplicated,
        p99(&mut acks),
    );
    assert_eq!(lost, 0, "no message stranded:\n{}", stack.worker_log());
    // A reply can be sent twice only when a cut lands between Twilio's
    // answer and its recording: at most one per cut connection.
    assert!(duplicated <= 8, "{duplicated} duplicates");
    // Jobs fetched by a worker that lost its connections go back to the
    // queue once its heartbeat is missed (3 x 5 s) and then run: none stays
    // fetched for good.
    let stuck = "select count(*) from apalis.jobs where job_type = 'agent_turn' \
                 and status in ('Queued', 'Running', 'Pending')";
    let until = Instant::now() + Duration::from_secs(60);
    while stack.count(stuck).await > 0 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        stack.count(stuck).await,
        0,
        "jobs left fetched by a dead worker"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hanging_redis_never_costs_a_text() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let n = size("WEBHOOKS", 100);
    let stack = Stack::start_with_redis(hanging_redis().await).await;
    let phones = people(&stack, 10).await;
    // A running server has its connections open; the first few texts open them.
    for p in &phones {
        assert_eq!(stack.text(p, "warm up").await.0, 200);
    }
    let sends = (0..n).map(|i| {
        let stack = &stack;
        let p = phones[i % phones.len()].clone();
        async move { stack.text(&p, &format!("note {i}")).await }
    });
    let results = futures::future::join_all(sends).await;
    let failed = results.iter().filter(|(s, _)| *s != 200).count();
    let mut acks: Vec<Duration> = results.iter().map(|(_, t)| *t).collect();
    let stored = stack
        .count("select count(*) from messages where direction = 'inbound'")
        .await
        - phones.len() as i64;
    let p99 = p99(&mut acks);
    report(
        "redis_hang",
        n,
        stored as usize,
        n.saturating_sub(stored as usize),
        0,
        p99,
    );
    assert_eq!(
        failed,
        0,
        "non-2xx acknowledgements:\n{}",
        stack.serve_log()
    );
    assert_eq!(stored, n as i64);
    // Correctness, not speed: Twilio drops a webhook it has waited 15 s
    // for, and a Redis call without its bound would hang every one of them
    // for good. How fast they are is measured by bench/faults.sh (p99,
    // 1,000 at once), where a loaded machine cannot fail the suite.
    let slowest = acks.iter().max().copied().unwrap_or_default();
    assert!(
        slowest < Duration::from_secs(15),
        "an acknowledgement took {slowest:?}, past Twilio's webhook timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn texts_kept_over_the_rate_limit_are_answered_later() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let stack = Stack::start().await;
    let p = people(&stack, 1).await.remove(0);
    // The default limit is 20 a minute with a burst of 10: the last few
    // of 16 quick texts are over it.
    let count = 16;
    for k in 0..count {
        let (status, _) = stack.text(&p, &format!("add item0x{k} to my list")).await;
        assert_eq!(status, 200);
    }
    let limited = stack
        .count("select count(*) from messages where status = 'rate_limited'")
        .await;
    let answered = stack
        .wait_count(ANSWERED, count as i64, Duration::from_secs(60))
        .await;
    let delivered = stack
        .wait_delivered(count + 1, Duration::from_secs(20))
        .await;
    let (lost, duplicated) = check_replies(&delivered, std::slice::from_ref(&p), count);
    let slow_downs = delivered
        .iter()
        .filter(|(_, b)| *b == nudge::sms_router::keywords::SLOW_DOWN_TEXT)
        .count();
    report(
        "rate_limited",
        count,
        delivered.len(),
        lost,
        duplicated,
        Duration::ZERO,
    );
    assert!(limited > 0, "the burst went over the limit");
    assert_eq!(answered, count as i64, "every kept text is answered");
    assert_eq!((lost, duplicated), (0, 0), "{delivered:#?}");
    assert_eq!(slow_downs, 1, "one 'slow down' text");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operator_chats_never_reach_sms() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let stack = Stack::start().await;
    let p = people(&stack, 1).await.remove(0);
    let out = stack
        .command("admin")
        .args(["chat", "--user", &p, "--message", "add bread to my list"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("bread"));

    // A console message left unanswered (a failed admin turn) is not the
    // sweeper's to answer by SMS.
    sqlx::query(
        "insert into messages (user_id, direction, body, status, channel, created_at) \
         select user_id, 'inbound', 'add cheese', 'received', 'console', now() - interval '1 hour' \
         from user_phone_numbers where e164 = $1",
    )
    .bind(&p)
    .execute(&stack.db.owner)
    .await
    .unwrap();
    let stranded = stack
        .count("select count(*) from nudge_stranded_inbound(interval '0 seconds', 100)")
        .await;
    assert_eq!(stranded, 0, "console messages are never swept into SMS");

    let (status, _) = stack.text(&p, "add jam to my list").await;
    assert_eq!(status, 200);
    let delivered = stack.wait_delivered(1, Duration::from_secs(20)).await;
    // Give a wrongly queued console reply time to leave too.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let delivered_after = stack.twilio.delivered();
    report("admin_chat", 1, delivered_after.len(), 0, 0, Duration::ZERO);
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered_after.len(), 1, "{delivered_after:?}");
    assert!(delivered_after[0].1.contains("jam"));
    assert!(!delivered_after[0].1.contains("bread"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_twilio_outage_delays_every_kind_of_text_and_loses_none() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let outage = Duration::from_secs(size("OUTAGE_SECONDS", 24) as u64);
    let stack = Stack::start().await;
    let phones = people(&stack, 4).await;
    let (reply_to, reminded, helped, flooder) = (&phones[0], &phones[1], &phones[2], &phones[3]);
    stack.twilio.set(TwilioMode::Down);

    // A reminder that falls due during the outage.
    let user: uuid::Uuid =
        sqlx::query_scalar("select user_id from user_phone_numbers where e164 = $1")
            .bind(reminded)
            .fetch_one(&stack.db.owner)
            .await
            .unwrap();
    let due = chrono::Utc::now() + chrono::Duration::seconds(3);
    let person = nudge::store::UserId(user);
    common::one_off_reminder(
        &stack.db.app,
        person,
        "take the pills",
        due,
        "America/Montreal",
    )
    .await;

    assert_eq!(stack.text(reply_to, "add item0x0 to my list").await.0, 200);
    assert_eq!(stack.text(helped, "HELP").await.0, 200);
    for k in 0..14 {
        assert_eq!(
            stack
                .text(flooder, &format!("add item3x{k} to my list"))
                .await
                .0,
            200
        );
    }
    // Down (503 + Retry-After) for the first half, then hanging.
    tokio::time::sleep(outage / 2).await;
    stack.twilio.set(TwilioMode::Hang);
    tokio::time::sleep(outage / 2).await;
    let attempts_during = stack.twilio.attempts().len();
    stack.twilio.set(TwilioMode::Up);

    // 1 reply + 1 reminder + 1 HELP + 14 replies + 1 slow-down.
    let expected = 18;
    // Backoff doubles up to 5 minutes: after a long outage the last retry
    // may come that long after recovery.
    let patience = Duration::from_secs(150).max(outage);
    let delivered = stack.wait_delivered(expected, patience).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let delivered = stack.twilio.delivered().len().max(delivered.len());
    let texts = stack.twilio.delivered();
    let mut counts: HashMap<(String, String), usize> = HashMap::new();
    for t in &texts {
        *counts.entry(t.clone()).or_default() += 1;
    }
    let duplicated: usize = counts.values().map(|c| c - 1).sum();
    let to = |who: &String| texts.iter().filter(|(t, _)| t == who).count();
    report(
        "twilio_outage",
        expected,
        delivered,
        expected.saturating_sub(counts.len()),
        duplicated,
        Duration::ZERO,
    );
    assert!(
        attempts_during > 0,
        "texts were attempted during the outage"
    );
    assert_eq!(duplicated, 0, "{texts:?}");
    assert_eq!(to(reply_to), 1, "the reply: {texts:?}");
    assert_eq!(to(reminded), 1, "the reminder: {texts:?}");
    assert!(
        texts
            .iter()
            .any(|(t, b)| t == reminded && b.contains("take the pills"))
    );
    assert_eq!(to(helped), 1, "HELP: {texts:?}");
    assert_eq!(to(flooder), 15, "14 replies and one slow-down: {texts:?}");

    // Retry-After is honoured: the same text is not tried again sooner.
    let mut by_text: HashMap<(String, String), Vec<chrono::DateTime<chrono::Utc>>> = HashMap::new();
    for a in stack.twilio.attempts() {
        by_text.entry((a.to, a.body)).or_default().push(a.at);
    }
    for (text, times) in by_text {
        for pair in times.windows(2) {
            let gap = (pair[1] - pair[0]).to_std().unwrap_or_default();
            assert!(
                gap >= Duration::from_secs(stack::RETRY_AFTER_SECS) - Duration::from_millis(100),
                "{text:?} retried after {gap:?}, before Retry-After"
            );
        }
    }
}

/// A model client that panics on one person's text, as a bug deep in a
/// turn would, and answers everyone else.
struct PanicsOnPoison;

#[async_trait::async_trait]
impl nudge::agent::llm::LlmClient for PanicsOnPoison {
    fn provider(&self) -> &str {
        "poisonable"
    }

    async fn generate(
        &self,
        request: &nudge::agent::llm::LlmRequest,
    ) -> Result<nudge::agent::llm::LlmResponse, nudge::agent::llm::LlmError> {
        let text = format!("{:?}", request.messages.last());
        if text.contains("poison") {
            panic!("a bug that only this message reaches");
        }
        common::scripted_llm::ScriptedLlm::new(vec![])
            .generate(request)
            .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_poison_message_fails_alone_and_its_sender_is_told() {
    let _serial = ONE_AT_A_TIME.lock().await;
    // In process: the model client is swapped for one that panics.
    let harness = common::sms::SmsHarness::start_with(
        |_| {},
        |state| {
            state.agent = nudge::agent::Agent::new(
                state.db.clone(),
                std::sync::Arc::new(PanicsOnPoison),
                std::sync::Arc::new(nudge::agent::tools::ToolRegistry::builtin()),
                nudge::agent::TurnBudget::default(),
            );
        },
        true,
    )
    .await;
    let mut phones = Vec::new();
    for i in 0..10 {
        let p = phone(i);
        common::create_user(&harness.db, &format!("p{i}"), &p).await;
        phones.push(p);
    }
    let sends = phones.iter().enumerate().map(|(i, p)| {
        let harness = &harness;
        async move {
            let body = if i == 0 {
                "poison pill".to_string()
            } else {
                format!("hello {i}")
            };
            let sid = format!("SMpoison{i:026}");
            assert_eq!(harness.text(p, &body, &sid).await.status(), 200);
            // The poisoned person's next text is answered normally.
            if i == 0 {
                let sid = format!("SMpoison{:026}", 100 + i);
                assert_eq!(harness.text(p, "hello again", &sid).await.status(), 200);
            }
        }
    });
    futures::future::join_all(sends).await;
    let sent = harness.wait_sent(11).await;
    let to_poisoned: Vec<&str> = sent
        .iter()
        .filter(|s| s.to == phones[0])
        .map(|s| s.body.as_str())
        .collect();
    report(
        "poison",
        11,
        sent.len(),
        11usize.saturating_sub(sent.len()),
        0,
        Duration::ZERO,
    );
    assert_eq!(sent.len(), 11, "everyone answered: {sent:?}");
    assert_eq!(to_poisoned.len(), 2, "{to_poisoned:?}");
    assert!(
        to_poisoned[0].contains("something went wrong"),
        "{to_poisoned:?}"
    );
    assert!(
        !to_poisoned[1].contains("something went wrong"),
        "{to_poisoned:?}"
    );
    let failed_jobs = harness
        .count("select count(*) from apalis.jobs where status in ('Failed', 'Killed')")
        .await;
    assert_eq!(
        failed_jobs, 0,
        "the poison job ended cleanly, not retried to death"
    );
    let metrics = harness.state.metrics.render();
    assert!(metrics.contains("agent_turn_poison_total"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_killed_after_a_tool_ran_does_not_run_it_again() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let mut stack = Stack::start().await;
    let p = people(&stack, 1).await.remove(0);
    stack.kill_worker();
    assert_eq!(stack.text(&p, "remind me to call mom at 6pm").await.0, 200);

    // Hold the table the turn writes last before its reply (its token
    // usage), so the worker stops between the tool's commit and the reply.
    let mut blocker = stack.db.owner.begin().await.unwrap();
    sqlx::query("lock table llm_usage in exclusive mode")
        .execute(&mut *blocker)
        .await
        .unwrap();
    stack.start_worker();
    let reminders = "select count(*) from reminders";
    assert_eq!(
        stack
            .wait_count(reminders, 1, Duration::from_secs(30))
            .await,
        1
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        stack
            .count("select count(*) from messages where direction = 'outbound'")
            .await,
        0
    );
    stack.kill_worker();
    blocker.rollback().await.unwrap();

    // The job comes back once its worker's heartbeat is missed.
    stack.start_worker();
    let delivered = stack.wait_delivered(1, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let reminders_now = stack.count(reminders).await;
    let jobs = stack
        .count("select count(*) from apalis.jobs where job_type = 'reminder_due'")
        .await;
    report(
        "kill_after_tool",
        1,
        delivered.len(),
        1usize.saturating_sub(delivered.len()),
        (reminders_now as usize).saturating_sub(1),
        Duration::ZERO,
    );
    assert_eq!(delivered.len(), 1, "one reply: {delivered:?}");
    assert!(delivered[0].1.contains("call mom"), "{delivered:?}");
    assert_eq!(reminders_now, 1, "the tool ran once");
    assert_eq!(jobs, 1, "one delivery scheduled");
}
