//! The offline planner against a corpus of messages written the way people
//! text, in English and French (`tests/corpus/offline_texting.jsonl`).
//!
//! Every case is a short conversation run through full agent turns (the
//! offline planner, the real runner and tools, a real PostgreSQL), for a
//! person of its own whose data is seeded first. A case passes when the
//! database holds exactly what it should afterwards — every kind of data the
//! case does not mention must be left as seeded — and the last reply says
//! what it should, in at most 320 characters unless the person asked for a
//! list. The test prints the score per class and per style, and fails below
//! [`THRESHOLD`].
//!
//! The corpus was written from how people text (shorthand, no punctuation,
//! emoji, typos, leftover words), not from the planner's patterns. Line
//! format: see [`Case`].

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use common::TestDb;
use common::oauth::{LINK_KEYS, TOKEN_KEYS_ONE};
use nudge::agent::llm::offline::OfflinePlanner;
use nudge::agent::tools::ToolRegistry;
use nudge::agent::{Agent, TurnBudget};
use nudge::db::UserTx;
use nudge::oauth::OAuthService;
use nudge::store::{Expense, Goal, ListItem, Locale, Memory, NewReminder, Reminder, Task, UserId};
use secrecy::SecretString;

/// The share of cases that must pass (issue 14: "your corpus passes ≥ 95 %").
const THRESHOLD: f64 = 0.95;

/// The share of the fresh set that must pass. It was written after the
/// planner changes and scored before any tuning on it, so it is held to a
/// lower bar: it measures how far the rules carry beyond the corpus.
const FRESH_THRESHOLD: f64 = 0.80;

/// Replies may be longer than this only when the person asked for a list.
const MAX_REPLY: usize = 320;

const CORPUS: &str = include_str!("corpus/offline_texting.jsonl");
const FRESH: &str = include_str!("corpus/offline_texting_fresh.jsonl");

fn now() -> DateTime<Utc> {
    // Saturday 2026-11-21 10:00 in Montreal.
    "2026-11-21T15:00:00Z".parse().unwrap()
}

fn tz() -> Tz {
    chrono_tz::America::Montreal
}

/// One case: a conversation, the state before it and what must hold after.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    id: String,
    /// The failure class of issue 14 it probes (or "core").
    class: String,
    /// "en" or "fr": also the person's locale.
    lang: String,
    /// "casual" (texted) or "careful" (written).
    style: String,
    #[serde(default)]
    given: Given,
    /// The person's messages, one turn each; checks apply after the last.
    say: Vec<String>,
    expect: Expect,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Given {
    #[serde(default)]
    reminders: Vec<GivenReminder>,
    #[serde(default)]
    tasks: Vec<String>,
    #[serde(default)]
    goals: Vec<String>,
    #[serde(default)]
    lists: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    memories: Vec<String>,
    /// (amount, category), logged "now" in the person's currency, or
    /// (amount, category, local "YYYY-MM-DD HH:MM") logged then.
    #[serde(default)]
    expenses: Vec<GivenExpense>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
enum GivenExpense {
    Now(f64, String),
    At(f64, String, String),
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct GivenReminder {
    text: String,
    /// Local "YYYY-MM-DD HH:MM".
    at: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// Every scheduled reminder afterwards.
    reminders: Option<Vec<ExpReminder>>,
    /// Every open task afterwards.
    tasks: Option<Vec<String>>,
    /// Tasks marked done.
    done: Option<Vec<String>>,
    goals: Option<Vec<String>>,
    /// Goal title → its progress notes.
    progress: Option<BTreeMap<String, Vec<String>>>,
    /// Every list afterwards (name → items).
    lists: Option<BTreeMap<String, Vec<String>>>,
    memories: Option<Vec<String>>,
    /// Every texted note afterwards (issue 11: "note: …" is a document).
    notes: Option<Vec<String>>,
    /// Every expense afterwards: (amount, category, currency).
    expenses: Option<Vec<(f64, String, String)>>,
    timezone: Option<String>,
    /// ["HH:MM", "HH:MM"].
    quiet: Option<(String, String)>,
    /// A confirmation question is waiting.
    #[serde(default)]
    pending: bool,
    /// The providers a connect link was sent for (issue 9).
    links: Option<Vec<String>>,
    /// Every one of these is in the last reply (case-insensitive).
    #[serde(default)]
    reply: Vec<String>,
    /// At least one of these is in the last reply.
    #[serde(default)]
    reply_any: Vec<String>,
    /// None of these is in the last reply.
    #[serde(default)]
    reply_not: Vec<String>,
    /// The person asked for a list: the reply may be long.
    #[serde(default)]
    long_ok: bool,
}

#[derive(Debug, Deserialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
struct ExpReminder {
    text: String,
    /// Local "YYYY-MM-DD HH:MM" of the next occurrence.
    at: String,
    /// "daily", "weekdays", "weekly:mon,thu", "monthly:15".
    #[serde(default)]
    every: Option<String>,
}

fn local(at: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M").expect("YYYY-MM-DD HH:MM");
    tz().from_local_datetime(&naive)
        .unwrap()
        .with_timezone(&Utc)
}

fn every_code(rule: &Value) -> Option<String> {
    let freq = rule.get("frequency")?.as_str()?;
    Some(match freq {
        "weekly" => {
            let days: Vec<&str> = rule["days"]
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .collect();
            format!("weekly:{}", days.join(","))
        }
        "monthly" => format!("monthly:{}", rule["day_of_month"]),
        other => other.to_string(),
    })
}

fn fold(s: &str) -> String {
    s.trim().to_lowercase().replace('’', "'")
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| fold(s)).collect();
    v.sort();
    v
}

async fn seed(db: &TestDb, case: &Case) -> UserId {
    let id = UserId(Uuid::new_v4());
    let mut tx = UserTx::begin(&db.owner, id).await.unwrap();
    let locale = if case.lang == "fr" {
        Locale::Fr
    } else {
        Locale::En
    };
    nudge::store::User::insert(&mut tx, "Sam", "America/Montreal".parse().unwrap(), locale)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // The person's things are seeded as the application role, as the agent
    // would write them: row-level security keeps each case to its person.
    let mut tx = UserTx::begin(&db.app, id).await.unwrap();
    let g = &case.given;
    for r in &g.reminders {
        Reminder::create(
            &mut tx,
            NewReminder {
                body: r.text.clone(),
                due_at: local(&r.at),
                timezone: "America/Montreal".into(),
                local_time: None,
                recurrence: None,
                explicit_time: true,
            },
        )
        .await
        .unwrap();
    }
    for t in &g.tasks {
        Task::add(&mut tx, t).await.unwrap();
    }
    for goal in &g.goals {
        Goal::add(&mut tx, goal).await.unwrap();
    }
    for (list, items) in &g.lists {
        ListItem::add(&mut tx, list, items).await.unwrap();
    }
    for m in &g.memories {
        Memory::remember(&mut tx, m, locale).await.unwrap();
    }
    for e in &g.expenses {
        let (amount, category, at) = match e {
            // "Now" is the case's clock, not the database's.
            GivenExpense::Now(a, c) => (a, c, Some(now())),
            GivenExpense::At(a, c, at) => (a, c, Some(local(at))),
        };
        let added = Expense::add(
            &mut tx,
            (amount * 100.0).round() as i64,
            "CAD",
            category,
            None,
        )
        .await
        .unwrap();
        if let Some(at) = at {
            sqlx::query("update expenses set spent_at = $2 where user_id = $1 and id = $3")
                .bind(id.0)
                .bind(at)
                .bind(added.id)
                .execute(tx.conn())
                .await
                .unwrap();
        }
    }
    tx.commit().await.unwrap();
    id
}

/// Everything a case can check, read back with the owner connection.
#[derive(Debug, Default)]
struct State {
    reminders: Vec<ExpReminder>,
    tasks: Vec<String>,
    done: Vec<String>,
    goals: Vec<String>,
    progress: BTreeMap<String, Vec<String>>,
    lists: BTreeMap<String, Vec<String>>,
    memories: Vec<String>,
    notes: Vec<String>,
    expenses: Vec<(i64, String, String)>,
    timezone: String,
    quiet: Option<(String, String)>,
    pending: bool,
    links: Vec<String>,
}

async fn read_state(db: &TestDb, user: UserId) -> State {
    let pool = &db.owner;
    let u = user.0;
    let rows: Vec<(String, DateTime<Utc>, Option<Value>)> = sqlx::query_as(
        "select body, due_at, recurrence from reminders where user_id = $1 and status = 'scheduled'",
    )
    .bind(u)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut reminders: Vec<ExpReminder> = rows
        .into_iter()
        .map(|(text, due, rec)| ExpReminder {
            text: fold(&text),
            at: due
                .with_timezone(&tz())
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            every: rec.as_ref().and_then(every_code),
        })
        .collect();
    reminders.sort();
    let titles = |status: &'static str| {
        sqlx::query_scalar::<_, String>(
            "select title from tasks where user_id = $1 and status = $2",
        )
        .bind(u)
        .bind(status)
        .fetch_all(pool)
    };
    let tasks = sorted(&titles("open").await.unwrap());
    let done = sorted(&titles("done").await.unwrap());
    let goal_rows: Vec<(String, Value)> =
        sqlx::query_as("select title, progress from goals where user_id = $1")
            .bind(u)
            .fetch_all(pool)
            .await
            .unwrap();
    let goals = sorted(&goal_rows.iter().map(|g| g.0.clone()).collect::<Vec<_>>());
    let progress = goal_rows
        .iter()
        .filter_map(|(title, p)| {
            let notes: Vec<String> = p
                .as_array()?
                .iter()
                .filter_map(|n| n["note"].as_str().map(fold))
                .collect();
            (!notes.is_empty()).then(|| (fold(title), notes))
        })
        .collect();
    let items: Vec<(String, String)> = sqlx::query_as(
        "select list_name, item from list_items where user_id = $1 and not done order by item",
    )
    .bind(u)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (list, item) in items {
        lists.entry(fold(&list)).or_default().push(fold(&item));
    }
    for v in lists.values_mut() {
        v.sort();
    }
    let memories = sorted(
        &sqlx::query_scalar::<_, String>("select content from memories where user_id = $1")
            .bind(u)
            .fetch_all(pool)
            .await
            .unwrap(),
    );
    let notes = sorted(
        &sqlx::query_scalar::<_, String>(
            "select c.body from knowledge_chunks c join knowledge_documents d on d.id = c.document_id \
             join knowledge_sources s on s.id = d.source_id where c.user_id = $1 and s.kind = 'notes'",
        )
        .bind(u)
        .fetch_all(pool)
        .await
        .unwrap(),
    );
    let mut expenses: Vec<(i64, String, String)> =
        sqlx::query_as("select amount_minor, category, currency from expenses where user_id = $1")
            .bind(u)
            .fetch_all(pool)
            .await
            .unwrap();
    for e in &mut expenses {
        e.1 = fold(&e.1);
    }
    expenses.sort();
    let (timezone, qs, qe): (String, Option<chrono::NaiveTime>, Option<chrono::NaiveTime>) =
        sqlx::query_as(
            "select timezone, quiet_hours_start, quiet_hours_end from users where id = $1",
        )
        .bind(u)
        .fetch_one(pool)
        .await
        .unwrap();
    let quiet = qs
        .zip(qe)
        .map(|(s, e)| (s.format("%H:%M").to_string(), e.format("%H:%M").to_string()));
    let pending: bool = sqlx::query_scalar(
        "select exists(select 1 from pending_actions where user_id = $1 and status = 'pending')",
    )
    .bind(u)
    .fetch_one(pool)
    .await
    .unwrap();
    let links: Vec<String> = sqlx::query_scalar(
        "select provider from oauth_connect_links where user_id = $1 order by provider",
    )
    .bind(u)
    .fetch_all(pool)
    .await
    .unwrap();
    State {
        reminders,
        tasks,
        done,
        goals,
        progress,
        lists,
        memories,
        notes,
        expenses,
        timezone,
        quiet,
        pending,
        links,
    }
}

/// Why a case failed, or nothing when it passed.
fn check(case: &Case, before: &State, after: &State, reply: &str) -> Vec<String> {
    let mut why = Vec::new();
    let e = &case.expect;
    let mut eq = |what: &str, want: String, got: String| {
        if want != got {
            why.push(format!("{what}: want {want}, got {got}"));
        }
    };
    // Anything the case does not mention must be as seeded.
    match &e.reminders {
        Some(want) => {
            let mut want: Vec<ExpReminder> = want
                .iter()
                .map(|r| ExpReminder {
                    text: fold(&r.text),
                    ..r.clone()
                })
                .collect();
            want.sort();
            eq(
                "reminders",
                format!("{want:?}"),
                format!("{:?}", after.reminders),
            );
        }
        None => eq(
            "reminders (unchanged)",
            format!("{:?}", before.reminders),
            format!("{:?}", after.reminders),
        ),
    }
    let or_before = |want: &Option<Vec<String>>, before: &Vec<String>| match want {
        Some(w) => sorted(w),
        None => before.clone(),
    };
    eq(
        "open tasks",
        format!("{:?}", or_before(&e.tasks, &before.tasks)),
        format!("{:?}", after.tasks),
    );
    eq(
        "done tasks",
        format!("{:?}", or_before(&e.done, &before.done)),
        format!("{:?}", after.done),
    );
    eq(
        "goals",
        format!("{:?}", or_before(&e.goals, &before.goals)),
        format!("{:?}", after.goals),
    );
    let progress = match &e.progress {
        Some(p) => p
            .iter()
            .map(|(k, v)| (fold(k), v.iter().map(|s| fold(s)).collect()))
            .collect(),
        None => before.progress.clone(),
    };
    eq(
        "goal progress",
        format!("{progress:?}"),
        format!("{:?}", after.progress),
    );
    let lists: BTreeMap<String, Vec<String>> = match &e.lists {
        Some(l) => l
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (fold(k), sorted(v)))
            .collect(),
        None => before.lists.clone(),
    };
    eq("lists", format!("{lists:?}"), format!("{:?}", after.lists));
    eq(
        "memories",
        format!("{:?}", or_before(&e.memories, &before.memories)),
        format!("{:?}", after.memories),
    );
    eq(
        "notes",
        format!("{:?}", or_before(&e.notes, &before.notes)),
        format!("{:?}", after.notes),
    );
    let expenses: Vec<(i64, String, String)> = match &e.expenses {
        Some(x) => {
            let mut x: Vec<_> = x
                .iter()
                .map(|(a, c, cur)| ((a * 100.0).round() as i64, fold(c), cur.clone()))
                .collect();
            x.sort();
            x
        }
        None => before.expenses.clone(),
    };
    eq(
        "expenses",
        format!("{expenses:?}"),
        format!("{:?}", after.expenses),
    );
    eq(
        "timezone",
        e.timezone
            .clone()
            .unwrap_or_else(|| before.timezone.clone()),
        after.timezone.clone(),
    );
    eq(
        "quiet hours",
        format!("{:?}", e.quiet.clone().or_else(|| before.quiet.clone())),
        format!("{:?}", after.quiet),
    );
    eq(
        "pending confirmation",
        e.pending.to_string(),
        after.pending.to_string(),
    );
    eq(
        "connect links",
        format!("{:?}", or_before(&e.links, &before.links)),
        format!("{:?}", after.links),
    );

    let r = fold(reply);
    for s in &e.reply {
        if !r.contains(&fold(s)) {
            why.push(format!("reply lacks {s:?}"));
        }
    }
    if !e.reply_any.is_empty() && !e.reply_any.iter().any(|s| r.contains(&fold(s))) {
        why.push(format!("reply has none of {:?}", e.reply_any));
    }
    for s in &e.reply_not {
        if r.contains(&fold(s)) {
            why.push(format!("reply has {s:?}"));
        }
    }
    let len = reply.chars().count();
    if len > MAX_REPLY && !e.long_ok {
        why.push(format!("reply is {len} chars"));
    }
    why
}

#[derive(Default)]
struct Score {
    pass: usize,
    total: usize,
}

impl Score {
    fn add(&mut self, ok: bool) {
        self.total += 1;
        self.pass += usize::from(ok);
    }

    fn pct(&self) -> f64 {
        if self.total == 0 {
            return 100.0;
        }
        100.0 * self.pass as f64 / self.total as f64
    }
}

fn parse_corpus(text: &str) -> Vec<Case> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with("//"))
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("corpus line {}: {e}\n{l}", i + 1))
        })
        .collect()
}

#[test]
fn the_corpus_is_well_formed_and_large_enough() {
    let cases = parse_corpus(CORPUS);
    let mut ids = std::collections::HashSet::new();
    for c in cases.iter().chain(&parse_corpus(FRESH)) {
        assert!(ids.insert(c.id.clone()), "duplicate id {}", c.id);
        assert!(matches!(c.lang.as_str(), "en" | "fr"), "{}: lang", c.id);
        assert!(
            matches!(c.style.as_str(), "casual" | "careful"),
            "{}: style",
            c.id
        );
        assert!(!c.say.is_empty(), "{}: nothing said", c.id);
    }
    // Issue 14: at least 300 phrasings, about half casual, both languages.
    assert!(cases.len() >= 300, "only {} cases", cases.len());
    let casual = cases.iter().filter(|c| c.style == "casual").count();
    assert!(casual * 100 / cases.len() >= 45, "{casual} casual");
    let fr = cases.iter().filter(|c| c.lang == "fr").count();
    assert!(fr * 100 / cases.len() >= 30, "{fr} in French");
}

#[tokio::test]
async fn the_offline_planner_handles_the_texting_corpus() {
    run_corpus("offline texting corpus", CORPUS, THRESHOLD).await;
}

#[tokio::test]
async fn the_offline_planner_handles_fresh_phrasings() {
    run_corpus("fresh phrasings", FRESH, FRESH_THRESHOLD).await;
}

/// OAuth set up for all three providers, as a deployment would have it, so
/// "connect my google calendar" sends a real one-time link. Nothing here
/// calls a provider: connecting stops at the link, disconnecting at "yes?".
fn oauth(db: &TestDb) -> OAuthService {
    let mut config = db.config();
    config.public_base_url = "https://nudge.example".into();
    config.token_encryption_keys = Some(SecretString::from(TOKEN_KEYS_ONE));
    config.oauth.connect_link_keys = Some(SecretString::from(LINK_KEYS));
    for app in [
        &mut config.oauth.google,
        &mut config.oauth.microsoft,
        &mut config.oauth.notion,
    ] {
        app.client_id = Some("corpus-client".into());
        app.client_secret = Some(SecretString::from("corpus-secret"));
    }
    OAuthService::from_config(&config, db.app.clone(), reqwest::Client::new())
        .unwrap()
        .unwrap()
}

/// Runs every case (or those whose id starts with `CORPUS_ONLY`), prints
/// the failures and the scores (every reply too with `CORPUS_SHOW=1`), and
/// fails below `threshold`.
async fn run_corpus(title: &str, text: &str, threshold: f64) {
    let cases = parse_corpus(text);
    let only = std::env::var("CORPUS_ONLY").ok();
    let db = TestDb::new().await;
    let agent = Agent::new(
        db.app.clone(),
        Arc::new(OfflinePlanner::new()),
        Arc::new(ToolRegistry::with_integrations(Some(oauth(&db)))),
        TurnBudget::default(),
    )
    .with_clock(now);

    let mut by_class: BTreeMap<String, Score> = BTreeMap::new();
    let mut by_style: BTreeMap<String, Score> = BTreeMap::new();
    let mut by_lang: BTreeMap<String, Score> = BTreeMap::new();
    let mut all = Score::default();
    let mut failures = Vec::new();
    for case in &cases {
        if only.as_deref().is_some_and(|o| !case.id.starts_with(o)) {
            continue;
        }
        let user = seed(&db, case).await;
        let before = read_state(&db, user).await;
        let mut reply = String::new();
        for text in &case.say {
            reply = agent.handle_text(user, text).await.unwrap().reply;
        }
        let after = read_state(&db, user).await;
        if std::env::var_os("CORPUS_SHOW").is_some() {
            println!("{} {:?}\n    → {reply}", case.id, case.say);
        }
        let why = check(case, &before, &after, &reply);
        let ok = why.is_empty();
        all.add(ok);
        by_class.entry(case.class.clone()).or_default().add(ok);
        by_style.entry(case.style.clone()).or_default().add(ok);
        by_lang.entry(case.lang.clone()).or_default().add(ok);
        if !ok {
            failures.push(format!(
                "{} {:?}\n    reply: {reply}\n    {}",
                case.id,
                case.say,
                why.join("\n    ")
            ));
        }
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    println!("\n{title}");
    for (label, scores) in [
        ("class", &by_class),
        ("style", &by_style),
        ("lang", &by_lang),
    ] {
        for (k, s) in scores {
            println!(
                "  {label:<5} {k:<12} {:>3}/{:<3} {:5.1}%",
                s.pass,
                s.total,
                s.pct()
            );
        }
    }
    println!(
        "  overall            {:>3}/{:<3} {:5.1}%",
        all.pass,
        all.total,
        all.pct()
    );
    assert!(
        all.pct() >= threshold * 100.0,
        "{title}: {:.1}% passes, below {:.0}%; failures above",
        all.pct(),
        threshold * 100.0
    );
}
