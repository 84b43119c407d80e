//! `nudge admin user export|delete`: a person's data as one document, or
//! erased — rows, jobs, Redis keys, and grants revoked at the providers.
//! Both read or change one person only, and both are audited; the audit
//! entry of an erase keeps no personal data (a salted hash of the id).

use std::path::Path;

use serde_json::json;

use super::output::Rendered;
use super::{AdminError, Operator, resolve_user};
use crate::cache::Redis;
use crate::config::Config;
use crate::oauth::OAuthService;
use crate::privacy::{Forgetter, Outside};
use crate::store::person_data::{self, PERSON_TABLES};
use crate::store::{Actor, Outcome, record_audit, record_audit_outcome};

/// Writes the person's export to `out`, or prints it.
pub async fn export(
    op: &Operator,
    reference: &str,
    out: Option<&Path>,
) -> Result<Rendered, AdminError> {
    let id = resolve_user(&op.pool, reference).await?;
    let mut tx = op.scoped(id).await?;
    let document = person_data::export(&mut tx).await?;
    let rows: usize = PERSON_TABLES
        .iter()
        .filter_map(|t| document["tables"][t].as_array().map(Vec::len))
        .sum();
    record_audit(
        tx.conn(),
        Some(id),
        Actor::Admin,
        "user.export",
        json!({ "rows": rows, "to_file": out.is_some() }),
    )
    .await?;
    tx.commit().await?;
    let pretty = serde_json::to_string_pretty(&document)
        .map_err(|e| AdminError::Failed(anyhow::Error::new(e)))?;
    match out {
        Some(path) => {
            std::fs::write(path, pretty + "\n").map_err(|e| {
                AdminError::Refused(format!("cannot write {}: {e}", path.display()))
            })?;
            Ok(Rendered::message(
                json!({ "id": id, "rows": rows, "file": path }),
                format!("exported {rows} rows of {id} to {}", path.display()),
            ))
        }
        None => Ok(Rendered::message(document, pretty)),
    }
}

/// Erases the person. Refuses without `--yes`: nothing can bring it back.
/// Before the rows go, their grants are revoked at the providers and their
/// Redis keys deleted (best effort, reported and audited).
pub async fn delete(op: &Operator, reference: &str, yes: bool) -> Result<Rendered, AdminError> {
    let id = resolve_user(&op.pool, reference).await?;
    if !yes {
        let mut conn = op.pool.acquire().await?;
        record_audit_outcome(
            &mut conn,
            Some(id),
            Actor::Admin,
            "user.delete",
            Outcome::Refused,
            json!({ "why": "without --yes" }),
        )
        .await?;
        return Err(AdminError::Refused(format!(
            "this erases {id} and everything they stored, for good; run again with --yes"
        )));
    }
    let mut tx = op.scoped(id).await?;
    let outside = Outside::read(&mut tx).await?;
    tx.rollback().await?;
    let forgotten = forgetter(op).forget(&outside).await;
    let mut tx = op.pool.begin().await?;
    let erased = person_data::erase(&mut tx, id).await?;
    let mut details = person_data::erased_audit_details(id);
    details["jobs"] = json!(erased.jobs);
    details["revoked"] = json!(forgotten.revoked);
    details["redis_keys"] = json!(forgotten.redis_keys);
    record_audit(&mut tx, None, Actor::Admin, "user.delete", details).await?;
    tx.commit().await?;
    let redis = match forgotten.redis_keys {
        Some(n) => format!("{n} Redis keys"),
        None => {
            "no Redis keys (Redis not configured or not answering; they expire on their own)".into()
        }
    };
    Ok(Rendered::message(
        json!({
            "deleted": erased.person,
            "jobs": erased.jobs,
            "identification_logs": erased.identification_logs,
            "revoked": forgotten.revoked,
            "redis_keys": forgotten.redis_keys,
        }),
        format!(
            "erased {id}: their rows, {} jobs, {} identification log entries, {redis}; grants revoked: {}",
            erased.jobs,
            erased.identification_logs,
            if forgotten.revoked.is_empty() {
                "none connected".to_string()
            } else {
                forgotten
                    .revoked
                    .iter()
                    .map(|(p, r)| format!("{p} {r}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
    ))
}

/// What reaches beyond the rows: OAuth (to revoke) and Redis, from the
/// environment `nudge admin` runs in. The user subcommands are not handed
/// the configuration, so it is read here; without its settings (no OAuth
/// keys, no `REDIS_URL`) that part is skipped and reported.
fn forgetter(op: &Operator) -> Forgetter {
    let Ok(config) = Config::from_env() else {
        return Forgetter {
            oauth: None,
            redis: None,
            redis_key_prefix: String::new(),
        };
    };
    let http = reqwest::Client::new();
    Forgetter {
        // Revoking uses the vault and HTTP only, never this pool.
        oauth: OAuthService::from_config(&config, op.pool.clone(), http)
            .ok()
            .flatten(),
        redis: config.redis_url.as_ref().and_then(|u| Redis::new(u).ok()),
        redis_key_prefix: config.redis_key_prefix.clone(),
    }
}
