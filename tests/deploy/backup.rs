//! pgBackRest backups and the restore drill, for real, at small size:
//! `bench/restore_drill.sh 16` starts a PostgreSQL archiving WAL through
//! deploy/backup/pgbackrest-env with deploy/backup/pgbackrest.conf, applies
//! Nudge's migrations with the real binary, loads 16 MB, takes an encrypted
//! full backup with deploy/backup/backup.sh, writes more rows, and runs
//! scripts/restore-drill (restore, WAL replay, RLS catalog check, row counts
//! against the source), then the drill with a wrong passphrase.

use std::collections::BTreeMap;
use std::process::Command;

use crate::support::{repo, tool};

fn fields(line: &str) -> BTreeMap<String, String> {
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn an_encrypted_backup_restores_into_a_fresh_postgres_and_passes_the_drill() {
    tool("pgbackrest");
    let out = Command::new(repo("bench/restore_drill.sh"))
        .arg("16")
        .env("NUDGE_BIN", env!("CARGO_BIN_EXE_nudge"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    let errors = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "the drill failed:\n{said}\n{errors}");
    println!("{said}");

    let drill = said
        .lines()
        .find_map(|l| l.strip_prefix("RESTORE_DRILL "))
        .map(fields)
        .expect("the drill prints its summary");
    assert_eq!(drill["status"], "ok");
    assert_eq!(drill["rls_problems"], "0");
    assert_eq!(drill["mismatched"], "0");
    assert!(drill["tables"].parse::<u32>().unwrap() >= 20, "{drill:?}");
    assert!(
        drill["db_bytes"].parse::<u64>().unwrap() > 16 << 20,
        "{drill:?}"
    );
    assert!(drill["seconds"].parse::<f64>().is_ok());
    // The rows written after the backup came back from the archived WAL.
    assert!(said.contains("restore-drill: row-level security check passed"));
    let messages = said
        .lines()
        .find(|l| l.starts_with("public.messages "))
        .expect("messages are counted");
    let counts: Vec<&str> = messages.split_whitespace().collect();
    assert_eq!(counts[1], counts[2], "{messages}");
    assert!(counts[1].parse::<u64>().unwrap() > 1000, "{messages}");
    assert!(said.contains("nudge_backup_last_success_timestamp_seconds{type=\"full\",repo=\"1\"}"));
    assert!(
        said.contains("ENCRYPTION wrong_passphrase_refused=yes cipher=aes-256-cbc"),
        "{said}"
    );
}
