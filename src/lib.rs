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
//! cli/             the subcommands and what each one starts
//! config/          typed config from env, by area; every secret also from NAME_FILE
//! telemetry.rs     tracing (JSON), OTLP export, Prometheus recorder
//! error.rs         AppError and the error policy
//! app.rs           AppState, shared by every handler and job
//! startup.rs       Application::build: binds listeners, runs the server
//! cache.rs         Redis, for what may be lost
//! http_client.rs   what outbound HTTP clients share (Retry-After, redaction)
//! db/              pools, UserTx, migrations runner, job queue, dev PostgreSQL
//! store/           per-user data, always through a UserTx; the cross-user calls
//!                  and operator views (with db/, the only place SQL is written)
//! reminders/       reminder rules: decide() and their wording
//! agent/           runner, planner, conversation summary, reminder replies
//!   llm/           LlmClient; gemini, openai-compatible, offline rules, chain with breakers
//!   tools/         Tool trait, registry, built-in tools
//! oauth/           per-person OAuth: token vault, providers, connect flow, refresh
//! privacy/         export links, what an erase reaches beyond the rows, deletion by text
//! integrations/    provider API clients: calendars (Google, Microsoft), web search
//! knowledge/       the person's notes and Notion: chunking, embeddings, hybrid retrieval
//! sms_router/      Twilio webhook, signature, keywords, senders, segments, limits, pacing
//! workers/         apalis wiring and one file per job
//! api/             axum routers, middleware, health, metrics
//! admin/           operator CLI commands
//! ```
//!
//! Arrows point one way (`tests/layering.rs` checks them): `api` calls into
//! `agent`, `sms_router`, `oauth` and `store`; `workers` call into `agent`,
//! `sms_router` (delivery), `reminders`, `oauth` and `store`; `agent` into
//! `reminders`, `oauth` and `store`; `sms_router` into `store` only;
//! `store` calls nothing above `db`.

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
pub mod integrations;
pub mod knowledge;
pub mod oauth;
pub mod privacy;
pub mod reminders;
pub mod sms_router;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod workers;
