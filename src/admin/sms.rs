//! `nudge admin sms simulate`: post an inbound SMS to a running server,
//! signed exactly as Twilio signs it, so the whole path runs as in
//! production (development signs with its fixed token unless
//! `TWILIO_AUTH_TOKEN` is set).

use clap::Subcommand;
use secrecy::ExposeSecret;

use super::AdminError;
use super::output::Rendered;
use crate::config::Config;
use crate::sms_router::signature::compute_signature;

#[derive(Debug, Subcommand)]
pub enum SmsCommand {
    /// Send a signed webhook as if Twilio delivered a text.
    Simulate {
        /// The sender, e.g. +15145550101.
        #[arg(long)]
        from: String,
        /// The message text.
        text: String,
        /// Where to post (default: PUBLIC_BASE_URL/twilio/sms).
        #[arg(long)]
        url: Option<String>,
    },
}

pub async fn execute(config: &Config, command: SmsCommand) -> Result<Rendered, AdminError> {
    let SmsCommand::Simulate { from, text, url } = command;
    let from = super::parse_phone(&from)?;
    let token = config.twilio.signing_token(config.env).ok_or_else(|| {
        AdminError::Refused("TWILIO_AUTH_TOKEN is not set; webhooks cannot be signed".into())
    })?;
    // The signature covers the public URL, which is what the server checks.
    let signed_url = format!("{}/twilio/sms", config.public_base_url);
    let target = url.unwrap_or_else(|| signed_url.clone());
    let sid = format!("SM{}", uuid::Uuid::new_v4().simple());
    let to = config
        .twilio
        .from_number
        .clone()
        .unwrap_or_else(|| "+15005550006".into());
    let params: Vec<(String, String)> = [
        ("MessageSid", sid.as_str()),
        ("SmsSid", sid.as_str()),
        (
            "AccountSid",
            config
                .twilio
                .account_sid
                .as_deref()
                .unwrap_or("ACsimulated"),
        ),
        ("From", from.as_str()),
        ("To", to.as_str()),
        ("Body", text.as_str()),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let signature = compute_signature(token.expose_secret(), &signed_url, &params);
    let response = reqwest::Client::new()
        .post(&target)
        .header("X-Twilio-Signature", signature)
        .form(&params)
        .send()
        .await
        .map_err(|e| AdminError::Failed(anyhow::anyhow!("cannot reach {target}: {e}")))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        return Err(AdminError::Failed(anyhow::anyhow!(
            "{target} answered {status}: {body}"
        )));
    }
    Ok(Rendered::message(
        serde_json::json!({"message_sid": sid, "status": status.as_u16()}),
        format!("delivered as {sid} ({status}); the reply goes through the configured sender"),
    ))
}
