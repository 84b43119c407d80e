//! What the follow-through tests share: Ana, a person in Montreal, on the
//! SMS harness, and raw SQL as the owner to set the scene (timestamps in
//! the past, settings in seconds).

use super::sms::SmsHarness;
use nudge::store::UserId;

pub const ANA: &str = "+15145550101";

/// The harness (its workers running or not) with Ana created.
pub async fn harness(workers: bool) -> (SmsHarness, UserId) {
    let h = SmsHarness::start_with(|_| {}, |_| {}, workers).await;
    let ana = super::create_user(&h.db, "Ana", ANA).await;
    (h, ana)
}

/// Runs a test-written statement as the owner.
pub async fn sql(h: &SmsHarness, query: &str) {
    sqlx::query(sqlx::AssertSqlSafe(query.to_string()))
        .execute(&h.db.owner)
        .await
        .unwrap();
}

/// The jobs of kind `J` written so far, with when each runs, in run order.
pub async fn scheduled<J: nudge::db::queue::Job>(
    h: &SmsHarness,
) -> Vec<(J, chrono::DateTime<chrono::Utc>)> {
    let raw: Vec<(serde_json::Value, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "select convert_from(job, 'UTF8')::jsonb, run_at from apalis.jobs \
         where job_type = $1 order by run_at",
    )
    .bind(J::QUEUE)
    .fetch_all(&h.db.owner)
    .await
    .unwrap();
    raw.into_iter()
        .map(|(j, at)| (serde_json::from_value(j).unwrap(), at))
        .collect()
}
