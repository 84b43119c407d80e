//! Calendar writes through the agent loop: a private event is created at
//! once; one with attendees, a move and a deletion wait for "yes", and the
//! question names who, what and when.

mod common;

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use nudge::agent::runner::TurnEnd;
use nudge::oauth::Provider;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::TestDb;
use common::integrations::{agent, connect, integrations, oauth, quick_breakers, received};
use common::scripted_llm::{ScriptedLlm, Step};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 15, 0, 0).unwrap()
}

fn created(summary: &str) -> Value {
    json!({"kind": "calendar#event", "id": "new1", "status": "confirmed", "summary": summary,
           "start": {"dateTime": "2026-12-11T10:00:00-05:00", "timeZone": "America/Montreal"},
           "end": {"dateTime": "2026-12-11T11:00:00-05:00", "timeZone": "America/Montreal"}})
}

#[tokio::test]
async fn private_event_now_invitation_only_after_yes() {
    let db = TestDb::new().await;
    let ann = common::create_user(&db, "Ann", "+15145550211").await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/calendar/v3/calendars/primary/events"))
        .respond_with(ResponseTemplate::new(200).set_body_json(created("Dentist")))
        .mount(&server)
        .await;
    let breakers = quick_breakers();
    let oauth = oauth(&db, &server, &breakers);
    connect(&db, &oauth, ann, Provider::Google, "ya29.ann").await;
    let llm = Arc::new(ScriptedLlm::new(vec![
        Step::Calls(vec![(
            "calendar_create_event",
            json!({"title": "Dentist", "start": "2026-12-11T10:00"}),
        )]),
        Step::Text("Added.".into()),
        Step::Calls(vec![(
            "calendar_create_event",
            json!({"title": "Lunch", "start": "2026-12-11T12:00", "minutes": 90, "attendees": ["marie@example.com"]}),
        )]),
    ]));
    let agent = agent(
        &db,
        llm.clone(),
        integrations(Some(oauth), &server, None, &breakers),
        now(),
    );

    let private = agent
        .handle_text(ann, "put dentist friday 10am in my calendar")
        .await
        .unwrap();
    assert_eq!(private.end, TurnEnd::Answered);
    let posts = received(&server, "POST", "/calendar/v3/calendars/primary/events").await;
    assert_eq!(posts.len(), 1);
    let body: Value = posts[0].body_json().unwrap();
    assert_eq!(
        body["start"],
        json!({"dateTime": "2026-12-11T10:00:00", "timeZone": "America/Montreal"})
    );
    assert_eq!(body["end"]["dateTime"], "2026-12-11T11:00:00");
    assert!(posts[0].url.query().unwrap().contains("sendUpdates=none"));

    let asked = agent
        .handle_text(ann, "lunch with marie friday noon")
        .await
        .unwrap();
    assert_eq!(asked.end, TurnEnd::AwaitingConfirmation);
    assert!(asked.reply.contains("marie@example.com"), "{}", asked.reply);
    assert!(
        asked.reply.contains("Lunch") && asked.reply.contains("12:00 PM"),
        "{}",
        asked.reply
    );
    assert_eq!(
        received(&server, "POST", "/calendar/v3/calendars/primary/events")
            .await
            .len(),
        1
    );

    let done = agent.handle_text(ann, "yes").await.unwrap();
    assert_eq!(done.end, TurnEnd::Confirmed);
    let posts = received(&server, "POST", "/calendar/v3/calendars/primary/events").await;
    assert_eq!(posts.len(), 2);
    let body: Value = posts[1].body_json().unwrap();
    assert_eq!(body["attendees"], json!([{"email": "marie@example.com"}]));
    assert!(posts[1].url.query().unwrap().contains("sendUpdates=all"));
    assert!(
        done.reply.starts_with("Added to your calendar: Lunch"),
        "{}",
        done.reply
    );
}

#[tokio::test]
async fn microsoft_delete_and_move_ask_first_naming_the_event() {
    let db = TestDb::new().await;
    let ann = common::create_user(&db, "Ann", "+15145550212").await;
    let server = MockServer::start().await;
    let event = json!({"id": "AAMk=1", "subject": "Team sync", "isAllDay": false,
        "start": {"dateTime": "2026-12-08T14:00:00.0000000", "timeZone": "America/Montreal"},
        "end": {"dateTime": "2026-12-08T14:30:00.0000000", "timeZone": "America/Montreal"},
        "attendees": [{"emailAddress": {"address": "sam@example.com", "name": "Sam"}, "type": "required"}]});
    Mock::given(method("GET"))
        .and(path("/v1.0/me/events/AAMk%3D1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(event.clone()))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1.0/me/events/AAMk%3D1"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let mut moved = event.clone();
    moved["start"]["dateTime"] = json!("2026-12-08T16:00:00.0000000");
    moved["end"]["dateTime"] = json!("2026-12-08T16:30:00.0000000");
    Mock::given(method("PATCH"))
        .and(path("/v1.0/me/events/AAMk%3D1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(moved))
        .mount(&server)
        .await;
    let breakers = quick_breakers();
    let oauth = oauth(&db, &server, &breakers);
    connect(&db, &oauth, ann, Provider::Microsoft, "ms.ann").await;
    let llm = Arc::new(ScriptedLlm::new(vec![
        Step::Calls(vec![(
            "calendar_update_event",
            json!({"event_id": "AAMk=1", "start": "2026-12-08T16:00"}),
        )]),
        Step::Calls(vec![(
            "calendar_delete_event",
            json!({"event_id": "AAMk=1"}),
        )]),
    ]));
    let agent = agent(
        &db,
        llm.clone(),
        integrations(Some(oauth), &server, None, &breakers),
        now(),
    );

    let asked = agent.handle_text(ann, "move team sync to 4").await.unwrap();
    assert_eq!(asked.end, TurnEnd::AwaitingConfirmation);
    assert!(
        asked.reply.contains("\"Team sync\" (tomorrow at 2:00 PM)"),
        "{}",
        asked.reply
    );
    assert!(
        asked.reply.contains("sam@example.com")
            && asked.reply.contains("move it to tomorrow at 4:00 PM"),
        "{}",
        asked.reply
    );
    assert!(
        received(&server, "PATCH", "/v1.0/me/events/AAMk%3D1")
            .await
            .is_empty()
    );
    let done = agent.handle_text(ann, "yes").await.unwrap();
    assert_eq!(done.end, TurnEnd::Confirmed);
    let patches = received(&server, "PATCH", "/v1.0/me/events/AAMk%3D1").await;
    assert_eq!(patches.len(), 1);
    let body: Value = patches[0].body_json().unwrap();
    // The event keeps its 30 minutes.
    assert_eq!(
        body["end"],
        json!({"dateTime": "2026-12-08T16:30:00", "timeZone": "America/Montreal"})
    );

    let asked = agent.handle_text(ann, "cancel team sync").await.unwrap();
    assert_eq!(asked.end, TurnEnd::AwaitingConfirmation);
    assert!(
        asked.reply.contains("delete \"Team sync\""),
        "{}",
        asked.reply
    );
    let no = agent.handle_text(ann, "no").await.unwrap();
    assert_eq!(no.end, TurnEnd::Declined);
    assert!(
        received(&server, "DELETE", "/v1.0/me/events/AAMk%3D1")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn google_delete_on_yes_sends_updates() {
    let db = TestDb::new().await;
    let ann = common::create_user(&db, "Ann", "+15145550213").await;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/calendar/v3/calendars/primary/events/ev1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(created("Yoga")))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/calendar/v3/calendars/primary/events/ev1"))
        .and(query_param("sendUpdates", "all"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let breakers = quick_breakers();
    let oauth = oauth(&db, &server, &breakers);
    connect(&db, &oauth, ann, Provider::Google, "ya29.ann").await;
    let llm = Arc::new(ScriptedLlm::new(vec![Step::Calls(vec![(
        "calendar_delete_event",
        json!({"event_id": "ev1"}),
    )])]));
    let agent = agent(
        &db,
        llm,
        integrations(Some(oauth), &server, None, &breakers),
        now(),
    );
    let asked = agent.handle_text(ann, "delete yoga friday").await.unwrap();
    assert!(
        asked
            .reply
            .contains("delete \"Yoga\" (Fri, Dec 11 at 10:00 AM)"),
        "{}",
        asked.reply
    );
    let done = agent.handle_text(ann, "yes").await.unwrap();
    assert_eq!(done.reply, "Deleted from your calendar.");
}
