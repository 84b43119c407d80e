//! Twilio's settings: account, numbers, limits, keywords, signatures.

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;

use super::{Environment, redact_url};

pub const DEFAULT_TWILIO_API_BASE: &str = "https://api.twilio.com";
/// The auth token development uses when none is configured, so webhooks can
/// be signed (by `nudge admin sms simulate`) and checked as in production.
pub const DEVELOPMENT_TWILIO_AUTH_TOKEN: &str = "nudge-development-token";

/// Twilio: the account, the sending number or service, rates and limits.
#[derive(Clone, Default)]
pub struct TwilioConfig {
    pub account_sid: Option<String>,
    pub auth_token: Option<SecretString>,
    pub from_number: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub api_base: String,
    pub max_mps: f64,
    /// Only honoured in development.
    pub skip_signature_validation: bool,
    /// Longer replies are cut at a sentence boundary to fit.
    pub max_segments: u32,
    /// At most one onboarding reply per unknown number per window.
    pub onboarding_window: Duration,
    /// Inbound messages per person (and per number) per minute before "slow down".
    pub inbound_per_minute: u32,
    /// Words added in Twilio's Advanced Opt-Out, mirrored here
    /// (`SMS_EXTRA_OPT_OUT_KEYWORDS`, `_OPT_IN_`, `_HELP_`; comma-separated).
    pub extra_opt_out_keywords: Vec<String>,
    pub extra_opt_in_keywords: Vec<String>,
    pub extra_help_keywords: Vec<String>,
    /// The name the HELP and opt-out texts start with (`SMS_SERVICE_NAME`).
    pub service_name: String,
    /// How a person reaches a human, quoted in the HELP text (`SMS_HELP_CONTACT`).
    pub help_contact: Option<String>,
    /// "Msg & data rates may apply" in the HELP text (`SMS_RATES_NOTICE`,
    /// on by default: US and Canadian carriers expect it).
    pub rates_notice: bool,
}

impl TwilioConfig {
    /// The token webhooks are signed with: the configured one, or in
    /// development a fixed one (see [`DEVELOPMENT_TWILIO_AUTH_TOKEN`]).
    pub fn signing_token(&self, env: Environment) -> Option<SecretString> {
        match (&self.auth_token, env) {
            (Some(t), _) => Some(t.clone()),
            (None, Environment::Development) => {
                Some(SecretString::from(DEVELOPMENT_TWILIO_AUTH_TOKEN))
            }
            (None, _) => None,
        }
    }
}

impl fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioConfig")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &self.auth_token)
            .field("from_number", &self.from_number)
            .field("messaging_service_sid", &self.messaging_service_sid)
            .field("api_base", &redact_url(&self.api_base))
            .field("max_mps", &self.max_mps)
            .field("skip_signature_validation", &self.skip_signature_validation)
            .field("max_segments", &self.max_segments)
            .field("onboarding_window", &self.onboarding_window)
            .field("inbound_per_minute", &self.inbound_per_minute)
            .finish_non_exhaustive()
    }
}
