//! `nudge admin user export|delete`: a person's data as one document, or
//! erased. Both read or change one person only, and both are audited; the
//! audit entry of an erase keeps no personal data (a salted hash of the id).

use std::path::Path;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::output::Rendered;
use super::{AdminError, Operator, resolve_user};
use crate::store::person_data::{self, PERSON_TABLES};
use crate::store::{Actor, record_audit};

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
pub async fn delete(op: &Operator, reference: &str, yes: bool) -> Result<Rendered, AdminError> {
    let id = resolve_user(&op.pool, reference).await?;
    if !yes {
        return Err(AdminError::Refused(format!(
            "this erases {id} and everything they stored, for good; run again with --yes"
        )));
    }
    let mut tx = op.pool.begin().await?;
    let erased = person_data::erase(&mut tx, id).await?;
    let salt = uuid::Uuid::new_v4().simple().to_string();
    let hash: String = Sha256::digest(format!("{salt}{id}"))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    record_audit(
        &mut tx,
        None,
        Actor::Admin,
        "user.delete",
        json!({ "user_hash": hash, "salt": salt, "jobs": erased.jobs }),
    )
    .await?;
    tx.commit().await?;
    Ok(Rendered::message(
        json!({ "deleted": erased.person, "jobs": erased.jobs, "identification_logs": erased.identification_logs }),
        format!(
            "erased {id}: their rows, {} jobs and {} identification log entries",
            erased.jobs, erased.identification_logs
        ),
    ))
}
