//! The agent's OAuth tools: `connect_integration` answers with a one-time
//! link; `disconnect_integration` waits for "yes", then deletes the tokens,
//! audits, and leaves a revocation job that carries only ciphertext.

mod common;

use std::sync::Arc;

use nudge::agent::Agent;
use nudge::agent::llm::offline::OfflinePlanner;
use nudge::agent::runner::{TurnBudget, TurnEnd};
use nudge::agent::tools::ToolRegistry;
use nudge::db::UserTx;
use nudge::oauth::{OAuthService, Provider, Purpose};
use nudge::store::UserId;
use nudge::store::integrations::{self, SealedBytes, SealedTokens};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::TestDb;
use common::oauth::{LINK_KEYS, TOKEN_KEYS_ONE};
use common::scripted_llm::{ScriptedLlm, Step};

const CANARY: &str = "1//CANARY-refresh-token";

/// OAuth set up for Google (revoking at `google_revoke`) and Notion.
fn service(db: &TestDb, google_revoke: &str) -> OAuthService {
    let mut config = db.config();
    config.public_base_url = "https://nudge.example".into();
    config.token_encryption_keys = Some(SecretString::from(TOKEN_KEYS_ONE));
    config.oauth.connect_link_keys = Some(SecretString::from(LINK_KEYS));
    config.oauth.google.client_id = Some("google-client".into());
    config.oauth.google.client_secret = Some(SecretString::from("google-secret"));
    config.oauth.google.revoke_url = Some(google_revoke.to_owned());
    config.oauth.notion.client_id = Some("notion-client".into());
    config.oauth.notion.client_secret = Some(SecretString::from("notion-secret"));
    OAuthService::from_config(&config, db.app.clone(), reqwest::Client::new())
        .unwrap()
        .unwrap()
}

/// `user` connected to `provider`, as the callback would leave them.
async fn connected(db: &TestDb, oauth: &OAuthService, user: UserId, provider: Provider) {
    let vault = oauth.vault();
    let seal = |purpose, v: &str| {
        let s = vault
            .seal(user.0, provider, purpose, &SecretString::from(v.to_owned()))
            .unwrap();
        SealedBytes {
            nonce: s.nonce,
            ciphertext: s.ciphertext,
        }
    };
    let mut tx = UserTx::begin(&db.app, user).await.unwrap();
    integrations::save_connected(
        &mut tx,
        provider.as_str(),
        &[],
        None,
        &SealedTokens {
            key_id: 1,
            access: seal(Purpose::AccessToken, "ya29.CANARY-access"),
            refresh: Some(seal(Purpose::RefreshToken, CANARY)),
            expires_at: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn tokens(db: &TestDb) -> i64 {
    sqlx::query_scalar("select count(*) from oauth_tokens")
        .fetch_one(&db.owner)
        .await
        .unwrap()
}

async fn status(db: &TestDb, user: UserId, provider: Provider) -> String {
    sqlx::query_scalar("select status from oauth_integrations where user_id = $1 and provider = $2")
        .bind(user.0)
        .bind(provider.as_str())
        .fetch_one(&db.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn connect_sends_a_link_and_disconnect_asks_first_then_revokes() {
    let db = TestDb::new().await;
    let ann = common::create_user(&db, "Ann", "+15145550181").await;
    let google = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(body_string_contains("token=1%2F%2FCANARY-refresh-token"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&google)
        .await;
    let oauth = service(&db, &format!("{}/revoke", google.uri()));
    let llm = Arc::new(ScriptedLlm::new(vec![
        Step::Calls(vec![("connect_integration", json!({"provider": "google"}))]),
        Step::Text("Here's your link.".into()),
        Step::Calls(vec![(
            "disconnect_integration",
            json!({"provider": "google"}),
        )]),
    ]));
    let agent = Agent::new(
        db.app.clone(),
        llm.clone(),
        Arc::new(ToolRegistry::with_integrations(Some(oauth.clone()))),
        TurnBudget::default(),
    );

    // Connect: the tool's result carries a one-time link for Ann.
    agent
        .handle_text(ann, "connect my google calendar")
        .await
        .unwrap();
    let result = llm
        .request(1)
        .messages
        .last()
        .unwrap()
        .parts
        .iter()
        .find_map(|p| match p {
            nudge::agent::llm::Part::FunctionResponse(r) => Some(r.response.clone()),
            _ => None,
        });
    let confirmation = result.unwrap()["confirmation"].as_str().unwrap().to_owned();
    assert!(
        confirmation.starts_with("Tap to connect Google Calendar (link works once, 15 min): https://nudge.example/connect/"),
        "{confirmation}"
    );
    let links: i64 =
        sqlx::query_scalar("select count(*) from oauth_connect_links where user_id = $1")
            .bind(ann.0)
            .fetch_one(&db.owner)
            .await
            .unwrap();
    assert_eq!(links, 1);

    // Ann is connected (as the callback would leave her).
    connected(&db, &oauth, ann, Provider::Google).await;

    // Disconnect: asked first, nothing happens before "yes".
    let asked = agent.handle_text(ann, "disconnect google").await.unwrap();
    assert_eq!(asked.end, TurnEnd::AwaitingConfirmation);
    assert!(
        asked.reply.contains("disconnect Google Calendar"),
        "{}",
        asked.reply
    );
    assert_eq!(tokens(&db).await, 1);
    let done = agent.handle_text(ann, "yes").await.unwrap();
    assert_eq!(done.end, TurnEnd::Confirmed);
    assert_eq!(tokens(&db).await, 0);
    assert_eq!(status(&db, ann, Provider::Google).await, "disconnected");

    // The revocation job carries ciphertext only, and revokes when run.
    let payloads: Vec<String> = sqlx::query_scalar(
        "select convert_from(job, 'UTF8') from apalis.jobs where job_type = 'revoke_token'",
    )
    .fetch_all(&db.owner)
    .await
    .unwrap();
    assert_eq!(payloads.len(), 1);
    assert!(!payloads[0].contains("CANARY"), "{}", payloads[0]);
    let job: nudge::db::queue::RevokeTokenJob = serde_json::from_str(&payloads[0]).unwrap();
    assert!(job.refresh);
    let bytes = SealedBytes {
        nonce: job.nonce,
        ciphertext: job.ciphertext,
    };
    let revoked = oauth
        .revoke(
            ann.0,
            Provider::Google,
            &SealedTokens {
                key_id: job.key_id,
                access: bytes.clone(),
                refresh: Some(bytes),
                expires_at: None,
            },
        )
        .await;
    assert_eq!(revoked, nudge::oauth::revoke::Revocation::Revoked);
    let audit: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'oauth.disconnect' and actor = 'user'",
    )
    .fetch_one(&db.owner)
    .await
    .unwrap();
    assert_eq!(audit, 1);
}

/// Issue 9 without a model: the offline planner reads "connecte mon agenda
/// google" and "unlink my notion" as the same tool calls a model makes,
/// so the link is real and the disconnection still waits for "yes".
#[tokio::test]
async fn the_offline_planner_connects_and_disconnects_by_text() {
    let db = TestDb::new().await;
    let bea = common::create_user(&db, "Bea", "+15145550182").await;
    let oauth = service(&db, "http://127.0.0.1:9/revoke");
    let agent = Agent::new(
        db.app.clone(),
        Arc::new(OfflinePlanner::new()),
        Arc::new(ToolRegistry::with_integrations(Some(oauth.clone()))),
        TurnBudget::default(),
    );

    let linked = agent
        .handle_text(bea, "connecte mon agenda google stp")
        .await
        .unwrap();
    assert!(
        linked.reply.contains("https://nudge.example/connect/"),
        "{}",
        linked.reply
    );
    let links: Vec<String> =
        sqlx::query_scalar("select provider from oauth_connect_links where user_id = $1")
            .bind(bea.0)
            .fetch_all(&db.owner)
            .await
            .unwrap();
    assert_eq!(links, ["google"]);

    connected(&db, &oauth, bea, Provider::Notion).await;
    let asked = agent
        .handle_text(bea, "unlink my notion pls")
        .await
        .unwrap();
    assert_eq!(asked.end, TurnEnd::AwaitingConfirmation);
    assert!(asked.reply.contains("disconnect Notion"), "{}", asked.reply);
    assert_eq!(tokens(&db).await, 1);
    let done = agent.handle_text(bea, "yes").await.unwrap();
    assert_eq!(done.end, TurnEnd::Confirmed);
    assert_eq!(tokens(&db).await, 0);
    assert_eq!(status(&db, bea, Provider::Notion).await, "disconnected");
}
