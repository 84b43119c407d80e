//! `connect_integration` and `disconnect_integration`: connecting an
//! account by text (a one-time link sent back to the person's own number)
//! and disconnecting one (asked first: it revokes Nudge's access).

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Effect, Tool, ToolContext, ToolError, Wording, arg_str};
use crate::db::queue::{self, JobOptions, RevokeTokenJob};
use crate::oauth::{Access, OAuthService, Provider};
use crate::store::integrations;
use crate::store::{Actor, record_audit};

/// Both tools, sharing the OAuth service (`None`: not set up here).
pub fn tools(oauth: Option<OAuthService>) -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(Connect {
            oauth: oauth.clone(),
        }),
        Arc::new(Disconnect { oauth }),
    ]
}

fn parameters() -> Value {
    json!({
        "type": "object",
        "properties": {
            "provider": {
                "type": "string",
                "enum": ["google", "microsoft", "notion"],
                "description": "google (Google Calendar), microsoft (Outlook) or notion",
            },
            "access": {
                "type": "string",
                "enum": ["calendar", "mail"],
                "description": "mail: ask the person for access to their mail too (when they ask about mail and no mail tool is offered)",
            },
        },
        "required": ["provider"],
    })
}

fn access(args: &Value) -> Access {
    arg_str(args, "access")
        .and_then(Access::parse)
        .unwrap_or_default()
}

fn provider(args: &Value) -> Result<Provider, ToolError> {
    arg_str(args, "provider")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| ToolError::Invalid("provider must be google, microsoft or notion".into()))
}

fn unavailable(say: Wording, p: Provider) -> Value {
    json!({
        "confirmation": say.pick(
            &format!("{} can't be connected on this Nudge yet.", p.display_name()),
            &format!("{} ne peut pas encore être connecté sur ce Nudge.", p.display_name()),
        ),
        "available": false,
    })
}

struct Connect {
    oauth: Option<OAuthService>,
}

#[async_trait::async_trait]
impl Tool for Connect {
    fn name(&self) -> &'static str {
        "connect_integration"
    }

    fn description(&self) -> &'static str {
        "Send the person a one-time link to connect their Google Calendar, Outlook or Notion."
    }

    fn parameters(&self) -> Value {
        parameters()
    }

    fn effect(&self) -> Effect {
        Effect::Write
    }

    async fn call(&self, ctx: &mut ToolContext<'_>, args: Value) -> Result<Value, ToolError> {
        let mut p = provider(&args)?;
        let access = access(&args);
        let Some(oauth) = &self.oauth else {
            return Ok(unavailable(ctx.say, p));
        };
        if access == Access::Mail {
            p = mail_provider(ctx, p).await?;
        }
        let link = match oauth.connect_link_for(ctx.tx, p, access).await {
            Ok(link) => link,
            Err(crate::oauth::FlowError::NotConfigured(_)) => return Ok(unavailable(ctx.say, p)),
            Err(e) => return Err(ToolError::Invalid(e.to_string())),
        };
        // Short: the link is long, and the reply must fit two segments.
        if access == Access::Mail {
            let mailbox = if p == Provider::Microsoft {
                "Outlook"
            } else {
                "Gmail"
            };
            return Ok(json!({
                "confirmation": ctx.say.pick(
                    &format!("Allow Nudge into your {mailbox} (15 min): {link}"),
                    &format!("Accès à vos courriels {mailbox} (15 min) : {link}"),
                ),
                "link": link,
            }));
        }
        Ok(json!({
            "confirmation": ctx.say.pick(
                &format!("Tap to connect {} (link works once, 15 min): {link}", p.display_name()),
                &format!("Touchez pour connecter {} (valable une fois, 15 minutes) : {link}", p.display_name()),
            ),
            "link": link,
        }))
    }
}

/// The account mail access is asked for: the one named, unless only the
/// other is connected ("des mails ?" from someone with Outlook alone).
async fn mail_provider(ctx: &mut ToolContext<'_>, named: Provider) -> Result<Provider, ToolError> {
    if named == Provider::Notion {
        return Err(ToolError::Invalid(
            "mail access is for google or microsoft".into(),
        ));
    }
    let connected =
        |i: Option<integrations::Integration>| i.is_some_and(|i| i.status == "connected");
    if connected(integrations::get(ctx.tx, named.as_str()).await?) {
        return Ok(named);
    }
    let other = match named {
        Provider::Google => Provider::Microsoft,
        _ => Provider::Google,
    };
    Ok(
        match connected(integrations::get(ctx.tx, other.as_str()).await?) {
            true => other,
            false => named,
        },
    )
}

struct Disconnect {
    oauth: Option<OAuthService>,
}

#[async_trait::async_trait]
impl Tool for Disconnect {
    fn name(&self) -> &'static str {
        "disconnect_integration"
    }

    fn description(&self) -> &'static str {
        "Disconnect the person's Google Calendar, Outlook or Notion: Nudge's access is revoked and its keys deleted."
    }

    fn parameters(&self) -> Value {
        parameters()
    }

    /// Acts at the provider (revocation): always asked first.
    fn effect(&self) -> Effect {
        Effect::External
    }

    fn describe_call(&self, args: &Value, say: Wording) -> String {
        let name = provider(args).map_or("that account", |p| p.display_name());
        say.pick(
            &format!("disconnect {name} (Nudge loses access to it)"),
            &format!("déconnecter {name} (Nudge n'y aura plus accès)"),
        )
    }

    async fn call(&self, ctx: &mut ToolContext<'_>, args: Value) -> Result<Value, ToolError> {
        let p = provider(&args)?;
        let state = integrations::token_state(ctx.tx, p.as_str()).await?;
        let was = integrations::get(ctx.tx, p.as_str()).await?;
        if was.is_none_or(|i| i.status == "disconnected") {
            return Ok(json!({
                "confirmation": ctx.say.pick(
                    &format!("{} isn't connected.", p.display_name()),
                    &format!("{} n'est pas connecté.", p.display_name()),
                ),
            }));
        }
        // Revocation runs in a job (no transaction over the provider call),
        // enqueued with the deletion so neither happens without the other.
        if let (Some(state), Some(_)) = (state, &self.oauth) {
            let t = state.tokens;
            let (refresh, bytes) = match t.refresh {
                Some(r) => (true, r),
                None => (false, t.access),
            };
            let user_id = ctx.tx.uuid();
            queue::enqueue(
                ctx.tx.conn(),
                &RevokeTokenJob {
                    user_id,
                    provider: p.as_str().into(),
                    key_id: t.key_id,
                    refresh,
                    nonce: bytes.nonce,
                    ciphertext: bytes.ciphertext,
                },
                JobOptions::default(),
            )
            .await
            .map_err(crate::store::StoreError::from)?;
        }
        integrations::disconnect(ctx.tx, p.as_str()).await?;
        let user = ctx.tx.user_id();
        record_audit(
            ctx.tx.conn(),
            Some(user),
            Actor::User,
            "oauth.disconnect",
            json!({ "provider": p.as_str(), "via": "agent" }),
        )
        .await?;
        Ok(json!({
            "confirmation": ctx.say.pick(
                &format!("{} is disconnected; Nudge no longer has access.", p.display_name()),
                &format!("{} est déconnecté ; Nudge n'y a plus accès.", p.display_name()),
            ),
        }))
    }
}
