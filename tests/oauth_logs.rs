//! Tokens never reach the logs: with every target at TRACE, a connect, a
//! refresh, an `invalid_grant` and a disconnect handle canary tokens, and
//! not one log line carries them.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use nudge::db::UserTx;
use nudge::oauth::Provider;
use nudge::store::Actor;
use secrecy::ExposeSecret;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::create_user;
use common::oauth::{AuthServer, callback, link_path, oauth, start_flow, use_auth_server};
use common::sms::SmsHarness;

const ACCESS: &str = "ya29.CANARYaccess";
const REFRESH: &str = "1//CANARYrefresh";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_token_in_any_log_line() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
        .with_writer(move || writer.clone())
        .json()
        .init();

    let auth = AuthServer::start().await;
    let tokens = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 60,
        })))
        .mount(&tokens)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": "invalid_grant", "error_description": format!("bad token {REFRESH}"),
        })))
        .mount(&tokens)
        .await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&tokens)
        .await;
    let token_url = format!("{}/token", tokens.uri());
    let revoke_url = format!("{}/revoke", tokens.uri());
    let h = SmsHarness::start(|c| {
        use_auth_server(c, &auth, &[Provider::Google]);
        c.oauth.google.token_url = token_url;
        c.oauth.google.revoke_url = Some(revoke_url);
    })
    .await;
    let ann = create_user(&h.db, "Ann", "+15145550201").await;

    let link = link_path(&h, ann, Provider::Google).await;
    let s = start_flow(&h, &link).await;
    let (status, _) = callback(
        &h,
        &s.callback_path,
        &[("code", &s.code), ("state", &s.state)],
        Some(&s.cookie),
    )
    .await;
    assert_eq!(status, 200);
    let service = oauth(&h);
    // Expires within 15 minutes: refreshed first, and the grant is dead.
    assert!(service.access_token(ann, Provider::Google).await.is_err());
    let connected_again = {
        let mut tx = UserTx::begin(&h.state.db, ann).await.unwrap();
        let t = nudge::store::integrations::token_state(&mut tx, "google")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        t.unwrap()
    };
    // The sealed tokens still open to the canaries: the flow really used them.
    let opened = service
        .vault()
        .open(
            ann.0,
            Provider::Google,
            nudge::oauth::Purpose::AccessToken,
            &nudge::oauth::Sealed {
                key_id: connected_again.tokens.key_id as u32,
                nonce: connected_again.tokens.access.nonce.clone(),
                ciphertext: connected_again.tokens.access.ciphertext.clone(),
            },
        )
        .unwrap();
    assert_eq!(opened.expose_secret(), ACCESS);
    let pool = h.state.db.clone();
    let begin = async || UserTx::begin(&pool, ann).await.map_err(Into::into);
    service
        .disconnect(begin, Provider::Google, Actor::Admin)
        .await
        .unwrap();
    assert_eq!(tokens.received_requests().await.unwrap().len(), 3);

    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(logs.contains("integration connected"), "the capture works");
    for canary in ["CANARY", ACCESS, REFRESH, &s.code, &s.state] {
        assert!(!logs.contains(canary), "{canary} in the logs");
    }
}
