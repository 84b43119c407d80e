//! The whole connect flow in a real browser: Debian's chromium driven by
//! playwright-core (tests/node/connect_browser.mjs) opens the texted link,
//! presses the one button, goes through the real authorization server
//! (oauth2-mock-server) and lands on the success page; the confirmation
//! text reaches the fake Twilio and the tokens are stored sealed.

mod common;

use nudge::db::UserTx;
use nudge::oauth::Provider;

use common::create_user;
use common::oauth::{AuthServer, oauth, use_auth_server};
use common::sms::SmsHarness;

#[tokio::test]
async fn a_person_connects_google_from_the_texted_link_in_chromium() {
    let auth = AuthServer::start().await;
    // The browser must reach the app at its public URL (the redirect URI),
    // so the app listens on a port known before it starts.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let h = SmsHarness::start(|c| {
        use_auth_server(c, &auth, &[Provider::Google]);
        c.bind_addr = format!("127.0.0.1:{port}").parse().unwrap();
        c.public_base_url = format!("http://127.0.0.1:{port}");
    })
    .await;
    let ann = create_user(&h.db, "Ann", "+15145550191").await;
    let mut tx = UserTx::begin(&h.state.db, ann).await.unwrap();
    let link = oauth(&h)
        .connect_link(&mut tx, Provider::Google)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(link.starts_with(&format!("http://127.0.0.1:{port}/connect/")));

    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("connected.png");
    let out = tokio::process::Command::new("node")
        .arg("connect_browser.mjs")
        .arg(&link)
        .arg(&shot)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/node"))
        .output()
        .await
        .expect("node runs (scripts/test installs Node, playwright-core and chromium)");
    assert!(
        out.status.success(),
        "browser run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["consent"], "Connect Google Calendar?");
    assert_eq!(seen["result"], "Google Calendar is connected");
    assert!(
        seen["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("http://127.0.0.1:{port}/oauth/google/callback?")),
        "{seen}"
    );
    assert!(std::fs::metadata(&shot).unwrap().len() > 1000);

    let sent = h.wait_sent(1).await;
    assert_eq!(sent[0].to, "+15145550191");
    assert_eq!(
        sent[0].body,
        "Google Calendar connected — try: what's on tomorrow?"
    );
    assert_eq!(
        h.count("select count(*) from oauth_tokens where provider = 'google' and refresh_token_ciphertext is not null")
            .await,
        1
    );
}
