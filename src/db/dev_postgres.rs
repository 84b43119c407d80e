//! The private PostgreSQL of `nudge dev`: a cluster in `./.nudge/pg`,
//! initialised on first run from the system's binaries, kept between runs,
//! listening on a free loopback port, stopped when the process ends.
//!
//! `initdb` refuses to run as root, so when `nudge dev` runs as root the
//! cluster is owned by and run as an unprivileged user (`postgres` when it
//! exists, else `nobody`).

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nix::unistd::{Gid, Uid, User};

/// The superuser of the private cluster; it owns the schema (owner role).
pub const DEV_OWNER_ROLE: &str = "nudge";
/// The application role `nudge migrate` creates in the private cluster.
pub const DEV_APP_ROLE: &str = "nudge_app";
pub const DEV_DATABASE: &str = "nudge";

#[derive(Debug, thiserror::Error)]
pub enum DevPostgresError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or under \
         /usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: sudo apt-get install \
         postgresql; macOS: brew install postgresql@16) or set DATABASE_URL"
    )]
    NoBinaries,
    #[error(
        "running as root, the private cluster runs as user '{user}', who cannot reach {path}; \
         start nudge dev from a directory other users can traverse, or set DATABASE_URL"
    )]
    Unreachable { user: String, path: String },
    #[error("no unprivileged user (postgres or nobody) exists to run PostgreSQL as")]
    NoUnprivilegedUser,
    #[error("{what} failed: {detail}")]
    Command { what: &'static str, detail: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A running private cluster; stopped on drop.
pub struct DevPostgres {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    port: u16,
    run_as: Option<(Uid, Gid)>,
    running: bool,
}

impl DevPostgres {
    /// Initialises (first run) and starts the cluster under `root/.nudge/pg`.
    /// Blocking: call it from `spawn_blocking`.
    pub fn start(root: &Path) -> Result<Self, DevPostgresError> {
        let bin_dir = find_bin_dir().ok_or(DevPostgresError::NoBinaries)?;
        let base = root.join(".nudge").join("pg");
        let data_dir = base.join("data");
        fs::create_dir_all(&base)?;
        let base = base.canonicalize()?;
        let data_dir = base.join(data_dir.file_name().unwrap_or(OsStr::new("data")));

        let run_as = if Uid::effective().is_root() {
            let user = ["postgres", "nobody"]
                .into_iter()
                .find_map(|name| User::from_name(name).ok().flatten())
                .ok_or(DevPostgresError::NoUnprivilegedUser)?;
            check_traversable(&base, &user)?;
            chown_recursive(&base, user.uid, user.gid)?;
            Some((user.uid, user.gid))
        } else {
            None
        };

        let mut pg = DevPostgres {
            bin_dir,
            data_dir,
            port: 0,
            run_as,
            running: false,
        };
        if !pg.data_dir.join("PG_VERSION").exists() {
            pg.initdb()?;
        }
        // A previous run killed without cleanup may have left it running.
        if pg
            .pg_ctl(&["status", "-D"], &[])
            .map(|o| o.status.success())?
        {
            let _ = pg.pg_ctl(&["stop", "-m", "fast", "-w", "-D"], &[]);
        }
        pg.port = free_port()?;
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories=''",
            pg.port
        );
        let log = base.join("postgres.log");
        let out = pg.pg_ctl(
            &["start", "-w", "-t", "60", "-D"],
            &[
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
            ],
        )?;
        if !out.status.success() {
            return Err(DevPostgresError::Command {
                what: "pg_ctl start",
                detail: format!("{} (see {})", last_line(&out), log.display()),
            });
        }
        pg.running = true;
        Ok(pg)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates the development database unless it exists.
    pub async fn create_database(&self) -> Result<(), sqlx::Error> {
        let url: secrecy::SecretString = self.bootstrap_url().into();
        let pool = super::connect_pool(super::connect_options(&url)?, 1).await?;
        let exists: bool =
            sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
                .bind(DEV_DATABASE)
                .fetch_one(&pool)
                .await?;
        if !exists {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "create database {DEV_DATABASE}"
            )))
            .execute(&pool)
            .await?;
        }
        pool.close().await;
        Ok(())
    }

    /// Owner-role URL on the maintenance database `postgres`.
    pub fn bootstrap_url(&self) -> String {
        format!(
            "postgres://{DEV_OWNER_ROLE}@127.0.0.1:{}/postgres",
            self.port
        )
    }

    pub fn admin_url(&self) -> String {
        format!(
            "postgres://{DEV_OWNER_ROLE}@127.0.0.1:{}/{DEV_DATABASE}",
            self.port
        )
    }

    pub fn app_url(&self) -> String {
        format!(
            "postgres://{DEV_APP_ROLE}@127.0.0.1:{}/{DEV_DATABASE}",
            self.port
        )
    }

    /// Stops the cluster (fast mode: running queries are cancelled).
    pub fn stop(&mut self) -> Result<(), DevPostgresError> {
        if !self.running {
            return Ok(());
        }
        self.running = false;
        let out = self.pg_ctl(&["stop", "-m", "fast", "-w", "-D"], &[])?;
        let still_running = self.pg_ctl(&["status", "-D"], &[])?.status.success();
        if !out.status.success() && still_running {
            return Err(DevPostgresError::Command {
                what: "pg_ctl stop",
                detail: last_line(&out),
            });
        }
        Ok(())
    }

    fn initdb(&self) -> Result<(), DevPostgresError> {
        let mut cmd = Command::new(self.bin_dir.join("initdb"));
        cmd.arg("-D").arg(&self.data_dir).args([
            "-U",
            DEV_OWNER_ROLE,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
        ]);
        let out = self.run(cmd)?;
        if !out.status.success() {
            return Err(DevPostgresError::Command {
                what: "initdb",
                detail: last_line(&out),
            });
        }
        Ok(())
    }

    fn pg_ctl(&self, head: &[&str], tail: &[&OsStr]) -> Result<Output, DevPostgresError> {
        let mut cmd = Command::new(self.bin_dir.join("pg_ctl"));
        cmd.args(head).arg(&self.data_dir).args(tail);
        // Its own process group: a Ctrl-C at the terminal reaches nudge, which
        // then stops PostgreSQL in order, instead of reaching the postmaster.
        cmd.process_group(0);
        self.run(cmd)
    }

    fn run(&self, mut cmd: Command) -> Result<Output, DevPostgresError> {
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid.as_raw()).gid(gid.as_raw());
            // The unprivileged user must not inherit root's working directory.
            if let Some(parent) = self.data_dir.parent() {
                cmd.current_dir(parent);
            }
        }
        Ok(cmd.output()?)
    }
}

impl Drop for DevPostgres {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            eprintln!("could not stop the private PostgreSQL: {e}");
        }
    }
}

/// `initdb` and `pg_ctl` side by side: on PATH first, then Debian's layout
/// (newest major version).
fn find_bin_dir() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_both(&dir) {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((major, e.path().join("bin")))
        })
        .filter(|(_, dir)| has_both(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Every ancestor of `dir` must let `user` search it.
fn check_traversable(dir: &Path, user: &User) -> Result<(), DevPostgresError> {
    for ancestor in dir.ancestors().skip(1) {
        let meta = fs::metadata(ancestor)?;
        let mode = meta.permissions().mode();
        let owner = std::os::unix::fs::MetadataExt::uid(&meta);
        let group = std::os::unix::fs::MetadataExt::gid(&meta);
        let can_search = mode & 0o001 != 0
            || (owner == user.uid.as_raw() && mode & 0o100 != 0)
            || (group == user.gid.as_raw() && mode & 0o010 != 0);
        if !can_search {
            return Err(DevPostgresError::Unreachable {
                user: user.name.clone(),
                path: ancestor.display().to_string(),
            });
        }
    }
    Ok(())
}

fn chown_recursive(path: &Path, uid: Uid, gid: Gid) -> Result<(), DevPostgresError> {
    nix::unistd::chown(path, Some(uid), Some(gid)).map_err(std::io::Error::from)?;
    if path.is_dir() && !path.is_symlink() {
        for entry in fs::read_dir(path)? {
            chown_recursive(&entry?.path(), uid, gid)?;
        }
    }
    Ok(())
}

fn last_line(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    stderr
        .lines()
        .chain(stdout.lines())
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or("no output")
        .trim()
        .to_string()
}
