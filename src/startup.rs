//! Building and running the HTTP server: `Application::build` binds both
//! listeners itself (port 0 in tests) and exposes the ports it got.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::api;
use crate::app::AppState;
use crate::cache::Redis;
use crate::config::Config;
use crate::db;
use crate::sms_router::console_sender::ConsoleSender;
use crate::sms_router::outbound::Outbound;
use crate::sms_router::pacing::Pacer;
use crate::sms_router::rate_limit::RedisLimiter;
use crate::sms_router::sender::SmsSender;
use crate::sms_router::twilio_sender::{TwilioSender, TwilioSettings};

pub struct Application {
    state: AppState,
    listener: TcpListener,
    metrics_listener: TcpListener,
}

impl Application {
    /// Connects lazily to PostgreSQL (so `/readyz` can report it down) and
    /// binds `BIND_ADDR` and `METRICS_ADDR`.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let state = build_state(config)?;
        Self::build_with_state(state).await
    }

    pub async fn build_with_state(state: AppState) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(state.config.bind_addr)
            .await
            .with_context(|| format!("cannot listen on BIND_ADDR {}", state.config.bind_addr))?;
        let metrics_listener = TcpListener::bind(state.config.metrics_addr)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on METRICS_ADDR {}",
                    state.config.metrics_addr
                )
            })?;
        Ok(Self {
            state,
            listener,
            metrics_listener,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn metrics_port(&self) -> u16 {
        self.metrics_listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or(0)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then stops accepting and drains
    /// the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let public = axum::serve(
            self.listener,
            api::router(self.state.clone())
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(wait_for(stop_rx.clone()));
        let metrics = axum::serve(self.metrics_listener, api::metrics_router(self.state))
            .with_graceful_shutdown(wait_for(stop_rx));
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let (a, b) = tokio::join!(public.into_future(), metrics.into_future());
        a.context("public listener failed")?;
        b.context("metrics listener failed")?;
        Ok(())
    }
}

/// The internal listener alone, for processes that serve no public
/// routes (`nudge worker`).
pub struct MetricsListener {
    state: AppState,
    listener: TcpListener,
}

impl MetricsListener {
    pub async fn bind(state: &AppState) -> anyhow::Result<Self> {
        let addr = state.config.metrics_addr;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on METRICS_ADDR {addr}"))?;
        Ok(Self {
            state: state.clone(),
            listener,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        axum::serve(self.listener, api::metrics_router(self.state))
            .with_graceful_shutdown(shutdown)
            .await
            .context("metrics listener failed")
    }
}

async fn wait_for(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// How long start-up waits for [`warm_up`] once the role check is done: a
/// database or Redis that is down must not hold the process back
/// (`/readyz` reports it), while a reachable one is usually connected by
/// the time the role check, which also connects, is done.
const WARM_UP_GRACE: Duration = Duration::from_millis(500);

/// Opens the pool's first connection and Redis's in the background, so the
/// first request (typically the readiness probe) finds both open instead
/// of paying for them: a PostgreSQL connection with TLS costs ~100 ms.
/// Failures are not reported here; the probes that meet them are.
pub fn warm_up(state: &AppState) -> WarmUp {
    let db = state.db.clone();
    let redis = state.redis.clone();
    WarmUp(tokio::spawn(async move {
        let postgres = async {
            let _ = db::ping(&db).await;
        };
        let redis = async {
            if let Some(redis) = &redis {
                let _ = redis.ping().await;
            }
        };
        tokio::join!(postgres, redis);
    }))
}

/// Connections being opened by [`warm_up`].
pub struct WarmUp(tokio::task::JoinHandle<()>);

impl WarmUp {
    /// Waits for the connections, at most [`WARM_UP_GRACE`].
    pub async fn settle(self) {
        let _ = tokio::time::timeout(WARM_UP_GRACE, self.0).await;
    }
}

/// The state shared by serve and worker: lazy pool, lazy Redis, metrics.
pub fn build_state(config: Config) -> anyhow::Result<AppState> {
    let url = config
        .database_url
        .as_ref()
        .context("DATABASE_URL is not set")?;
    let options = db::connect_options(url)?;
    let pool = db::lazy_pool(options, config.database_max_connections);
    let redis = config.redis_url.as_ref().map(Redis::new).transpose()?;
    let limiter = redis
        .clone()
        .map(|r| RedisLimiter::new(r, format!("{}limit", config.redis_key_prefix)));
    let pacer = Arc::new(Pacer::new(redis.clone(), &config.redis_key_prefix));
    // One HTTP client for every provider: each new client loads the
    // system's TLS roots again (~20 ms each, five of them at start-up).
    let http = reqwest::Client::new();
    let sender = sms_sender(&config, http.clone())?;
    // The recorder first: the breakers publish their state when built.
    let metrics = crate::telemetry::metrics_handle();
    let agent = crate::agent::agent_from_config(&config, pool.clone(), http.clone())?;
    let outbound = Outbound {
        db: pool.clone(),
        sender,
        pacer,
        max_segments: config.twilio.max_segments,
        max_mps: config.twilio.max_mps,
    };
    let oauth = crate::oauth::OAuthService::from_config(&config, pool.clone(), http.clone())
        .map_err(|why| anyhow::anyhow!("OAuth is misconfigured: {why}"))?;
    let export_links = crate::privacy::ExportLinks::from_config(&config)
        .map_err(|why| anyhow::anyhow!("CONNECT_LINK_KEYS: {why}"))?;
    let state = AppState {
        oauth,
        export_links,
        config: Arc::new(config),
        db: pool,
        redis,
        metrics,
        limiter,
        outbound,
        agent,
    };
    check_models(&state.agent);
    Ok(state)
}

/// Asks each remote LLM provider about its model, beside start-up rather
/// than before it: a retired model must show (an error line, `/readyz`,
/// `llm_model_available`) without stopping a process the chain still
/// serves.
fn check_models(agent: &crate::agent::Agent) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let llm = agent.llm().clone();
    runtime.spawn(async move {
        llm.check_models().await;
    });
}

/// Twilio when configured; the console in development otherwise.
fn sms_sender(config: &Config, http: reqwest::Client) -> anyhow::Result<Arc<dyn SmsSender>> {
    match TwilioSettings::from_config(&config.twilio, &config.public_base_url) {
        Ok(Some(settings)) => Ok(Arc::new(TwilioSender::new(settings, http))),
        Ok(None) if config.env.is_development() => Ok(Arc::new(ConsoleSender::new())),
        Ok(None) => anyhow::bail!(
            "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required outside development"
        ),
        Err(why) => anyhow::bail!("Twilio is misconfigured: {why}"),
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
