//! The knowledge runs' lifecycle around the sync itself: the scheduled
//! sync per connected workspace, runs whose job is gone recovered by the
//! sweeper, cancel and retry from the CLI, pages unshared since the last
//! complete listing removed, a Notion 401 healed through the shared OAuth
//! path, the real `nudge worker` process killed with SIGKILL mid-sync, and
//! the ingestion and query metrics on `/metrics`.

mod common;

use std::time::Duration;

use chrono::TimeDelta;
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::TestDb;
use common::notion::{client, queue, scalar, start, workspace};
use common::oauth::{LINK_KEYS, TOKEN_KEYS_ONE};
use nudge::integrations::Integrations;
use nudge::knowledge::notion::{Ended, NotionClient, NotionError, SyncError, sync};
use nudge::knowledge::schedule::{queue_due_syncs, recover_stranded_runs};
use nudge::oauth::{OAuthService, Provider};
use nudge::store::UserId;

const SIX_HOURS: Duration = Duration::from_secs(6 * 3600);

async fn exec(db: &TestDb, sql: &str, user: UserId) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(user.0)
        .execute(&db.owner)
        .await
        .unwrap();
}

/// OAuth with Notion registered, its token endpoint on `token_server`.
fn notion_oauth(db: &TestDb, token_server: &MockServer) -> OAuthService {
    let mut config = db.config();
    config.public_base_url = "https://nudge.example".into();
    config.token_encryption_keys = Some(SecretString::from(TOKEN_KEYS_ONE));
    config.oauth.connect_link_keys = Some(SecretString::from(LINK_KEYS));
    config.oauth.notion.client_id = Some("notion-client".into());
    config.oauth.notion.client_secret = Some(SecretString::from("notion-secret"));
    config.oauth.notion.token_url = format!("{}/notion/token", token_server.uri());
    OAuthService::from_config(&config, db.app.clone(), reqwest::Client::new())
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_scheduled_sync_is_queued_once_per_due_workspace() {
    let db = TestDb::new().await;
    let ana = common::create_user(&db, "Ana", "+15145550101").await;
    let bob = common::create_user(&db, "Bob", "+15145550102").await;
    // Ana connected Notion; Bob did not.
    exec(
        &db,
        "insert into oauth_integrations (user_id, provider) values ($1, 'notion')",
        ana,
    )
    .await;

    assert_eq!(queue_due_syncs(&db.app, SIX_HOURS).await.unwrap(), 1);
    assert_eq!(
        queue_due_syncs(&db.app, SIX_HOURS).await.unwrap(),
        0,
        "never two runs at once for one workspace"
    );
    let runs = "select count(*) from knowledge_runs where user_id = $1";
    assert_eq!(scalar(&db, runs, ana).await, 1);
    assert_eq!(scalar(&db, runs, bob).await, 0);

    // A run that just finished: not due for six hours.
    exec(
        &db,
        "update knowledge_runs set status = 'ready', finished_at = now() where user_id = $1",
        ana,
    )
    .await;
    assert_eq!(queue_due_syncs(&db.app, SIX_HOURS).await.unwrap(), 0);
    // Seven hours later it is.
    exec(
        &db,
        "update knowledge_runs set created_at = now() - interval '7 hours', \
         finished_at = now() - interval '7 hours' where user_id = $1",
        ana,
    )
    .await;
    assert_eq!(queue_due_syncs(&db.app, SIX_HOURS).await.unwrap(), 1);
    // A failed run is retried by the schedule, but not within the hour.
    exec(&db, "update knowledge_runs set status = 'failed', finished_at = now() where user_id = $1 and status = 'queued'", ana).await;
    assert_eq!(queue_due_syncs(&db.app, SIX_HOURS).await.unwrap(), 0);
    // A disconnected workspace is never synced.
    exec(
        &db,
        "update knowledge_runs set created_at = now() - interval '2 hours' where user_id = $1",
        ana,
    )
    .await;
    exec(
        &db,
        "update oauth_integrations set status = 'revoked' where user_id = $1",
        ana,
    )
    .await;
    assert_eq!(queue_due_syncs(&db.app, SIX_HOURS).await.unwrap(), 0);
    exec(
        &db,
        "update oauth_integrations set status = 'connected' where user_id = $1",
        ana,
    )
    .await;
    assert_eq!(queue_due_syncs(&db.app, SIX_HOURS).await.unwrap(), 1);
}

#[tokio::test]
async fn a_run_whose_job_is_gone_is_resumed_and_one_out_of_attempts_is_failed() {
    let db = TestDb::new().await;
    let ana = common::create_user(&db, "Ana", "+15145550101").await;
    let run = queue(&db, ana).await;
    let jobs_of_run = format!(
        "select count(*) from apalis.jobs where job_type = 'notion_sync' \
         and convert_from(job, 'UTF8')::jsonb ->> 'run_id' = '{}' and $1::uuid is not null",
        run.id
    );
    assert_eq!(scalar(&db, &jobs_of_run, ana).await, 1);
    let five_minutes = Duration::from_secs(300);
    // Its job is pending: not stranded, however old.
    exec(&db, "update knowledge_runs set status = 'running', created_at = now() - interval '1 hour' where user_id = $1", ana).await;
    assert_eq!(
        recover_stranded_runs(&db.app, five_minutes).await.unwrap(),
        0
    );

    // The job vanished (deleted by hand, lost): a new job resumes the run.
    exec(
        &db,
        "delete from apalis.jobs where job_type = 'notion_sync' and $1::uuid is not null",
        ana,
    )
    .await;
    assert_eq!(
        recover_stranded_runs(&db.app, five_minutes).await.unwrap(),
        1
    );
    assert_eq!(scalar(&db, &jobs_of_run, ana).await, 1);
    assert_eq!(
        recover_stranded_runs(&db.app, five_minutes).await.unwrap(),
        0,
        "the new job is live"
    );
    let status = "select count(*) from knowledge_runs where user_id = $1 and status = 'running'";
    assert_eq!(scalar(&db, status, ana).await, 1);

    // The job ran out of attempts: the run is failed, for the schedule to retry.
    exec(&db, "update apalis.jobs set status = 'Failed', attempts = max_attempts where job_type = 'notion_sync' and $1::uuid is not null", ana).await;
    assert_eq!(
        recover_stranded_runs(&db.app, five_minutes).await.unwrap(),
        1
    );
    let failed = "select count(*) from knowledge_runs where user_id = $1 and status = 'failed' \
                  and error like 'gave up%'";
    assert_eq!(scalar(&db, failed, ana).await, 1);
    assert_eq!(
        recover_stranded_runs(&db.app, five_minutes).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn cancel_and_retry_from_the_cli() {
    let db = TestDb::new().await;
    let ana = common::create_user(&db, "Ana", "+15145550101").await;
    let w = workspace(3);
    let server = start(w.clone()).await;
    let user = ana.to_string();

    let nothing = common::admin(&db, &["knowledge", "cancel", &user]);
    assert_eq!(nothing.status.code(), Some(2), "nothing to cancel");
    let run = queue(&db, ana).await;
    let out = common::admin(&db, &["--json", "knowledge", "cancel", &user]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let canceled: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(canceled["run"], json!(run.id));
    // The job finds its run canceled and stops before reading anything.
    let ended = sync(&db.app, ana, run.source_id, run.id, &client(&server))
        .await
        .unwrap();
    assert_eq!(ended, Ended::Canceled);
    assert!(w.lock().unwrap().requests.is_empty());

    let out = common::admin(&db, &["--json", "knowledge", "retry", &user]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let retried: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(retried["new"], true);
    let again = queue(&db, ana).await;
    assert_eq!(json!(again.id), retried["run"], "the retry is the live run");
    let Ended::Ready(counts) = sync(&db.app, ana, again.source_id, again.id, &client(&server))
        .await
        .unwrap()
    else {
        panic!("canceled")
    };
    assert_eq!(counts.pages_changed, 3);
    let refused = common::admin(&db, &["knowledge", "retry", &user]);
    assert_eq!(refused.status.code(), Some(2), "a ready run is not retried");
    let audit = "select count(*) from audit_log where user_id = $1 and action in ('knowledge.cancel', 'knowledge.sync')";
    assert_eq!(scalar(&db, audit, ana).await, 2);
}

#[tokio::test]
async fn pages_unshared_or_trashed_are_removed() {
    let db = TestDb::new().await;
    let ana = common::create_user(&db, "Ana", "+15145550101").await;
    let w = workspace(10);
    let server = start(w.clone()).await;
    let run_sync = || async {
        let run = queue(&db, ana).await;
        sync(&db.app, ana, run.source_id, run.id, &client(&server))
            .await
            .unwrap()
    };
    run_sync().await;
    let documents = "select count(*) from knowledge_documents where user_id = $1";
    assert_eq!(scalar(&db, documents, ana).await, 10);

    // Page 9 goes to the trash (its edit time moves: search shows it
    // archived); pages 0 and 1 are unshared (search no longer lists them).
    {
        let mut w = w.lock().unwrap();
        let trashed = w.pages.iter_mut().find(|p| p.id == "page-0009").unwrap();
        trashed.archived = true;
        trashed.edited += TimeDelta::hours(1);
        w.pages
            .retain(|p| p.id != "page-0000" && p.id != "page-0001");
        w.requests.clear();
    }
    run_sync().await;
    assert_eq!(
        scalar(&db, documents, ana).await,
        9,
        "trashed: removed on sight"
    );
    assert_eq!(
        w.lock().unwrap().requests,
        vec!["POST /v1/search"],
        "incremental: one search page, no listing yet"
    );

    // A day later the run lists every page (ids only) and drops the rest.
    exec(
        &db,
        "update knowledge_sources set listed_at = now() - interval '25 hours' where user_id = $1",
        ana,
    )
    .await;
    w.lock().unwrap().requests.clear();
    run_sync().await;
    assert_eq!(scalar(&db, documents, ana).await, 7);
    let gone = "select count(*) from knowledge_documents where user_id = $1 \
                and external_id in ('page-0000', 'page-0001', 'page-0009')";
    assert_eq!(scalar(&db, gone, ana).await, 0);
    let orphans = "select count(*) from knowledge_chunks c where c.user_id = $1 and not exists \
                   (select 1 from knowledge_documents d where d.id = c.document_id)";
    assert_eq!(scalar(&db, orphans, ana).await, 0);
    assert_eq!(
        w.lock().unwrap().requests,
        vec!["POST /v1/search"],
        "the listing read no page's blocks"
    );
    let listed = "select count(*) from knowledge_sources where user_id = $1 and listed_at > now() - interval '1 minute'";
    assert_eq!(scalar(&db, listed, ana).await, 1);
}

#[tokio::test]
async fn a_notion_401_refreshes_the_token_once_through_the_shared_oauth_path() {
    let db = TestDb::new().await;
    let ana = common::create_user(&db, "Ana", "+15145550101").await;
    let bob = common::create_user(&db, "Bob", "+15145550102").await;
    let tokens = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/notion/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ntn_fresh", "token_type": "bearer", "refresh_token": "ntn_refresh_2",
            "bot_id": "bot-1", "workspace_id": "ws-1", "workspace_name": "Ana's"
        })))
        .mount(&tokens)
        .await;
    let oauth = notion_oauth(&db, &tokens);
    common::integrations::connect(&db, &oauth, ana, Provider::Notion, "ntn_revoked").await;
    let w = workspace(2);
    w.lock().unwrap().accept_token = Some("ntn_fresh".into());
    let server = start(w.clone()).await;
    let integrations = Integrations::new(
        Some(oauth.clone()),
        nudge::config::IntegrationsConfig::default(),
        reqwest::Client::new(),
    );
    let client = |user| {
        NotionClient::for_connection(
            integrations.clone(),
            user,
            &server.uri(),
            "2022-06-28",
            1000.0,
        )
    };
    let run = queue(&db, ana).await;
    let Ended::Ready(counts) = sync(&db.app, ana, run.source_id, run.id, &client(ana))
        .await
        .unwrap()
    else {
        panic!("canceled")
    };
    assert_eq!(counts.pages_changed, 2);
    let refreshes = tokens.received_requests().await.unwrap().len();
    assert_eq!(refreshes, 1, "one forced refresh, then the fresh token");

    // Bob's token is refused even fresh: a clear failure, not a loop.
    common::integrations::connect(&db, &oauth, bob, Provider::Notion, "ntn_revoked").await;
    w.lock().unwrap().accept_token = Some("ntn_nobody".into());
    let run = queue(&db, bob).await;
    let err = sync(&db.app, bob, run.source_id, run.id, &client(bob))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SyncError::Notion(NotionError::Unauthorized)),
        "{err:?}"
    );
    assert_eq!(
        tokens.received_requests().await.unwrap().len(),
        refreshes + 1
    );
}

fn spawn_worker(
    db: &TestDb,
    notion: &MockServer,
    tokens: &MockServer,
    prefix: &str,
) -> std::process::Child {
    common::drill::spawn_worker_with(
        db,
        prefix,
        &[
            ("TOKEN_ENCRYPTION_KEYS", TOKEN_KEYS_ONE),
            ("CONNECT_LINK_KEYS", LINK_KEYS),
            ("PUBLIC_BASE_URL", "https://nudge.example"),
            ("NOTION_CLIENT_ID", "notion-client"),
            ("NOTION_CLIENT_SECRET", "notion-secret"),
            (
                "NOTION_TOKEN_URL",
                &format!("{}/notion/token", tokens.uri()),
            ),
            ("NOTION_API_URL", &notion.uri()),
            ("NOTION_REQUESTS_PER_SECOND", "100"),
        ],
    )
}

#[tokio::test]
async fn the_worker_killed_mid_sync_finishes_the_run_with_no_duplicate_chunks() {
    let db = TestDb::new().await;
    let ana = common::create_user(&db, "Ana", "+15145550101").await;
    let tokens = MockServer::start().await;
    let oauth = notion_oauth(&db, &tokens);
    common::integrations::connect(&db, &oauth, ana, Provider::Notion, "secret_token").await;
    let w = workspace(60);
    w.lock().unwrap().delay = Some(Duration::from_millis(30));
    let notion = start(w.clone()).await;
    let run = queue(&db, ana).await;
    let documents = "select count(*) from knowledge_documents where user_id = $1";
    let prefix = format!("know:{}:", uuid::Uuid::new_v4().simple());

    let mut worker = spawn_worker(&db, &notion, &tokens, &prefix);
    while scalar(&db, documents, ana).await < 15 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    common::drill::sigkill(&mut worker);
    let partial = scalar(&db, documents, ana).await;
    assert!(partial < 60, "killed before the end ({partial})");

    // A new worker takes the orphaned job back (apalis, after the dead
    // worker's missed heartbeats) and resumes the same run.
    let mut worker = spawn_worker(&db, &notion, &tokens, &prefix);
    let ready = format!(
        "select count(*) from knowledge_runs where user_id = $1 and id = '{}' and status = 'ready'",
        run.id
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while scalar(&db, &ready, ana).await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never finished"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    common::drill::sigkill(&mut worker);
    assert_eq!(scalar(&db, documents, ana).await, 60);
    let chunks = "select count(*) from knowledge_chunks where user_id = $1";
    assert_eq!(scalar(&db, chunks, ana).await, 120);
    let dupes = "select count(*) from (select document_id, content_hash from knowledge_chunks \
                 where user_id = $1 group by 1, 2 having count(*) > 1) d";
    assert_eq!(scalar(&db, dupes, ana).await, 0);
    let changed = format!(
        "select pages_changed::bigint from knowledge_runs where user_id = $1 and id = '{}'",
        run.id
    );
    assert_eq!(
        scalar(&db, &changed, ana).await,
        60,
        "each page written once over both workers"
    );
}

#[tokio::test]
async fn ingestion_and_query_metrics_are_on_the_metrics_endpoint() {
    let db = TestDb::new().await;
    let ana = common::create_user(&db, "Ana", "+15145550101").await;
    let metrics_url = common::metrics_url(&db).await;

    let server = start(workspace(2)).await;
    let run = queue(&db, ana).await;
    sync(&db.app, ana, run.source_id, run.id, &client(&server))
        .await
        .unwrap();
    let found = nudge::knowledge::online::find(&db.app, ana, None, "alpha text", 3)
        .await
        .unwrap();
    assert!(!found.passages.is_empty());

    let metrics = common::scrape(&metrics_url).await;
    for expected in [
        // Other tests of this process count too: the series, not the value.
        "knowledge_ingest_pages_total{outcome=\"changed\"}",
        "knowledge_ingest_run_duration_seconds_count",
        "knowledge_query_duration_seconds_bucket{stage=\"retrieve\"",
        "knowledge_queries_total{mode=\"full_text\"}",
    ] {
        assert!(metrics.contains(expected), "{expected} not in:\n{metrics}");
    }
}
