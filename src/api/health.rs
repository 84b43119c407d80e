//! `/healthz`: the process answers. `/readyz`: its dependencies answer too.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::agent::llm::ModelState;
use crate::app::AppState;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

#[tracing::instrument(name = "readyz", skip_all)]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let postgres = tokio::time::timeout(CHECK_TIMEOUT, crate::db::ping(&state.db)).await;
    let postgres_ok = matches!(postgres, Ok(Ok(())));
    if !postgres_ok {
        let outcome = match &postgres {
            Ok(Err(e)) => crate::db::redact(e).to_string(),
            Ok(Ok(())) => "ok".into(),
            Err(_) => "timed out".into(),
        };
        tracing::warn!(%outcome, "postgres readiness check failed");
    }

    let mut checks = serde_json::Map::new();
    checks.insert("postgres".into(), status_word(postgres_ok));
    let mut ready = postgres_ok;

    if let Some(redis) = &state.redis {
        let redis_ok = matches!(
            tokio::time::timeout(CHECK_TIMEOUT, redis.ping()).await,
            Ok(Ok(()))
        );
        if !redis_ok {
            tracing::warn!("redis readiness check failed");
        }
        checks.insert("redis".into(), status_word(redis_ok));
        ready &= redis_ok;
    }

    // A model the provider does not serve fails readiness; the process
    // still answers (the chain falls back), but the operator must see it.
    for model in state.agent.llm().model_status() {
        let (word, ok) = match &model.state {
            ModelState::Pending => ("pending", true),
            ModelState::Available => ("ok", true),
            ModelState::Unchecked(_) => ("unchecked", true),
            ModelState::Unavailable(_) => ("model_unavailable", false),
        };
        checks.insert(format!("llm_{}", model.provider), Value::from(word));
        ready &= ok;
    }

    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = if ready { "ready" } else { "unavailable" };
    (status, Json(json!({ "status": word, "checks": checks })))
}

fn status_word(ok: bool) -> Value {
    Value::from(if ok { "ok" } else { "unreachable" })
}
