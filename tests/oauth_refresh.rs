//! Fresh tokens, single flight, and healing: 50 concurrent callers with an
//! expired token make exactly one token request; `invalid_grant` during 100
//! attempts gives one text, `needs_reauth`, and reconnecting restores it.
//! The token endpoint is wiremock speaking the providers' wire format.

mod common;

use std::time::Duration;

use chrono::Utc;
use nudge::db::UserTx;
use nudge::oauth::refresh::TokenError;
use nudge::oauth::{Provider, Purpose};
use nudge::store::UserId;
use nudge::store::integrations::{self, SealedBytes, SealedTokens};
use secrecy::{ExposeSecret, SecretString};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::create_user;
use common::oauth::{AuthServer, callback, oauth, start_flow, use_auth_server};
use common::sms::SmsHarness;

/// Ann connected to `provider` with an access token that expired a minute ago.
async fn connected_with_expired_token(h: &SmsHarness, user: UserId, provider: Provider) {
    let vault = oauth(h).vault().clone();
    let seal = |purpose, value: &str| {
        let s = vault
            .seal(
                user.0,
                provider,
                purpose,
                &SecretString::from(value.to_owned()),
            )
            .unwrap();
        SealedBytes {
            nonce: s.nonce,
            ciphertext: s.ciphertext,
        }
    };
    let tokens = SealedTokens {
        key_id: vault.current_key_id() as i32,
        access: seal(Purpose::AccessToken, "old-access"),
        refresh: Some(seal(Purpose::RefreshToken, "refresh-1")),
        expires_at: Some(Utc::now() - chrono::Duration::minutes(1)),
    };
    let mut tx = UserTx::begin(&h.state.db, user).await.unwrap();
    integrations::save_connected(&mut tx, provider.as_str(), &[], None, &tokens)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn harness(auth: &AuthServer, token_server: &MockServer, provider: Provider) -> SmsHarness {
    let token_url = format!("{}/token", token_server.uri());
    SmsHarness::start(move |c| {
        use_auth_server(c, auth, &[provider]);
        match provider {
            Provider::Google => c.oauth.google.token_url = token_url,
            Provider::Microsoft => c.oauth.microsoft.token_url = token_url,
            Provider::Notion => c.oauth.notion.token_url = token_url,
        }
    })
    .await
}

#[tokio::test]
async fn fifty_concurrent_callers_make_one_refresh_request() {
    let auth = AuthServer::start().await;
    let tokens = MockServer::start().await;
    // Microsoft rotates the refresh token on every refresh: the newest is kept.
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=refresh-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({
                    "token_type": "Bearer",
                    "access_token": "new-access",
                    "refresh_token": "refresh-2",
                    "expires_in": 3600,
                    "scope": "openid offline_access Calendars.ReadWrite",
                }))
                // Long enough that every caller arrives while it runs.
                .set_delay(Duration::from_millis(500)),
        )
        .mount(&tokens)
        .await;
    let h = harness(&auth, &tokens, Provider::Microsoft).await;
    let ann = create_user(&h.db, "Ann", "+15145550141").await;
    connected_with_expired_token(&h, ann, Provider::Microsoft).await;

    let service = oauth(&h);
    let callers: Vec<_> = (0..50)
        .map(|_| {
            let service = service.clone();
            tokio::spawn(async move { service.access_token(ann, Provider::Microsoft).await })
        })
        .collect();
    for c in callers {
        let token = c.await.unwrap().unwrap();
        assert_eq!(token.secret.expose_secret(), "new-access");
    }
    assert_eq!(tokens.received_requests().await.unwrap().len(), 1);

    // The rotated refresh token is the one stored now.
    let mut tx = UserTx::begin(&h.state.db, ann).await.unwrap();
    let stored = integrations::tokens(&mut tx, "microsoft")
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    let refresh = service
        .vault()
        .open(
            ann.0,
            Provider::Microsoft,
            Purpose::RefreshToken,
            &nudge::oauth::Sealed {
                key_id: stored.key_id as u32,
                nonce: stored.refresh.as_ref().unwrap().nonce.clone(),
                ciphertext: stored.refresh.as_ref().unwrap().ciphertext.clone(),
            },
        )
        .unwrap();
    assert_eq!(refresh.expose_secret(), "refresh-2");

    // A 401 with the new token, seen by ten callers at once, forces
    // exactly one more refresh.
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("refresh_token=refresh-2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({
                    "access_token": "newer-access", "refresh_token": "refresh-3", "expires_in": 3600,
                }))
                .set_delay(Duration::from_millis(300)),
        )
        .mount(&tokens)
        .await;
    let current = service
        .access_token(ann, Provider::Microsoft)
        .await
        .unwrap();
    assert_eq!(current.secret.expose_secret(), "new-access");
    let forced: Vec<_> = (0..10)
        .map(|_| {
            let service = service.clone();
            let version = current.version;
            tokio::spawn(async move {
                service
                    .after_unauthorized(ann, Provider::Microsoft, version)
                    .await
            })
        })
        .collect();
    for f in forced {
        let token = f.await.unwrap().unwrap();
        assert_eq!(token.secret.expose_secret(), "newer-access");
    }
    assert_eq!(tokens.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn invalid_grant_texts_once_marks_needs_reauth_and_reconnect_heals() {
    let auth = AuthServer::start().await;
    let tokens = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": "invalid_grant",
            "error_description": "Token has been expired or revoked.",
        })))
        .mount(&tokens)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "reconnected-access",
            "refresh_token": "reconnected-refresh",
            "expires_in": 3599,
            "scope": "openid email https://www.googleapis.com/auth/calendar.events",
            "token_type": "Bearer",
        })))
        .mount(&tokens)
        .await;
    let h = harness(&auth, &tokens, Provider::Google).await;
    let ann = create_user(&h.db, "Ann", "+15145550151").await;
    connected_with_expired_token(&h, ann, Provider::Google).await;
    let service = oauth(&h);

    let attempts: Vec<_> = (0..100)
        .map(|_| {
            let service = service.clone();
            tokio::spawn(async move { service.access_token(ann, Provider::Google).await })
        })
        .collect();
    for a in attempts {
        assert!(matches!(
            a.await.unwrap(),
            Err(TokenError::NeedsReauth(Provider::Google))
        ));
    }
    // The provider was asked once; later attempts do not call it.
    assert_eq!(tokens.received_requests().await.unwrap().len(), 1);
    assert_eq!(
        h.count("select count(*) from oauth_integrations where status = 'needs_reauth' and last_error = 'invalid_grant'")
            .await,
        1
    );
    assert_eq!(
        h.count("select count(*) from messages where direction = 'outbound'")
            .await,
        1
    );
    assert_eq!(
        h.count("select count(*) from audit_log where action = 'oauth.needs_reauth'")
            .await,
        1
    );
    let sent = h.wait_sent(1).await;
    assert!(
        sent[0].body.starts_with("Google Calendar stopped working with Nudge. Reconnect here: https://nudge.example/connect/"),
        "{}",
        sent[0].body
    );

    // The texted link reconnects, and tokens work again.
    let link = sent[0]
        .body
        .split("https://nudge.example")
        .nth(1)
        .unwrap()
        .to_owned();
    let s = start_flow(&h, &link).await;
    let (status, page) = callback(
        &h,
        &s.callback_path,
        &[("code", &s.code), ("state", &s.state)],
        Some(&s.cookie),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let token = service.access_token(ann, Provider::Google).await.unwrap();
    assert_eq!(token.secret.expose_secret(), "reconnected-access");
    assert_eq!(
        h.count("select count(*) from oauth_integrations where status = 'connected' and reauth_notified_at is null and last_error is null")
            .await,
        1
    );
}

#[tokio::test]
async fn the_scheduler_refreshes_tokens_before_they_expire() {
    let auth = AuthServer::start().await;
    let tokens = MockServer::start().await;
    // Notion: JSON body, HTTP Basic and the Notion-Version header.
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(header("notion-version", "2025-09-03"))
        .and(header(
            "authorization",
            "Basic bm90aW9uLWNsaWVudDpub3Rpb24tY2xpZW50LXNlY3JldA==",
        ))
        .and(body_string_contains("\"grant_type\":\"refresh_token\""))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "scheduled-access",
            "refresh_token": "scheduled-refresh",
            "expires_in": 3600,
            "workspace_name": "Ann's notes",
        })))
        .mount(&tokens)
        .await;
    let h = harness(&auth, &tokens, Provider::Notion).await;
    let ann = create_user(&h.db, "Ann", "+15145550161").await;
    let bob = create_user(&h.db, "Bob", "+15145550162").await;
    connected_with_expired_token(&h, ann, Provider::Notion).await;
    connected_with_expired_token(&h, bob, Provider::Notion).await;
    // Bob's token is fresh: not scheduled.
    sqlx::query(
        "update oauth_tokens set expires_at = now() + interval '2 hours' where user_id = $1",
    )
    .bind(bob.0)
    .execute(&h.db.owner)
    .await
    .unwrap();

    let scheduled = nudge::oauth::refresh::schedule_refreshes(&h.state.db)
        .await
        .unwrap();
    assert_eq!(scheduled, 1);
    // The worker runs the job; wait for its effect (bounded, not timed).
    let mut refreshed = 0;
    for _ in 0..200 {
        refreshed = h
            .count("select count(*) from oauth_tokens where expires_at > now() + interval '30 minutes'")
            .await;
        if refreshed == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(refreshed, 2, "Ann's token was refreshed by the job");
    assert_eq!(tokens.received_requests().await.unwrap().len(), 1);
    let token = oauth(&h).access_token(ann, Provider::Notion).await.unwrap();
    assert_eq!(token.secret.expose_secret(), "scheduled-access");
    assert_eq!(tokens.received_requests().await.unwrap().len(), 1);

    // A dump of the whole database holds ciphertext only: none of the
    // tokens this test handled appears, in any table (audit log included).
    let dump = std::process::Command::new("pg_dump")
        .arg("--data-only")
        .arg(h.db.owner_url())
        .output()
        .expect("pg_dump runs (postgresql-client)");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(
        dump.contains("oauth_tokens"),
        "the dump has the tokens table"
    );
    for canary in [
        "scheduled-access",
        "scheduled-refresh",
        "old-access",
        "refresh-1",
    ] {
        assert!(!dump.contains(canary), "{canary} in pg_dump");
    }
}
