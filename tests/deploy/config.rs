//! The shipped configuration files, checked by the tools that will read them.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

use crate::support::{read, repo, root, run_ok, stdout, tool, yaml, yaml_text};

const ENVS: [&str; 3] = ["dev", "stage", "prod"];

/// `docker-compose config` of one environment, as JSON.
fn compose(env: &str) -> Value {
    let example = repo(&format!("deploy/env/{env}.env.example"));
    let out = run_ok(
        tool("docker-compose")
            .current_dir(repo("deploy"))
            .env("NUDGE_ENV_FILE", &example)
            .args(["--env-file", example.to_str().unwrap()])
            .args([
                "-f",
                "compose.yml",
                "-f",
                &format!("compose.{env}.yml"),
                "config",
            ]),
    );
    yaml_text(&stdout(&out))
}

fn names(v: &Value) -> BTreeSet<String> {
    match v {
        Value::Object(m) => m.keys().cloned().collect(),
        Value::Array(a) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other["source"].as_str().unwrap_or_default().to_string(),
            })
            .collect(),
        _ => BTreeSet::new(),
    }
}

fn number(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn compose_files_are_valid_for_every_environment_and_keep_the_plan() {
    let replicas = BTreeMap::from([("dev", (1, 1)), ("stage", (1, 1)), ("prod", (2, 3))]);
    for env in ENVS {
        let config = compose(env);
        let services = config["services"].as_object().unwrap();
        for wanted in [
            "migrate",
            "serve",
            "worker",
            "nginx",
            "postgres",
            "redis",
            "backup",
            "prometheus",
            "alertmanager",
            "grafana",
            "loki",
            "alloy",
            "jaeger",
            "postgres-exporter",
            "redis-exporter",
            "node-exporter",
        ] {
            assert!(services.contains_key(wanted), "{env}: no {wanted} service");
        }
        let (serve, worker) = replicas[env];
        assert_eq!(
            number(&services["serve"]["deploy"]["replicas"]),
            serve,
            "{env}"
        );
        assert_eq!(
            number(&services["worker"]["deploy"]["replicas"]),
            worker,
            "{env}"
        );

        for (name, service) in services {
            let networks = names(&service["networks"]);
            // PostgreSQL and Redis, and everything but the edge, stay off `front`.
            match name.as_str() {
                "nginx" => assert_eq!(networks, BTreeSet::from(["front".into()]), "{env}"),
                "serve" => assert!(networks.contains("front") && networks.contains("back")),
                _ => assert!(
                    !networks.contains("front"),
                    "{env}: {name} is on the front network"
                ),
            }
            let restart = service["restart"].as_str().unwrap_or_default();
            match name.as_str() {
                "migrate" => assert_eq!(restart, "no", "{env}: migrate is a one-shot"),
                _ => assert_eq!(restart, "unless-stopped", "{env}: {name} restart policy"),
            }
            assert!(
                service["deploy"]["resources"]["limits"]["memory"].is_string(),
                "{env}: {name} has no memory limit"
            );
            // Secrets only through files: every *_FILE names a mounted secret,
            // and no secret travels as a plain variable.
            let secrets = names(&service["secrets"]);
            for (key, value) in service["environment"].as_object().into_iter().flatten() {
                let value = value.as_str().unwrap_or_default();
                if let Some(secret) = value.strip_prefix("/run/secrets/") {
                    assert!(
                        secrets.contains(secret),
                        "{env}: {name} {key} names an unmounted secret"
                    );
                }
                for plain in [
                    "DATABASE_URL",
                    "DATABASE_ADMIN_URL",
                    "REDIS_URL",
                    "TWILIO_AUTH_TOKEN",
                    "GEMINI_API_KEY",
                    "TOKEN_ENCRYPTION_KEYS",
                    "POSTGRES_PASSWORD",
                    "GF_SECURITY_ADMIN_PASSWORD",
                    "DATA_SOURCE_PASS",
                ] {
                    assert_ne!(key, plain, "{env}: {name} gets {plain} in its environment");
                }
            }
        }

        // Healthchecks, and the order they give: migrate after PostgreSQL is
        // healthy, serve and worker after migrate succeeded, nginx after serve.
        let condition = |svc: &str, on: &str| {
            services[svc]["depends_on"][on]["condition"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(condition("migrate", "postgres"), "service_healthy");
        for app in ["serve", "worker"] {
            assert_eq!(condition(app, "migrate"), "service_completed_successfully");
            assert_eq!(condition(app, "redis"), "service_healthy");
        }
        assert_eq!(condition("nginx", "serve"), "service_healthy");
        assert_eq!(condition("backup", "postgres"), "service_healthy");
        for svc in [
            "serve",
            "worker",
            "postgres",
            "redis",
            "nginx",
            "prometheus",
            "grafana",
        ] {
            assert!(
                services[svc]["healthcheck"]["test"].is_array(),
                "{env}: {svc} has no healthcheck"
            );
        }
        // The application's env sets the proxy nginx really is.
        let ip = services["nginx"]["networks"]["front"]["ipv4_address"]
            .as_str()
            .unwrap();
        let env_file = read(&format!("deploy/env/{env}.env.example"));
        assert!(
            env_file.contains(&format!("TRUSTED_PROXIES={ip}/32")),
            "{env}: TRUSTED_PROXIES is not nginx's address {ip}"
        );
        // Only nginx faces the world; the consoles listen on loopback.
        for (name, service) in services {
            for port in service["ports"].as_array().into_iter().flatten() {
                let published = port.to_string();
                if name != "nginx" {
                    assert!(
                        published.contains("127.0.0.1"),
                        "{env}: {name} publishes {published} beyond loopback"
                    );
                }
            }
        }
    }
}

fn deploy(
    secrets: &std::path::Path,
    env_file: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    Command::new(repo("scripts/deploy"))
        .args(args)
        .env("NUDGE_SECRETS_DIR", secrets)
        .env("NUDGE_DEPLOY_ENV_FILE", env_file)
        .output()
        .unwrap()
}

#[test]
fn scripts_deploy_refuses_prod_without_secrets_and_prints_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    let env_file = dir.path().join("prod.env");
    std::fs::copy(repo("deploy/env/prod.env.example"), &env_file).unwrap();

    let refused = deploy(&secrets, &env_file, &["prod", "--dry-run"]);
    assert_eq!(refused.status.code(), Some(2));
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(
        why.contains("secrets/database_url") && why.contains("Refusing"),
        "{why}"
    );

    let generated = deploy(&secrets, &env_file, &["secrets", "prod"]);
    assert!(generated.status.success());
    let read_secret = |name: &str| std::fs::read_to_string(secrets.join(name)).unwrap();
    let owner = read_secret("postgres_owner_password");
    let redis = read_secret("redis_password");
    assert!(read_secret("database_admin_url").contains(&format!(":{owner}@postgres:5432/nudge")));
    assert!(read_secret("redis_url").contains(&format!(":{redis}@redis:6379")));
    assert!(read_secret("token_encryption_keys").starts_with("1:"));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secrets).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the secrets directory is private");
    }
    // Nothing generated is ever printed.
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&generated.stdout),
        String::from_utf8_lossy(&generated.stderr)
    );
    assert!(
        !printed.contains(&owner) && !printed.contains(&redis),
        "{printed}"
    );
    // Never overwritten.
    assert!(
        deploy(&secrets, &env_file, &["secrets", "prod"])
            .status
            .success()
    );
    assert_eq!(read_secret("postgres_owner_password"), owner);

    // What only the operator has is still missing.
    let still = deploy(&secrets, &env_file, &["prod", "--dry-run"]);
    assert_eq!(still.status.code(), Some(2));
    let why = String::from_utf8_lossy(&still.stderr);
    assert!(why.contains("secrets/twilio_auth_token") && why.contains("secrets/tls/fullchain.pem"));
    assert!(!why.contains("secrets/database_url"), "{why}");

    for name in [
        "twilio_auth_token",
        "gemini_api_key",
        "alertmanager_slack_webhook",
    ] {
        std::fs::write(secrets.join(name), "operator-provided").unwrap();
    }
    std::fs::create_dir_all(secrets.join("tls")).unwrap();
    for name in ["fullchain.pem", "privkey.pem"] {
        std::fs::write(secrets.join("tls").join(name), "pem").unwrap();
    }
    let ok = deploy(&secrets, &env_file, &["prod", "--dry-run"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let printed = String::from_utf8_lossy(&ok.stdout);
    assert!(
        printed.contains("+ docker compose --project-directory deploy -p nudge-prod --env-file")
            && printed.contains("-f deploy/compose.yml -f deploy/compose.prod.yml up -d --build"),
        "{printed}"
    );
    assert!(!printed.contains("operator-provided"));
}

#[test]
fn the_shipped_nginx_conf_passes_nginx_t() {
    let site = crate::edge::NginxSite::prepare(
        crate::support::free_port(),
        crate::support::free_port(),
        "127.0.0.1:9",
    );
    let out = run_ok(tool("nginx").args(site.args()).arg("-t"));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("test is successful"), "{said}");
}

#[test]
fn prometheus_config_and_rules_pass_promtool() {
    run_ok(
        tool("promtool")
            .args(["check", "config", "--syntax-only"])
            .arg(repo("deploy/prometheus/prometheus.yml")),
    );
    let rules = run_ok(
        tool("promtool")
            .args(["check", "rules"])
            .arg(repo("deploy/prometheus/rules/nudge.yml")),
    );
    assert!(stdout(&rules).contains("SUCCESS"));
    let tests = run_ok(
        tool("promtool")
            .current_dir(repo("deploy/prometheus/tests"))
            .args(["test", "rules", "nudge.test.yml"]),
    );
    assert!(stdout(&tests).contains("SUCCESS"), "{}", stdout(&tests));
}

/// Alert names with their severity, from the rules file.
pub fn alerts() -> BTreeMap<String, String> {
    let rules = yaml(&repo("deploy/prometheus/rules/nudge.yml"));
    let mut found = BTreeMap::new();
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            if let Some(name) = rule["alert"].as_str() {
                let severity = rule["labels"]["severity"].as_str().unwrap_or_default();
                assert!(
                    ["critical", "high", "medium", "low"].contains(&severity),
                    "{name}: severity {severity:?} is not one of the plan's"
                );
                assert!(
                    rule["annotations"]["runbook"].is_string(),
                    "{name} has no runbook"
                );
                assert!(
                    found
                        .insert(name.to_string(), severity.to_string())
                        .is_none(),
                    "{name} twice"
                );
            }
        }
    }
    found
}

#[test]
fn every_alert_has_a_unit_test_that_fires_it_and_one_that_does_not() {
    let tests = yaml(&repo("deploy/prometheus/tests/nudge.test.yml"));
    let mut fires = BTreeSet::new();
    let mut quiet = BTreeSet::new();
    for case in tests["tests"].as_array().unwrap() {
        for check in case["alert_rule_test"].as_array().into_iter().flatten() {
            let name = check["alertname"].as_str().unwrap().to_string();
            match check["exp_alerts"]
                .as_array()
                .map(|a| a.is_empty())
                .unwrap_or(true)
            {
                true => quiet.insert(name),
                false => fires.insert(name),
            };
        }
    }
    let alerts = alerts();
    assert!(alerts.len() >= 30, "{} alerts", alerts.len());
    for name in alerts.keys() {
        assert!(fires.contains(name), "no unit test fires {name}");
        assert!(quiet.contains(name), "no unit test shows {name} quiet");
    }
    // The plan's thresholds are all there.
    let rules = read("deploy/prometheus/rules/nudge.yml");
    for threshold in ["> 0.05", "> 0.02", "> 5\n", "> 2\n", "> 0.8"] {
        assert!(rules.contains(threshold), "no threshold {threshold:?}");
    }
}

#[test]
fn alertmanager_config_is_valid_and_routes_every_severity() {
    let config = repo("deploy/alertmanager/alertmanager.yml");
    run_ok(tool("amtool").arg("check-config").arg(&config));
    let expect = [
        ("critical", "oncall"),
        ("high", "oncall"),
        ("medium", "team"),
        ("low", "team"),
    ];
    for (severity, receiver) in expect {
        run_ok(
            tool("amtool")
                .args(["config", "routes", "test"])
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--verify.receivers={receiver}"))
                .arg(format!("severity={severity}"))
                .arg("component=http"),
        );
    }
    let used: BTreeSet<String> = alerts().into_values().collect();
    assert!(used.iter().all(|s| expect.iter().any(|(e, _)| e == s)));
}

#[test]
fn grafana_provisioning_and_dashboards_are_consistent() {
    let datasources = yaml(&repo(
        "deploy/grafana/provisioning/datasources/datasources.yml",
    ));
    let uids: BTreeSet<String> = datasources["datasources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["uid"].as_str().unwrap().to_string())
        .collect();
    assert!(uids.contains("prometheus") && uids.contains("loki") && uids.contains("jaeger"));
    let provider = yaml(&repo(
        "deploy/grafana/provisioning/dashboards/dashboards.yml",
    ));
    let path = provider["providers"][0]["options"]["path"]
        .as_str()
        .unwrap();
    assert!(read("deploy/compose.yml").contains(&format!("./grafana/dashboards:{path}:ro")));

    let mut dashboard_uids = BTreeSet::new();
    let dashboards = crate::metrics::dashboards();
    assert_eq!(
        dashboards.len(),
        5,
        "SMS flow, agent, reminders, integrations, datastores"
    );
    for (file, dashboard) in dashboards {
        assert!(
            dashboard_uids.insert(dashboard["uid"].as_str().unwrap().to_string()),
            "{file}"
        );
        let panels = dashboard["panels"].as_array().unwrap();
        assert!(!panels.is_empty(), "{file}");
        let mut ids = BTreeSet::new();
        for panel in panels {
            assert!(
                ids.insert(panel["id"].as_u64().unwrap()),
                "{file}: panel id twice"
            );
            let targets = panel["targets"].as_array().unwrap();
            assert!(
                !targets.is_empty(),
                "{file}: {} has no query",
                panel["title"]
            );
            for target in targets {
                let uid = target["datasource"]["uid"].as_str().unwrap();
                assert!(uids.contains(uid), "{file}: unknown datasource {uid}");
                assert!(!target["expr"].as_str().unwrap().trim().is_empty());
            }
        }
    }
}

#[test]
fn every_dashboard_query_is_valid_promql() {
    // promtool parses recording rules: each panel query becomes one.
    let mut rules = Vec::new();
    for (file, dashboard) in crate::metrics::dashboards() {
        for panel in dashboard["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().unwrap() {
                rules.push(serde_json::json!({
                    "record": format!("dashboard:query_{}", rules.len()),
                    "expr": target["expr"],
                    "labels": {"dashboard": file},
                }));
            }
        }
    }
    let file = tempfile::NamedTempFile::new().unwrap();
    // JSON is YAML.
    std::fs::write(
        file.path(),
        serde_json::json!({"groups": [{"name": "dashboards", "rules": rules}]}).to_string(),
    )
    .unwrap();
    let out = run_ok(tool("promtool").args(["check", "rules"]).arg(file.path()));
    assert!(stdout(&out).contains(&format!("SUCCESS: {} rules found", rules.len())));
}

/// Variables set in `.env.example` (the application's settings).
fn app_settings() -> BTreeSet<String> {
    read(".env.example")
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k.trim().to_string())
        .filter(|k| !k.starts_with('#'))
        .collect()
}

#[test]
fn env_examples_name_only_real_settings_and_no_secrets() {
    let known = app_settings();
    for env in ENVS {
        let text = read(&format!("deploy/env/{env}.env.example"));
        for (key, value) in text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once('='))
        {
            let compose_only = ["COMPOSE_PROJECT_NAME", "NUDGE_IMAGE"].contains(&key);
            assert!(
                compose_only || known.contains(key),
                "{env}: {key} is not a Nudge setting"
            );
            assert!(
                ![
                    "TWILIO_AUTH_TOKEN",
                    "GEMINI_API_KEY",
                    "DATABASE_URL",
                    "DATABASE_ADMIN_URL",
                    "REDIS_URL",
                    "TOKEN_ENCRYPTION_KEYS",
                    "LLM_FALLBACK_API_KEY"
                ]
                .contains(&key),
                "{env}: the secret {key} belongs in secrets/, not in an env file"
            );
            assert!(
                !value.contains(' '),
                "{env}: {key} has a space (compose keeps quotes)"
            );
        }
        let want = match env {
            "dev" => "NUDGE_ENV=development",
            "stage" => "NUDGE_ENV=staging",
            _ => "NUDGE_ENV=production",
        };
        assert!(text.contains(want), "{env}");
        assert!(
            text.contains("PUBLIC_BASE_URL=https://"),
            "{env}: Twilio signs the https URL"
        );
    }
    // Real env files and secrets stay out of git.
    let ignore = std::fs::read_to_string(root().join(".gitignore")).unwrap();
    assert!(ignore.contains("/secrets/*") && ignore.contains("/deploy/env/*.env"));
}

/// GitHub's anchor for a Markdown heading.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn every_alert_points_at_a_runbook_section_that_exists() {
    let runbook = read("deploy/RUNBOOK.md");
    let anchors: BTreeSet<String> = runbook
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(anchor)
        .collect();
    for wanted in [
        "restore-a-backup",
        "rotate-secrets",
        "rolling-restart",
        "a-stuck-queue",
        "a-twilio-outage",
    ] {
        assert!(
            anchors.contains(wanted),
            "RUNBOOK.md has no section {wanted}"
        );
    }
    let rules = yaml(&repo("deploy/prometheus/rules/nudge.yml"));
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            if let Some(link) = rule["annotations"]["runbook"].as_str() {
                let target = link
                    .strip_prefix("deploy/RUNBOOK.md#")
                    .expect("a RUNBOOK.md link");
                assert!(
                    anchors.contains(target),
                    "{}: no section #{target}",
                    rule["alert"]
                );
            }
        }
    }
}
