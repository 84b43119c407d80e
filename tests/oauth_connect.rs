//! The connect flow against a real OAuth server (`oauth2-mock-server` from
//! npm, which checks the PKCE verifier against the challenge): the texted
//! link, the consent page, the provider round trip, sealed tokens, the
//! confirmation SMS; and ≥ 500 generated abuse cases that store nothing.

mod common;

use chrono::{Duration, Utc};
use nudge::oauth::links::ConnectLinks;
use nudge::oauth::{Provider, Purpose, Sealed};
use secrecy::{ExposeSecret, SecretString};

use common::create_user;
use common::oauth::{
    AuthServer, LINK_KEYS, Started, browser, callback, link_path, oauth, start_flow,
    use_auth_server,
};
use common::sms::SmsHarness;

/// key id, access nonce and ciphertext, refresh nonce and ciphertext.
type TokenRow = (i32, Vec<u8>, Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);

async fn harness(auth: &AuthServer) -> SmsHarness {
    SmsHarness::start(|c| {
        use_auth_server(c, auth, &[Provider::Google, Provider::Notion]);
        // Hundreds of flows from one loopback address in seconds: the
        // per-IP edge limit (100/s) is lifted here so the cases reach the
        // code under test; the limit has its own tests.
        c.edge_requests_per_second = 100_000;
        c.edge_burst = 100_000;
    })
    .await
}

#[tokio::test]
async fn texted_link_to_sealed_tokens_and_a_confirmation_text() {
    let mut auth = AuthServer::start().await;
    let h = harness(&auth).await;
    let ann = create_user(&h.db, "Ann", "+15145550123").await;
    let link = link_path(&h, ann, Provider::Google).await;

    // The page says what will be shared, and opening it spends nothing.
    for _ in 0..2 {
        let r = browser()
            .get(format!("{}{link}", h.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let page = r.text().await.unwrap();
        assert!(page.contains("Connect Google Calendar?"), "{page}");
        assert!(page.contains("method=\"post\""), "{page}");
        assert!(!page.contains("<script"), "{page}");
    }

    let s = start_flow(&h, &link).await;
    assert_eq!(s.callback_path, "/oauth/google/callback");
    let (status, page) = callback(
        &h,
        &s.callback_path,
        &[("code", &s.code), ("state", &s.state)],
        Some(&s.cookie),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Google Calendar is connected"), "{page}");
    assert_eq!(auth.token_requests().await, 1);

    // Stored sealed: the row opens only for Ann and Google.
    let row: TokenRow = sqlx::query_as(
        "select key_id, access_token_nonce, access_token_ciphertext, refresh_token_nonce, \
         refresh_token_ciphertext from oauth_tokens where user_id = $1 and provider = 'google'",
    )
    .bind(ann.0)
    .fetch_one(&h.db.owner)
    .await
    .unwrap();
    let vault = oauth(&h).vault().clone();
    let access = Sealed {
        key_id: row.0 as u32,
        nonce: row.1,
        ciphertext: row.2,
    };
    let token = vault
        .open(ann.0, Provider::Google, Purpose::AccessToken, &access)
        .unwrap();
    // oauth2-mock-server issues JWT access tokens; none of it is stored in clear.
    assert!(token.expose_secret().starts_with("eyJ"));
    assert!(!access.ciphertext.windows(3).any(|w| w == b"eyJ"));
    assert!(
        vault
            .open(ann.0, Provider::Notion, Purpose::AccessToken, &access)
            .is_err()
    );
    let refresh = Sealed {
        key_id: row.0 as u32,
        nonce: row.3.unwrap(),
        ciphertext: row.4.unwrap(),
    };
    assert!(
        vault
            .open(ann.0, Provider::Google, Purpose::RefreshToken, &refresh)
            .is_ok()
    );
    assert_eq!(
        h.count("select count(*) from oauth_integrations where status = 'connected'")
            .await,
        1
    );
    assert_eq!(
        h.count("select count(*) from audit_log where action = 'oauth.connect' and actor = 'user'")
            .await,
        1
    );
    let sent = h.wait_sent(1).await;
    assert_eq!(sent[0].to, "+15145550123");
    assert_eq!(
        sent[0].body,
        "Google Calendar connected — try: what's on tomorrow?"
    );

    // The same redirect again (a reload, or a thief): refused, nothing new.
    let (status, page) = callback(
        &h,
        &s.callback_path,
        &[("code", &s.code), ("state", &s.state)],
        Some(&s.cookie),
    )
    .await;
    assert_eq!(status, 400);
    assert!(page.contains("could not be finished"), "{page}");
    assert_eq!(auth.token_requests().await, 1);
}

/// One way to misuse a link or a state.
#[derive(Debug, Clone, Copy)]
enum Abuse {
    ReplayedLink,
    ExpiredLink,
    TamperedLink,
    ForeignKeyLink,
    ReplayedState,
    ExpiredState,
    OtherPersonsCookie,
    OtherProvidersCallback,
    TamperedState,
    MissingVerifier,
    MissingCookie,
    MissingCode,
    WrongIssuer,
    ForgedCookieUser,
}

const ALL: [Abuse; 14] = [
    Abuse::ReplayedLink,
    Abuse::ExpiredLink,
    Abuse::TamperedLink,
    Abuse::ForeignKeyLink,
    Abuse::ReplayedState,
    Abuse::ExpiredState,
    Abuse::OtherPersonsCookie,
    Abuse::OtherProvidersCallback,
    Abuse::TamperedState,
    Abuse::MissingVerifier,
    Abuse::MissingCookie,
    Abuse::MissingCode,
    Abuse::WrongIssuer,
    Abuse::ForgedCookieUser,
];

fn tamper(s: &str, i: usize) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let at = i % chars.len();
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[tokio::test]
async fn five_hundred_abuse_cases_store_no_token() {
    let auth = AuthServer::start().await;
    let h = harness(&auth).await;
    let ann = create_user(&h.db, "Ann", "+15145550131").await;
    let bob = create_user(&h.db, "Bob", "+15145550132").await;
    let links = ConnectLinks::from_config(&SecretString::from(LINK_KEYS)).unwrap();
    let stranger = ConnectLinks::from_config(&SecretString::from(
        "k1:a-key-the-server-does-not-hold-0123456",
    ))
    .unwrap();
    let b = browser();

    let cases = 504;
    let mut refused = 0;
    for i in 0..cases {
        let abuse = ALL[i % ALL.len()];
        let provider = [Provider::Google, Provider::Notion][i / ALL.len() % 2];
        let (status, page) = match abuse {
            Abuse::ReplayedLink
            | Abuse::ExpiredLink
            | Abuse::TamperedLink
            | Abuse::ForeignKeyLink => {
                let path = match abuse {
                    Abuse::ReplayedLink => {
                        let link = link_path(&h, ann, provider).await;
                        let _ = start_flow(&h, &link).await;
                        link
                    }
                    Abuse::ExpiredLink => {
                        let (t, _) =
                            links.sign(ann.0, provider, Utc::now() - Duration::minutes(16));
                        format!("/connect/{t}")
                    }
                    Abuse::TamperedLink => tamper(&link_path(&h, ann, provider).await, 20 + i),
                    _ => {
                        let (t, _) = stranger.sign(ann.0, provider, Utc::now());
                        format!("/connect/{t}")
                    }
                };
                // Both the page and the button refuse.
                let r = b.get(format!("{}{path}", h.base)).send().await.unwrap();
                assert!(
                    r.status().is_client_error(),
                    "{abuse:?}: page {}",
                    r.status()
                );
                let r = b.post(format!("{}{path}", h.base)).send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
            _ => {
                let link = link_path(&h, ann, provider).await;
                let s: Started = start_flow(&h, &link).await;
                let mut path = s.callback_path.clone();
                let mut state = s.state.clone();
                let mut code = Some(s.code.clone());
                let mut cookie = Some(s.cookie.clone());
                let mut extra: Vec<(&str, String)> = Vec::new();
                match abuse {
                    Abuse::ReplayedState => {
                        // The first use is a refusal at the provider; the
                        // replay with a code must not succeed either.
                        let (st, _) = callback(
                            &h,
                            &path,
                            &[("error", "access_denied"), ("state", &state)],
                            cookie.as_deref(),
                        )
                        .await;
                        assert_eq!(st, 403);
                    }
                    Abuse::ExpiredState => {
                        sqlx::query(
                            "update oauth_states set expires_at = now() - interval '1 second'",
                        )
                        .execute(&h.db.owner)
                        .await
                        .unwrap();
                    }
                    Abuse::OtherPersonsCookie => {
                        let other = link_path(&h, bob, provider).await;
                        cookie = Some(start_flow(&h, &other).await.cookie);
                    }
                    Abuse::OtherProvidersCallback => {
                        let other = if provider == Provider::Google {
                            "notion"
                        } else {
                            "google"
                        };
                        path = format!("/oauth/{other}/callback");
                    }
                    Abuse::TamperedState => state = tamper(&state, i),
                    Abuse::MissingVerifier => {
                        sqlx::query(
                            "update oauth_states set pkce_verifier_ciphertext = '\\x00' where used_at is null",
                        )
                        .execute(&h.db.owner)
                        .await
                        .unwrap();
                    }
                    Abuse::MissingCookie => cookie = None,
                    Abuse::MissingCode => code = None,
                    Abuse::WrongIssuer => extra.push(("iss", "https://evil.example".into())),
                    Abuse::ForgedCookieUser => {
                        let (_, secret) = s.cookie.split_once('.').unwrap();
                        cookie = Some(format!("nudge_oauth={}.{secret}", bob.0.simple()));
                    }
                    _ => unreachable!(),
                }
                let mut query: Vec<(&str, &str)> = vec![("state", &state)];
                if let Some(c) = &code {
                    query.push(("code", c));
                }
                for (k, v) in &extra {
                    query.push((k, v));
                }
                callback(&h, &path, &query, cookie.as_deref()).await
            }
        };
        assert!(
            (400..500).contains(&status),
            "case {i} {abuse:?} {provider}: {status} {page}"
        );
        assert!(
            page.contains("<h1>"),
            "case {i} {abuse:?}: not a page: {page}"
        );
        refused += 1;
    }
    assert_eq!(refused, cases);
    assert!(cases >= 500);
    assert_eq!(h.count("select count(*) from oauth_tokens").await, 0);
    assert_eq!(h.count("select count(*) from oauth_integrations").await, 0);
    assert_eq!(
        h.count("select count(*) from messages where direction = 'outbound'")
            .await,
        0
    );
}
