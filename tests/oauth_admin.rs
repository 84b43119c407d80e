//! Operators and OAuth: `nudge admin keys rotate` killed with SIGKILL
//! mid-way and rerun leaves every token readable with the new key (none
//! lost, none wrapped twice); `nudge admin integrations list|disconnect`
//! shows no token and revokes at the provider.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use nudge::oauth::{Provider, Purpose, Sealed, Vault};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::oauth::{LINK_KEYS, TOKEN_KEYS_ONE};
use common::stack::sigkill;
use common::{TestDb, create_user};

/// user, provider, key id, access nonce and ciphertext, refresh nonce and ciphertext.
type RotatedRow = (Uuid, String, i32, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>);

const KEY_TWO: &str = "2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

fn nudge_admin(db: &TestDb, keys: &str, extra_env: &[(&str, String)], args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nudge"));
    cmd.arg("admin")
        .args(args)
        .current_dir(std::env::temp_dir())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NUDGE_ENV", "development")
        .env("DATABASE_ADMIN_URL", db.owner_url())
        .env("DATABASE_URL", db.app_url())
        .env("TOKEN_ENCRYPTION_KEYS", keys)
        .env("CONNECT_LINK_KEYS", LINK_KEYS);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

/// `users` people with a token row per provider, sealed with key 1; the
/// plaintext of each is `access-<user>-<provider>` / `refresh-…`.
async fn seed(db: &TestDb, users: usize) -> Vec<Uuid> {
    let vault = Vault::from_config(&SecretString::from(TOKEN_KEYS_ONE)).unwrap();
    let ids: Vec<Uuid> = (0..users).map(|_| Uuid::new_v4()).collect();
    sqlx::query("insert into users (id, display_name) select unnest($1::uuid[]), 'p'")
        .bind(&ids)
        .execute(&db.owner)
        .await
        .unwrap();
    for p in Provider::ALL {
        sqlx::query(
            "insert into oauth_integrations (user_id, provider) select unnest($1::uuid[]), $2",
        )
        .bind(&ids)
        .bind(p.as_str())
        .execute(&db.owner)
        .await
        .unwrap();
        let (mut an, mut ac, mut rn, mut rc) = (vec![], vec![], vec![], vec![]);
        for id in &ids {
            let a = vault
                .seal(
                    *id,
                    p,
                    Purpose::AccessToken,
                    &SecretString::from(format!("access-{id}-{p}")),
                )
                .unwrap();
            let r = vault
                .seal(
                    *id,
                    p,
                    Purpose::RefreshToken,
                    &SecretString::from(format!("refresh-{id}-{p}")),
                )
                .unwrap();
            an.push(a.nonce);
            ac.push(a.ciphertext);
            rn.push(r.nonce);
            rc.push(r.ciphertext);
        }
        sqlx::query(
            "insert into oauth_tokens (user_id, integration_id, provider, key_id, access_token_nonce, \
                 access_token_ciphertext, refresh_token_nonce, refresh_token_ciphertext) \
             select i.user_id, i.id, $2, 1, t.an, t.ac, t.rn, t.rc \
             from unnest($1::uuid[], $3::bytea[], $4::bytea[], $5::bytea[], $6::bytea[]) \
                  as t(uid, an, ac, rn, rc) \
             join oauth_integrations i on i.user_id = t.uid and i.provider = $2",
        )
        .bind(&ids)
        .bind(p.as_str())
        .bind(&an)
        .bind(&ac)
        .bind(&rn)
        .bind(&rc)
        .execute(&db.owner)
        .await
        .unwrap();
    }
    ids
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&db.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn rotation_killed_mid_way_and_rerun_loses_nothing() {
    let db = TestDb::new().await;
    let users = seed(&db, 1000).await;
    let total = count(&db, "select count(*) from oauth_tokens").await;
    assert_eq!(total, 3000);
    let both = format!("{TOKEN_KEYS_ONE},{KEY_TWO}");

    let mut child = nudge_admin(&db, &both, &[], &["keys", "rotate", "--batch", "5"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some batches have committed, long before it is done.
    let mut rotated = 0;
    for _ in 0..2000 {
        rotated = count(&db, "select count(*) from oauth_tokens where key_id = 2").await;
        if rotated >= 50 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    sigkill(&mut child);
    let after_kill = count(&db, "select count(*) from oauth_tokens where key_id = 2").await;
    assert!(rotated >= 50, "rotation made no progress");
    assert!(after_kill < total, "killed after it finished: {after_kill}");
    // Every row is whole: on one key or the other, never half.
    assert_eq!(count(&db, "select count(*) from oauth_tokens").await, total);

    let rerun = run(&mut nudge_admin(
        &db,
        &both,
        &[],
        &["keys", "rotate", "--json"],
    ));
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&rerun.stdout).unwrap();
    assert_eq!(report["tokens"].as_i64().unwrap(), total - after_kill);
    assert_eq!(report["unreadable"], 0);

    // With key 1 retired, every token still opens to what it was.
    let new_only = Vault::from_config(&SecretString::from(KEY_TWO)).unwrap();
    let rows: Vec<RotatedRow> = sqlx::query_as(
        "select user_id, provider, key_id, access_token_nonce, access_token_ciphertext, \
         refresh_token_nonce, refresh_token_ciphertext from oauth_tokens",
    )
    .fetch_all(&db.owner)
    .await
    .unwrap();
    assert_eq!(rows.len() as i64, total);
    for (user, provider, key_id, an, ac, rn, rc) in rows {
        let p: Provider = provider.parse().unwrap();
        assert_eq!(key_id, 2);
        let a = new_only
            .open(
                user,
                p,
                Purpose::AccessToken,
                &Sealed {
                    key_id: 2,
                    nonce: an,
                    ciphertext: ac,
                },
            )
            .unwrap();
        assert_eq!(a.expose_secret(), format!("access-{user}-{p}"));
        let r = new_only
            .open(
                user,
                p,
                Purpose::RefreshToken,
                &Sealed {
                    key_id: 2,
                    nonce: rn,
                    ciphertext: rc,
                },
            )
            .unwrap();
        assert_eq!(r.expose_secret(), format!("refresh-{user}-{p}"));
    }
    // A third run has nothing left to do.
    let again = run(&mut nudge_admin(
        &db,
        &both,
        &[],
        &["keys", "rotate", "--json"],
    ));
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(report["tokens"], 0);
    assert_eq!(users.len(), 1000);
    assert_eq!(
        count(
            &db,
            "select count(*) from audit_log where action = 'keys.rotate'"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn list_shows_no_token_and_disconnect_revokes_then_deletes() {
    let db = TestDb::new().await;
    let ann = create_user(&db, "Ann", "+15145550171").await;
    let vault = Vault::from_config(&SecretString::from(TOKEN_KEYS_ONE)).unwrap();
    let seal = |purpose, v: &str| {
        vault
            .seal(
                ann.0,
                Provider::Google,
                purpose,
                &SecretString::from(v.to_owned()),
            )
            .unwrap()
    };
    let a = seal(Purpose::AccessToken, "ya29.CANARY-access");
    let r = seal(Purpose::RefreshToken, "1//CANARY-refresh");
    let mut tx = nudge::db::UserTx::begin(&db.owner, ann).await.unwrap();
    nudge::store::integrations::save_connected(
        &mut tx,
        "google",
        &["https://www.googleapis.com/auth/calendar.events".into()],
        None,
        &nudge::store::integrations::SealedTokens {
            key_id: 1,
            access: nudge::store::integrations::SealedBytes {
                nonce: a.nonce,
                ciphertext: a.ciphertext,
            },
            refresh: Some(nudge::store::integrations::SealedBytes {
                nonce: r.nonce,
                ciphertext: r.ciphertext,
            }),
            expires_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let google = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(body_string_contains("token=1%2F%2FCANARY-refresh"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&google)
        .await;
    let env = [
        ("GOOGLE_CLIENT_ID", "google-client".to_string()),
        ("GOOGLE_CLIENT_SECRET", "google-secret".to_string()),
        ("GOOGLE_REVOKE_URL", format!("{}/revoke", google.uri())),
    ];

    for args in [
        &["integrations", "list", "+15145550171"][..],
        &["integrations", "list"][..],
    ] {
        let out = run(&mut nudge_admin(&db, TOKEN_KEYS_ONE, &env, args));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("google") && text.contains("connected"),
            "{text}"
        );
        assert!(text.contains("calendar.events"), "{text}");
        assert!(!text.contains("CANARY"), "{text}");
    }
    let out = run(&mut nudge_admin(
        &db,
        TOKEN_KEYS_ONE,
        &env,
        &["integrations", "disconnect", "+15145550171", "google"],
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Revoked"));
    assert_eq!(count(&db, "select count(*) from oauth_tokens").await, 0);
    assert_eq!(
        count(
            &db,
            "select count(*) from oauth_integrations where status = 'disconnected'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db,
            "select count(*) from audit_log where action = 'oauth.disconnect' and actor = 'admin'"
        )
        .await,
        1
    );
    // Twice: a clear refusal (exit 2), not a crash.
    let out = run(&mut nudge_admin(
        &db,
        TOKEN_KEYS_ONE,
        &env,
        &["integrations", "disconnect", "+15145550171", "google"],
    ));
    assert_eq!(out.status.code(), Some(2));
    let out = run(&mut nudge_admin(
        &db,
        TOKEN_KEYS_ONE,
        &env,
        &["integrations", "disconnect", "+15145550171", "myspace"],
    ));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}
