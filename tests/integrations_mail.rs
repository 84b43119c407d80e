//! Mail through the agent loop, against fake Gmail v1 and Graph v1.0 mail
//! speaking their documented wire formats (see `common::mail`): each tool
//! with a scripted model (what the provider received, what the person
//! got), the read intents through the offline planner in English and
//! French, sending only after "yes" and exactly once, "no" cancelling,
//! and the incremental-consent link when mail was never granted or the
//! provider answers 403 for a missing scope.

mod common;

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use nudge::agent::llm::offline::OfflinePlanner;
use nudge::agent::runner::TurnEnd;
use nudge::oauth::Provider;
use nudge::oauth::links::ConnectLinks;
use nudge::oauth::{Access, OAuthService};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::TestDb;
use common::integrations::{
    agent, connect, connect_with_scopes, integrations, oauth, quick_breakers, received,
};
use common::mail::{
    GMAIL, get_json, gmail_full_html_with_attachment, gmail_list, gmail_metadata,
    google_insufficient_scope, google_mail_scopes, google_rate_limited, graph_access_denied,
    graph_message, graph_page, graph_throttled, microsoft_mail_scopes, mime_body, raw_mime,
};
use common::scripted_llm::{ScriptedLlm, Step};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 15, 0, 0).unwrap()
}

async fn mail_user(
    db: &TestDb,
    server: &MockServer,
    phone: &str,
    provider: Provider,
) -> (nudge::store::UserId, OAuthService) {
    let ann = common::create_user(db, "Ann", phone).await;
    let oauth = oauth(db, server, &quick_breakers());
    let scopes = match provider {
        Provider::Microsoft => microsoft_mail_scopes(),
        _ => google_mail_scopes(),
    };
    connect_with_scopes(db, &oauth, ann, provider, "token.ann", &scopes).await;
    (ann, oauth)
}

/// An agent over `llm` with every tool, on `server`'s fake providers.
fn on(
    db: &TestDb,
    server: &MockServer,
    oauth: &OAuthService,
    llm: Arc<dyn nudge::agent::llm::LlmClient>,
) -> nudge::agent::Agent {
    agent(
        db,
        llm,
        integrations(Some(oauth.clone()), server, None, &quick_breakers()),
        now(),
    )
}

async fn gmail_inbox(server: &MockServer) {
    get_json(
        server,
        &format!("{GMAIL}/messages"),
        gmail_list(&["m1", "m2"], None),
    )
    .await;
    get_json(
        server,
        &format!("{GMAIL}/messages/m1"),
        gmail_metadata(
            "m1",
            "Marie Curie <marie@example.com>",
            "Pickup at 4",
            "Can you get Léo today? &#39;thanks&#39;",
        ),
    )
    .await;
    get_json(
        server,
        &format!("{GMAIL}/messages/m2"),
        gmail_metadata(
            "m2",
            "École Jean-Jaurès <office@school.example>",
            "Sortie scolaire",
            "Merci de signer",
        ),
    )
    .await;
}

#[tokio::test]
async fn gmail_search_and_read_through_the_agent_loop() {
    let db = TestDb::new().await;
    let server = MockServer::start().await;
    gmail_inbox(&server).await;
    let html = "<html><head><style>p{color:red}</style></head><body><p>Bring a <b>packed lunch</b> on Friday.</p>\
                <div style=\"display:none\">hidden tracking text</div></body></html>";
    // Read with format=full; a metadata GET for m2 is mounted above.
    Mock::given(method("GET"))
        .and(path(format!("{GMAIL}/messages/m2")))
        .and(query_param("format", "full"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(gmail_full_html_with_attachment(
                "m2",
                "École <office@school.example>",
                "Sortie scolaire",
                html,
            )),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    let (ann, oauth) = mail_user(&db, &server, "+15145550401", Provider::Google).await;
    let llm = Arc::new(ScriptedLlm::new(vec![
        Step::Calls(vec![("mail_search", json!({"from": "marie", "days": 7}))]),
        Step::Text("Marie wrote about pickup.".into()),
        Step::Calls(vec![("mail_read", json!({"id": "m2"}))]),
        Step::Text("Packed lunch on Friday.".into()),
    ]));
    let agent = on(&db, &server, &oauth, llm.clone());

    let out = agent.handle_text(ann, "did marie email me?").await.unwrap();
    assert_eq!(out.reply, "Marie wrote about pickup.");
    let lists = received(&server, "GET", &format!("{GMAIL}/messages")).await;
    assert_eq!(lists.len(), 1);
    let q = lists[0].url.query().unwrap();
    assert!(q.contains("q=from%3Amarie+newer_than%3A7d"), "{q}");
    assert!(q.contains("maxResults=5"), "{q}");
    assert_eq!(
        lists[0].headers.get("authorization").unwrap(),
        "Bearer token.ann"
    );
    let meta = received(&server, "GET", &format!("{GMAIL}/messages/m1")).await;
    assert!(meta[0].url.query().unwrap().contains("format=metadata"));
    // What the model saw: wrapped as untrusted data, sender and subject.
    let seen = llm.tool_result(1);
    let content = seen["untrusted_data"]["content"].as_str().unwrap();
    assert!(content.contains("Pickup at 4"), "{content}");
    assert!(content.contains("'thanks'"), "entities decoded: {content}");

    let read = agent
        .handle_text(ann, "what did the school say?")
        .await
        .unwrap();
    assert_eq!(read.reply, "Packed lunch on Friday.");
    let seen = llm.tool_result(3);
    let content = seen["untrusted_data"]["content"].as_str().unwrap();
    assert!(
        content.contains("Bring a packed lunch on Friday."),
        "{content}"
    );
    assert!(
        !content.contains("<b>") && !content.contains("color:red"),
        "{content}"
    );
    assert!(
        !content.contains("ANGjdJ8"),
        "attachment ids stay out: {content}"
    );
    assert!(
        received(
            &server,
            "GET",
            &format!("{GMAIL}/messages/m2/attachments/ANGjdJ8-very-long-attachment-id")
        )
        .await
        .is_empty()
    );
}

#[tokio::test]
async fn a_gmail_reply_waits_for_yes_then_goes_once_in_its_thread() {
    let db = TestDb::new().await;
    let server = MockServer::start().await;
    gmail_inbox(&server).await;
    Mock::given(method("POST"))
        .and(path(format!("{GMAIL}/messages/send")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "s1", "threadId": "t-m1", "labelIds": ["SENT"]})),
        )
        .mount(&server)
        .await;
    let (ann, oauth) = mail_user(&db, &server, "+15145550402", Provider::Google).await;
    let llm = Arc::new(ScriptedLlm::new(vec![
        Step::Calls(vec![(
            "mail_send",
            json!({"reply_to_id": "m1", "body": "I'll be 10 min late"}),
        )]),
        // The second "yes", with nothing waiting, is an ordinary message.
        Step::Text("Nothing is waiting for a yes.".into()),
        Step::Calls(vec![(
            "mail_send",
            json!({"to": ["sam@example.com"], "subject": "Dinner", "body": "Running late, start without me"}),
        )]),
    ]));
    let agent = on(&db, &server, &oauth, llm.clone());
    let send_path = format!("{GMAIL}/messages/send");

    let asked = agent
        .handle_text(ann, "answer Marie that I'll be 10 min late")
        .await
        .unwrap();
    assert_eq!(asked.end, TurnEnd::AwaitingConfirmation);
    assert!(
        asked
            .reply
            .contains("reply to marie@example.com (Re: Pickup at 4): \"I'll be 10 min late\""),
        "{}",
        asked.reply
    );
    assert!(received(&server, "POST", &send_path).await.is_empty());

    let done = agent.handle_text(ann, "yes").await.unwrap();
    assert_eq!(done.end, TurnEnd::Confirmed);
    assert_eq!(done.reply, "Reply sent.");
    let sends = received(&server, "POST", &send_path).await;
    assert_eq!(sends.len(), 1);
    let body: Value = sends[0].body_json().unwrap();
    assert_eq!(body["threadId"], "t-m1");
    let mime = raw_mime(&body);
    let (head, _) = mime.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("To: marie@example.com\r\n"), "{head}");
    assert!(head.contains("Subject: Re: Pickup at 4\r\n"), "{head}");
    assert!(
        head.contains("In-Reply-To: <m1@mail.example>\r\n"),
        "{head}"
    );
    assert!(
        head.contains("References: <first@mail.example> <m1@mail.example>\r\n"),
        "{head}"
    );
    assert_eq!(mime_body(&mime), "I'll be 10 min late");

    // A second "yes" finds nothing pending: still one send.
    agent.handle_text(ann, "yes").await.unwrap();
    assert_eq!(received(&server, "POST", &send_path).await.len(), 1);

    // A new mail, refused: nothing goes.
    let asked = agent
        .handle_text(ann, "tell sam to start without me")
        .await
        .unwrap();
    assert_eq!(asked.end, TurnEnd::AwaitingConfirmation);
    assert!(
        asked.reply.contains(
            "send to sam@example.com (subject \"Dinner\"): \"Running late, start without me\""
        ),
        "{}",
        asked.reply
    );
    agent.handle_text(ann, "no").await.unwrap();
    assert_eq!(received(&server, "POST", &send_path).await.len(), 1);
}

#[tokio::test]
async fn a_gmail_draft_is_saved_at_once_and_never_sent() {
    let db = TestDb::new().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{GMAIL}/drafts")))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": "r-1", "message": {"id": "d1", "threadId": "d1", "labelIds": ["DRAFT"]}}),
        ))
        .mount(&server)
        .await;
    let (ann, oauth) = mail_user(&db, &server, "+15145550403", Provider::Google).await;
    let llm = Arc::new(ScriptedLlm::new(vec![
        Step::Calls(vec![(
            "mail_draft",
            json!({"to": ["landlord@example.com"], "subject": "Réparation", "body": "Bonjour,\nle chauffage est en panne."}),
        )]),
        Step::Text("Draft ready.".into()),
    ]));
    let agent = on(&db, &server, &oauth, llm.clone());
    let out = agent
        .handle_text(ann, "draft a mail to my landlord about the heating")
        .await
        .unwrap();
    assert_eq!(out.end, TurnEnd::Answered);
    assert_eq!(
        llm.tool_result(1)["confirmation"],
        "Draft saved in Gmail — not sent."
    );
    let drafts = received(&server, "POST", &format!("{GMAIL}/drafts")).await;
    assert_eq!(drafts.len(), 1);
    let mime = raw_mime(&drafts[0].body_json().unwrap());
    assert!(mime.contains("To: landlord@example.com\r\n"), "{mime}");
    assert!(
        mime.contains("Subject: =?UTF-8?B?UsOpcGFyYXRpb24=?=\r\n"),
        "{mime}"
    );
    assert_eq!(mime_body(&mime), "Bonjour,\r\nle chauffage est en panne.");
    assert!(
        received(&server, "POST", &format!("{GMAIL}/messages/send"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn graph_mail_search_read_draft_and_reply_after_yes() {
    let db = TestDb::new().await;
    let server = MockServer::start().await;
    let marie = graph_message(
        "AAMkAG=1",
        "Marie Curie",
        "marie@example.com",
        "Pickup at 4",
        "Can you get Léo today?",
    );
    // A second page on Graph itself, then a link elsewhere never followed.
    let next = format!(
        "{}/v1.0/me/messages?$skip=1&$search=%22from:marie%22",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path("/v1.0/me/messages"))
        .and(query_param("$skip", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(graph_page(
            &server,
            vec![graph_message(
                "AAMkAG=2",
                "Marie Curie",
                "marie@example.com",
                "Re: Pickup",
                "OK",
            )],
            Some("https://evil.example/steal"),
        )))
        .with_priority(1)
        .mount(&server)
        .await;
    get_json(
        &server,
        "/v1.0/me/messages",
        graph_page(&server, vec![marie.clone()], Some(&next)),
    )
    .await;
    get_json(&server, "/v1.0/me/messages/AAMkAG%3D1", marie).await;
    Mock::given(method("POST"))
        .and(path("/v1.0/me/messages/AAMkAG%3D1/reply"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/me/messages"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"id": "draft-1", "isDraft": true})),
        )
        .mount(&server)
        .await;
    let (ann, oauth) = mail_user(&db, &server, "+15145550404", Provider::Microsoft).await;
    let llm = Arc::new(ScriptedLlm::new(vec![
        Step::Calls(vec![("mail_search", json!({"from": "marie"}))]),
        Step::Text("Two from Marie.".into()),
        Step::Calls(vec![("mail_read", json!({"id": "AAMkAG=1"}))]),
        Step::Text("She asks about Léo.".into()),
        Step::Calls(vec![(
            "mail_draft",
            json!({"to": ["marie@example.com"], "subject": "Léo", "body": "Yes I can"}),
        )]),
        Step::Text("Drafted.".into()),
        Step::Calls(vec![(
            "mail_send",
            json!({"reply_to_id": "AAMkAG=1", "body": "Yes, I'll get him"}),
        )]),
    ]));
    let agent = on(&db, &server, &oauth, llm.clone());

    agent
        .handle_text(ann, "any mail from marie?")
        .await
        .unwrap();
    let lists = received(&server, "GET", "/v1.0/me/messages").await;
    assert_eq!(
        lists.len(),
        2,
        "first page, then Graph's own next link only"
    );
    let q = lists[0].url.query().unwrap();
    assert!(q.contains("%24search=%22from%3Amarie%22"), "{q}");
    assert!(q.contains("%24top=5"), "{q}");
    let content = llm.tool_result(1)["untrusted_data"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        content.contains("2 mails: Marie Curie — Pickup at 4 · Marie Curie — Re: Pickup"),
        "{content}"
    );

    agent.handle_text(ann, "what does she say?").await.unwrap();
    let reads = received(&server, "GET", "/v1.0/me/messages/AAMkAG%3D1").await;
    assert_eq!(
        reads[0].headers.get("prefer").unwrap(),
        "outlook.body-content-type=\"text\""
    );
    let content = llm.tool_result(3)["untrusted_data"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(content.contains("Can you get Léo today?"), "{content}");

    let drafted = agent.handle_text(ann, "draft yes I can").await.unwrap();
    // The turn read mail before, in earlier turns only: a draft is private.
    assert_eq!(drafted.end, TurnEnd::Answered);
    let posts = received(&server, "POST", "/v1.0/me/messages").await;
    assert_eq!(posts.len(), 1);
    let body: Value = posts[0].body_json().unwrap();
    assert_eq!(
        body["toRecipients"],
        json!([{"emailAddress": {"address": "marie@example.com"}}])
    );
    assert_eq!(
        body["body"],
        json!({"contentType": "Text", "content": "Yes I can"})
    );

    let asked = agent
        .handle_text(ann, "reply yes I'll get him")
        .await
        .unwrap();
    assert_eq!(asked.end, TurnEnd::AwaitingConfirmation);
    assert!(
        asked
            .reply
            .contains("reply to marie@example.com (Re: Pickup at 4): \"Yes, I'll get him\""),
        "{}",
        asked.reply
    );
    let reply_path = "/v1.0/me/messages/AAMkAG%3D1/reply";
    assert!(received(&server, "POST", reply_path).await.is_empty());
    let done = agent.handle_text(ann, "YES").await.unwrap();
    assert_eq!(done.reply, "Reply sent.");
    let replies = received(&server, "POST", reply_path).await;
    assert_eq!(replies.len(), 1);
    assert_eq!(
        replies[0].body_json::<Value>().unwrap(),
        json!({"comment": "Yes, I'll get him"})
    );
    assert!(
        received(&server, "POST", "/v1.0/me/sendMail")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_offline_planner_answers_mail_questions_in_english_and_french() {
    let db = TestDb::new().await;
    let server = MockServer::start().await;
    gmail_inbox(&server).await;
    let (ann, oauth) = mail_user(&db, &server, "+15145550405", Provider::Google).await;
    let ann_agent = on(&db, &server, &oauth, Arc::new(OfflinePlanner::new()));
    let want = "2 mails: Marie Curie — Pickup at 4 · École Jean-Jaurès — Sortie scolaire";
    for (said, q) in [
        ("any mail from the school?", "q=from%3Aschool"),
        ("did Marie email me?", "q=from%3AMarie"),
        ("des mails de l'école ?", "q=from%3A%C3%A9cole"),
        ("j'ai reçu un mail de Marie ?", "q=from%3AMarie"),
        ("any new emails?", "q=is%3Aunread"),
    ] {
        let before = received(&server, "GET", &format!("{GMAIL}/messages"))
            .await
            .len();
        let out = ann_agent.handle_text(ann, said).await.unwrap();
        assert_eq!(out.reply, want, "{said}");
        let lists = received(&server, "GET", &format!("{GMAIL}/messages")).await;
        assert_eq!(lists.len(), before + 1, "{said}");
        let query = lists.last().unwrap().url.query().unwrap().to_string();
        assert!(query.contains(q), "{said}: {query}");
    }

    // Outlook, the same questions.
    let bob_server = MockServer::start().await;
    get_json(
        &bob_server,
        "/v1.0/me/messages",
        graph_page(
            &bob_server,
            vec![graph_message(
                "x1",
                "École",
                "office@school.example",
                "Sortie",
                "Signez",
            )],
            None,
        ),
    )
    .await;
    let (bob, oauth) = mail_user(&db, &bob_server, "+15145550406", Provider::Microsoft).await;
    let bob_agent = on(&db, &bob_server, &oauth, Arc::new(OfflinePlanner::new()));
    let out = bob_agent
        .handle_text(bob, "des mails de l'école ?")
        .await
        .unwrap();
    assert_eq!(out.reply, "1 mail: École — Sortie");
    let q = received(&bob_server, "GET", "/v1.0/me/messages").await[0]
        .url
        .query()
        .unwrap()
        .to_string();
    assert!(q.contains("%24search=%22from%3A%C3%A9cole%22"), "{q}");
}

/// The link in `reply`, and what it asks for.
fn link_access(reply: &str) -> (Provider, Access) {
    let token = reply
        .split("/connect/")
        .nth(1)
        .unwrap_or_else(|| panic!("no connect link in {reply}"))
        .split_whitespace()
        .next()
        .unwrap();
    let links = ConnectLinks::from_config(&SecretString::from(common::oauth::LINK_KEYS)).unwrap();
    let claims = links.verify(token, Utc::now()).unwrap();
    (claims.provider, claims.access)
}

#[tokio::test]
async fn without_the_mail_scope_the_person_gets_an_incremental_consent_link() {
    let db = TestDb::new().await;
    let server = MockServer::start().await;
    let ann = common::create_user(&db, "Ann", "+15145550407").await;
    let breakers = quick_breakers();
    let oauth = oauth(&db, &server, &breakers);
    // Outlook connected for the calendar only.
    connect(&db, &oauth, ann, Provider::Microsoft, "ms.ann").await;
    let llm = Arc::new(ScriptedLlm::new(vec![Step::Text("hi".into())]));
    let scripted = on(&db, &server, &oauth, llm.clone());
    scripted.handle_text(ann, "hello").await.unwrap();
    let names: Vec<String> = llm
        .request(0)
        .tools
        .iter()
        .map(|t| t.name.clone())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("mail_")), "{names:?}");
    assert!(names.contains(&"calendar_events".to_string()));

    let offline = on(&db, &server, &oauth, Arc::new(OfflinePlanner::new()));
    let out = offline
        .handle_text(ann, "any mail from the school?")
        .await
        .unwrap();
    assert!(
        out.reply.starts_with("Allow Nudge into your Outlook"),
        "{}",
        out.reply
    );
    assert!(out.reply.chars().count() <= 320, "{}", out.reply);
    assert_eq!(link_access(&out.reply), (Provider::Microsoft, Access::Mail));
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );

    // The link asks for the mail scopes on top of the calendar's.
    let token = out
        .reply
        .split("/connect/")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(oauth.consent(&token).await.unwrap().access, Access::Mail);
    let begun = oauth.begin(&token).await.unwrap();
    let url = url::Url::parse(&begun.authorize_url).unwrap();
    let scope = url
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .unwrap()
        .1
        .to_string();
    assert!(
        scope.contains("Calendars.ReadWrite")
            && scope.contains("Mail.ReadWrite")
            && scope.contains("Mail.Send"),
        "{scope}"
    );

    // Microsoft grants them; the next turn offers the mail tools, and the
    // confirmation text says so.
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .to_string();
    Mock::given(method("POST"))
        .and(path("/microsoft/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
            "scope": "openid profile email https://graph.microsoft.com/Calendars.ReadWrite https://graph.microsoft.com/Mail.ReadWrite https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/User.Read",
            "access_token": "ms.ann.2", "refresh_token": "ms.refresh.2",
        })))
        .mount(&server)
        .await;
    let cookie = begun.set_cookie.split(';').next().unwrap().to_string();
    let params = nudge::oauth::CallbackParams {
        code: Some("code-1".into()),
        state: Some(state),
        ..Default::default()
    };
    oauth
        .callback("microsoft", &params, Some(&cookie))
        .await
        .unwrap();
    let text: String = sqlx::query_scalar(
        "select body from messages where user_id = $1 and direction = 'outbound' order by created_at desc limit 1",
    )
    .bind(ann.0)
    .fetch_one(&db.owner)
    .await
    .unwrap();
    assert!(text.starts_with("Outlook mail connected"), "{text}");
    let llm = Arc::new(ScriptedLlm::new(vec![Step::Text("hi".into())]));
    on(&db, &server, &oauth, llm.clone())
        .handle_text(ann, "hello")
        .await
        .unwrap();
    let names: Vec<String> = llm
        .request(0)
        .tools
        .iter()
        .map(|t| t.name.clone())
        .collect();
    for tool in ["mail_search", "mail_read", "mail_draft", "mail_send"] {
        assert!(
            names.contains(&tool.to_string()),
            "{tool} missing: {names:?}"
        );
    }
}

#[tokio::test]
async fn a_403_for_a_missing_scope_becomes_a_link_and_429_is_waited_out() {
    let db = TestDb::new().await;
    let server = MockServer::start().await;
    // Gmail: the first list is rate limited (Retry-After: 1), then 403
    // (the person unticked Gmail on Google's consent screen).
    Mock::given(method("GET"))
        .and(path(format!("{GMAIL}/messages")))
        .respond_with(google_rate_limited(1))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{GMAIL}/messages")))
        .respond_with(google_insufficient_scope())
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/me/messages"))
        .respond_with(graph_throttled(1))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/me/messages"))
        .respond_with(graph_access_denied())
        .mount(&server)
        .await;
    let (ann, oauth) = mail_user(&db, &server, "+15145550408", Provider::Google).await;
    let offline = on(&db, &server, &oauth, Arc::new(OfflinePlanner::new()));
    let out = offline
        .handle_text(ann, "did Marie email me?")
        .await
        .unwrap();
    assert!(
        out.reply.starts_with("Nudge needs your OK for Gmail"),
        "{}",
        out.reply
    );
    assert_eq!(link_access(&out.reply), (Provider::Google, Access::Mail));
    // Two calls: the 429, its retry after Retry-After (answered 403).
    assert_eq!(
        received(&server, "GET", &format!("{GMAIL}/messages"))
            .await
            .len(),
        2
    );

    let (bob, oauth) = mail_user(&db, &server, "+15145550409", Provider::Microsoft).await;
    let offline = on(&db, &server, &oauth, Arc::new(OfflinePlanner::new()));
    let out = offline
        .handle_text(bob, "j'ai reçu un mail de Marie ?")
        .await
        .unwrap();
    assert_eq!(link_access(&out.reply), (Provider::Microsoft, Access::Mail));
    assert_eq!(received(&server, "GET", "/v1.0/me/messages").await.len(), 2);
}

#[tokio::test]
async fn gmail_pages_are_followed_only_as_far_as_an_sms_needs() {
    let db = TestDb::new().await;
    let server = MockServer::start().await;
    let list = format!("{GMAIL}/messages");
    Mock::given(method("GET"))
        .and(path(&list))
        .and(query_param("pageToken", "p2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(gmail_list(&["m4", "m5", "m6"], Some("p3"))),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    get_json(&server, &list, gmail_list(&["m1", "m2", "m3"], Some("p2"))).await;
    for id in ["m1", "m2", "m3", "m4", "m5", "m6"] {
        get_json(
            &server,
            &format!("{GMAIL}/messages/{id}"),
            gmail_metadata(id, "Marie <marie@example.com>", &format!("Note {id}"), ""),
        )
        .await;
    }
    let (ann, oauth) = mail_user(&db, &server, "+15145550410", Provider::Google).await;
    let offline = on(&db, &server, &oauth, Arc::new(OfflinePlanner::new()));
    let out = offline
        .handle_text(ann, "any mail from marie?")
        .await
        .unwrap();
    assert!(
        out.reply.starts_with("5 mails: Marie — Note m1 · "),
        "{}",
        out.reply
    );
    let pages = received(&server, "GET", &list).await;
    assert_eq!(pages.len(), 2, "two pages, never the third");
    assert!(pages[1].url.query().unwrap().contains("pageToken=p2"));
    assert!(
        received(&server, "GET", &format!("{GMAIL}/messages/m6"))
            .await
            .is_empty(),
        "only the five an SMS lists are read"
    );
}

#[tokio::test]
async fn outlook_sends_new_mail_after_yes_and_drafts_replies_in_the_thread() {
    let db = TestDb::new().await;
    let server = MockServer::start().await;
    get_json(
        &server,
        "/v1.0/me/messages/AAMk1",
        graph_message("AAMk1", "Sam", "sam@example.com", "Dinner", "7pm?"),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/me/sendMail"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/me/messages/AAMk1/createReply"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"id": "AAMk-draft", "isDraft": true})),
        )
        .mount(&server)
        .await;
    let (ann, oauth) = mail_user(&db, &server, "+15145550411", Provider::Microsoft).await;
    let llm = Arc::new(ScriptedLlm::new(vec![
        Step::Calls(vec![(
            "mail_draft",
            json!({"reply_to_id": "AAMk1", "body": "7pm works"}),
        )]),
        Step::Text("Draft ready.".into()),
        Step::Calls(vec![(
            "mail_send",
            json!({"to": ["marie@example.com", "Léa <lea@example.com>"], "subject": "Retard", "body": "J'arrive dans 10 min"}),
        )]),
    ]));
    let agent = on(&db, &server, &oauth, llm.clone());
    agent
        .handle_text(ann, "draft 7pm works to sam")
        .await
        .unwrap();
    let drafts = received(&server, "POST", "/v1.0/me/messages/AAMk1/createReply").await;
    assert_eq!(
        drafts[0].body_json::<Value>().unwrap(),
        json!({"comment": "7pm works"})
    );
    assert_eq!(
        llm.tool_result(1)["confirmation"],
        "Draft saved in Outlook — not sent."
    );

    let asked = agent
        .handle_text(ann, "tell marie and léa I'm late")
        .await
        .unwrap();
    assert!(
        asked
            .reply
            .contains("send to marie@example.com, lea@example.com (subject \"Retard\"): \"J'arrive dans 10 min\""),
        "{}",
        asked.reply
    );
    assert!(
        received(&server, "POST", "/v1.0/me/sendMail")
            .await
            .is_empty()
    );
    let done = agent.handle_text(ann, "oui").await.unwrap();
    assert_eq!(done.reply, "Sent to marie@example.com, lea@example.com.");
    let sent = received(&server, "POST", "/v1.0/me/sendMail").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].body_json::<Value>().unwrap(),
        json!({"message": {
            "subject": "Retard",
            "body": {"contentType": "Text", "content": "J'arrive dans 10 min"},
            "toRecipients": [
                {"emailAddress": {"address": "marie@example.com"}},
                {"emailAddress": {"address": "lea@example.com"}},
            ],
        }, "saveToSentItems": true})
    );
}
