//! Outbound SMS: the Twilio sender against a mock Twilio, and the Redis
//! rate limits and pacer against the real Redis of the test environment
//! (`NUDGE_TEST_REDIS_URL`, default redis://127.0.0.1:6379). Every Redis
//! test uses a random key prefix, so tests never share state.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use secrecy::SecretString;
use uuid::Uuid;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use nudge::cache::Redis;
use nudge::sms_router::rate_limit::{Decision, Rate, RedisLimiter, RedisPacer};
use nudge::sms_router::sender::{OutboundSms, SendError, SmsSender};
use nudge::sms_router::twilio_sender::{TwilioFrom, TwilioSender, TwilioSettings};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "tok-9f8e7d6c5b4a-secret";
const MESSAGES_PATH: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

fn settings(api_base: &str, from: TwilioFrom) -> TwilioSettings {
    TwilioSettings {
        api_base: api_base.to_owned(),
        account_sid: SID.to_owned(),
        auth_token: SecretString::from(TOKEN.to_owned()),
        from,
        status_callback: Some("https://nudge.example/twilio/status".to_owned()),
        retry_base_delay: Duration::from_millis(10),
        max_retries: 2,
        timeout: Duration::from_secs(2),
    }
}

fn twilio(server: &MockServer, from: TwilioFrom) -> TwilioSender {
    TwilioSender::new(settings(&server.uri(), from), reqwest::Client::new())
}

fn number() -> TwilioFrom {
    TwilioFrom::Number("+15005550006".to_owned())
}

fn sms() -> OutboundSms {
    OutboundSms {
        to: "+15145550100".to_owned(),
        body: "Rappel : dentiste à 14 h & café ☕".to_owned(),
    }
}

fn basic_auth() -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"));
    format!("Basic {encoded}")
}

fn created(sid: &str, status: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(serde_json::json!({
        "sid": sid,
        "status": status,
        "account_sid": SID,
        "to": "+15145550100",
        "num_segments": "1",
        "error_code": null,
        "error_message": null,
    }))
}

fn twilio_error(http: u16, code: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(http).set_body_json(serde_json::json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": http,
    }))
}

/// The form fields of every request the mock received, in order.
async fn forms(server: &MockServer) -> Vec<HashMap<String, String>> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            url::form_urlencoded::parse(&r.body)
                .into_owned()
                .collect::<HashMap<_, _>>()
        })
        .collect()
}

#[tokio::test]
async fn twilio_sends_the_form_with_basic_auth() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES_PATH))
        .and(header("authorization", basic_auth().as_str()))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(created("SM0001", "queued"))
        .expect(1)
        .mount(&server)
        .await;

    let sender = twilio(&server, number());
    let sent = sender.send(&sms()).await.unwrap();
    assert_eq!(sent.provider_message_id, "SM0001");
    assert_eq!(sent.status, "queued");
    assert_eq!(sender.name(), "twilio");

    let forms = forms(&server).await;
    assert_eq!(forms.len(), 1);
    let form = &forms[0];
    assert_eq!(form["To"], "+15145550100");
    assert_eq!(form["From"], "+15005550006");
    assert_eq!(form["Body"], sms().body);
    assert_eq!(
        form["StatusCallback"],
        "https://nudge.example/twilio/status"
    );
    assert!(!form.contains_key("MessagingServiceSid"));
}

#[tokio::test]
async fn twilio_can_send_through_a_messaging_service() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(MESSAGES_PATH))
        .respond_with(created("SM0002", "accepted"))
        .mount(&server)
        .await;

    let sender = twilio(
        &server,
        TwilioFrom::MessagingService("MG0123456789abcdef0123456789abcdef".to_owned()),
    );
    let sent = sender.send(&sms()).await.unwrap();
    assert_eq!(sent.status, "accepted");

    let form = &forms(&server).await[0];
    assert_eq!(
        form["MessagingServiceSid"],
        "MG0123456789abcdef0123456789abcdef"
    );
    assert!(!form.contains_key("From"));
}

#[tokio::test]
async fn twilio_retries_429_and_honours_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            twilio_error(429, 20429, "Too Many Requests").insert_header("Retry-After", "1"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(created("SM0003", "queued"))
        .mount(&server)
        .await;

    let started = Instant::now();
    let sent = twilio(&server, number()).send(&sms()).await.unwrap();
    assert_eq!(sent.provider_message_id, "SM0003");
    assert_eq!(forms(&server).await.len(), 2);
    // The 10 ms backoff was replaced by the server's one second.
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn twilio_gives_up_after_max_retries_on_5xx() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream trouble"))
        .mount(&server)
        .await;

    let err = twilio(&server, number()).send(&sms()).await.unwrap_err();
    assert!(
        matches!(&err, SendError::Unavailable { message, .. } if message.contains("500")),
        "{err:?}"
    );
    assert!(err.is_retryable());
    // max_retries is 2: the first attempt and two retries.
    assert_eq!(forms(&server).await.len(), 3);
}

#[tokio::test]
async fn twilio_retries_timeouts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(created("SM0004", "queued").set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;

    let mut settings = settings(&server.uri(), number());
    settings.timeout = Duration::from_millis(200);
    settings.max_retries = 1;
    let sender = TwilioSender::new(settings, reqwest::Client::new());
    let err = sender.send(&sms()).await.unwrap_err();
    assert!(matches!(err, SendError::Unavailable { .. }), "{err:?}");
    assert_eq!(forms(&server).await.len(), 2);
}

#[tokio::test]
async fn twilio_21610_means_unsubscribed_and_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(
            400,
            21610,
            "Attempt to send to unsubscribed recipient",
        ))
        .mount(&server)
        .await;

    let err = twilio(&server, number()).send(&sms()).await.unwrap_err();
    assert!(matches!(err, SendError::Unsubscribed), "{err:?}");
    assert_eq!(forms(&server).await.len(), 1);
}

#[tokio::test]
async fn twilio_other_4xx_is_rejected_with_its_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(
            400,
            21211,
            "The 'To' number +1514 is not a valid phone number.",
        ))
        .mount(&server)
        .await;

    let err = twilio(&server, number()).send(&sms()).await.unwrap_err();
    match &err {
        SendError::Rejected { code, message } => {
            assert_eq!(*code, Some(21211));
            assert!(message.contains("not a valid phone number"), "{message}");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(forms(&server).await.len(), 1);
}

#[tokio::test]
async fn twilio_token_never_shows() {
    let server = MockServer::start().await;
    // A server that echoes the credentials back must not leak them.
    Mock::given(method("POST"))
        .respond_with(twilio_error(
            401,
            20003,
            &format!("Authentication failed for {SID}:{TOKEN}"),
        ))
        .mount(&server)
        .await;

    let sender = twilio(&server, number());
    let settings = settings(&server.uri(), number());
    let err = sender.send(&sms()).await.unwrap_err();
    assert!(matches!(
        err,
        SendError::Rejected {
            code: Some(20003),
            ..
        }
    ));

    // Nobody listens on port 1: a transport error, retried, then reported.
    let unreachable = TwilioSender::new(
        TwilioSettings {
            api_base: "http://127.0.0.1:1".to_owned(),
            ..settings.clone()
        },
        reqwest::Client::new(),
    );
    let transport = unreachable.send(&sms()).await.unwrap_err();
    assert!(transport.is_retryable(), "{transport:?}");

    let shown =
        format!("{sender:?} {settings:?} {err} {err:?} {transport} {transport:?} {unreachable:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("Authentication failed"), "{shown}");
}

// ---- Redis limits ----

fn redis_url() -> String {
    std::env::var("NUDGE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A separate client each call, as a separate replica would have.
fn redis() -> Redis {
    Redis::new(&SecretString::from(redis_url())).unwrap()
}

fn prefix() -> String {
    format!("test:sms:{}", Uuid::new_v4().simple())
}

fn per_second(count: u32, burst: u32) -> Rate {
    Rate {
        count,
        period: Duration::from_secs(1),
        burst,
    }
}

#[tokio::test]
async fn gcra_allows_the_burst_then_one_per_interval() {
    let limiter = RedisLimiter::new(redis(), prefix());
    // One a second, plus a burst of 2; a second is long enough that a slow
    // machine cannot let the budget recover between the calls.
    let rate = per_second(1, 2);
    for i in 0..3 {
        assert_eq!(
            limiter.check("+15145550100", rate).await.unwrap(),
            Decision::Allowed,
            "request {i}"
        );
    }
    let Decision::Limited { retry_after } = limiter.check("+15145550100", rate).await.unwrap()
    else {
        panic!("the fourth request must be limited");
    };
    assert!(retry_after > Duration::from_millis(500) && retry_after <= Duration::from_secs(1));

    // Others keep their own budget.
    assert!(
        limiter
            .check("+15145550199", rate)
            .await
            .unwrap()
            .is_allowed()
    );

    tokio::time::sleep(retry_after + Duration::from_millis(5)).await;
    assert!(
        limiter
            .check("+15145550100", rate)
            .await
            .unwrap()
            .is_allowed()
    );
    assert!(
        !limiter
            .check("+15145550100", rate)
            .await
            .unwrap()
            .is_allowed()
    );
}

#[tokio::test]
async fn gcra_keys_expire_when_fully_recovered() {
    let prefix = prefix();
    let limiter = RedisLimiter::new(redis(), prefix.clone());
    let rate = Rate {
        count: 1,
        period: Duration::from_secs(60),
        burst: 4,
    };
    limiter.check("k", rate).await.unwrap();
    limiter.check("k", rate).await.unwrap();
    let mut conn = redis().connection().await.unwrap();
    let ttl_ms: i64 = redis::cmd("PTTL")
        .arg(format!("{prefix}:gcra:k"))
        .query_async(&mut conn)
        .await
        .unwrap();
    // Two requests at one a minute: idle again in two minutes.
    assert!((119_000..=120_000).contains(&ttl_ms), "{ttl_ms}");
}

#[tokio::test]
async fn two_replicas_share_one_budget() {
    let prefix = prefix();
    let a = RedisLimiter::new(redis(), prefix.clone());
    let b = RedisLimiter::new(redis(), prefix);
    let rate = Rate {
        count: 1,
        period: Duration::from_secs(60),
        burst: 4,
    };
    let mut allowed = 0;
    for i in 0..10 {
        let replica = if i % 2 == 0 { &a } else { &b };
        if replica
            .check("+15145550100", rate)
            .await
            .unwrap()
            .is_allowed()
        {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 5);
}

#[tokio::test]
async fn first_in_window_is_true_once_per_window() {
    let prefix = prefix();
    let a = RedisLimiter::new(redis(), prefix.clone());
    let b = RedisLimiter::new(redis(), prefix);
    let window = Duration::from_millis(500);
    assert!(a.first_in_window("slow-down:+1514", window).await.unwrap());
    assert!(!a.first_in_window("slow-down:+1514", window).await.unwrap());
    assert!(!b.first_in_window("slow-down:+1514", window).await.unwrap());
    assert!(a.first_in_window("slow-down:+1438", window).await.unwrap());
    tokio::time::sleep(window + Duration::from_millis(50)).await;
    assert!(b.first_in_window("slow-down:+1514", window).await.unwrap());
    assert!(!a.first_in_window("slow-down:+1514", window).await.unwrap());
}

#[tokio::test]
async fn unreachable_redis_errs_quickly() {
    let down = Redis::new(&SecretString::from("redis://127.0.0.1:1".to_owned())).unwrap();
    let limiter = RedisLimiter::new(down.clone(), prefix());
    let pacer = RedisPacer::new(down, prefix());

    let started = Instant::now();
    assert!(limiter.check("k", per_second(1, 0)).await.is_err());
    assert!(started.elapsed() < Duration::from_secs(2));

    let started = Instant::now();
    assert!(
        limiter
            .first_in_window("k", Duration::from_secs(1))
            .await
            .is_err()
    );
    assert!(pacer.reserve("k", 1, 5.0).await.is_err());
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn pacer_spreads_reservations_across_workers() {
    let prefix = prefix();
    let a = RedisPacer::new(redis(), prefix.clone());
    let b = RedisPacer::new(redis(), prefix);
    let mut waits = Vec::new();
    for i in 0..10 {
        let worker = if i % 2 == 0 { &a } else { &b };
        waits.push(worker.reserve("twilio", 1, 5.0).await.unwrap());
    }
    assert_eq!(waits[0], Duration::ZERO);
    for pair in waits.windows(2) {
        assert!(pair[1] > pair[0], "{waits:?}");
        // Each slot is 200 ms, less the real time between two calls.
        let step = pair[1] - pair[0];
        assert!(
            step > Duration::from_millis(100) && step <= Duration::from_millis(200),
            "{waits:?}"
        );
    }
    // Ten segments at five a second take two seconds: the last starts
    // at about 1.8 s and ends at about 2 s.
    let span = waits[9] + Duration::from_millis(200);
    assert!(
        span > Duration::from_millis(1_500) && span <= Duration::from_secs(2),
        "{waits:?}"
    );
    // Pacing off: no wait, nothing booked.
    assert_eq!(a.reserve("twilio", 1, 0.0).await.unwrap(), Duration::ZERO);
}
