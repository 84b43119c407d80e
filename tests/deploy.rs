//! The production deployment checked for real on this machine, with the
//! tools an operator's stack runs (no Docker engine needed):
//!
//! - `config`: compose files through docker-compose, `scripts/deploy`,
//!   nginx -t, promtool (config, rules, unit tests of every alert), amtool,
//!   Grafana provisioning and dashboards, the env examples;
//! - `edge`: Debian's nginx with the shipped nginx.conf and a self-signed
//!   certificate in front of a real `nudge serve`: Twilio-signed webhooks,
//!   TLS 1.3, HTTP/2, rate limits, /metrics hidden, request ids;
//! - `metrics`: every metric named by an alert or a dashboard exists, against
//!   live scrapes of `nudge serve`, `nudge dev` (the workers' side) and
//!   Debian's exporters;
//! - `backup`: pgBackRest backup and `scripts/restore-drill` at small size
//!   (`bench/restore_drill.sh`; 1 GB there).
//!
//! `scripts/test` installs the tools (nginx, prometheus, prometheus-alertmanager,
//! the exporters, pgbackrest, docker-compose).

mod common;

#[path = "deploy/support.rs"]
mod support;

#[path = "deploy/config.rs"]
mod config;

#[path = "deploy/edge.rs"]
mod edge;

#[path = "deploy/promql.rs"]
mod promql;

#[path = "deploy/metrics.rs"]
mod metrics;

#[path = "deploy/backup.rs"]
mod backup;
