//! OAuth test peers: a real authorization server from npm
//! (`oauth2-mock-server`, run by `tests/node/oauth_server.mjs` on Node 20)
//! and an app configured to use it, with helpers that walk the connect flow
//! the way a browser does.

use std::process::Stdio;

use base64::Engine as _;
use secrecy::SecretString;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::sms::{PUBLIC_URL, SmsHarness};
use nudge::config::Config;
use nudge::db::UserTx;
use nudge::oauth::{OAuthService, Provider};
use nudge::store::UserId;

pub const TOKEN_KEYS_ONE: &str = "1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
pub const LINK_KEYS: &str = "k1:connect-link-key-for-tests-0123456789";

/// `oauth2-mock-server` on loopback; stopped when dropped.
pub struct AuthServer {
    pub base: String,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl AuthServer {
    pub async fn start() -> AuthServer {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node");
        let mut child = Command::new("node")
            .arg("oauth_server.mjs")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (scripts/test installs Node and tests/node)");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).await.unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).expect("the server prints its port");
        let base = format!("http://127.0.0.1:{}", v["port"]);
        AuthServer {
            base,
            child,
            stdin,
            stdout,
        }
    }

    /// Token responses the server has sent so far.
    pub async fn token_requests(&mut self) -> u64 {
        self.stdin.write_all(b"?\n").await.unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).await.unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        v["tokenRequests"].as_u64().unwrap()
    }
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Points `provider` at the authorization server.
pub fn use_auth_server(config: &mut Config, auth: &AuthServer, providers: &[Provider]) {
    config.token_encryption_keys = Some(SecretString::from(TOKEN_KEYS_ONE));
    config.oauth.connect_link_keys = Some(SecretString::from(LINK_KEYS));
    for p in providers {
        let app = match p {
            Provider::Google => &mut config.oauth.google,
            Provider::Microsoft => &mut config.oauth.microsoft,
            Provider::Notion => &mut config.oauth.notion,
        };
        app.client_id = Some(format!("{p}-client"));
        app.client_secret = Some(SecretString::from(format!("{p}-client-secret")));
        app.authorize_url = format!("{}/authorize", auth.base);
        app.token_url = format!("{}/token", auth.base);
        app.revoke_url = Some(format!("{}/revoke", auth.base));
        app.userinfo_url = Some(format!("{}/userinfo", auth.base));
        app.issuer = Some(auth.base.clone());
    }
}

/// A browser that does not follow redirects, so each hop is checked.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn oauth(h: &SmsHarness) -> OAuthService {
    h.state.oauth.clone().expect("OAuth keys are configured")
}

/// A texted link's path (`/connect/<token>`) for this person.
pub async fn link_path(h: &SmsHarness, user: UserId, provider: Provider) -> String {
    let mut tx = UserTx::begin(&h.state.db, user).await.unwrap();
    let url = oauth(h).connect_link(&mut tx, provider).await.unwrap();
    tx.commit().await.unwrap();
    url.strip_prefix(PUBLIC_URL).unwrap().to_owned()
}

/// What the provider sends the browser back with.
#[derive(Debug, Clone)]
pub struct Started {
    pub cookie: String,
    pub state: String,
    pub code: String,
    pub callback_path: String,
}

/// Presses "Connect" on a link and lets the authorization server approve.
pub async fn start_flow(h: &SmsHarness, link: &str) -> Started {
    let b = browser();
    let r = b.post(format!("{}{link}", h.base)).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let r = b.get(&location).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let back = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let q = |k: &str| {
        back.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    Started {
        cookie,
        state: q("state"),
        code: q("code"),
        callback_path: back.path().to_owned(),
    }
}

/// The provider's redirect back, replayed with `query` and `cookie`.
pub async fn callback(
    h: &SmsHarness,
    path: &str,
    query: &[(&str, &str)],
    cookie: Option<&str>,
) -> (u16, String) {
    let mut r = browser().get(format!("{}{path}", h.base)).query(query);
    if let Some(c) = cookie {
        r = r.header("cookie", c);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A provider's revoke endpoint on wiremock (a form with `token`, as
/// Google's is called) that expects `token` exactly once; its URL.
pub async fn revoke_endpoint(token: &str) -> (wiremock::MockServer, String) {
    use wiremock::matchers::{body_string_contains, method, path};
    let server = wiremock::MockServer::start().await;
    let form: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    wiremock::Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(body_string_contains(format!("token={form}")))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let url = format!("{}/revoke", server.uri());
    (server, url)
}

/// `user` connected to Google with these tokens, sealed by `oauth`'s
/// vault, as a callback would leave them.
pub async fn save_google_tokens(
    app: &sqlx::PgPool,
    oauth: &OAuthService,
    user: UserId,
    access: &str,
    refresh: &str,
) {
    use nudge::oauth::Purpose;
    use nudge::store::integrations::{self, SealedBytes, SealedTokens};
    let seal = |purpose, v: &str| {
        let s = oauth
            .vault()
            .seal(
                user.0,
                Provider::Google,
                purpose,
                &SecretString::from(v.to_owned()),
            )
            .unwrap();
        SealedBytes {
            nonce: s.nonce,
            ciphertext: s.ciphertext,
        }
    };
    let mut tx = UserTx::begin(app, user).await.unwrap();
    integrations::save_connected(
        &mut tx,
        "google",
        &[],
        None,
        &SealedTokens {
            key_id: 1,
            access: seal(Purpose::AccessToken, access),
            refresh: Some(seal(Purpose::RefreshToken, refresh)),
            expires_at: None,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}
