//! SMS compliance end to end, with every webhook and status callback signed
//! by Twilio's own Python library: every keyword form (case, accents,
//! punctuation, two words) with its state change and answer in the right
//! language; carrier error codes from the status callback and from the send
//! response acted on; "cancel" then "START" keeps the reminders.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, ResponseTemplate};

use common::sms::{ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, SmsHarness, inbound_params};
use nudge::config::TwilioConfig;
use nudge::db::UserTx;
use nudge::db::queue::ReminderDueJob;
use nudge::sms_router::keywords::{self, Action, TABLE};
use nudge::sms_router::outbound::{self, Delivery};
use nudge::store::{Locale, NewReminder, Reminder, UserId};
use nudge::workers::reminder_due::{self, Fired};

/// Signs many requests with one Python start (Twilio's `RequestValidator`).
fn python_signatures(requests: &[(String, Vec<(&str, &str)>)]) -> Vec<String> {
    let items: Vec<_> = requests
        .iter()
        .map(|(url, params)| {
            let map: serde_json::Map<String, serde_json::Value> = params
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            json!({"url": url, "params": map})
        })
        .collect();
    let script = "import json,sys\n\
        from twilio.request_validator import RequestValidator\n\
        a=json.loads(sys.stdin.read())\n\
        v=RequestValidator(a['token'])\n\
        print(json.dumps([v.compute_signature(i['url'], i['params']) for i in a['items']]))";
    let input = json!({"token": AUTH_TOKEN, "items": items}).to_string();
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "Twilio's Python library is needed (pip install twilio): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn post_python_signed(
    h: &SmsHarness,
    route: &str,
    params: &[(&str, &str)],
) -> reqwest::Response {
    let sig = python_signatures(&[(format!("{PUBLIC_URL}{route}"), params.to_vec())]);
    h.post_signed(route, params, &sig[0]).await
}

/// The keyword configuration the harness runs with (development defaults).
fn twilio_config(h: &SmsHarness) -> TwilioConfig {
    h.state.config.twilio.clone()
}

async fn create_user(h: &SmsHarness, name: &str, phone: &str, locale: Locale) -> UserId {
    let id = common::create_user(&h.db, name, phone).await;
    sqlx::query("update users set locale = $2 where id = $1")
        .bind(id.0)
        .bind(locale.as_str())
        .execute(&h.db.owner)
        .await
        .unwrap();
    id
}

async fn opted_out(h: &SmsHarness, phone: &str) -> bool {
    sqlx::query_scalar("select opted_out_at is not null from user_phone_numbers where e164 = $1")
        .bind(phone)
        .fetch_one(&h.db.owner)
        .await
        .unwrap()
}

/// One keyword case: what is texted, from which state, and the expected outcome.
struct Case {
    phone: String,
    text: String,
    locale: Locale,
    start_opted_out: bool,
    action: Action,
    answer: Locale,
}

#[tokio::test]
async fn every_keyword_form_through_the_signed_webhook() {
    let h = SmsHarness::start(|_| {}).await;
    let config = twilio_config(&h);

    let mut cases = Vec::new();
    let mut n = 0;
    let mut add = |text: String, locale: Locale, entry: &keywords::Entry| {
        n += 1;
        cases.push(Case {
            phone: format!("+1514555{:04}", 2000 + n),
            text,
            locale,
            start_opted_out: entry.action == Action::OptIn,
            action: entry.action,
            // A French word answers in French; any other in the person's language.
            answer: entry.language.unwrap_or(locale),
        });
    };
    for (i, e) in TABLE.iter().enumerate() {
        let lower = e.form.to_lowercase();
        let person = if i % 2 == 0 { Locale::En } else { Locale::Fr };
        let other = if i % 2 == 0 { Locale::Fr } else { Locale::En };
        add(e.form.to_string(), person, e);
        add(format!("{lower}."), other, e);
        add(format!("  {lower}! "), person, e);
        let mut title = lower.clone();
        title[..1].make_ascii_uppercase();
        add(format!("{title}?"), other, e);
    }
    let arret = TABLE.iter().find(|e| e.form == "ARRET").unwrap();
    for text in ["ARRÊT", "Arrêt.", "arrêt !", "arre\u{302}t"] {
        add(text.to_string(), Locale::En, arret);
    }
    let stop_all = TABLE.iter().find(|e| e.form == "STOP ALL").unwrap();
    for text in ["Stop  All!", "stop all."] {
        add(text.to_string(), Locale::Fr, stop_all);
    }
    let aide = TABLE.iter().find(|e| e.form == "AIDE").unwrap();
    add("Aide ?".to_string(), Locale::En, aide);

    for (i, c) in cases.iter().enumerate() {
        create_user(&h, &format!("P{i}"), &c.phone, c.locale).await;
        if c.start_opted_out {
            sqlx::query("update user_phone_numbers set opted_out_at = now() where e164 = $1")
                .bind(&c.phone)
                .execute(&h.db.owner)
                .await
                .unwrap();
        }
    }
    let sids: Vec<String> = (0..cases.len()).map(|i| format!("SMkw{i:04}")).collect();
    let requests: Vec<(String, Vec<(&str, &str)>)> = cases
        .iter()
        .zip(&sids)
        .map(|(c, sid)| {
            (
                format!("{PUBLIC_URL}/twilio/sms"),
                inbound_params(&c.phone, &c.text, sid),
            )
        })
        .collect();
    let signatures = python_signatures(&requests);
    for ((_, params), sig) in requests.iter().zip(&signatures) {
        let resp = h.post_signed("/twilio/sms", params, sig).await;
        assert_eq!(resp.status(), 200);
    }

    let sent = h.wait_sent(cases.len()).await;
    let by_phone: HashMap<&str, &str> = sent
        .iter()
        .map(|s| (s.to.as_str(), s.body.as_str()))
        .collect();
    for c in &cases {
        let expected = match c.action {
            Action::OptOut => keywords::opted_out_text(c.answer, true, &config),
            Action::OptIn => keywords::opted_in_text(c.answer, false, &config),
            Action::Help => keywords::help_text(c.answer, &config),
        };
        assert_eq!(
            by_phone.get(c.phone.as_str()).copied(),
            Some(expected.as_str()),
            "{:?} from a {:?} person",
            c.text,
            c.locale
        );
        assert_eq!(
            opted_out(&h, &c.phone).await,
            c.action == Action::OptOut,
            "{:?}",
            c.text
        );
    }
    assert_eq!(sent.len(), cases.len(), "one answer each: {sent:?}");
    assert_eq!(
        h.count("select count(*) from messages where direction = 'inbound' and status = 'keyword'")
            .await,
        cases.len() as i64
    );
    assert_eq!(
        h.count("select count(*) from apalis.jobs where job_type = 'agent_turn'")
            .await,
        0,
        "no keyword reaches the agent"
    );
    // The opting-out word is kept (a "cancel" gets a note on coming back).
    assert_eq!(
        h.count(
            "select count(*) from user_phone_numbers where opted_out_via = 'STOPALL' \
             and e164 in (select phone_e164 from messages where body ilike '%stop%all%')"
        )
        .await,
        10,
        "4 forms of STOPALL, 4 of STOP ALL, 2 more spellings"
    );
}

#[tokio::test]
async fn near_keywords_are_ordinary_messages_and_yes_confirms_when_subscribed() {
    let h = SmsHarness::start(|_| {}).await;
    create_user(&h, "Ana", "+15145550101", Locale::En).await;
    for (i, text) in ["stop the dentist reminder", "please cancel", "yes", "oui"]
        .iter()
        .enumerate()
    {
        let sid = format!("SMnear{i}");
        let resp = post_python_signed(
            &h,
            "/twilio/sms",
            &inbound_params("+15145550101", text, &sid),
        )
        .await;
        assert_eq!(resp.status(), 200);
    }
    assert!(!opted_out(&h, "+15145550101").await);
    assert_eq!(
        h.count("select count(*) from messages where status = 'keyword'")
            .await,
        0
    );
    assert_eq!(
        h.count("select count(*) from apalis.jobs where job_type = 'agent_turn'")
            .await,
        4
    );
}

#[tokio::test]
async fn keywords_from_a_number_nobody_owns_are_answered_in_twiml_in_their_language() {
    let h = SmsHarness::start(|_| {}).await;
    let config = twilio_config(&h);
    let cases = [
        (
            "+15145553001",
            "ARRÊT.",
            keywords::opted_out_text(Locale::Fr, false, &config),
        ),
        (
            "+15145553002",
            "aide",
            keywords::help_text(Locale::Fr, &config),
        ),
        (
            "+15145553003",
            "Help!",
            keywords::help_text(Locale::En, &config),
        ),
        (
            "+15145553004",
            "stop all",
            keywords::opted_out_text(Locale::En, false, &config),
        ),
    ];
    for (i, (from, text, expected)) in cases.iter().enumerate() {
        let sid = format!("SMunk{i}");
        let resp = post_python_signed(&h, "/twilio/sms", &inbound_params(from, text, &sid)).await;
        assert_eq!(resp.status(), 200);
        let twiml = resp.text().await.unwrap();
        let escaped = expected
            .replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('\'', "&apos;");
        assert_eq!(
            twiml,
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escaped}</Message></Response>"#
            ),
            "{text}"
        );
    }
    // Asked again at once: no second answer (a texting loop costs money).
    let resp = post_python_signed(
        &h,
        "/twilio/sms",
        &inbound_params("+15145553003", "HELP", "SMunk9"),
    )
    .await;
    assert!(!resp.text().await.unwrap().contains("<Message>"));
    assert_eq!(
        h.count("select count(*) from messages").await,
        0,
        "nothing stored"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(h.sent().await.is_empty(), "no onboarding text either");
}

fn one_off(body: &str, at: chrono::DateTime<Utc>) -> NewReminder {
    NewReminder {
        body: body.into(),
        due_at: at,
        timezone: "America/Montreal".into(),
        local_time: None,
        recurrence: None,
        explicit_time: true,
    }
}

async fn create_reminder(h: &SmsHarness, user: UserId, new: NewReminder) -> Reminder {
    let mut tx = UserTx::begin(&h.state.db, user).await.unwrap();
    let r = Reminder::create(&mut tx, new).await.unwrap();
    tx.commit().await.unwrap();
    r
}

/// Fires a reminder due now through the real job and delivers its text.
async fn remind_now(h: &SmsHarness, user: UserId, body: &str) -> Delivery {
    let now = Utc::now();
    let r = create_reminder(h, user, one_off(body, now)).await;
    let fired = reminder_due::run(
        &h.state,
        &ReminderDueJob {
            user_id: user.0,
            reminder_id: r.id,
        },
        now + chrono::Duration::seconds(1),
    )
    .await
    .unwrap();
    assert!(matches!(fired, Fired::Sent { .. }), "{fired:?}");
    let id: Uuid = sqlx::query_scalar(
        "select id from messages where direction = 'outbound' and idempotency_key like $1",
    )
    .bind(format!("reminder:{}:%", r.id))
    .fetch_one(&h.db.owner)
    .await
    .unwrap();
    outbound::deliver(&h.state.outbound, user, id)
        .await
        .unwrap()
}

async fn sent_to(h: &SmsHarness, phone: &str) -> usize {
    h.sent().await.iter().filter(|s| s.to == phone).count()
}

#[tokio::test]
async fn status_callbacks_carrying_each_error_code_are_acted_on() {
    let h = SmsHarness::start_with(|_| {}, |_| {}, false).await;
    let cases = [
        ("30003", "+15145554001", Some("unreachable"), false),
        ("30005", "+15145554002", Some("unknown_number"), false),
        ("30006", "+15145554003", Some("landline"), false),
        ("21610", "+15145554004", None, true),
        ("30007", "+15145554005", None, false),
        ("30034", "+15145554006", None, false),
    ];
    for (code, phone, unreachable, opts_out) in cases {
        let user = create_user(&h, code, phone, Locale::En).await;
        // A first reminder leaves, then Twilio reports it undelivered.
        let first = remind_now(&h, user, "take the pills").await;
        let Delivery::Sent {
            provider_message_id: sid,
        } = first
        else {
            panic!("{first:?}");
        };
        for status in ["sent", "undelivered"] {
            let params = [
                ("AccountSid", ACCOUNT_SID),
                ("ApiVersion", "2010-04-01"),
                ("ErrorCode", if status == "sent" { "" } else { code }),
                ("From", common::sms::FROM),
                ("MessageSid", sid.as_str()),
                ("MessageStatus", status),
                ("SmsSid", sid.as_str()),
                ("SmsStatus", status),
                ("To", phone),
            ];
            let resp = post_python_signed(&h, "/twilio/status", &params).await;
            assert_eq!(resp.status(), 204, "{code} {status}");
        }
        let (reason, stored_code, out): (Option<String>, Option<String>, bool) = sqlx::query_as(
            "select unreachable_reason, unreachable_code, opted_out_at is not null \
             from user_phone_numbers where e164 = $1",
        )
        .bind(phone)
        .fetch_one(&h.db.owner)
        .await
        .unwrap();
        assert_eq!(reason.as_deref(), unreachable, "{code}");
        assert_eq!(out, opts_out, "{code}");
        if unreachable.is_some() {
            assert_eq!(stored_code.as_deref(), Some(code));
        }
        let message_status: (String, Option<String>) = sqlx::query_as(
            "select status, error_code from messages where provider_message_id = $1",
        )
        .bind(&sid)
        .fetch_one(&h.db.owner)
        .await
        .unwrap();
        assert_eq!(message_status, ("undelivered".into(), Some(code.into())));

        // What is sent afterwards: nothing to a number that cannot take it.
        let next = remind_now(&h, user, "call the bank").await;
        match (unreachable, opts_out) {
            (Some(_), _) => assert_eq!(next, Delivery::Suppressed("unreachable"), "{code}"),
            (_, true) => assert_eq!(next, Delivery::Suppressed("opted_out"), "{code}"),
            // A campaign-level refusal says nothing about the number: the
            // next reminder goes; the refused one is not sent again.
            _ => assert!(matches!(next, Delivery::Sent { .. }), "{code}: {next:?}"),
        }
        let expected = if unreachable.is_none() && !opts_out {
            2
        } else {
            1
        };
        assert_eq!(sent_to(&h, phone).await, expected, "{code}");
    }

    // The refused messages stay refused: a retry would resend them.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for phone in ["+15145554005", "+15145554006"] {
        assert_eq!(sent_to(&h, phone).await, 2);
    }
    assert_eq!(
        h.count("select count(*) from messages where status = 'undelivered'")
            .await,
        6
    );
    let metrics = h.state.metrics.render();
    for code in ["30003", "30005", "30006", "21610", "30007", "30034"] {
        assert!(
            metrics.contains(&format!("sms_delivery_errors_total{{code=\"{code}\"}}")),
            "{code} not counted"
        );
    }
    assert!(metrics.contains("sms_numbers_unreachable_total{reason=\"landline\"}"));
    assert_eq!(
        h.count(
            "select count(*) from audit_log where action = 'phone.unreachable' and actor = 'system'"
        )
        .await,
        3
    );

    // A second callback for the same failure changes nothing and audits nothing.
    let sid: String =
        sqlx::query_scalar("select provider_message_id from messages where error_code = '30006'")
            .fetch_one(&h.db.owner)
            .await
            .unwrap();
    let params = [
        ("ErrorCode", "30006"),
        ("MessageSid", sid.as_str()),
        ("MessageStatus", "undelivered"),
        ("To", "+15145554003"),
    ];
    assert_eq!(
        post_python_signed(&h, "/twilio/status", &params)
            .await
            .status(),
        204
    );
    assert_eq!(
        h.count("select count(*) from audit_log where action = 'phone.unreachable'")
            .await,
        3
    );

    // The operator sees it.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
        .args(["admin", "user", "show", "+15145554003"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NUDGE_ENV", "development")
        .env("DATABASE_ADMIN_URL", h.db.owner_url())
        // Names the application role whose rights per-person commands take.
        .env("DATABASE_URL", h.db.app_url())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{shown} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        shown.contains("UNREACHABLE: landline (Twilio 30006)") && shown.contains("sending paused"),
        "{shown}"
    );

    // A text from the number proves it reachable: reminders go again.
    let landline = UserId(
        sqlx::query_scalar("select user_id from user_phone_numbers where e164 = '+15145554003'")
            .fetch_one(&h.db.owner)
            .await
            .unwrap(),
    );
    let resp = post_python_signed(
        &h,
        "/twilio/sms",
        &inbound_params("+15145554003", "I have a cell now", "SMback"),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let again = remind_now(&h, landline, "water the plants").await;
    assert!(matches!(again, Delivery::Sent { .. }), "{again:?}");
    assert_eq!(
        h.count("select count(*) from audit_log where action = 'phone.reachable'")
            .await,
        1
    );
}

#[tokio::test]
async fn error_codes_in_the_send_response_are_acted_on_and_never_retried() {
    let h = SmsHarness::start_with(|_| {}, |_| {}, false).await;
    let refuse = |to: &str, http: u16, code: i64| {
        Mock::given(method("POST"))
            .and(body_string_contains(format!("To=%2B{}", &to[1..])))
            .respond_with(ResponseTemplate::new(http).set_body_json(json!({
                "code": code, "message": "refused",
                "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": http
            })))
            .with_priority(1)
    };
    // 21614: "'To' number is not a valid mobile number", Twilio's send-time landline.
    refuse("+15145555001", 400, 21614).mount(&h.twilio).await;
    // Campaign filtering, even behind a 503, is not an outage.
    refuse("+15145555002", 503, 30007).mount(&h.twilio).await;
    let landline = create_user(&h, "L", "+15145555001", Locale::En).await;
    let filtered = create_user(&h, "F", "+15145555002", Locale::En).await;

    let d = remind_now(&h, landline, "pills").await;
    assert!(matches!(d, Delivery::Failed(_)), "{d:?}");
    let reason: Option<String> = sqlx::query_scalar(
        "select unreachable_reason from user_phone_numbers where e164 = '+15145555001'",
    )
    .fetch_one(&h.db.owner)
    .await
    .unwrap();
    assert_eq!(reason.as_deref(), Some("landline"));
    assert_eq!(
        remind_now(&h, landline, "bank").await,
        Delivery::Suppressed("unreachable")
    );
    assert_eq!(sent_to(&h, "+15145555001").await, 1);

    let d = remind_now(&h, filtered, "pills").await;
    assert!(matches!(d, Delivery::Failed(_)), "not retried: {d:?}");
    assert_eq!(
        sent_to(&h, "+15145555002").await,
        1,
        "one request, no retries"
    );
    assert!(
        h.state
            .metrics
            .render()
            .contains("sms_delivery_errors_total{code=\"30007\"}")
    );
}

#[tokio::test]
async fn cancel_alone_then_start_opts_out_and_back_in_with_reminders_kept() {
    let h = SmsHarness::start(|_| {}).await;
    const ANA: &str = "+15145550101";
    let ana = create_user(&h, "Ana", ANA, Locale::En).await;
    let config = twilio_config(&h);
    let tomorrow = Utc::now() + chrono::Duration::days(1);
    let dentist = create_reminder(&h, ana, one_off("dentist", tomorrow)).await;
    let bank = create_reminder(&h, ana, one_off("call the bank", tomorrow)).await;

    let resp = post_python_signed(&h, "/twilio/sms", &inbound_params(ANA, "cancel", "SMc1")).await;
    assert_eq!(resp.status(), 200);
    let sent = h.wait_sent(1).await;
    assert_eq!(
        sent[0].body,
        keywords::opted_out_text(Locale::En, true, &config)
    );
    assert!(sent[0].body.contains("Reply START to resume"));
    assert!(opted_out(&h, ANA).await);

    let resp = post_python_signed(&h, "/twilio/sms", &inbound_params(ANA, "START", "SMc2")).await;
    assert_eq!(resp.status(), 200);
    let sent = h.wait_sent(2).await;
    assert_eq!(
        sent[1].body,
        keywords::opted_in_text(Locale::En, true, &config)
    );
    assert!(
        sent[1].body.contains("cancel reminder dentist"),
        "teaches the one-reminder phrasing: {}",
        sent[1].body
    );
    assert!(!opted_out(&h, ANA).await);

    for r in [&dentist, &bank] {
        let status: String = sqlx::query_scalar("select status from reminders where id = $1")
            .bind(r.id)
            .fetch_one(&h.db.owner)
            .await
            .unwrap();
        assert_eq!(status, "scheduled");
        let jobs = h
            .count(&format!(
                "select count(*) from apalis.jobs where job_type = 'reminder_due' \
                 and status = 'Pending' and convert_from(job, 'UTF8')::jsonb ->> 'reminder_id' = '{}'",
                r.id
            ))
            .await;
        assert_eq!(jobs, 1, "the reminder's delivery job is still there");
    }
    // A later START is a plain confirmation, without the note.
    post_python_signed(&h, "/twilio/sms", &inbound_params(ANA, "stop", "SMc3")).await;
    post_python_signed(&h, "/twilio/sms", &inbound_params(ANA, "start", "SMc4")).await;
    let sent = h.wait_sent(4).await;
    assert_eq!(
        sent[3].body,
        keywords::opted_in_text(Locale::En, false, &config)
    );
    assert_eq!(
        h.count("select count(*) from apalis.jobs where job_type = 'agent_turn'")
            .await,
        0
    );
}
