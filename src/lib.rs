//! Nudge: a multi-tenant personal assistant people reach by SMS.
//!
//! One crate, one binary (`nudge`) with several roles: `serve` (HTTP),
//! `worker` (apalis jobs), `dev` (both, with a private PostgreSQL),
//! `migrate` and `admin`. PostgreSQL is the only source of truth; Redis
//! holds only what may be lost; row-level security isolates each person.
//!
//! # Layout
//!
//! ```text
//! main.rs          thin: parse the CLI, call `cli::run`
//! cli.rs           the subcommands and what each one starts
//! config.rs        typed config from env; every secret also from NAME_FILE
//! telemetry.rs     tracing (JSON), OTLP export, Prometheus recorder
//! error.rs         AppError and the error policy
//! app.rs           AppState, shared by every handler and job
//! startup.rs       Application::build: binds listeners, runs the server
//! cache.rs         Redis, for what may be lost
//! http_client.rs   what outbound HTTP clients share (Retry-After, redaction)
//! db/              pools, UserTx, migrations runner, job queue producer, dev PostgreSQL
//! store/           per-user data, always through a UserTx
//! agent/           runner, planner, conversation summary, reminder replies
//!   llm/           LlmClient; gemini, openai-compatible, offline rules, chain with breakers
//!   tools/         Tool trait, registry, built-in tools
//! oauth/           per-person OAuth: token vault, providers, connect flow, refresh
//! knowledge/       the person's notes and Notion: chunking, embeddings, hybrid retrieval
//! sms_router/      Twilio webhook, signature, keywords, senders, segments, limits, pacing
//! workers/         apalis wiring and one file per job
//! api/             axum routers, middleware, health, metrics
//! admin/           operator CLI commands
//! ```
//!
//! Arrows point one way: `api` and `sms_router` call into `agent`, `store`
//! and `db`; `workers` call into `agent`, `sms_router` and `store`; `store`
//! calls nothing above `db`.

#![forbid(unsafe_code)]

pub mod admin;
pub mod agent;
pub mod api;
pub mod app;
pub mod cache;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod http_client;
pub mod knowledge;
pub mod oauth;
pub mod reminders;
pub mod sms_router;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod workers;
