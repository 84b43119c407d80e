//! SMS end to end: signed webhooks → PostgreSQL → workers → the fake
//! Twilio, with real PostgreSQL and Redis.

mod common;

use std::time::Duration;

use common::sms::{FROM, PUBLIC_URL, SmsHarness, inbound_params, python_twilio_signature};

const ANA: &str = "+15145550101";
const BOB: &str = "+15145550102";

async fn with_users(h: &SmsHarness) {
    common::create_user(&h.db, "Ana", ANA).await;
    common::create_user(&h.db, "Bob", BOB).await;
}

#[tokio::test]
async fn a_signed_webhook_is_answered_through_twilio() {
    let h = SmsHarness::start(|_| {}).await;
    with_users(&h).await;
    let resp = h.text(ANA, "add milk and eggs", "SM1").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/xml");
    assert_eq!(
        resp.text().await.unwrap(),
        r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#
    );
    let sent = h.wait_sent(1).await;
    assert_eq!(sent[0].to, ANA);
    assert_eq!(sent[0].from, FROM);
    assert!(
        sent[0].body.contains("milk") && sent[0].body.contains("eggs"),
        "{:?}",
        sent[0]
    );
    assert_eq!(
        sent[0].status_callback,
        format!("{PUBLIC_URL}/twilio/status")
    );

    // Twilio's answer is recorded just after it arrives: wait for it.
    let mut recorded = (String::new(), 0);
    for _ in 0..100 {
        recorded =
            sqlx::query_as("select status, segments from messages where direction = 'outbound'")
                .fetch_one(&h.db.owner)
                .await
                .unwrap();
        if recorded.0 != "sending" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (status, segments): (String, i32) = recorded;
    assert_eq!((status.as_str(), segments), ("queued", 1));
    assert_eq!(
        h.count(
            "select count(*) from sms_usage_logs where segments = 1 and estimated_cost_micros > 0"
        )
        .await,
        1
    );
    assert_eq!(
        h.count("select count(*) from user_identification_logs where outcome = 'matched'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_webhook_signed_by_twilios_own_library_is_accepted() {
    let h = SmsHarness::start(|_| {}).await;
    with_users(&h).await;
    let params = inbound_params(ANA, "what's on my list?", "SMpy1");
    let signature = python_twilio_signature(&format!("{PUBLIC_URL}/twilio/sms"), &params);
    let resp = h.post_signed("/twilio/sms", &params, &signature).await;
    assert_eq!(resp.status(), 200);
    h.wait_sent(1).await;
}

#[tokio::test]
async fn forged_missing_or_tampered_signatures_are_refused_and_nothing_is_stored() {
    let h = SmsHarness::start(|_| {}).await;
    with_users(&h).await;
    let params = inbound_params(ANA, "add milk", "SMforged");
    let good = nudge::sms_router::signature::compute_signature(
        common::sms::AUTH_TOKEN,
        &format!("{PUBLIC_URL}/twilio/sms"),
        &params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>(),
    );
    // Missing.
    let resp = h
        .http
        .post(format!("{}/twilio/sms", h.base))
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // Forged.
    assert_eq!(
        h.post_signed("/twilio/sms", &params, "bm9wZQ==")
            .await
            .status(),
        403
    );
    // Signed for another host (a Host-header trick must not help).
    let other = nudge::sms_router::signature::compute_signature(
        common::sms::AUTH_TOKEN,
        &format!("{}/twilio/sms", h.base),
        &params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        h.post_signed("/twilio/sms", &params, &other).await.status(),
        403
    );
    // Tampered: each parameter changed in turn under the good signature.
    for i in 0..params.len() {
        let mut tampered = params.clone();
        tampered[i].1 = if tampered[i].1 == "x" { "y" } else { "x" };
        let resp = h.post_signed("/twilio/sms", &tampered, &good).await;
        assert_eq!(resp.status(), 403, "changed {}", params[i].0);
    }
    assert_eq!(h.count("select count(*) from messages").await, 0);
    assert_eq!(h.count("select count(*) from apalis.jobs").await, 0);
    assert_eq!(
        h.count("select count(*) from user_identification_logs")
            .await,
        0
    );
    // The untampered request still works.
    assert_eq!(
        h.post_signed("/twilio/sms", &params, &good).await.status(),
        200
    );
}

#[tokio::test]
async fn bodies_over_64_kib_get_413() {
    let h = SmsHarness::start(|_| {}).await;
    let big = "x".repeat(65 * 1024);
    let resp = h.text(ANA, &big, "SMbig").await;
    assert_eq!(resp.status(), 413);
}

#[tokio::test]
async fn the_same_message_sid_ten_times_at_once_is_one_message_one_job_one_reply() {
    let h = SmsHarness::start(|_| {}).await;
    with_users(&h).await;
    let posts: Vec<_> = (0..10).map(|_| h.text(ANA, "add bread", "SMdup")).collect();
    for resp in futures::future::join_all(posts).await {
        assert_eq!(resp.status(), 200);
    }
    assert_eq!(
        h.count("select count(*) from messages where direction = 'inbound'")
            .await,
        1
    );
    assert_eq!(
        h.count("select count(*) from apalis.jobs where job_type = 'agent_turn'")
            .await,
        1
    );
    h.wait_sent(1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(h.sent().await.len(), 1);
}

#[tokio::test]
async fn stop_silences_everything_and_start_restores() {
    let h = SmsHarness::start(|_| {}).await;
    with_users(&h).await;
    h.text(ANA, "STOP", "SMs1").await;
    h.text(ANA, "add milk", "SMs2").await;
    h.text(ANA, "help", "SMs3").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Only the opt-out confirmation leaves (tests/compliance.rs has its words).
    let sent = h.sent().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].body.contains("START"), "{sent:?}");
    assert_eq!(
        h.count("select count(*) from user_phone_numbers where opted_out_at is not null")
            .await,
        1
    );
    // Keywords are recorded, never handed to the agent.
    assert_eq!(
        h.count("select count(*) from messages where status = 'keyword'")
            .await,
        2
    );
    assert_eq!(
        h.count("select count(*) from apalis.jobs where job_type = 'agent_turn'")
            .await,
        0
    );

    h.text(ANA, "start", "SMs4").await;
    h.text(ANA, "add eggs", "SMs5").await;
    let sent = h.wait_sent(3).await;
    assert!(
        sent[1..].iter().any(|s| s.body.contains("eggs")),
        "{sent:?}"
    );
}

#[tokio::test]
async fn yes_from_an_opted_out_number_opts_in() {
    let h = SmsHarness::start(|_| {}).await;
    with_users(&h).await;
    h.text(ANA, "stop", "SMy1").await;
    h.text(ANA, "YES", "SMy2").await;
    assert_eq!(
        h.count("select count(*) from user_phone_numbers where opted_out_at is not null")
            .await,
        0
    );
}

#[tokio::test]
async fn help_gets_the_fixed_text() {
    let h = SmsHarness::start(|_| {}).await;
    with_users(&h).await;
    h.text(ANA, " HELP ", "SMh1").await;
    let sent = h.wait_sent(1).await;
    let help =
        nudge::sms_router::keywords::help_text(nudge::store::Locale::En, &h.state.config.twilio);
    assert_eq!(sent[0].body, help);
}

#[tokio::test]
async fn an_unknown_number_gets_one_onboarding_reply_then_silence() {
    let h = SmsHarness::start(|_| {}).await;
    for i in 0..3 {
        let resp = h.text("+15145559999", "hello?", &format!("SMu{i}")).await;
        assert_eq!(resp.status(), 200);
    }
    let sent = h.wait_sent(1).await;
    assert_eq!(sent[0].to, "+15145559999");
    assert_eq!(sent[0].body, nudge::sms_router::keywords::ONBOARDING_TEXT);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(h.sent().await.len(), 1);
    assert_eq!(
        h.count("select count(*) from messages").await,
        0,
        "nothing stored but the log"
    );
    assert_eq!(
        h.count("select count(*) from user_identification_logs where outcome = 'unknown'")
            .await,
        3
    );
}

#[tokio::test]
async fn a_disabled_person_gets_no_reply() {
    let h = SmsHarness::start(|_| {}).await;
    with_users(&h).await;
    sqlx::query("update users set status = 'disabled'")
        .execute(&h.db.owner)
        .await
        .unwrap();
    h.text(ANA, "add milk", "SMd1").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(h.sent().await.is_empty());
    assert_eq!(
        h.count("select count(*) from user_identification_logs where outcome = 'disabled'")
            .await,
        1
    );
}

#[tokio::test]
async fn two_people_get_their_own_answers_and_twenty_rapid_messages_are_answered_in_order() {
    let h = SmsHarness::start(|c| c.twilio.inbound_per_minute = 1000).await;
    with_users(&h).await;
    let bob = h.text(BOB, "add coffee", "SMb0");
    let ana = h.text(ANA, "add tea", "SMa0");
    futures::future::join(bob, ana).await;
    for i in 1..=20 {
        h.text(ANA, &format!("add item{i:02}"), &format!("SMa{i}"))
            .await;
    }
    let sent = h.wait_sent(22).await;
    let to_bob: Vec<_> = sent.iter().filter(|s| s.to == BOB).collect();
    assert_eq!(to_bob.len(), 1);
    assert!(to_bob[0].body.contains("coffee") && !to_bob[0].body.contains("tea"));
    let to_ana: Vec<String> = sent
        .iter()
        .filter(|s| s.to == ANA)
        .map(|s| s.body.clone())
        .collect();
    assert!(to_ana[0].contains("tea"), "{to_ana:?}");
    let expected: Vec<String> = (1..=20).map(|i| format!("item{i:02}")).collect();
    let got: Vec<String> = to_ana[1..]
        .iter()
        .map(|b| {
            b.split("item")
                .nth(1)
                .map(|n| format!("item{}", &n[..2]))
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn status_callbacks_out_of_order_never_move_a_message_backwards() {
    let h = SmsHarness::start(|_| {}).await;
    with_users(&h).await;
    h.text(ANA, "add milk", "SMcb").await;
    h.wait_sent(1).await;
    // The provider's answer is recorded just after it is received.
    let mut sid = None;
    for _ in 0..50 {
        sid = sqlx::query_scalar(
            "select provider_message_id from messages where direction = 'outbound'",
        )
        .fetch_one(&h.db.owner)
        .await
        .unwrap();
        if sid.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sid: String = sid.expect("the provider id is recorded");
    for status in ["delivered", "sent", "queued"] {
        let resp = h
            .post(
                "/twilio/status",
                &[
                    ("MessageSid", &sid),
                    ("MessageStatus", status),
                    ("AccountSid", common::sms::ACCOUNT_SID),
                    ("To", ANA),
                ],
            )
            .await;
        assert_eq!(resp.status(), 204);
    }
    let status: String =
        sqlx::query_scalar("select status from messages where provider_message_id = $1")
            .bind(&sid)
            .fetch_one(&h.db.owner)
            .await
            .unwrap();
    assert_eq!(status, "delivered");
    // Unsigned callbacks are refused.
    let resp = h
        .post_signed(
            "/twilio/status",
            &[("MessageSid", &sid), ("MessageStatus", "failed")],
            "x",
        )
        .await;
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn a_worker_killed_mid_turn_is_retried_and_replies_exactly_once() {
    // A model slow enough to kill the worker while it thinks.
    struct Slow;
    #[async_trait::async_trait]
    impl nudge::agent::llm::LlmClient for Slow {
        fn provider(&self) -> &str {
            "slow"
        }
        async fn generate(
            &self,
            r: &nudge::agent::llm::LlmRequest,
        ) -> Result<nudge::agent::llm::LlmResponse, nudge::agent::llm::LlmError> {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            nudge::agent::llm::offline::OfflinePlanner::new()
                .generate(r)
                .await
        }
    }
    let mut h = SmsHarness::start_with(
        |_| {},
        |state| {
            state.agent = nudge::agent::Agent::new(
                state.db.clone(),
                std::sync::Arc::new(Slow),
                std::sync::Arc::new(nudge::agent::tools::ToolRegistry::builtin()),
                nudge::agent::TurnBudget::default(),
            );
        },
        true,
    )
    .await;
    with_users(&h).await;
    h.text(ANA, "add milk", "SMkill").await;
    // Wait until the job is claimed, then kill the worker.
    for _ in 0..100 {
        if h.count("select count(*) from apalis.jobs where status in ('Running', 'Queued')")
            .await
            > 0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    h.kill_workers();
    assert!(h.sent().await.is_empty());
    h.start_workers();
    let sent = h.wait_sent(1).await;
    assert!(sent[0].body.contains("milk"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(h.sent().await.len(), 1, "exactly one reply");
    assert_eq!(
        h.count("select count(*) from messages where direction = 'outbound'")
            .await,
        1
    );
}

#[tokio::test]
async fn over_the_limit_one_slow_down_reply_then_silence_and_nothing_is_lost() {
    let h = SmsHarness::start(|c| c.twilio.inbound_per_minute = 2).await;
    with_users(&h).await;
    for i in 0..6 {
        h.text(ANA, &format!("add thing{i}"), &format!("SMr{i}"))
            .await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sent = h.sent().await;
    let slow: Vec<_> = sent
        .iter()
        .filter(|s| s.body == nudge::sms_router::keywords::SLOW_DOWN_TEXT)
        .collect();
    assert_eq!(slow.len(), 1, "{sent:?}");
    assert_eq!(
        h.count("select count(*) from messages where direction = 'inbound'")
            .await,
        6
    );
    assert!(
        h.count("select count(*) from messages where status = 'rate_limited'")
            .await
            >= 1
    );
}

#[tokio::test]
async fn with_redis_down_inbound_is_still_accepted_and_answered() {
    let h = SmsHarness::start(|c| {
        c.redis_url = Some(secrecy::SecretString::from(
            "redis://127.0.0.1:1".to_string(),
        ));
    })
    .await;
    with_users(&h).await;
    assert_eq!(h.text(ANA, "add milk", "SMnored").await.status(), 200);
    h.wait_sent(1).await;
}

async fn stored_reply(h: &SmsHarness, user: nudge::store::UserId, key: &str) -> uuid::Uuid {
    let mut tx = nudge::db::UserTx::begin(&h.state.db, user).await.unwrap();
    let m = nudge::store::SmsMessage::insert_outbound(&mut tx, "hello there", key, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    m.id
}

#[tokio::test]
async fn ten_concurrent_deliveries_of_one_message_send_it_once() {
    let h = SmsHarness::start_with(|_| {}, |_| {}, false).await;
    let ana = common::create_user(&h.db, "Ana", ANA).await;
    let id = stored_reply(&h, ana, "once").await;
    let runs: Vec<_> = (0..10)
        .map(|_| nudge::sms_router::outbound::deliver(&h.state.outbound, ana, id))
        .collect();
    let results = futures::future::join_all(runs).await;
    let sent = results
        .iter()
        .filter(|r| matches!(r, Ok(nudge::sms_router::outbound::Delivery::Sent { .. })))
        .count();
    assert_eq!(sent, 1, "{results:?}");
    assert_eq!(h.sent().await.len(), 1);
}

#[tokio::test]
async fn opt_out_is_checked_at_send_time_and_21610_marks_the_number() {
    let h = SmsHarness::start_with(|_| {}, |_| {}, false).await;
    let ana = common::create_user(&h.db, "Ana", ANA).await;
    let bob = common::create_user(&h.db, "Bob", BOB).await;

    // Stored while opted in, opted out before sending: suppressed.
    let id = stored_reply(&h, ana, "late-stop").await;
    sqlx::query("update user_phone_numbers set opted_out_at = now() where e164 = $1")
        .bind(ANA)
        .execute(&h.db.owner)
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

    // Twilio says Bob unsubscribed (21610): his number is marked.
    use wiremock::matchers::{body_string_contains, method};
    wiremock::Mock::given(method("POST"))
        .and(body_string_contains("To=%2B15145550102"))
        .respond_with(
            wiremock::ResponseTemplate::new(400).set_body_json(serde_json::json!({
                "code": 21610, "message": "Attempt to send to unsubscribed recipient",
                "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400
            })),
        )
        .with_priority(1)
        .mount(&h.twilio)
        .await;
    let id = stored_reply(&h, bob, "to-bob").await;
    let d = nudge::sms_router::outbound::deliver(&h.state.outbound, bob, id)
        .await
        .unwrap();
    assert!(
        matches!(d, nudge::sms_router::outbound::Delivery::Failed(_)),
        "{d:?}"
    );
    assert_eq!(
        h.count("select count(*) from user_phone_numbers where e164 = '+15145550102' and opted_out_at is not null").await,
        1
    );
}

/// Twilio's webhooks come from a few Twilio addresses: a burst of people
/// texting at once must not meet the per-IP edge limit (a 429 is not
/// retried by Twilio, so the texts would be lost).
#[tokio::test]
async fn a_burst_of_webhooks_from_one_twilio_address_is_not_edge_limited() {
    // A tiny edge burst, so that the limit would bite at the third request.
    let h = SmsHarness::start_with(
        |c| {
            c.edge_requests_per_second = 1;
            c.edge_burst = 2;
        },
        |_| {},
        false,
    )
    .await;
    common::create_user(&h.db, "Ana", ANA).await;
    for i in 0..10 {
        let r = h
            .text(ANA, &format!("note {i}"), &format!("SMburst{i}"))
            .await;
        assert_eq!(r.status(), 200, "webhook {i}");
    }
    assert_eq!(
        h.count("select count(*) from messages where direction = 'inbound'")
            .await,
        10
    );
    let health: Vec<u16> =
        futures::future::join_all((0..5).map(|_| reqwest::get(format!("{}/healthz", h.base))))
            .await
            .into_iter()
            .map(|r| r.unwrap().status().as_u16())
            .collect();
    assert!(
        health.contains(&429),
        "the edge limit still guards the rest: {health:?}"
    );
}

/// A delivery job killed between claiming a message and recording the
/// provider's answer is re-queued under the same task id: its retry takes
/// its own claim back and sends, instead of finding the message "busy" and
/// dropping it (seen as a lost reminder in the kill drill under load).
#[tokio::test]
async fn a_job_killed_mid_send_sends_on_its_retry() {
    let h = SmsHarness::start_with(|_| {}, |_| {}, false).await;
    let ana = common::create_user(&h.db, "Ana", ANA).await;
    let id = stored_reply(&h, ana, "after-kill").await;
    // The killed attempt claimed the message and died before the provider.
    let mut tx = nudge::db::UserTx::begin(&h.db.app, ana).await.unwrap();
    let claim = nudge::store::SmsMessage::claim_for_sending(
        &mut tx,
        id,
        "after-kill",
        1,
        nudge::sms_router::outbound::SENDING_STALE_AFTER,
        "task-01",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(claim, nudge::store::Claim::Claimed);

    let other = nudge::sms_router::outbound::deliver_as(&h.state.outbound, ana, id, "task-02")
        .await
        .unwrap();
    assert_eq!(other, nudge::sms_router::outbound::Delivery::AlreadyDone);
    let retry = nudge::sms_router::outbound::deliver_as(&h.state.outbound, ana, id, "task-01")
        .await
        .unwrap();
    assert!(
        matches!(retry, nudge::sms_router::outbound::Delivery::Sent { .. }),
        "{retry:?}"
    );
    assert_eq!(h.sent().await.len(), 1);
}

#[tokio::test]
async fn a_message_stuck_sending_is_left_alone_until_its_sender_is_presumed_dead() {
    let h = SmsHarness::start_with(|_| {}, |_| {}, false).await;
    let ana = common::create_user(&h.db, "Ana", ANA).await;
    let id = stored_reply(&h, ana, "stuck").await;
    sqlx::query("update messages set status = 'sending', updated_at = now() where id = $1")
        .bind(id)
        .execute(&h.db.owner)
        .await
        .unwrap();
    let d = nudge::sms_router::outbound::deliver(&h.state.outbound, ana, id)
        .await
        .unwrap();
    assert_eq!(
        d,
        nudge::sms_router::outbound::Delivery::AlreadyDone,
        "a live sender owns it"
    );
    sqlx::query("update messages set updated_at = now() - interval '10 minutes' where id = $1")
        .bind(id)
        .execute(&h.db.owner)
        .await
        .unwrap();
    let d = nudge::sms_router::outbound::deliver(&h.state.outbound, ana, id)
        .await
        .unwrap();
    assert!(
        matches!(d, nudge::sms_router::outbound::Delivery::Sent { .. }),
        "{d:?}"
    );
    let metrics = h.state.metrics.render();
    assert!(
        metrics.contains("sms_possible_duplicates_total"),
        "the re-send is counted"
    );
}
