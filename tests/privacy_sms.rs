//! A person's privacy, by text, end to end with the fake Twilio: "export my
//! data" (asked first, then a one-time link to their own number that
//! downloads the export), "delete my account" (asked first, naming what is
//! lost; scheduled after the grace period; "cancel deletion" or START keeps
//! the account), and the erase at the end: rows, jobs, Redis keys, grants
//! revoked at the provider, and one audit entry that names nobody.

mod common;

use std::time::Duration;

use common::oauth::{LINK_KEYS, TOKEN_KEYS_ONE, revoke_endpoint, save_google_tokens};
use common::person_rows::mentions;
use common::sms::{PUBLIC_URL, SmsHarness};
use nudge::oauth::Provider;
use redis::AsyncCommands;
use secrecy::SecretString;

const ANA: &str = "+15145550131";
const BOB: &str = "+15145550132";
const CANARY: &str = "1//CANARY-refresh-token-of-ana";

/// Texts `body` from `from` and waits for the `n`-th message sent in all;
/// returns its body.
async fn say(h: &SmsHarness, from: &str, body: &str, n: usize) -> String {
    let sid = format!("SM{}", uuid::Uuid::new_v4().simple());
    assert_eq!(h.text(from, body, &sid).await.status(), 200);
    let sent = h.wait_sent(n).await;
    assert_eq!(sent[n - 1].to, from, "{sent:?}");
    sent[n - 1].body.clone()
}

/// GET or POST `path` on the app.
async fn open(h: &SmsHarness, post: bool, path: &str) -> reqwest::Response {
    let url = format!("{}{path}", h.base);
    let request = if post {
        h.http.post(url)
    } else {
        h.http.get(url)
    };
    request.send().await.unwrap()
}

fn link_path(body: &str, route: &str) -> String {
    let start = body
        .find(&format!("{PUBLIC_URL}{route}"))
        .unwrap_or_else(|| panic!("no {route} link in {body:?}"));
    let link: String = body[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    link.trim_start_matches(PUBLIC_URL).to_string()
}

async fn audit_count(h: &SmsHarness, action: &str, outcome: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_log where action = $1 and outcome = $2")
        .bind(action)
        .bind(outcome)
        .fetch_one(&h.db.owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn export_by_text_asks_first_then_sends_a_one_time_link_that_downloads_the_export() {
    let h = SmsHarness::start(|c| {
        c.oauth.connect_link_keys = Some(SecretString::from(LINK_KEYS));
    })
    .await;
    let ana = common::create_user(&h.db, "Ana", ANA).await;
    let bob = common::create_user(&h.db, "Bob", BOB).await;
    say(&h, ANA, "add oat milk to my list", 1).await;
    say(&h, BOB, "add bob's pickles to my list", 2).await;

    let asked = say(&h, ANA, "export my data", 3).await;
    assert!(
        asked.contains("download all your data") && asked.contains("YES"),
        "{asked}"
    );
    assert_eq!(
        h.count("select count(*) from oauth_connect_links where purpose = 'export'")
            .await,
        0,
        "no link before the yes"
    );
    let sent = say(&h, ANA, "yes", 4).await;
    let page = link_path(&sent, "/export/");
    assert_eq!(
        h.count(
            "select count(*) from oauth_connect_links where purpose = 'export' and provider is null"
        )
        .await,
        1
    );

    // The page spends nothing (link previews open it too).
    for _ in 0..2 {
        let r = open(&h, false, &page).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert!(r.text().await.unwrap().contains("Download your data"));
    }
    let r = open(&h, true, &page).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let document: serde_json::Value = r.json().await.unwrap();
    assert_eq!(document["schema"], "nudge.person-export");
    assert_eq!(document["user_id"], ana.to_string());
    for table in nudge::store::person_data::PERSON_TABLES {
        assert!(
            document["tables"][table].is_array(),
            "{table} missing from the export"
        );
    }
    let text = document.to_string();
    assert!(text.contains("oat milk"), "Ana's list is in her export");
    assert!(!text.contains("pickles") && !text.contains(&bob.to_string()));

    // Single use: the second download and the page are refused.
    let again = open(&h, true, &page).await;
    assert_eq!(again.status(), 410);
    let r = open(&h, false, &page).await;
    assert_eq!(r.status(), 410);
    // A connect link is not an export link, and garbage is refused.
    let oauth_links =
        nudge::oauth::links::ConnectLinks::from_config(&SecretString::from(LINK_KEYS)).unwrap();
    let (connect, _) = oauth_links.sign(ana.0, Provider::Google, chrono::Utc::now());
    for token in [connect.as_str(), "not-a-token"] {
        let r = open(&h, true, &format!("/export/{token}")).await;
        assert_eq!(r.status(), 400);
    }
    assert_eq!(audit_count(&h, "user.export_link", "ok").await, 1);
    assert_eq!(audit_count(&h, "user.export", "ok").await, 1);
    assert_eq!(audit_count(&h, "user.export", "refused").await, 1);
}

#[tokio::test]
async fn french_export_is_understood_and_without_link_keys_export_is_not_offered() {
    let h = SmsHarness::start(|_| {}).await;
    common::create_user(&h.db, "Ana", ANA).await;
    let asked = say(&h, ANA, "exporter mes données", 1).await;
    assert!(asked.contains("OUI") || asked.contains("YES"), "{asked}");
    let answer = say(&h, ANA, "oui", 2).await;
    assert!(
        answer.contains("n'est pas activé") || answer.contains("isn't set up"),
        "{answer}"
    );
    assert_eq!(h.count("select count(*) from oauth_connect_links").await, 0);
}

#[tokio::test]
async fn delete_asks_naming_what_is_lost_waits_out_the_grace_and_cancel_or_start_keep_the_account()
{
    let h = SmsHarness::start(|_| {}).await;
    let ana = common::create_user(&h.db, "Ana", ANA).await;
    say(&h, ANA, "add oat milk to my list", 1).await;

    let asked = say(&h, ANA, "delete my account", 2).await;
    for lost in [
        "reminders",
        "lists",
        "memories",
        "messages",
        "in 7 days",
        "cancel deletion",
    ] {
        assert!(asked.contains(lost), "{lost:?} not in {asked}");
    }
    assert_eq!(h.count("select count(*) from account_deletions").await, 0);
    let done = say(&h, ANA, "yes", 3).await;
    assert!(
        done.contains("will be deleted") && done.contains("cancel deletion"),
        "{done}"
    );
    let (due, job_run_at): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as(
            "select d.due_at, j.run_at from account_deletions d, apalis.jobs j \
             where d.user_id = $1 and j.job_type = 'erase_account' \
               and convert_from(j.job, 'UTF8')::jsonb ->> 'deletion_id' = d.id::text",
        )
        .bind(ana.0)
        .fetch_one(&h.db.owner)
        .await
        .unwrap();
    let grace = due - chrono::Utc::now();
    assert!(
        grace > chrono::Duration::days(7) - chrono::Duration::minutes(5),
        "{grace}"
    );
    assert!(job_run_at >= due);
    // The job's payload names the deletion, not the person.
    assert_eq!(
        h.count(&format!(
            "select count(*) from apalis.jobs where job_type = 'erase_account' \
             and strpos(convert_from(job, 'UTF8'), '{ana}') > 0"
        ))
        .await,
        0
    );

    let kept = say(&h, ANA, "cancel deletion", 4).await;
    assert!(kept.contains("Deletion cancelled"), "{kept}");
    assert_eq!(h.count("select count(*) from account_deletions").await, 0);

    // In French, and by START.
    // Whole, in French (Ana now reads French): the question must not be
    // cut by the segment limit.
    sqlx::query("update users set locale = 'fr' where id = $1")
        .bind(ana.0)
        .execute(&h.db.owner)
        .await
        .unwrap();
    let demande = say(&h, ANA, "supprimer mon compte", 5).await;
    for said in ["souvenirs", "dans 7 jours", "annuler la suppression", "OUI"] {
        assert!(demande.contains(said), "{said:?} not in {demande}");
    }
    say(&h, ANA, "oui", 6).await;
    assert_eq!(h.count("select count(*) from account_deletions").await, 1);
    let garde = say(&h, ANA, "annuler la suppression", 7).await;
    assert!(garde.contains("Suppression annulée"), "{garde}");
    assert_eq!(h.count("select count(*) from account_deletions").await, 0);
    sqlx::query("update users set locale = 'en' where id = $1")
        .bind(ana.0)
        .execute(&h.db.owner)
        .await
        .unwrap();
    say(&h, ANA, "delete my account", 8).await;
    say(&h, ANA, "yes", 9).await;
    let started = say(&h, ANA, "START", 10).await;
    assert!(started.contains("deletion is cancelled"), "{started}");
    assert_eq!(h.count("select count(*) from account_deletions").await, 0);

    // The job of a cancelled deletion, run anyway, erases nothing.
    let forgetter = nudge::privacy::Forgetter {
        oauth: None,
        redis: None,
        redis_key_prefix: String::new(),
    };
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
        "select (convert_from(job, 'UTF8')::jsonb ->> 'deletion_id')::uuid from apalis.jobs \
         where job_type = 'erase_account'",
    )
    .fetch_all(&h.db.owner)
    .await
    .unwrap();
    assert_eq!(ids.len(), 3);
    for id in ids {
        let outcome = nudge::privacy::run_due_deletion(&h.db.app, &forgetter, id)
            .await
            .unwrap();
        assert_eq!(outcome, nudge::privacy::DeletionOutcome::NotDue);
    }
    assert_eq!(
        h.count("select count(*) from list_items").await,
        1,
        "Ana's data is all there"
    );
    assert_eq!(audit_count(&h, "user.delete_requested", "ok").await, 3);
    assert_eq!(audit_count(&h, "user.delete_cancelled", "ok").await, 3);
}

async fn redis_keys(prefix: &str, needle: &str) -> Vec<String> {
    let client = redis::Client::open(common::redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    conn.keys(format!("{prefix}*{needle}*")).await.unwrap()
}

#[tokio::test]
async fn with_no_grace_the_goodbye_leaves_then_rows_jobs_redis_keys_and_grants_are_gone() {
    let (google, revoke) = revoke_endpoint(CANARY).await;
    let h = SmsHarness::start(|c| {
        c.account_deletion_grace = Duration::ZERO;
        c.token_encryption_keys = Some(SecretString::from(TOKEN_KEYS_ONE));
        c.oauth.connect_link_keys = Some(SecretString::from(LINK_KEYS));
        c.oauth.google.client_id = Some("google-client".into());
        c.oauth.google.client_secret = Some(SecretString::from("google-secret"));
        c.oauth.google.revoke_url = Some(revoke);
    })
    .await;
    let ana = common::create_user(&h.db, "Ana", ANA).await;
    let bob = common::create_user(&h.db, "Bob", BOB).await;
    let oauth = h.state.oauth.clone().unwrap();
    save_google_tokens(&h.db.app, &oauth, ana, "ya29.CANARY-access", CANARY).await;
    say(&h, ANA, "remind me to call the dentist tomorrow at 9am", 1).await;
    say(&h, BOB, "add pickles to my list", 2).await;
    // Keys in the shapes the inbound limits write; theirs expire within
    // seconds, these do not, so what the erase removes is what it found.
    let prefix = h.state.config.redis_key_prefix.clone();
    let client = redis::Client::open(common::redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    for key in [
        format!("{prefix}limit:once:slow:user:{ana}"),
        format!("{prefix}limit:gcra:in:phone:{ANA}"),
        format!("{prefix}limit:once:slow:user:{bob}"),
    ] {
        let _: () = conn.set(key, 1).await.unwrap();
    }
    let bob_key = format!("{prefix}limit:once:slow:user:{bob}");
    let bob_before = mentions(&h.db, &bob.to_string()).await;

    let asked = say(&h, ANA, "delete my account", 3).await;
    assert!(asked.contains("gone for good"), "{asked}");
    let goodbye = say(&h, ANA, "yes", 4).await;
    assert!(goodbye.contains("being deleted now"), "{goodbye}");
    // The erase job runs once the goodbye has left.
    let mut erased = false;
    for _ in 0..300 {
        if h.count(&format!("select count(*) from users where id = '{ana}'"))
            .await
            == 0
        {
            erased = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(erased, "Ana was not erased");

    assert_eq!(
        mentions(&h.db, &ana.to_string()).await,
        Vec::<String>::new()
    );
    assert_eq!(mentions(&h.db, ANA).await, Vec::<String>::new());
    assert_eq!(mentions(&h.db, &bob.to_string()).await, bob_before);
    assert_eq!(
        redis_keys(&prefix, &ana.to_string()).await,
        Vec::<String>::new()
    );
    assert_eq!(redis_keys(&prefix, ANA).await, Vec::<String>::new());
    let bob_kept: bool = conn.exists(&bob_key).await.unwrap();
    assert!(bob_kept, "Bob's key went too");
    let _: () = conn.del(&bob_key).await.unwrap();
    google.verify().await;
    let details: serde_json::Value = sqlx::query_scalar(
        "select details from audit_log where action = 'user.delete' and user_id is null and actor = 'user'",
    )
    .fetch_one(&h.db.owner)
    .await
    .unwrap();
    assert_eq!(details["via"], "sms");
    assert_eq!(details["revoked"]["google"], "revoked");
    assert!(details["user_hash"].as_str().unwrap().len() == 64);

    // Her number texting again is an unknown number.
    let onboarding = say(&h, ANA, "hello?", 5).await;
    assert!(onboarding.contains("registered with Nudge"), "{onboarding}");
}

/// A due deletion whose job is gone (lost, or run before its time) is
/// still carried out, by the maintenance pass.
#[tokio::test]
async fn maintenance_runs_a_due_deletion_whose_job_was_lost() {
    let h = SmsHarness::start_with(|_| {}, |_| {}, false).await;
    let ana = common::create_user(&h.db, "Ana", ANA).await;
    let bob = common::create_user(&h.db, "Bob", BOB).await;
    for (who, due) in [
        (ana, "now() - interval '1 minute'"),
        (bob, "now() + interval '1 day'"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "insert into account_deletions (user_id, due_at) values ($1, {due})"
        )))
        .bind(who.0)
        .execute(&h.db.owner)
        .await
        .unwrap();
    }
    let erased = nudge::workers::maintenance::run_due_deletions(&h.state)
        .await
        .unwrap();
    assert_eq!(erased, 1);
    assert_eq!(
        mentions(&h.db, &ana.to_string()).await,
        Vec::<String>::new()
    );
    assert_eq!(
        h.count(&format!("select count(*) from users where id = '{bob}'"))
            .await,
        1,
        "Bob's deletion is not due"
    );
}
