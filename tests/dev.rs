//! `nudge dev` with nothing configured: a private PostgreSQL in
//! ./.nudge/pg (as an unprivileged user when run as root), kept between
//! runs, ready within seconds, gone after Ctrl-C.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

async fn run_dev_once(dir: &Path) {
    run_dev(dir, false).await
}

fn nudge(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NUDGE_ENV", "development")
        .env("BIND_ADDR", "127.0.0.1:0")
        .output()
        .unwrap()
}

async fn run_dev(dir: &Path, simulate: bool) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
        .arg("dev")
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NUDGE_ENV", "development")
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            seen.push(line.clone());
            if let Some(rest) = line.strip_prefix("nudge dev: listening on ") {
                return rest.split_whitespace().next().unwrap().to_string();
            }
        }
        panic!("nudge dev exited early: {seen:?}");
    })
    .await
    .expect("nudge dev did not come up within 60 s");

    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);

    if simulate {
        let add = nudge(
            dir,
            &[
                "admin",
                "user",
                "add",
                "--name",
                "Dev",
                "--phone",
                "+15145550101",
            ],
        );
        assert!(
            add.status.success(),
            "{}",
            String::from_utf8_lossy(&add.stderr)
        );
        let sim = nudge(
            dir,
            &[
                "admin",
                "sms",
                "simulate",
                "--from",
                "+15145550101",
                "--url",
                &format!("{base}/twilio/sms"),
                "add milk",
            ],
        );
        assert!(
            sim.status.success(),
            "{}",
            String::from_utf8_lossy(&sim.stderr)
        );
        // The reply shows up in the console sender, in nudge dev's output.
        let shown = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.contains("[sms → +15145550101]") {
                    return line;
                }
            }
            panic!("nudge dev exited");
        })
        .await
        .expect("no reply in the console within 30 s");
        assert!(shown.contains("milk"), "{shown}");
    }

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id().unwrap() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("nudge dev did not stop")
        .unwrap();
    let mut rest = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        rest.push(line);
    }
    assert!(status.success(), "{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("private PostgreSQL stopped")),
        "{rest:?}"
    );
}

fn postgres_running_in(dir: &Path) -> bool {
    let data = dir.join(".nudge/pg/data");
    let out = std::process::Command::new("pgrep")
        .args(["-f", &data.display().to_string()])
        .output()
        .unwrap();
    out.status.success()
}

#[tokio::test]
async fn dev_starts_a_private_postgres_and_leaves_nothing_running() {
    let dir = tempfile::tempdir().unwrap();
    // Under root the cluster runs as another user, who must reach the folder.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();

    run_dev_once(dir.path()).await;
    assert!(dir.path().join(".nudge/pg/data/PG_VERSION").exists());
    assert!(!postgres_running_in(dir.path()), "PostgreSQL left running");

    // Kept between runs: the second start reuses the cluster; a simulated
    // text gets its reply in the console sender.
    run_dev(dir.path(), true).await;
    assert!(!postgres_running_in(dir.path()), "PostgreSQL left running");
}
