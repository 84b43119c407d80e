//! `POST /twilio/sms`, and the request handling both Twilio webhooks share
//! (signature, form parameters; the status callback is
//! [`super::status_callback`]).
//!
//! Inbound: check the signature against `PUBLIC_BASE_URL` + path and query
//! (never the Host header), dedupe on `MessageSid`, identify the sender,
//! handle keywords (see [`super::keywords`]: opt-out, opt-in and help,
//! answered in the person's language), then store the message and enqueue
//! its `agent_turn` job in one transaction and answer empty TwiML. Nothing
//! here waits for a model.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde_json::json;
use sqlx::PgPool;

use super::inbound_limits::SenderLimits;
use super::keywords::{self, Action, Matched};
use super::outbound::OPT_OUT_CONFIRMATION_PREFIX;
use super::rate_limit::RedisLimiter;
use super::signature::verify_signature;
use crate::config::Config;
use crate::db::UserTx;
use crate::db::queue::{self, AgentTurnJob, DeliverSmsJob, JobOptions, OnboardingSmsJob};
use crate::error::AppError;
use crate::store::{
    Actor, MessageStatus, PhoneNumber, PhoneRecord, SmsMessage, User, UserId, UserStatus,
    record_audit, user_id_for_phone,
};
use crate::store::{account_deletions, cross_user};

/// What the webhooks need of the application: settings, the database and
/// the shared limiter.
#[derive(Clone)]
pub struct WebhookState {
    pub config: Arc<Config>,
    pub db: PgPool,
    /// `None` without Redis.
    pub limiter: Option<RedisLimiter>,
}

const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#;

fn twiml() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml")],
        EMPTY_TWIML,
    )
        .into_response()
}

/// TwiML that answers the sender with one message (for numbers nobody
/// owns, whose texts are never stored).
fn twiml_message(text: &str) -> Response {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c => escaped.push(c),
        }
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml")],
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escaped}</Message></Response>"#
        ),
    )
        .into_response()
}

/// The form parameters in order, repeated names kept. Public so the fuzz
/// targets (`fuzz/`) exercise the webhook's own parsing, not a copy of it.
pub fn form_params(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

pub(super) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Checks `X-Twilio-Signature`; the only way past it is development with
/// verification explicitly switched off.
pub(super) fn check_signature(
    state: &WebhookState,
    uri: &OriginalUri,
    headers: &HeaderMap,
    params: &[(String, String)],
) -> Result<(), AppError> {
    let config = &state.config;
    if config.env.is_development() && config.twilio.skip_signature_validation {
        return Ok(());
    }
    let Some(token) = config.twilio.signing_token(config.env) else {
        return Err(AppError::Forbidden(
            "webhook signatures cannot be checked".into(),
        ));
    };
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AppError::Forbidden("missing X-Twilio-Signature".into()))?;
    let path_and_query = uri.0.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let url = format!("{}{}", config.public_base_url, path_and_query);
    if verify_signature(token.expose_secret(), &url, params, signature) {
        Ok(())
    } else {
        Err(AppError::Forbidden("invalid X-Twilio-Signature".into()))
    }
}

fn outcome(label: &'static str, started: Instant) {
    metrics::counter!("sms_webhooks_total", "outcome" => label).increment(1);
    metrics::histogram!("sms_webhook_ack_seconds").record(started.elapsed().as_secs_f64());
}

#[tracing::instrument(name = "twilio.sms", skip_all)]
pub async fn inbound(
    State(state): State<WebhookState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let started = Instant::now();
    let params = form_params(&body);
    if let Err(e) = check_signature(&state, &uri, &headers, &params) {
        outcome("forbidden", started);
        return Err(e);
    }
    let sid = param(&params, "MessageSid")
        .or_else(|| param(&params, "SmsSid"))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AppError::BadRequest("MessageSid is missing".into()))?
        .to_string();
    let from_raw =
        param(&params, "From").ok_or_else(|| AppError::BadRequest("From is missing".into()))?;
    let text = param(&params, "Body").unwrap_or("").to_string();
    let media = media_of(&params);

    let Ok(from) = from_raw.parse::<PhoneNumber>() else {
        // Short codes and alphanumeric senders are not people we serve.
        tracing::info!("message from a sender that is not a phone number");
        outcome("unknown", started);
        return Ok(twiml());
    };

    // Redis is asked once per webhook, however often the database work runs.
    let limits = tokio::sync::OnceCell::new();
    let (label, reply) =
        crate::error::reconnecting(|| receive(&state, &from, &sid, &text, &media, &limits)).await?;
    outcome(label, started);
    Ok(reply)
}

/// The webhook's database work. Idempotent by `MessageSid`, so it may run
/// again after a lost connection: a second run that finds the first one
/// committed answers "duplicate".
async fn receive(
    state: &WebhookState,
    from: &PhoneNumber,
    sid: &str,
    text: &str,
    media: &serde_json::Value,
    limits: &tokio::sync::OnceCell<SenderLimits>,
) -> Result<(&'static str, Response), AppError> {
    Ok(match user_id_for_phone(&state.db, from).await? {
        None => match keywords::keyword(text, false, &state.config.twilio) {
            // START from a number nobody owns is an ordinary hello.
            Some(kw) if kw.action != Action::OptIn => {
                unknown_keyword(state, from, sid, &kw).await?
            }
            _ => (unknown_sender(state, from, sid).await?, twiml()),
        },
        Some(user_id) => {
            let limits = *limits
                .get_or_init(|| SenderLimits::ask(state, user_id, from, text))
                .await;
            let label = known_sender(state, user_id, from, sid, text, media, limits).await?;
            (label, twiml())
        }
    })
}

/// STOP/ARRET or HELP/AIDE from a number nobody owns: answered in the
/// webhook's own TwiML (nothing is stored for such numbers), in the
/// keyword's language, at most once per keyword kind per number per ten
/// minutes. When Redis cannot say, it answers: a missing HELP or opt-out
/// confirmation is a compliance failure, a second one is not.
async fn unknown_keyword(
    state: &WebhookState,
    from: &PhoneNumber,
    sid: &str,
    kw: &Matched,
) -> Result<(&'static str, Response), AppError> {
    // Logged before Redis is asked, so that work run again after a lost
    // connection does not find its own answer already counted.
    let mut conn = state.db.acquire().await?;
    cross_user::log_identification(&mut conn, from, None, "unknown", sid).await?;
    drop(conn);
    let may_answer = match &state.limiter {
        Some(limiter) => limiter
            .first_in_window(
                &format!("kw:{}:{from}", kw.action.as_str()),
                std::time::Duration::from_secs(600),
            )
            .await
            .unwrap_or(true),
        None => true,
    };
    let twilio = &state.config.twilio;
    let locale = kw.answer_in(None);
    let (label, text) = match kw.action {
        Action::Help => ("help", keywords::help_text(locale, twilio)),
        _ => ("opt_out", keywords::opted_out_text(locale, false, twilio)),
    };
    metrics::counter!("sms_keywords_total", "action" => kw.action.as_str(), "sender" => "unknown")
        .increment(1);
    Ok(match may_answer {
        true => (label, twiml_message(&text)),
        false => (label, twiml()),
    })
}

/// `NumMedia` and every `MediaUrlN`/`MediaContentTypeN`, as stored
/// metadata (at most ten items). Public for the fuzz targets, like
/// [`form_params`].
pub fn media_of(params: &[(String, String)]) -> serde_json::Value {
    let count: usize = param(params, "NumMedia")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let items: Vec<_> = (0..count.min(10))
        .filter_map(|i| {
            let url = param(params, &format!("MediaUrl{i}"))?;
            Some(json!({
                "url": url,
                "content_type": param(params, &format!("MediaContentType{i}")),
            }))
        })
        .collect();
    json!(items)
}

async fn unknown_sender(
    state: &WebhookState,
    from: &PhoneNumber,
    sid: &str,
) -> Result<&'static str, AppError> {
    let mut tx = state.db.begin().await?;
    let may_reply =
        cross_user::log_unknown_sender(&mut tx, from, sid, state.config.twilio.onboarding_window)
            .await?;
    if may_reply {
        queue::enqueue(
            &mut tx,
            &OnboardingSmsJob {
                phone: from.as_str().to_string(),
            },
            JobOptions::default(),
        )
        .await?;
    }
    tx.commit().await?;
    Ok("unknown")
}

async fn log_identification(
    tx: &mut UserTx,
    from: &PhoneNumber,
    outcome: &str,
    sid: &str,
) -> Result<(), sqlx::Error> {
    let user = UserId(tx.uuid());
    cross_user::log_identification(tx.conn(), from, Some(user), outcome, sid).await
}

async fn known_sender(
    state: &WebhookState,
    user_id: UserId,
    from: &PhoneNumber,
    sid: &str,
    text: &str,
    media: &serde_json::Value,
    SenderLimits { limited, slow_down }: SenderLimits,
) -> Result<&'static str, AppError> {
    let received = Received {
        from,
        sid,
        text,
        media,
    };
    let mut tx = UserTx::begin(&state.db, user_id).await?;
    let user = User::current(&mut tx).await?;
    if user.status == UserStatus::Disabled {
        log_identification(&mut tx, from, "disabled", sid).await?;
        tx.commit().await?;
        return Ok("disabled");
    }
    let phone = PhoneRecord::find(&mut tx, from).await?;
    let opted_out = phone.as_ref().is_some_and(|p| p.opted_out_at.is_some());
    // A text from a number the carrier called unreachable proves it is not
    // (any more): sending to it resumes.
    if let Some(p) = phone.as_ref().filter(|p| p.unreachable_at.is_some())
        && PhoneRecord::clear_unreachable(&mut tx, from.as_str()).await?
    {
        record_audit(
            tx.conn(),
            Some(user_id),
            Actor::System,
            "phone.reachable",
            json!({ "phone_id": p.id, "was": p.unreachable_reason }),
        )
        .await?;
    }

    if let Some(kw) = keywords::keyword(text, opted_out, &state.config.twilio) {
        let stored = received.store(&mut tx, MessageStatus::Keyword).await?;
        if stored.is_none() {
            return Ok("duplicate");
        }
        log_identification(
            &mut tx,
            from,
            if opted_out { "opted_out" } else { "matched" },
            sid,
        )
        .await?;
        let twilio = &state.config.twilio;
        let locale = kw.answer_in(Some(user.locale()));
        match kw.action {
            Action::OptOut => {
                // One confirmation, on the change only: a second STOP gets
                // nothing (Twilio would refuse it anyway).
                if PhoneRecord::opt_out_by_keyword(&mut tx, from.as_str(), &kw.word).await? {
                    let text = keywords::opted_out_text(locale, true, twilio);
                    let key = format!("{OPT_OUT_CONFIRMATION_PREFIX}{sid}");
                    queue_reply(&mut tx, &text, &key).await?;
                }
            }
            Action::OptIn => {
                let after_cancel = opted_out
                    && phone
                        .as_ref()
                        .and_then(|p| p.opted_out_via.as_deref())
                        .is_some_and(|w| w == "CANCEL");
                PhoneRecord::set_opted_out(&mut tx, from.as_str(), false).await?;
                let mut text = keywords::opted_in_text(locale, after_cancel, twilio);
                // START during a deletion's grace period keeps the account.
                if account_deletions::cancel(&mut tx).await? {
                    let details = json!({ "via": "START" });
                    record_audit(
                        tx.conn(),
                        Some(user_id),
                        Actor::User,
                        "user.delete_cancelled",
                        details,
                    )
                    .await?;
                    text.push(' ');
                    text.push_str(keywords::deletion_cancelled_note(locale));
                }
                queue_reply(&mut tx, &text, &format!("optin:{sid}")).await?;
            }
            // Twilio answers nothing to an opted-out number, HELP included.
            Action::Help if opted_out => {}
            Action::Help => {
                let text = keywords::help_text(locale, twilio);
                queue_reply(&mut tx, &text, &format!("help:{sid}")).await?;
            }
        }
        tx.commit().await?;
        metrics::counter!("sms_keywords_total", "action" => kw.action.as_str(), "sender" => "known")
            .increment(1);
        return Ok(match kw.action {
            Action::OptOut => "opt_out",
            Action::OptIn => "opt_in",
            Action::Help => "help",
        });
    }

    if opted_out {
        // Kept, never answered: nothing goes to an opted-out number.
        let stored = received.store(&mut tx, MessageStatus::OptedOut).await?;
        if stored.is_some() {
            log_identification(&mut tx, from, "opted_out", sid).await?;
        }
        tx.commit().await?;
        return Ok("opted_out");
    }

    let status = if limited.is_some() {
        MessageStatus::RateLimited
    } else {
        MessageStatus::Received
    };
    let Some(message) = received.store(&mut tx, status).await? else {
        return Ok("duplicate");
    };
    log_identification(&mut tx, from, "matched", sid).await?;
    if slow_down {
        queue_reply(&mut tx, keywords::SLOW_DOWN_TEXT, &format!("slow:{sid}")).await?;
    }
    // A kept message gets its turn once the sender is back under the limit.
    let run_at = limited.map(|wait| std::time::SystemTime::now() + wait);
    queue::enqueue(
        tx.conn(),
        &AgentTurnJob {
            user_id: user_id.0,
            message_id: message.id,
        },
        JobOptions {
            run_at,
            ..JobOptions::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(if limited.is_some() {
        "rate_limited"
    } else {
        "accepted"
    })
}

/// The text being received, as the webhook read it.
struct Received<'a> {
    from: &'a PhoneNumber,
    sid: &'a str,
    text: &'a str,
    media: &'a serde_json::Value,
}

impl Received<'_> {
    /// Stores it with `status`; `None` when its `MessageSid` is already
    /// stored (a retried webhook).
    async fn store(
        &self,
        tx: &mut UserTx,
        status: MessageStatus,
    ) -> Result<Option<SmsMessage>, crate::store::StoreError> {
        SmsMessage::insert_inbound(
            tx,
            self.text,
            self.from.as_str(),
            self.sid,
            self.media,
            status,
        )
        .await
    }
}

/// Stores a fixed reply and its delivery job in the caller's transaction.
async fn queue_reply(
    tx: &mut UserTx,
    body: &str,
    key: &str,
) -> Result<(), crate::store::StoreError> {
    let reply = SmsMessage::insert_outbound(tx, body, key, None).await?;
    let user_id = tx.uuid();
    queue::enqueue(
        tx.conn(),
        &DeliverSmsJob {
            user_id,
            message_id: reply.id,
        },
        JobOptions::default(),
    )
    .await?;
    Ok(())
}
