//! The mail tools that write: `mail_draft` (kept in the person's Drafts,
//! no question asked) and `mail_send` (always asked first; the question
//! names the recipient — for a reply, read from the original message —
//! and the text that will go).

use std::collections::HashSet;

use serde_json::{Value, json};

use super::{any_mail, chosen, failure, mailbox, provider};
use crate::agent::tools::{
    Effect, Integration, RemoteContext, Tool, ToolContext, ToolError, Wording, arg_str,
};
use crate::http_client::shorten;
use crate::integrations::Integrations;
use crate::integrations::mail::{Address, Outgoing};

/// Characters of the text shown in a question; the rest is counted.
const SHOWN_CHARS: usize = 200;

fn parameters(verb: &str) -> Value {
    json!({
        "type": "object",
        "properties": {
            "to": {"type": "array", "items": {"type": "string", "maxLength": 254}, "maxItems": 10,
                   "description": format!("addresses to {verb} to; leave out when replying")},
            "subject": {"type": "string", "maxLength": 200, "description": "leave out when replying"},
            "body": {"type": "string", "maxLength": 2000, "description": "plain text"},
            "reply_to_id": {"type": "string", "maxLength": 512, "description": "id of the message this answers (from mail_search)"},
        },
        "required": ["body"],
    })
}

/// The message the arguments describe; bad addresses are the model's
/// mistake, told back to it.
fn outgoing(args: &Value) -> Result<Outgoing, ToolError> {
    let body = arg_str(args, "body")
        .ok_or_else(|| ToolError::Invalid("body is required".into()))?
        .to_string();
    let mut to = Vec::new();
    for raw in args
        .get("to")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        to.push(
            Address::parse(raw)
                .ok_or_else(|| ToolError::Invalid(format!("not an email address: {raw}")))?,
        );
    }
    let in_reply_to = arg_str(args, "reply_to_id").map(str::to_owned);
    if in_reply_to.is_none() && to.is_empty() {
        return Err(ToolError::Invalid(
            "give to (addresses) or reply_to_id".into(),
        ));
    }
    Ok(Outgoing {
        to,
        subject: arg_str(args, "subject").unwrap_or_default().to_string(),
        body,
        in_reply_to,
    })
}

/// `"I'll be 10 min late"`, or its first words and the length.
fn quoted(body: &str, say: Wording) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let count = flat.chars().count();
    if count <= SHOWN_CHARS {
        return format!("\"{flat}\"");
    }
    say.pick(
        &format!("\"{}\" ({count} characters)", shorten(&flat, SHOWN_CHARS)),
        &format!("« {} » ({count} caractères)", shorten(&flat, SHOWN_CHARS)),
    )
}

/// "to marie@example.com (subject "Late"): "I'll be 10 min late"" for a
/// new message; for a reply, `recipient` is read from the original.
fn what(mail: &Outgoing, recipient: Option<(&str, &str)>, say: Wording) -> String {
    let text = quoted(&mail.body, say);
    match (&mail.in_reply_to, recipient) {
        (Some(_), Some((to, subject))) => say.pick(
            &format!("reply to {to} ({subject}): {text}"),
            &format!("répondre à {to} ({subject}) : {text}"),
        ),
        (Some(_), None) => say.pick(
            &format!("reply to the sender of that mail: {text}"),
            &format!("répondre à l'expéditeur de ce courriel : {text}"),
        ),
        (None, _) => {
            let to: Vec<&str> = mail.to.iter().map(Address::as_str).collect();
            let subject = match mail.subject.is_empty() {
                true => String::new(),
                false => say.pick(
                    &format!(" (subject \"{}\")", shorten(&mail.subject, 60)),
                    &format!(" (objet « {} »)", shorten(&mail.subject, 60)),
                ),
            };
            say.pick(
                &format!("to {}{subject}: {text}", to.join(", ")),
                &format!("à {}{subject} : {text}", to.join(", ")),
            )
        }
    }
}

/// A held call described with the reply's real recipient, asked of the
/// provider with no transaction open.
async fn describe(
    s: &Integrations,
    ctx: &RemoteContext<'_>,
    args: &Value,
) -> Option<(Outgoing, String)> {
    let mail = outgoing(args).ok()?;
    let target = match (&mail.in_reply_to, provider(ctx.connected)) {
        (Some(id), Some(p)) => s.mail_reply_target(ctx.user.id, p, id).await.ok(),
        _ => None,
    };
    let target = target.map(|t| (t.to.to_string(), shorten(&t.subject, 60)));
    let recipient = target.as_ref().map(|(to, s)| (to.as_str(), s.as_str()));
    let shown = what(&mail, recipient, ctx.say);
    Some((mail, shown))
}

pub(super) struct Draft(pub(super) Integrations);

#[async_trait::async_trait]
impl Tool for Draft {
    fn name(&self) -> &'static str {
        "mail_draft"
    }
    fn description(&self) -> &'static str {
        "Save an email as a draft in the person's mailbox (not sent); a reply stays in its thread."
    }
    fn parameters(&self) -> Value {
        parameters("write")
    }
    /// Private: the draft stays in the person's own Drafts folder.
    fn effect(&self) -> Effect {
        Effect::Write
    }
    fn available(&self, connected: &HashSet<Integration>) -> bool {
        any_mail(connected)
    }
    fn remote(&self) -> bool {
        true
    }
    fn describe_call(&self, args: &Value, say: Wording) -> String {
        match outgoing(args) {
            Ok(mail) => say.pick(
                &format!("save a draft {}", what(&mail, None, say)),
                &format!("enregistrer un brouillon {}", what(&mail, None, say)),
            ),
            Err(_) => say.pick("save a draft", "enregistrer un brouillon"),
        }
    }
    async fn describe_remote(&self, ctx: &RemoteContext<'_>, args: &Value) -> Option<String> {
        let (_, shown) = describe(&self.0, ctx, args).await?;
        Some(ctx.say.pick(
            &format!("save a draft: {shown}"),
            &format!("enregistrer un brouillon : {shown}"),
        ))
    }
    async fn call(&self, _ctx: &mut ToolContext<'_>, _args: Value) -> Result<Value, ToolError> {
        Err(ToolError::Invalid("mail_draft runs remotely".into()))
    }
    #[tracing::instrument(skip_all, fields(tool = "mail_draft"))]
    async fn call_remote(&self, ctx: &RemoteContext<'_>, args: Value) -> Result<Value, ToolError> {
        let p = chosen(ctx)?;
        let mail = outgoing(&args)?;
        let id = match self.0.mail_draft(ctx.user.id, p, &mail).await {
            Ok(id) => id,
            Err(e) => return failure(&self.0, ctx, p, e).await,
        };
        Ok(json!({
            "draft_id": id,
            "confirmation": ctx.say.pick(
                &format!("Draft saved in {} — not sent.", mailbox(p)),
                &format!("Brouillon enregistré dans {} — pas envoyé.", mailbox(p)),
            ),
        }))
    }
}

pub(super) struct SendMail(pub(super) Integrations);

#[async_trait::async_trait]
impl Tool for SendMail {
    fn name(&self) -> &'static str {
        "mail_send"
    }
    fn description(&self) -> &'static str {
        "Send an email, or reply to one (reply_to_id), from the person's mailbox. Always asks the person first."
    }
    fn parameters(&self) -> Value {
        parameters("send")
    }
    fn effect(&self) -> Effect {
        Effect::External
    }
    fn available(&self, connected: &HashSet<Integration>) -> bool {
        any_mail(connected)
    }
    fn remote(&self) -> bool {
        true
    }
    fn describe_call(&self, args: &Value, say: Wording) -> String {
        match outgoing(args) {
            Ok(mail) if mail.in_reply_to.is_some() => what(&mail, None, say),
            Ok(mail) => say.pick(
                &format!("send {}", what(&mail, None, say)),
                &format!("envoyer {}", what(&mail, None, say)),
            ),
            Err(_) => say.pick("send an email", "envoyer un courriel"),
        }
    }
    async fn describe_remote(&self, ctx: &RemoteContext<'_>, args: &Value) -> Option<String> {
        let (mail, shown) = describe(&self.0, ctx, args).await?;
        Some(match mail.in_reply_to {
            Some(_) => shown,
            None => ctx
                .say
                .pick(&format!("send {shown}"), &format!("envoyer {shown}")),
        })
    }
    async fn call(&self, _ctx: &mut ToolContext<'_>, _args: Value) -> Result<Value, ToolError> {
        Err(ToolError::Invalid("mail_send runs remotely".into()))
    }
    #[tracing::instrument(skip_all, fields(tool = "mail_send"))]
    async fn call_remote(&self, ctx: &RemoteContext<'_>, args: Value) -> Result<Value, ToolError> {
        let p = chosen(ctx)?;
        let mail = outgoing(&args)?;
        if let Err(e) = self.0.mail_send(ctx.user.id, p, &mail).await {
            return failure(&self.0, ctx, p, e).await;
        }
        let confirmation = match mail.in_reply_to {
            Some(_) => ctx.say.pick("Reply sent.", "Réponse envoyée."),
            None => {
                let to: Vec<&str> = mail.to.iter().map(Address::as_str).collect();
                ctx.say.pick(
                    &format!("Sent to {}.", to.join(", ")),
                    &format!("Envoyé à {}.", to.join(", ")),
                )
            }
        };
        Ok(json!({ "confirmation": confirmation }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_question_shows_who_and_what() {
        let say = Wording { french: false };
        let send = |args: Value| outgoing(&args).map(|m| what(&m, None, say));
        assert_eq!(
            send(json!({"to": ["Marie <marie@example.com>"], "body": "I'll be 10 min late"}))
                .unwrap(),
            "to marie@example.com: \"I'll be 10 min late\""
        );
        let long = "x ".repeat(300);
        assert!(
            send(json!({"to": ["a@b.example"], "subject": "Hi", "body": long}))
                .unwrap()
                .ends_with("(599 characters)")
        );
        assert!(send(json!({"to": ["not an address"], "body": "x"})).is_err());
        assert!(send(json!({"body": "x"})).is_err());
        let reply = outgoing(&json!({"reply_to_id": "m1", "body": "OK"})).unwrap();
        assert_eq!(
            what(&reply, Some(("marie@example.com", "Re: Pickup")), say),
            "reply to marie@example.com (Re: Pickup): \"OK\""
        );
    }
}
