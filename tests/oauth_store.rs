//! The OAuth store against the real PostgreSQL: states and connect links are
//! single use and bound to their person, provider and browser; tokens are
//! only reachable by their owner, and a disconnect deletes them.

mod common;

use chrono::{Duration, Utc};
use nudge::db::UserTx;
use nudge::store::integrations::{self, NewState, SealedBytes, SealedTokens};
use uuid::Uuid;

use common::{TestDb, create_user};

fn bytes(b: u8) -> SealedBytes {
    SealedBytes {
        nonce: vec![b; 12],
        ciphertext: vec![b; 40],
    }
}

#[tokio::test]
async fn states_and_links_are_single_use_and_bound() {
    let db = TestDb::new().await;
    let ann = create_user(&db, "Ann", "+15145550101").await;
    let bob = create_user(&db, "Bob", "+15145550102").await;

    let mut tx = UserTx::begin(&db.app, ann).await.unwrap();
    let scopes = vec!["calendar".to_string()];
    integrations::insert_state(
        &mut tx,
        &NewState {
            state_hash: "h1",
            provider: "google",
            verifier: &bytes(1),
            key_id: 1,
            scopes: &scopes,
            browser_hash: "b1",
            expires_at: Utc::now() + Duration::minutes(10),
        },
    )
    .await
    .unwrap();
    integrations::insert_state(
        &mut tx,
        &NewState {
            state_hash: "old",
            provider: "google",
            verifier: &bytes(2),
            key_id: 1,
            scopes: &scopes,
            browser_hash: "b1",
            expires_at: Utc::now() - Duration::seconds(1),
        },
    )
    .await
    .unwrap();
    let jti = Uuid::new_v4();
    integrations::record_link(&mut tx, jti, "google", Utc::now() + Duration::minutes(15))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Another person cannot spend Ann's state or link.
    let mut tx = UserTx::begin(&db.app, bob).await.unwrap();
    assert!(
        integrations::take_state(&mut tx, "h1", "google", "b1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !integrations::use_link(&mut tx, jti, "google")
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();

    let mut tx = UserTx::begin(&db.app, ann).await.unwrap();
    // Wrong provider, wrong browser, expired: nothing.
    assert!(
        integrations::take_state(&mut tx, "h1", "notion", "b1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        integrations::take_state(&mut tx, "h1", "google", "b2")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        integrations::take_state(&mut tx, "old", "google", "b1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !integrations::use_link(&mut tx, jti, "notion")
            .await
            .unwrap()
    );
    // Right one: once.
    let taken = integrations::take_state(&mut tx, "h1", "google", "b1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.verifier, bytes(1));
    assert_eq!(taken.scopes, scopes);
    assert!(
        integrations::take_state(&mut tx, "h1", "google", "b1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        integrations::use_link(&mut tx, jti, "google")
            .await
            .unwrap()
    );
    assert!(
        !integrations::use_link(&mut tx, jti, "google")
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn tokens_belong_to_their_owner_and_disconnect_deletes_them() {
    let db = TestDb::new().await;
    let ann = create_user(&db, "Ann", "+15145550111").await;
    let bob = create_user(&db, "Bob", "+15145550112").await;
    let tokens = SealedTokens {
        key_id: 1,
        access: bytes(3),
        refresh: Some(bytes(4)),
        expires_at: Some(Utc::now() + Duration::hours(1)),
    };
    let mut tx = UserTx::begin(&db.app, ann).await.unwrap();
    integrations::save_connected(&mut tx, "notion", &["read".into()], Some("ws"), &tokens)
        .await
        .unwrap();
    // Reconnecting replaces, it does not duplicate.
    integrations::save_connected(&mut tx, "notion", &["read".into()], Some("ws"), &tokens)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = UserTx::begin(&db.app, bob).await.unwrap();
    assert!(
        integrations::tokens(&mut tx, "notion")
            .await
            .unwrap()
            .is_none()
    );
    assert!(integrations::list(&mut tx).await.unwrap().is_empty());
    assert!(!integrations::disconnect(&mut tx, "notion").await.unwrap());
    tx.commit().await.unwrap();

    let mut tx = UserTx::begin(&db.app, ann).await.unwrap();
    let got = integrations::tokens(&mut tx, "notion")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.refresh, Some(bytes(4)));
    let listed = integrations::list(&mut tx).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, "connected");
    assert!(integrations::disconnect(&mut tx, "notion").await.unwrap());
    assert!(
        integrations::tokens(&mut tx, "notion")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        integrations::get(&mut tx, "notion")
            .await
            .unwrap()
            .unwrap()
            .status,
        "disconnected"
    );
    tx.commit().await.unwrap();
    let left: i64 = sqlx::query_scalar("select count(*) from oauth_tokens")
        .fetch_one(&db.owner)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn maintenance_forgets_expired_connect_links() {
    let db = TestDb::new().await;
    let ann = create_user(&db, "Ann", "+15145550121").await;
    let (old, fresh) = (Uuid::new_v4(), Uuid::new_v4());
    let mut tx = UserTx::begin(&db.app, ann).await.unwrap();
    integrations::record_link(&mut tx, old, "google", Utc::now() - Duration::seconds(1))
        .await
        .unwrap();
    integrations::record_link(&mut tx, fresh, "google", Utc::now() + Duration::minutes(15))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    nudge::workers::maintenance::purge_expired(&db.app, std::time::Duration::from_secs(86_400))
        .await
        .unwrap();
    let left: Vec<Uuid> = sqlx::query_scalar("select jti from oauth_connect_links")
        .fetch_all(&db.owner)
        .await
        .unwrap();
    assert_eq!(left, vec![fresh]);
}
