//! Typed configuration read from the environment.
//!
//! Every secret may instead be read from a file named by `NAME_FILE` (Docker
//! secrets). Secrets are held as [`SecretString`], so neither `Debug` nor a
//! log line can print them. In staging and production, every missing or
//! invalid setting is collected and reported in one [`ConfigError`], so an
//! operator fixes them all in one go.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

mod integrations;
mod knowledge;
mod llm;
mod oauth;
mod reader;
mod twilio;

use integrations::read_integrations;
pub use integrations::{DEFAULT_INTEGRATION_TIMEOUT, IntegrationsConfig};
use knowledge::read_knowledge;
pub use knowledge::*;
pub use llm::*;
use oauth::read_oauth;
pub use oauth::*;
use reader::Reader;
pub use twilio::*;

/// Where this process runs; decides which settings are mandatory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Staging,
    Production,
}

impl Environment {
    pub fn is_development(self) -> bool {
        self == Environment::Development
    }
}

impl FromStr for Environment {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "development" | "dev" => Ok(Environment::Development),
            "staging" => Ok(Environment::Staging),
            "production" | "prod" => Ok(Environment::Production),
            other => Err(format!(
                "'{other}' is not one of development, staging, production"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(LogFormat::Json),
            "pretty" | "text" => Ok(LogFormat::Pretty),
            other => Err(format!("'{other}' is not one of json, pretty")),
        }
    }
}

/// The whole configuration of a `nudge` process. Its `Debug` (below) hides
/// secrets and the credentials or query strings of endpoint URLs.
#[derive(Clone)]
pub struct Config {
    pub env: Environment,
    pub bind_addr: SocketAddr,
    pub metrics_addr: SocketAddr,
    /// The URL Twilio and browsers use to reach us (behind nginx); signatures
    /// are computed against it, never against the Host header.
    pub public_base_url: String,
    /// Application role: owns nothing, subject to row-level security.
    pub database_url: Option<SecretString>,
    /// Owner role: migrations and the admin CLI.
    pub database_admin_url: Option<SecretString>,
    pub database_max_connections: u32,
    pub redis_url: Option<SecretString>,
    /// Every Redis key starts with it, so deployments can share a Redis.
    pub redis_key_prefix: String,
    pub log_format: LogFormat,
    pub otlp_endpoint: Option<String>,
    /// Per-client-IP limit at the edge (requests per second, and burst).
    pub edge_requests_per_second: u32,
    pub edge_burst: u32,
    /// `TRUSTED_PROXIES`: only a TCP peer inside one of these may name the
    /// client in `X-Forwarded-For`/`X-Real-IP`. Empty: the peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Workers prove they are alive this often; one silent for three
    /// heartbeats is dead and its jobs are re-queued.
    pub worker_heartbeat: Duration,
    /// How long identification logs are kept before the maintenance job purges them.
    pub identification_log_retention: Duration,
    /// How long texts are kept (`MESSAGE_RETENTION_DAYS`, default 365);
    /// `None` (0): kept until the person is deleted.
    pub message_retention: Option<Duration>,
    /// How long a deletion asked for by text waits, cancellable
    /// (`ACCOUNT_DELETION_GRACE_DAYS`, default 7; 0: at once).
    pub account_deletion_grace: Duration,
    pub twilio: TwilioConfig,
    pub llm: LlmConfig,
    /// `TOKEN_ENCRYPTION_KEYS`: versioned AES-256-GCM keys, `id:base64key,…`.
    pub token_encryption_keys: Option<SecretString>,
    pub oauth: OAuthConfig,
    /// The provider APIs behind the integration tools.
    pub integrations: IntegrationsConfig,
    /// Notion ingestion and embeddings (the knowledge base).
    pub knowledge: KnowledgeConfig,
}

/// Every problem found while reading the configuration, reported at once.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid configuration ({} problem{}): {}",
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" },
            self.problems.join("; ")
        )
    }
}

impl Config {
    /// Reads the process environment (and `NAME_FILE` files).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads from any variable source; tests pass a map.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut r = Reader {
            lookup: &lookup,
            problems: Vec::new(),
        };

        let env = r.parse("NUDGE_ENV").unwrap_or(Environment::Development);
        let strict = !env.is_development();

        let bind_addr = r
            .parse("BIND_ADDR")
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let metrics_addr = r
            .parse("METRICS_ADDR")
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 9464)));

        let public_base_url = match r.plain("PUBLIC_BASE_URL") {
            Some(url) => match validate_base_url(&url) {
                Ok(url) => url,
                Err(why) => {
                    r.problem(format!("PUBLIC_BASE_URL {why}"));
                    String::new()
                }
            },
            None if strict => {
                r.problem("PUBLIC_BASE_URL is required".into());
                String::new()
            }
            None => format!("http://{bind_addr}"),
        };

        let database_url = r.secret("DATABASE_URL");
        let database_admin_url = r.secret("DATABASE_ADMIN_URL");
        for (name, value) in [
            ("DATABASE_URL", &database_url),
            ("DATABASE_ADMIN_URL", &database_admin_url),
        ] {
            match value {
                Some(url) if !is_postgres_url(url.expose_secret()) => {
                    r.problem(format!("{name} must be a postgres:// or postgresql:// URL"))
                }
                None if strict => r.problem(format!("{name} is required")),
                _ => {}
            }
        }
        if strict
            && let (Some(app), Some(admin)) = (&database_url, &database_admin_url)
            && app.expose_secret() == admin.expose_secret()
        {
            r.problem(
                "DATABASE_ADMIN_URL must differ from DATABASE_URL outside development \
                 (the application role must not own the tables)"
                    .into(),
            );
        }
        let database_max_connections = r.parse("DATABASE_MAX_CONNECTIONS").unwrap_or(10);

        let redis_url = r.secret("REDIS_URL");
        match &redis_url {
            Some(url)
                if !(url.expose_secret().starts_with("redis://")
                    || url.expose_secret().starts_with("rediss://")) =>
            {
                r.problem("REDIS_URL must be a redis:// or rediss:// URL".into())
            }
            None if strict => r.problem("REDIS_URL is required".into()),
            _ => {}
        }

        let redis_key_prefix = r
            .plain("REDIS_KEY_PREFIX")
            .unwrap_or_else(|| "nudge:".into());
        let log_format = r.parse("LOG_FORMAT").unwrap_or(if strict {
            LogFormat::Json
        } else {
            LogFormat::Pretty
        });
        let otlp_endpoint = r.plain("OTEL_EXPORTER_OTLP_ENDPOINT");
        let edge_requests_per_second = r
            .parse::<u32>("EDGE_REQUESTS_PER_SECOND")
            .unwrap_or(100)
            .max(1);
        let edge_burst = r.parse::<u32>("EDGE_BURST").unwrap_or(200).max(1);
        let trusted_proxies = r
            .plain("TRUSTED_PROXIES")
            .map(|raw| parse_cidrs(&raw))
            .transpose()
            .unwrap_or_else(|why| {
                r.problem(format!("TRUSTED_PROXIES: {why}"));
                None
            })
            .unwrap_or_default();
        let worker_heartbeat = Duration::from_secs(
            r.parse::<u64>("WORKER_HEARTBEAT_SECONDS")
                .unwrap_or(5)
                .max(1),
        );
        let identification_log_retention = Duration::from_secs(
            r.parse::<u64>("IDENTIFICATION_LOG_RETENTION_DAYS")
                .unwrap_or(30)
                * 86_400,
        );
        // A year: the agent needs only recent turns (older ones live on in
        // summaries and memories), a person may still look back months,
        // and nothing is kept forever by default (storage limitation).
        let message_retention = match r.parse::<u64>("MESSAGE_RETENTION_DAYS").unwrap_or(365) {
            0 => None,
            days => Some(Duration::from_secs(days.saturating_mul(86_400))),
        };
        let account_deletion_grace = Duration::from_secs(
            r.parse::<u64>("ACCOUNT_DELETION_GRACE_DAYS")
                .unwrap_or(7)
                .saturating_mul(86_400),
        );

        let twilio = TwilioConfig {
            account_sid: r.plain("TWILIO_ACCOUNT_SID"),
            auth_token: r.secret("TWILIO_AUTH_TOKEN"),
            from_number: r.plain("TWILIO_FROM_NUMBER"),
            messaging_service_sid: r.plain("TWILIO_MESSAGING_SERVICE_SID"),
            api_base: r
                .plain("TWILIO_API_BASE")
                .unwrap_or_else(|| DEFAULT_TWILIO_API_BASE.into()),
            max_mps: r.parse("TWILIO_MAX_MPS").unwrap_or(1.0),
            skip_signature_validation: r
                .parse::<bool>("TWILIO_SKIP_SIGNATURE_VALIDATION")
                .unwrap_or(false),
            max_segments: r.parse::<u32>("SMS_MAX_SEGMENTS").unwrap_or(3).max(1),
            onboarding_window: Duration::from_secs(
                r.parse::<u64>("ONBOARDING_REPLY_WINDOW_HOURS")
                    .unwrap_or(24)
                    * 3600,
            ),
            inbound_per_minute: r
                .parse::<u32>("INBOUND_MESSAGES_PER_MINUTE")
                .unwrap_or(20)
                .max(1),
            extra_opt_out_keywords: r.list("SMS_EXTRA_OPT_OUT_KEYWORDS"),
            extra_opt_in_keywords: r.list("SMS_EXTRA_OPT_IN_KEYWORDS"),
            extra_help_keywords: r.list("SMS_EXTRA_HELP_KEYWORDS"),
            service_name: r
                .plain("SMS_SERVICE_NAME")
                .unwrap_or_else(|| "Nudge".into()),
            help_contact: r.plain("SMS_HELP_CONTACT"),
            rates_notice: r.parse::<bool>("SMS_RATES_NOTICE").unwrap_or(true),
        };
        if strict && twilio.auth_token.is_none() {
            r.problem(
                "TWILIO_AUTH_TOKEN is required (webhook signatures are checked with it)".into(),
            );
        }
        if twilio.skip_signature_validation && strict {
            r.problem(
                "TWILIO_SKIP_SIGNATURE_VALIDATION may only be set with NUDGE_ENV=development"
                    .into(),
            );
        }

        let llm = LlmConfig {
            gemini_api_key: r.secret("GEMINI_API_KEY"),
            gemini_base_url: r
                .plain("GEMINI_BASE_URL")
                .unwrap_or_else(|| DEFAULT_GEMINI_BASE_URL.into()),
            gemini_model: r
                .plain("GEMINI_MODEL")
                .unwrap_or_else(|| DEFAULT_GEMINI_MODEL.into()),
            gemini_thinking_level: r
                .plain("GEMINI_THINKING_LEVEL")
                .unwrap_or_else(|| "low".into()),
            fallback_base_url: r.plain("LLM_FALLBACK_BASE_URL"),
            fallback_api_key: r.secret("LLM_FALLBACK_API_KEY"),
            fallback_model: r.plain("LLM_FALLBACK_MODEL"),
            fallback_max_tokens: r
                .parse::<u32>("LLM_FALLBACK_MAX_TOKENS")
                .unwrap_or(DEFAULT_LLM_FALLBACK_MAX_TOKENS)
                .max(1),
            daily_token_budget: r.parse("LLM_DAILY_TOKEN_BUDGET").unwrap_or(200_000),
            daily_cost_budget_micros: r
                .dollars("LLM_DAILY_COST_BUDGET_USD")
                .unwrap_or(DEFAULT_DAILY_COST_BUDGET_MICROS),
            remote_budget: r
                .seconds("LLM_REMOTE_BUDGET_SECONDS")
                .unwrap_or(DEFAULT_LLM_REMOTE_BUDGET),
            provider_deadline: r.seconds("LLM_PROVIDER_DEADLINE_SECONDS"),
        };
        if let Some(cap) = llm.provider_deadline
            && cap > llm.remote_budget
        {
            r.problem(format!(
                "LLM_PROVIDER_DEADLINE_SECONDS ({}) is more than LLM_REMOTE_BUDGET_SECONDS ({}), \
                 the time all remote providers share for one call; raise that instead",
                cap.as_secs_f64(),
                llm.remote_budget.as_secs_f64()
            ));
        }

        let token_encryption_keys = r.secret("TOKEN_ENCRYPTION_KEYS");
        if let Some(raw) = &token_encryption_keys
            && let Err(why) = parse_token_keys(raw.expose_secret())
        {
            r.problem(format!("TOKEN_ENCRYPTION_KEYS: {why}"));
        }
        let oauth = read_oauth(&mut r);
        let integrations = read_integrations(&mut r);
        let knowledge = read_knowledge(&mut r);
        let any_provider = [&oauth.google, &oauth.microsoft, &oauth.notion]
            .iter()
            .any(|app| app.client_id.is_some());
        if strict && any_provider {
            if token_encryption_keys.is_none() {
                r.problem("TOKEN_ENCRYPTION_KEYS is required once a provider is configured".into());
            }
            if oauth.connect_link_keys.is_none() {
                r.problem("CONNECT_LINK_KEYS is required once a provider is configured".into());
            }
        }

        if !r.problems.is_empty() {
            return Err(ConfigError {
                problems: r.problems,
            });
        }
        Ok(Config {
            env,
            bind_addr,
            metrics_addr,
            public_base_url,
            database_url,
            database_admin_url,
            database_max_connections,
            redis_url,
            redis_key_prefix,
            log_format,
            otlp_endpoint,
            edge_requests_per_second,
            edge_burst,
            trusted_proxies,
            worker_heartbeat,
            identification_log_retention,
            message_retention,
            account_deletion_grace,
            twilio,
            llm,
            token_encryption_keys,
            oauth,
            integrations,
            knowledge,
        })
    }

    /// A configuration for development and tests: every default, no secrets.
    pub fn development() -> Self {
        Self::from_lookup(|_| None).expect("defaults are valid in development")
    }
}

/// `10.0.0.0/8, 127.0.0.1, ::1/128` → networks; a bare address is one host.
fn parse_cidrs(raw: &str) -> Result<Vec<ipnet::IpNet>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| format!("'{s}' is neither a CIDR (10.0.0.0/8) nor an IP address"))
        })
        .collect()
}

/// An endpoint URL as `Debug` may show it: user, password and query
/// (where API keys hide, e.g. `?key=`) replaced.
fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            if !url.username().is_empty() || url.password().is_some() {
                let _ = url.set_username("redacted");
                let _ = url.set_password(None);
            }
            if url.query().is_some() {
                url.set_query(Some("redacted"));
            }
            url.to_string()
        }
        Err(_) => "(not a URL)".into(),
    }
}

fn redact_opt_url(raw: &Option<String>) -> Option<String> {
    raw.as_deref().map(redact_url)
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("env", &self.env)
            .field("bind_addr", &self.bind_addr)
            .field("metrics_addr", &self.metrics_addr)
            .field("public_base_url", &redact_url(&self.public_base_url))
            .field("database_url", &self.database_url)
            .field("database_admin_url", &self.database_admin_url)
            .field("database_max_connections", &self.database_max_connections)
            .field("redis_url", &self.redis_url)
            .field("redis_key_prefix", &self.redis_key_prefix)
            .field("log_format", &self.log_format)
            .field("otlp_endpoint", &redact_opt_url(&self.otlp_endpoint))
            .field("edge_requests_per_second", &self.edge_requests_per_second)
            .field("edge_burst", &self.edge_burst)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("worker_heartbeat", &self.worker_heartbeat)
            .field(
                "identification_log_retention",
                &self.identification_log_retention,
            )
            .field("message_retention", &self.message_retention)
            .field("account_deletion_grace", &self.account_deletion_grace)
            .field("twilio", &self.twilio)
            .field("llm", &self.llm)
            .field("token_encryption_keys", &self.token_encryption_keys)
            .field("oauth", &self.oauth)
            .field("integrations", &self.integrations)
            .field("knowledge", &self.knowledge)
            .finish_non_exhaustive()
    }
}

fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn validate_base_url(url: &str) -> Result<String, String> {
    let trimmed = url.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(|| format!("'{url}' must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(format!("'{url}' has no valid host"));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn development_needs_nothing() {
        let c = from(&[]).unwrap();
        assert_eq!(c.env, Environment::Development);
        assert_eq!(c.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.metrics_addr.to_string(), "127.0.0.1:9464");
        assert_eq!(c.public_base_url, "http://127.0.0.1:8080");
        assert_eq!(c.log_format, LogFormat::Pretty);
    }

    #[test]
    fn production_lists_every_problem_in_one_error() {
        let err = from(&[
            ("NUDGE_ENV", "production"),
            ("BIND_ADDR", "not-an-addr"),
            ("REDIS_URL", "http://x"),
        ])
        .unwrap_err();
        let msg = err.to_string();
        for needle in [
            "BIND_ADDR",
            "PUBLIC_BASE_URL is required",
            "DATABASE_URL is required",
            "DATABASE_ADMIN_URL is required",
            "REDIS_URL must be",
        ] {
            assert!(msg.contains(needle), "{needle} missing from: {msg}");
        }
        assert!(msg.contains("TWILIO_AUTH_TOKEN is required"), "{msg}");
        assert_eq!(err.problems.len(), 6, "{msg}");
    }

    #[test]
    fn production_refuses_same_app_and_admin_url() {
        let url = "postgres://nudge@db/nudge";
        let err = from(&[
            ("NUDGE_ENV", "production"),
            ("PUBLIC_BASE_URL", "https://nudge.example"),
            ("DATABASE_URL", url),
            ("DATABASE_ADMIN_URL", url),
            ("REDIS_URL", "redis://r"),
            ("TWILIO_AUTH_TOKEN", "t"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("must differ"));
    }

    #[test]
    fn secrets_come_from_files_and_never_print() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        std::fs::write(&path, "postgres://app:hunter2@db/nudge\n").unwrap();
        let c = from(&[("DATABASE_URL_FILE", path.to_str().unwrap())]).unwrap();
        assert_eq!(
            c.database_url.as_ref().unwrap().expose_secret(),
            "postgres://app:hunter2@db/nudge"
        );
        let debug = format!("{c:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn unreadable_secret_file_is_reported_without_contents() {
        let err = from(&[
            ("NUDGE_ENV", "staging"),
            ("REDIS_URL_FILE", "/nonexistent/x"),
        ])
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("REDIS_URL_FILE (/nonexistent/x) cannot be read")
        );
    }

    #[test]
    fn llm_budgets_in_seconds_and_dollars() {
        let c = from(&[]).unwrap();
        assert_eq!(c.llm.remote_budget, Duration::from_secs(4));
        assert_eq!(c.llm.daily_cost_budget_micros, 200_000);
        assert_eq!(c.llm.provider_deadline, None);

        let c = from(&[
            ("LLM_REMOTE_BUDGET_SECONDS", "2.5"),
            ("LLM_PROVIDER_DEADLINE_SECONDS", "1.5"),
            ("LLM_DAILY_COST_BUDGET_USD", "0.05"),
        ])
        .unwrap();
        assert_eq!(c.llm.remote_budget, Duration::from_millis(2_500));
        assert_eq!(c.llm.provider_deadline, Some(Duration::from_millis(1_500)));
        assert_eq!(c.llm.daily_cost_budget_micros, 50_000);

        let msg = from(&[
            ("LLM_REMOTE_BUDGET_SECONDS", "0"),
            ("LLM_DAILY_COST_BUDGET_USD", "-1"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("LLM_REMOTE_BUDGET_SECONDS must be a positive"),
            "{msg}"
        );
        assert!(
            msg.contains("LLM_DAILY_COST_BUDGET_USD must be an amount"),
            "{msg}"
        );

        // A cap the shared budget can never grant is a mistake, said once.
        let msg = from(&[("LLM_PROVIDER_DEADLINE_SECONDS", "8")])
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains(
                "LLM_PROVIDER_DEADLINE_SECONDS (8) is more than LLM_REMOTE_BUDGET_SECONDS (4)"
            ),
            "{msg}"
        );
    }

    #[test]
    fn env_example_documents_every_variable() {
        let seen = std::cell::RefCell::new(std::collections::BTreeSet::new());
        let _ = Config::from_lookup(|k| {
            seen.borrow_mut().insert(k.to_string());
            None
        });
        let example = include_str!("../../.env.example");
        let missing: Vec<_> = seen
            .borrow()
            .iter()
            .filter(|k| !k.ends_with("_FILE") && !example.contains(k.as_str()))
            .cloned()
            .collect();
        assert!(missing.is_empty(), "not in .env.example: {missing:?}");
    }

    #[test]
    fn debug_hides_endpoint_credentials_and_query_strings() {
        let c = from(&[
            ("PUBLIC_BASE_URL", "https://nudge.example"),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://otel:s3cr3t-otlp@otel.example:4318",
            ),
            (
                "TWILIO_API_BASE",
                "https://AC123:tw1l10-token@api.twilio.example",
            ),
            (
                "GEMINI_BASE_URL",
                "https://gemini.example/v1beta?key=AIzaLEAKED",
            ),
            (
                "LLM_FALLBACK_BASE_URL",
                "http://llm:fallback-pass@10.0.0.5:8000/v1",
            ),
            ("DATABASE_URL", "postgres://app:db-pass@db/nudge"),
        ])
        .unwrap();
        let debug = format!("{c:?}");
        for secret in [
            "s3cr3t-otlp",
            "tw1l10-token",
            "AIzaLEAKED",
            "fallback-pass",
            "db-pass",
            "AC123",
        ] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        // Still useful: the hosts remain.
        for host in [
            "otel.example:4318",
            "api.twilio.example",
            "gemini.example",
            "10.0.0.5:8000",
        ] {
            assert!(debug.contains(host), "{host} missing from {debug}");
        }
    }

    #[test]
    fn trusted_proxies_are_cidrs_or_addresses() {
        let c = from(&[("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1 ,::1")]).unwrap();
        let shown: Vec<String> = c.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(shown, ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]);
        assert!(from(&[]).unwrap().trusted_proxies.is_empty());
        let err = from(&[("TRUSTED_PROXIES", "10.0.0.0/8,nginx")]).unwrap_err();
        assert!(err.to_string().contains("'nginx'"), "{err}");
    }

    #[test]
    fn oauth_keys_are_checked_and_required_once_a_provider_is_set() {
        let err = from(&[("TOKEN_ENCRYPTION_KEYS", "1:c2hvcnQ=")]).unwrap_err();
        assert!(
            err.to_string()
                .contains("TOKEN_ENCRYPTION_KEYS: key 1 is not 32 bytes"),
            "{err}"
        );
        assert!(!err.to_string().contains("c2hvcnQ"), "{err}");
        let err = from(&[("CONNECT_LINK_KEYS", "a:short")]).unwrap_err();
        assert!(err.to_string().contains("CONNECT_LINK_KEYS"), "{err}");
        let err = from(&[("NUDGE_ENV", "production"), ("GOOGLE_CLIENT_ID", "id")]).unwrap_err();
        assert!(
            err.to_string()
                .contains("TOKEN_ENCRYPTION_KEYS is required"),
            "{err}"
        );
        assert!(
            err.to_string().contains("CONNECT_LINK_KEYS is required"),
            "{err}"
        );
        let c = from(&[
            ("MICROSOFT_TENANT", "contoso"),
            ("GOOGLE_TOKEN_URL", "http://127.0.0.1:9/token"),
        ])
        .unwrap();
        assert_eq!(
            c.oauth.microsoft.authorize_url,
            "https://login.microsoftonline.com/contoso/oauth2/v2.0/authorize"
        );
        assert_eq!(c.oauth.google.token_url, "http://127.0.0.1:9/token");
        assert_eq!(
            c.oauth.notion.revoke_url.as_deref(),
            Some("https://api.notion.com/v1/oauth/revoke")
        );
    }

    #[test]
    fn skipping_signatures_is_refused_outside_development() {
        let err = from(&[
            ("NUDGE_ENV", "staging"),
            ("TWILIO_SKIP_SIGNATURE_VALIDATION", "true"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("TWILIO_SKIP_SIGNATURE_VALIDATION"));
    }
}
