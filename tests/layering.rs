//! The layering check: arrows point one way (DESIGN.md §4). Each module may
//! name (`crate::…`, in code, not in comments) only the modules listed for
//! it below; a new arrow upwards fails here with the file and line.
//!
//! Also the size check (issue 8): no file of production code under `src/`
//! over [`MAX_PRODUCTION_LINES`], tests and tables of data excepted; and
//! the SQL check: statements are written only in `store/` and `db/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each top-level module and the modules it may use, lowest first.
/// `config` and `telemetry` sit at the bottom; `error` is the HTTP edge's
/// error type; `app` and `startup` assemble everything.
const ALLOWED: &[(&str, &[&str])] = &[
    ("config", &[]),
    ("http_client", &[]),
    ("cache", &[]),
    ("telemetry", &["config"]),
    ("db", &["config"]),
    ("store", &["config", "db"]),
    ("error", &["db", "store"]),
    ("reminders", &["config", "db", "store"]),
    ("oauth", &["config", "db", "store", "http_client", "cache"]),
    (
        "privacy",
        &["config", "db", "store", "cache", "oauth", "http_client"],
    ),
    (
        "integrations",
        &["config", "db", "store", "http_client", "cache", "oauth"],
    ),
    (
        "knowledge",
        // The Notion sync calls Notion through `integrations` (the shared
        // OAuth request: token, breaker, one refresh on a 401).
        &[
            "config",
            "db",
            "store",
            "http_client",
            "oauth",
            "telemetry",
            "integrations",
        ],
    ),
    (
        "agent",
        &[
            "config",
            "db",
            "store",
            "reminders",
            "http_client",
            "cache",
            "telemetry",
            "oauth",
            "privacy",
            "integrations",
            "knowledge",
        ],
    ),
    (
        "sms_router",
        &["config", "db", "store", "error", "cache", "http_client"],
    ),
    (
        "workers",
        &[
            "config",
            "db",
            "store",
            "reminders",
            "agent",
            "sms_router",
            "app",
            "cache",
            "oauth",
            "privacy",
            "knowledge",
            "integrations",
        ],
    ),
    (
        "api",
        &[
            "config",
            "db",
            "store",
            "agent",
            "sms_router",
            "error",
            "app",
            "oauth",
            "privacy",
        ],
    ),
    (
        "admin",
        &[
            "config",
            "db",
            "store",
            "agent",
            "sms_router",
            "oauth",
            "privacy",
            "cache",
            "knowledge",
        ],
    ),
];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `.rs` file under `src`, with its path under `src` (`/`-separated).
fn named_sources(src: &Path) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    sources(src, &mut files);
    files
        .into_iter()
        .map(|file| {
            let name = file
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (name, file)
        })
        .collect()
}

/// The top-level modules a file names in code (comment lines skipped).
fn named_modules(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + "crate::".len()..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push((n + 1, name));
            }
            rest = tail;
        }
    }
    found
}

#[test]
fn modules_only_use_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = BTreeSet::new();
    for (module, allowed) in ALLOWED {
        let mut files = Vec::new();
        let dir = src.join(module);
        if dir.is_dir() {
            sources(&dir, &mut files);
        } else {
            files.push(src.join(format!("{module}.rs")));
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (line, used) in named_modules(&text) {
                if used != *module && !allowed.contains(&used.as_str()) {
                    violations.insert(format!(
                        "{}:{line}: `{module}` uses `{used}`",
                        file.strip_prefix(&src).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "arrows pointing up (see DESIGN.md §4):\n{}",
        violations.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_check_sees_an_arrow_up() {
    let uses = named_modules("use crate::app::AppState;\n// crate::workers in a comment\n");
    assert_eq!(uses, vec![(1, "app".to_string())]);
}

/// The most lines of production code a file under `src/` may have.
const MAX_PRODUCTION_LINES: usize = 500;

/// Files allowed over [`MAX_PRODUCTION_LINES`], by path under `src/`. Each
/// says why; a table of data says its lines of code vs data.
const OVER_THE_LIMIT: &[&str] = &[
    // Tests, not production code: the offline planner's cases in one file.
    "agent/llm/offline/tests.rs",
];

/// Lines of production code: those before the file's top-level
/// `#[cfg(test)]` (its test module), or all of them without one.
fn production_lines(text: &str) -> usize {
    text.lines()
        .take_while(|line| !line.starts_with("#[cfg(test)]"))
        .count()
}

#[test]
fn no_production_file_is_over_500_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut too_long = Vec::new();
    for (name, file) in named_sources(&src) {
        if OVER_THE_LIMIT.contains(&name.as_str()) {
            continue;
        }
        let lines = production_lines(&std::fs::read_to_string(&file).unwrap());
        if lines > MAX_PRODUCTION_LINES {
            too_long.push(format!("{name}: {lines} lines"));
        }
    }
    // An exception for a file that is gone would hide the next one by that name.
    for name in OVER_THE_LIMIT {
        if !src.join(name).is_file() {
            too_long.push(format!("{name}: listed in OVER_THE_LIMIT but not found"));
        }
    }
    too_long.sort();
    assert!(
        too_long.is_empty(),
        "over {MAX_PRODUCTION_LINES} lines of production code (split by job, or list a \
         table of data in OVER_THE_LIMIT with why):\n{}",
        too_long.join("\n")
    );
}

#[test]
fn the_size_check_stops_at_the_test_module() {
    let text = "//! doc\nfn a() {}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {}\n}\n";
    assert_eq!(production_lines(text), 3);
    assert_eq!(production_lines("fn a() {}\nfn b() {}\n"), 2);
}

/// Folders of `src/` where SQL may be written: everything else calls a
/// named function of theirs (DESIGN.md §4, issue 8).
const SQL_HOMES: &[&str] = &["store", "db"];

/// The lines of production code (before the test module, comments skipped)
/// that build a statement with sqlx: `sqlx::query…`, `query_as`,
/// `query_scalar`, `raw_sql`, `QueryBuilder`. Redis's `query_async` is
/// not one.
fn sql_lines(text: &str) -> Vec<usize> {
    const BUILDERS: &[&str] = &[
        "query_as",
        "query_as_with",
        "query_scalar",
        "query_scalar_with",
        "query_with",
        "raw_sql",
        "QueryBuilder",
    ];
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with("#[cfg(test)]") {
            break;
        }
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let words: Vec<&str> = code
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .collect();
        let builds = words.iter().any(|word| {
            let path: Vec<&str> = word.split("::").filter(|s| !s.is_empty()).collect();
            path.iter().any(|s| BUILDERS.contains(s))
                || path.windows(2).any(|w| w == ["sqlx", "query"])
        });
        if builds {
            found.push(n + 1);
        }
    }
    found
}

#[test]
fn sql_is_written_only_in_store_and_db() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut outside = Vec::new();
    for (name, file) in named_sources(&src) {
        let top = name.split('/').next().unwrap_or_default();
        if SQL_HOMES.contains(&top) {
            continue;
        }
        for line in sql_lines(&std::fs::read_to_string(&file).unwrap()) {
            outside.push(format!("{name}:{line}"));
        }
    }
    assert!(
        outside.is_empty(),
        "SQL outside store/ and db/ (move it into a named function there):\n{}",
        outside.join("\n")
    );
}

#[test]
fn the_sql_check_sees_a_query_and_not_redis() {
    let text = "let n: i64 = sqlx::query_scalar(\"select 1\")\n\
                sqlx::query(\"begin\")\n\
                use sqlx::query_as;\n\
                // sqlx::query in a comment\n\
                redis::cmd(\"PING\").query_async::<String>(&mut conn)\n\
                let q = query_as::<_, (i32,)>(\"select 1\");\n\
                sqlx::query_scalar::<_, i32>(\"select 1\")\n\
                sqlx::query!(\"select 1\")\n\
                #[cfg(test)]\n\
                sqlx::query(\"in a test\")\n";
    assert_eq!(sql_lines(text), vec![1, 2, 3, 6, 7, 8]);
}
