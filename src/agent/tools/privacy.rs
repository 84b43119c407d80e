//! The person's own data, by text: `export_my_data` (a one-time download
//! link, asked first), `delete_my_account` (asked first, naming what will
//! be lost; runs after the grace period) and `cancel_account_deletion`.
//!
//! Their texts stay in the GSM-7 alphabet (no «», â, ê…), so that even the
//! French confirmation question fits in three SMS segments unabridged.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Effect, Tool, ToolContext, ToolError, Wording};
use crate::db::queue::{self, EraseAccountJob};
use crate::privacy::ExportLinks;
use crate::store::account_deletions;
use crate::store::{Actor, StoreError, record_audit};

/// The three tools. `links`: `None` when export links cannot be signed
/// here (no `CONNECT_LINK_KEYS`); `grace`: `ACCOUNT_DELETION_GRACE_DAYS`.
pub fn tools(links: Option<ExportLinks>, grace: Duration) -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(Export { links }),
        Arc::new(Delete { grace }),
        Arc::new(CancelDeletion),
    ]
}

fn no_arguments() -> Value {
    json!({"type": "object", "properties": {}})
}

struct Export {
    links: Option<ExportLinks>,
}

#[async_trait::async_trait]
impl Tool for Export {
    fn name(&self) -> &'static str {
        "export_my_data"
    }

    fn description(&self) -> &'static str {
        "Text the person a one-time link to download everything Nudge keeps about them (as JSON)."
    }

    fn parameters(&self) -> Value {
        no_arguments()
    }

    /// Sends every row of theirs to whoever opens the link: asked first.
    fn effect(&self) -> Effect {
        Effect::External
    }

    fn describe_call(&self, _args: &Value, say: Wording) -> String {
        say.pick(
            "text you a link to download all your data (works once, for 15 minutes)",
            "t'envoyer un lien pour télécharger toutes tes données (valable une fois, 15 minutes)",
        )
    }

    async fn call(&self, ctx: &mut ToolContext<'_>, _args: Value) -> Result<Value, ToolError> {
        let Some(links) = &self.links else {
            return Ok(json!({
                "confirmation": ctx.say.pick(
                    "Exporting by text isn't set up on this Nudge; ask the person who runs it.",
                    "L'export par texto n'est pas activé sur ce Nudge ; demande à la personne qui le gère.",
                ),
                "available": false,
            }));
        };
        let link = links.issue(ctx.tx).await?;
        let user = ctx.tx.user_id();
        record_audit(
            ctx.tx.conn(),
            Some(user),
            Actor::User,
            "user.export_link",
            json!({ "via": "sms" }),
        )
        .await?;
        Ok(json!({
            "confirmation": ctx.say.pick(
                &format!("Your data (link works once, 15 min): {link}"),
                &format!("Tes données (valable une fois, 15 minutes) : {link}"),
            ),
            "link": link,
        }))
    }
}

struct Delete {
    grace: Duration,
}

impl Delete {
    fn days(&self) -> u64 {
        self.grace.as_secs().div_ceil(86_400)
    }
}

#[async_trait::async_trait]
impl Tool for Delete {
    fn name(&self) -> &'static str {
        "delete_my_account"
    }

    fn description(&self) -> &'static str {
        "Delete the person's account and everything Nudge keeps about them, after a grace period they can cancel."
    }

    fn parameters(&self) -> Value {
        no_arguments()
    }

    /// Erases everything, for good: asked first.
    fn effect(&self) -> Effect {
        Effect::External
    }

    fn describe_call(&self, _args: &Value, say: Wording) -> String {
        let lost = say.pick(
            "delete your account: your reminders, lists, tasks, goals, expenses, memories, messages and connected accounts will be gone for good",
            "supprimer ton compte : tes rappels, listes, choses à faire, objectifs, dépenses, souvenirs, messages et comptes connectés seront effacés pour de bon",
        );
        match self.days() {
            0 => lost,
            days => say.pick(
                &format!("{lost}, in {days} days (text \"cancel deletion\" before then to keep it)"),
                &format!("{lost}, dans {days} jours (écris \"annuler la suppression\" d'ici là pour le garder)"),
            ),
        }
    }

    async fn call(&self, ctx: &mut ToolContext<'_>, _args: Value) -> Result<Value, ToolError> {
        let due_at =
            ctx.now + chrono::Duration::from_std(self.grace).unwrap_or(chrono::Duration::days(7));
        let (deletion, new) = account_deletions::schedule(ctx.tx, due_at).await?;
        if new {
            // A moment after the due time: the job then always finds it due.
            let run_at = deletion.due_at + chrono::Duration::seconds(2);
            queue::enqueue_at(
                ctx.tx.conn(),
                &EraseAccountJob {
                    deletion_id: deletion.id,
                },
                run_at,
            )
            .await
            .map_err(StoreError::from)?;
            let user = ctx.tx.user_id();
            record_audit(
                ctx.tx.conn(),
                Some(user),
                Actor::User,
                "user.delete_requested",
                json!({ "via": "sms", "due_at": deletion.due_at }),
            )
            .await?;
        }
        let confirmation = if self.grace.is_zero() {
            ctx.say.pick(
                "Your account and everything in it are being deleted now. Goodbye, and take care!",
                "Ton compte et tout son contenu sont en cours de suppression. Au revoir, prends soin de toi !",
            )
        } else {
            let when = ctx.say.when(deletion.due_at, ctx.tz, ctx.now);
            ctx.say.pick(
                &format!("Your account will be deleted {when}. To keep it, text \"cancel deletion\" (or START) before then."),
                &format!("Ton compte sera supprimé {when}. Pour le garder, écris \"annuler la suppression\" (ou START) d'ici là."),
            )
        };
        Ok(json!({ "confirmation": confirmation, "due_at": deletion.due_at }))
    }
}

struct CancelDeletion;

#[async_trait::async_trait]
impl Tool for CancelDeletion {
    fn name(&self) -> &'static str {
        "cancel_account_deletion"
    }

    fn description(&self) -> &'static str {
        "Cancel the deletion of the person's account that they asked for earlier."
    }

    fn parameters(&self) -> Value {
        no_arguments()
    }

    fn effect(&self) -> Effect {
        Effect::Write
    }

    async fn call(&self, ctx: &mut ToolContext<'_>, _args: Value) -> Result<Value, ToolError> {
        let cancelled = account_deletions::cancel(ctx.tx).await?;
        if cancelled {
            let user = ctx.tx.user_id();
            record_audit(
                ctx.tx.conn(),
                Some(user),
                Actor::User,
                "user.delete_cancelled",
                json!({ "via": "sms" }),
            )
            .await?;
        }
        let confirmation = if cancelled {
            ctx.say.pick(
                "Deletion cancelled: your account stays, with everything in it.",
                "Suppression annulée : ton compte reste, avec tout son contenu.",
            )
        } else {
            ctx.say.pick(
                "There's no deletion pending; your account stays as it is.",
                "Aucune suppression n'est prévue ; ton compte reste tel quel.",
            )
        };
        Ok(json!({ "confirmation": confirmation, "cancelled": cancelled }))
    }
}
