//! Helpers shared by the deployment tests: paths, running tools, ports.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path inside the repository.
pub fn repo(path: &str) -> PathBuf {
    root().join(path)
}

pub fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A tool `scripts/test` installs; its absence fails the test with the fix.
pub fn tool(name: &str) -> Command {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|p| p.join(name).is_file()))
        .unwrap_or(false)
        || Path::new(name).is_file();
    assert!(
        found,
        "{name} is not installed: scripts/test installs it (apt packages nginx, prometheus, \
         prometheus-alertmanager, prometheus-*-exporter, pgbackrest, docker-compose)"
    );
    Command::new(name)
}

/// Runs `cmd`, returns its output; panics with both streams when it fails.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// YAML to JSON through Debian's python3-yaml (the repository has no YAML
/// crate, and these files are read by tools, not by the application).
pub fn yaml(path: &Path) -> serde_json::Value {
    let out = run_ok(tool("/usr/bin/python3").args([
        "-c",
        "import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
        path.to_str().unwrap(),
    ]));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// YAML text to JSON.
pub fn yaml_text(text: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.yml");
    std::fs::write(&path, text).unwrap();
    yaml(&path)
}
