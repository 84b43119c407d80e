//! The mail tools, over whichever mailbox the person let Nudge read
//! (Gmail first when both are): `mail_search`, `mail_read`, `mail_draft`,
//! `mail_send`. Offered only once the provider is connected *and* its
//! mail scopes were granted (`Integration::GoogleMail`/`MicrosoftMail`);
//! until then, `connect_integration` with `access: "mail"` asks for them.
//!
//! All run remotely (no transaction open while the provider is called).
//! Everything read is untrusted content: strangers write mail. Sending
//! (a reply too) is an External effect and always asks, naming the
//! recipient and the text. A draft does not ask: it stays in the person's
//! own Drafts, seen by no one, sent only by them — as private as a note;
//! after untrusted content was read in a turn, the runner asks anyway.
//!
//! A provider's 403 for a missing scope (the person unticked Gmail on
//! Google's consent screen, or an admin removed it) is answered with a
//! fresh link asking for exactly the mail scopes, rather than an error.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Value, json};

use super::calendar::provider_error;
use super::{Effect, Integration, RemoteContext, Tool, ToolContext, ToolError, arg_str};
use crate::db::UserTx;
use crate::integrations::mail::{Mail, MailQuery, MailSummary};
use crate::integrations::{IntegrationError, Integrations};
use crate::oauth::{Access, Provider};

mod writes;

pub fn tools(integrations: &Integrations) -> Vec<Arc<dyn Tool>> {
    let s = || integrations.clone();
    vec![
        Arc::new(Search(s())),
        Arc::new(Read(s())),
        Arc::new(writes::Draft(s())),
        Arc::new(writes::SendMail(s())),
    ]
}

/// The mailbox to use: Gmail when granted, else Outlook.
fn provider(connected: &HashSet<Integration>) -> Option<Provider> {
    if connected.contains(&Integration::GoogleMail) {
        Some(Provider::Google)
    } else if connected.contains(&Integration::MicrosoftMail) {
        Some(Provider::Microsoft)
    } else {
        None
    }
}

fn any_mail(connected: &HashSet<Integration>) -> bool {
    provider(connected).is_some()
}

fn chosen(ctx: &RemoteContext<'_>) -> Result<Provider, ToolError> {
    provider(ctx.connected).ok_or_else(|| ToolError::Provider("no mailbox is connected".into()))
}

/// The mailbox's name as people say it.
fn mailbox(p: Provider) -> &'static str {
    match p {
        Provider::Microsoft => "Outlook",
        _ => "Gmail",
    }
}

/// A provider's failure: a missing scope becomes a link asking for it
/// (an answer for the person); anything else an error for the model.
async fn failure(
    s: &Integrations,
    ctx: &RemoteContext<'_>,
    p: Provider,
    e: IntegrationError,
) -> Result<Value, ToolError> {
    if !matches!(e, IntegrationError::MissingScope(_)) {
        return Err(provider_error(e));
    }
    let Some(oauth) = s.oauth() else {
        return Err(provider_error(e));
    };
    let mut tx = UserTx::begin(ctx.pool, ctx.user.id).await?;
    let link = oauth
        .connect_link_for(&mut tx, p, Access::Mail)
        .await
        .map_err(|e| ToolError::Provider(e.to_string()))?;
    tx.commit().await?;
    Ok(json!({
        "needs_access": "mail",
        "link": link,
        "confirmation": ctx.say.pick(
            &format!("Nudge needs your OK for {} (15 min): {link}", mailbox(p)),
            &format!("Accord requis pour {} (15 min) : {link}", mailbox(p)),
        ),
    }))
}

/// "Marie Curie" from "Marie Curie <marie@example.com>"; the address
/// when there is no name.
fn who(from: &str) -> String {
    match from.split_once('<') {
        Some((name, _)) if !name.trim().is_empty() => name.trim().trim_matches('"').to_string(),
        Some((_, addr)) => addr.trim_end_matches('>').to_string(),
        None => from.trim().to_string(),
    }
}

/// "2 mails: Marie Curie — Pickup · School — Trip": sender and subject,
/// short, for an SMS.
fn listing(found: &[MailSummary], asked: &MailQuery, say: super::Wording) -> String {
    if found.is_empty() {
        return match &asked.from {
            Some(from) => say.pick(
                &format!("No mail from {from} found."),
                &format!("Aucun courriel de {from} trouvé."),
            ),
            None => say.pick("No mail found.", "Aucun courriel trouvé."),
        };
    }
    let items: Vec<String> = found
        .iter()
        .map(|m| {
            let subject = crate::http_client::shorten(&m.subject, 50);
            format!(
                "{} — {subject}",
                crate::http_client::shorten(&who(&m.from), 30)
            )
        })
        .collect();
    let head = match found.len() {
        1 => say.pick("1 mail", "1 courriel"),
        n => say.pick(&format!("{n} mails"), &format!("{n} courriels")),
    };
    format!("{head}: {}", items.join(" · "))
}

fn query_of(args: &Value) -> MailQuery {
    MailQuery {
        from: arg_str(args, "from").map(str::to_owned),
        text: arg_str(args, "query").map(str::to_owned),
        days: args
            .get("days")
            .and_then(Value::as_u64)
            .map(|d| d.clamp(1, 365) as u32),
        unread_only: args.get("unread").and_then(Value::as_bool).unwrap_or(false),
    }
}

struct Search(Integrations);

#[async_trait::async_trait]
impl Tool for Search {
    fn name(&self) -> &'static str {
        "mail_search"
    }
    fn description(&self) -> &'static str {
        "Search the person's mail (newest first, a few results): by sender, words, recent days or unread. Returns sender, subject, date, a preview and each message's id."
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "from": {"type": "string", "maxLength": 100, "description": "sender name or address"},
                "query": {"type": "string", "maxLength": 200, "description": "words in the subject or text"},
                "days": {"type": "integer", "minimum": 1, "maximum": 365, "description": "only mail from the last N days"},
                "unread": {"type": "boolean", "description": "only unread mail"},
            },
        })
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn available(&self, connected: &HashSet<Integration>) -> bool {
        any_mail(connected)
    }
    fn reads_untrusted(&self) -> Option<&'static str> {
        Some("the person's mail (senders, subjects and previews)")
    }
    fn remote(&self) -> bool {
        true
    }
    async fn call(&self, _ctx: &mut ToolContext<'_>, _args: Value) -> Result<Value, ToolError> {
        Err(ToolError::Invalid("mail_search runs remotely".into()))
    }
    #[tracing::instrument(skip_all, fields(tool = "mail_search"))]
    async fn call_remote(&self, ctx: &RemoteContext<'_>, args: Value) -> Result<Value, ToolError> {
        let p = chosen(ctx)?;
        let query = query_of(&args);
        let found = match self.0.mail_search(ctx.user.id, p, &query).await {
            Ok(found) => found,
            Err(e) => return failure(&self.0, ctx, p, e).await,
        };
        Ok(json!({
            "mailbox": mailbox(p),
            "confirmation": listing(&found, &query, ctx.say),
            "messages": found,
        }))
    }
}

struct Read(Integrations);

fn read_text(m: &Mail, say: super::Wording) -> String {
    let body = m.body.split_whitespace().collect::<Vec<_>>().join(" ");
    let subject = crate::http_client::shorten(&m.subject, 60);
    say.pick(
        &format!(
            "From {} — {subject}: {}",
            who(&m.from),
            crate::http_client::shorten(&body, 220)
        ),
        &format!(
            "De {} — {subject} : {}",
            who(&m.from),
            crate::http_client::shorten(&body, 220)
        ),
    )
}

#[async_trait::async_trait]
impl Tool for Read {
    fn name(&self) -> &'static str {
        "mail_read"
    }
    fn description(&self) -> &'static str {
        "Read one message of the person's mail (by its id from mail_search): headers and plain text, trimmed."
    }
    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"id": {"type": "string", "maxLength": 512}},
            "required": ["id"],
        })
    }
    fn effect(&self) -> Effect {
        Effect::Read
    }
    fn available(&self, connected: &HashSet<Integration>) -> bool {
        any_mail(connected)
    }
    fn reads_untrusted(&self) -> Option<&'static str> {
        Some("the person's mail (a message written by someone else)")
    }
    fn remote(&self) -> bool {
        true
    }
    async fn call(&self, _ctx: &mut ToolContext<'_>, _args: Value) -> Result<Value, ToolError> {
        Err(ToolError::Invalid("mail_read runs remotely".into()))
    }
    #[tracing::instrument(skip_all, fields(tool = "mail_read"))]
    async fn call_remote(&self, ctx: &RemoteContext<'_>, args: Value) -> Result<Value, ToolError> {
        let p = chosen(ctx)?;
        let id = arg_str(&args, "id").ok_or_else(|| ToolError::Invalid("id is required".into()))?;
        let mail = match self.0.mail_read(ctx.user.id, p, id).await {
            Ok(mail) => mail,
            Err(e) => return failure(&self.0, ctx, p, e).await,
        };
        Ok(json!({
            "confirmation": read_text(&mail, ctx.say),
            "message": mail,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_names_sender_and_subject() {
        let say = super::super::Wording { french: false };
        let m = |from: &str, subject: &str| MailSummary {
            id: "1".into(),
            from: from.into(),
            subject: subject.into(),
            date: None,
            snippet: String::new(),
        };
        let found = [
            m("Marie Curie <marie@example.com>", "Pickup"),
            m("<office@school.example>", "Trip"),
        ];
        assert_eq!(
            listing(&found, &MailQuery::default(), say),
            "2 mails: Marie Curie — Pickup · office@school.example — Trip"
        );
        let from = MailQuery {
            from: Some("Marie".into()),
            ..MailQuery::default()
        };
        assert_eq!(listing(&[], &from, say), "No mail from Marie found.");
    }
}
