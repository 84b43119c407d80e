//! Row-level security, proved against the real PostgreSQL: the catalog is
//! what we claim, one person's scope never reaches another's rows, and no
//! scope sees nothing.

mod common;

use common::person_rows::{APPEND_ONLY, FIXTURES, owner_column, seed, user_tables};

use std::collections::BTreeSet;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sqlx::{AssertSqlSafe, PgPool};
use uuid::Uuid;

use common::{TEST_APP_ROLE, TestDb, create_user};
use nudge::db::UserTx;
use nudge::store::UserId;

/// Every way the catalog can betray isolation, as human-readable findings.
async fn catalog_violations(pool: &PgPool) -> Vec<String> {
    let mut found = Vec::new();
    let unprotected: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace \
         where n.nspname = 'public' and c.relkind in ('r', 'p') \
           and (c.relname = 'users' or exists (select 1 from pg_attribute a \
                where a.attrelid = c.oid and a.attname = 'user_id' and not a.attisdropped)) \
           and not (c.relrowsecurity and c.relforcerowsecurity \
                and exists (select 1 from pg_policy p where p.polrelid = c.oid \
                    and pg_get_expr(p.polqual, p.polrelid) like '%current_setting(''app.user_id''::text, true)%'))",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    found.extend(
        unprotected
            .into_iter()
            .map(|t| format!("table {t} lacks enabled+forced RLS with an app.user_id policy")),
    );

    let views: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace \
         where n.nspname not in ('pg_catalog', 'information_schema') and c.relkind in ('v', 'm') \
           and not coalesce(c.reloptions @> array['security_invoker=true'], false)",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    found.extend(
        views
            .into_iter()
            .map(|v| format!("view {v} lacks security_invoker")),
    );

    let definers: Vec<String> = sqlx::query_scalar(
        "select n.nspname || '.' || p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace \
         where p.prosecdef and n.nspname not in ('pg_catalog', 'information_schema') \
           and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    found.extend(
        definers
            .into_iter()
            .map(|f| format!("SECURITY DEFINER function {f} has no fixed search_path")),
    );

    let (superuser, bypass): (bool, bool) =
        sqlx::query_as("select rolsuper, rolbypassrls from pg_roles where rolname = $1")
            .bind(TEST_APP_ROLE)
            .fetch_one(pool)
            .await
            .unwrap();
    if superuser || bypass {
        found.push("application role can bypass RLS".into());
    }
    let owned: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_roles r on r.oid = c.relowner where r.rolname = $1",
    )
    .bind(TEST_APP_ROLE)
    .fetch_all(pool)
    .await
    .unwrap();
    found.extend(
        owned
            .into_iter()
            .map(|t| format!("application role owns {t}")),
    );
    found
}

#[tokio::test]
async fn catalog_is_isolated() {
    let db = TestDb::new().await;
    let violations = catalog_violations(&db.owner).await;
    assert!(violations.is_empty(), "{violations:#?}");
    // The 18 tables named by the issue, the turn leases, the agent's
    // journal, the OAuth connect links, the pending account deletions, the
    // follow-through bookmarks and focus sessions, and the knowledge base's
    // four (sources, documents, chunks, runs), all user-owned.
    assert_eq!(user_tables(&db.owner).await.len(), 28);
}

#[tokio::test]
async fn catalog_check_catches_a_dropped_policy_and_a_careless_view() {
    let db = TestDb::new().await;
    sqlx::query("drop policy user_isolation on memories")
        .execute(&db.owner)
        .await
        .unwrap();
    sqlx::query("alter table tasks no force row level security")
        .execute(&db.owner)
        .await
        .unwrap();
    sqlx::query("create view all_tasks as select * from tasks")
        .execute(&db.owner)
        .await
        .unwrap();
    sqlx::query(
        "create function leak() returns setof uuid language sql security definer as 'select id from users'",
    )
    .execute(&db.owner)
    .await
    .unwrap();
    let violations = catalog_violations(&db.owner).await.join("\n");
    for needle in [
        "table memories",
        "table tasks",
        "view all_tasks",
        "public.leak",
    ] {
        assert!(
            violations.contains(needle),
            "{needle} not reported in:\n{violations}"
        );
    }
}

#[tokio::test]
async fn fixtures_cover_every_user_table() {
    let db = TestDb::new().await;
    let tables = user_tables(&db.owner).await;
    let covered: BTreeSet<String> = FIXTURES.iter().map(|(t, _)| t.to_string()).collect();
    assert_eq!(tables, covered);
}

async fn count_owned(pool: &PgPool, table: &str, user: UserId) -> i64 {
    sqlx::query_scalar(AssertSqlSafe(format!(
        "select count(*) from {table} where {} = $1",
        owner_column(table)
    )))
    .bind(user.0)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn scoped_statements_without_where_touch_only_the_scoped_user() {
    let db = TestDb::new().await;
    let users = seed(&db, 6).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..12 {
        let pair: Vec<_> = users.choose_multiple(&mut rng, 2).copied().collect();
        let (a, b) = (pair[0], pair[1]);
        for (table, _) in FIXTURES {
            let col = owner_column(table);
            let own = count_owned(&db.owner, table, a).await;
            let others_before = count_owned(&db.owner, table, b).await;
            assert!(own > 0 && others_before > 0, "{table} has no fixture rows");

            let mut tx = UserTx::begin(&db.app, a).await.unwrap();
            let seen: Vec<Uuid> =
                sqlx::query_scalar(AssertSqlSafe(format!("select {col} from {table}")))
                    .fetch_all(tx.conn())
                    .await
                    .unwrap();
            assert_eq!(seen.len() as i64, own, "{table}: select saw other rows");
            assert!(
                seen.iter().all(|u| *u == a.0),
                "{table}: select saw another user"
            );

            if APPEND_ONLY.contains(table) {
                // No update or delete at all, the person's own rows included.
                for statement in [
                    format!("update {table} set {col} = {col}"),
                    format!("delete from {table}"),
                ] {
                    let mut tx = UserTx::begin(&db.app, a).await.unwrap();
                    let refused = sqlx::query(AssertSqlSafe(statement.clone()))
                        .execute(tx.conn())
                        .await
                        .unwrap_err();
                    assert_eq!(
                        refused
                            .as_database_error()
                            .and_then(|e| e.code())
                            .as_deref(),
                        Some("42501"),
                        "{statement}"
                    );
                }
                tx.rollback().await.unwrap();
                continue;
            }
            let updated = sqlx::query(AssertSqlSafe(format!("update {table} set {col} = {col}")))
                .execute(tx.conn())
                .await
                .unwrap()
                .rows_affected();
            assert_eq!(updated as i64, own, "{table}: update reached other rows");

            // users rows are referenced by everything else; deleting them
            // cascades, which is still only the scoped user's data.
            let deleted = sqlx::query(AssertSqlSafe(format!("delete from {table}")))
                .execute(tx.conn())
                .await
                .unwrap()
                .rows_affected();
            assert_eq!(deleted as i64, own, "{table}: delete reached other rows");
            tx.rollback().await.unwrap();

            // Writing a row for someone else is refused too.
            let mut tx = UserTx::begin(&db.app, a).await.unwrap();
            let hijack = sqlx::query(AssertSqlSafe(format!("update {table} set {col} = $1")))
                .bind(b.0)
                .execute(tx.conn())
                .await;
            assert!(hijack.is_err(), "{table}: could move a row to another user");
            tx.rollback().await.unwrap();

            assert_eq!(count_owned(&db.owner, table, b).await, others_before);
        }
    }
}

#[tokio::test]
async fn without_a_user_every_table_reads_empty() {
    let db = TestDb::new().await;
    let users = seed(&db, 2).await;
    // One connection, used first by a scoped transaction: its setting must
    // not survive into unscoped use.
    let pool = db.app_pool(1).await;
    let tx = UserTx::begin(&pool, users[0]).await.unwrap();
    tx.commit().await.unwrap();
    for (table, _) in FIXTURES {
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("select count(*) from {table}")))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(n, 0, "{table} visible without a user");
        let changed = sqlx::query(AssertSqlSafe(format!("delete from {table}")))
            .execute(&pool)
            .await;
        match APPEND_ONLY.contains(table) {
            true => assert!(changed.is_err(), "{table} deletable by the application"),
            false => assert_eq!(
                changed.unwrap().rows_affected(),
                0,
                "{table} deletable without a user"
            ),
        }
    }
}

#[tokio::test]
async fn ten_thousand_interleaved_transactions_never_leak() {
    let db = TestDb::new().await;
    let users = seed(&db, 2).await;
    let pool = db.app_pool(2).await;
    let mut handles = Vec::new();
    for worker in 0..8u64 {
        let pool = pool.clone();
        let users = users.clone();
        handles.push(tokio::spawn(async move {
            let mut rng = rand::rngs::StdRng::seed_from_u64(worker);
            let mut leaks = 0u32;
            for _ in 0..1250 {
                let me = users[rng.random_range(0..2)];
                let mut tx = UserTx::begin(&pool, me).await.unwrap();
                let seen: Vec<Uuid> = sqlx::query_scalar(
                    "select user_id from memories union all select id from users",
                )
                .fetch_all(tx.conn())
                .await
                .unwrap();
                if seen.len() != 2 || seen.iter().any(|u| *u != me.0) {
                    leaks += 1;
                }
                // Some end in rollback, some in an error: neither may leave
                // the scope behind on the pooled connection.
                match rng.random_range(0..3) {
                    0 => tx.commit().await.unwrap(),
                    1 => tx.rollback().await.unwrap(),
                    _ => {
                        let _ = sqlx::query("select 1/0").execute(tx.conn()).await;
                        drop(tx);
                    }
                }
            }
            leaks
        }));
    }
    let mut leaks = 0;
    for h in handles {
        leaks += h.await.unwrap();
    }
    assert_eq!(leaks, 0);
    let unscoped: i64 = sqlx::query_scalar("select count(*) from memories")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(unscoped, 0);
}

#[tokio::test]
async fn cross_user_entry_points_return_ids_only() {
    let db = TestDb::new().await;
    let users = seed(&db, 2).await;
    let found = nudge::store::user_id_for_phone(&db.app, &"+15145550100".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(found, Some(users[0]));
    let none = nudge::store::user_id_for_phone(&db.app, &"+15145559999".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(none, None);
    let cols: Vec<String> = sqlx::query_scalar(
        "select unnest(proargnames) from pg_proc where proname = 'nudge_due_reminders'",
    )
    .fetch_all(&db.owner)
    .await
    .unwrap();
    assert!(cols.contains(&"reminder_id".to_string()) && cols.contains(&"user_id".to_string()));
    let due: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "select reminder_id, user_id from nudge_due_reminders(now() + interval '2 hours', 100)",
    )
    .fetch_all(&db.app)
    .await
    .unwrap();
    assert_eq!(due.len(), 2);
    // The application role cannot read the tables behind them directly.
    let direct: i64 = sqlx::query_scalar("select count(*) from user_phone_numbers")
        .fetch_one(&db.app)
        .await
        .unwrap();
    assert_eq!(direct, 0);
}

// ---------------------------------------------------------------------------
// The first wall: every per-user query names its user. Proved with RLS out
// of the way — a role with BYPASSRLS — so only the `where user_id = $1` of
// each store query, planner query and tool stands between two people.
// ---------------------------------------------------------------------------

/// A login role with BYPASSRLS and the application role's grants, for this
/// database's test only; dropped with it.
struct BypassRole {
    name: String,
    pool: PgPool,
}

impl BypassRole {
    async fn create(db: &TestDb) -> BypassRole {
        let name = format!("bypass_{}", &db.name["nudge_test_".len()..]);
        sqlx::raw_sql(AssertSqlSafe(format!(
            "create role {name} login bypassrls in role {TEST_APP_ROLE}"
        )))
        .execute(&db.owner)
        .await
        .unwrap();
        let options: sqlx::postgres::PgConnectOptions = common::server_url().parse().unwrap();
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect_with(options.username(&name).database(&db.name))
            .await
            .unwrap();
        BypassRole { name, pool }
    }

    async fn drop_role(self, db: &TestDb) {
        self.pool.close().await;
        sqlx::raw_sql(AssertSqlSafe(format!("drop role {}", self.name)))
            .execute(&db.owner)
            .await
            .unwrap();
    }
}

/// A person's rows seeded through the store API; ids kept for the attacks.
struct Seeded {
    id: UserId,
    phones: Vec<&'static str>,
    reminder: Uuid,
    task: Uuid,
    goal: Uuid,
    inbound: Uuid,
    outbound: Uuid,
    outbound_key: String,
    provider_id: String,
    pending: Uuid,
}

async fn seed_person(pool: &PgPool, word: &str, phones: [&'static str; 2]) -> Seeded {
    use nudge::store::*;
    let id = UserId(Uuid::new_v4());
    let mut tx = UserTx::begin(pool, id).await.unwrap();
    User::insert(
        &mut tx,
        &format!("{word} person"),
        "America/Montreal".parse().unwrap(),
        Locale::En,
    )
    .await
    .unwrap();
    for p in phones {
        PhoneRecord::add(&mut tx, &p.parse().unwrap(), true)
            .await
            .unwrap();
    }
    let due = chrono::Utc::now() + chrono::Duration::hours(3);
    let reminder = Reminder::create(
        &mut tx,
        NewReminder {
            body: format!("{word} dentist"),
            due_at: due,
            timezone: "America/Montreal".into(),
            local_time: None,
            recurrence: None,
            explicit_time: true,
        },
    )
    .await
    .unwrap();
    Reminder::create(
        &mut tx,
        NewReminder {
            body: format!("{word} pills"),
            due_at: due + chrono::Duration::hours(1),
            timezone: "America/Montreal".into(),
            local_time: None,
            recurrence: None,
            explicit_time: false,
        },
    )
    .await
    .unwrap();
    // A delivered one, for last_delivered / delivered_since.
    let sent = Reminder::create(
        &mut tx,
        NewReminder {
            body: format!("{word} sent"),
            due_at: chrono::Utc::now() - chrono::Duration::minutes(5),
            timezone: "America/Montreal".into(),
            local_time: None,
            recurrence: None,
            explicit_time: false,
        },
    )
    .await
    .unwrap();
    Reminder::advance(
        &mut tx,
        sent.id,
        ReminderStatus::Sent,
        None,
        Some(chrono::Utc::now()),
    )
    .await
    .unwrap();
    let task = Task::add(&mut tx, &format!("{word} taxes")).await.unwrap();
    let goal = Goal::add(&mut tx, &format!("{word} marathon"))
        .await
        .unwrap();
    ListItem::add(
        &mut tx,
        DEFAULT_LIST,
        &[format!("{word} milk"), "eggs".to_string()],
    )
    .await
    .unwrap();
    Expense::add(&mut tx, 1250, "CAD", "food", Some(&format!("{word} lunch")))
        .await
        .unwrap();
    Memory::remember(&mut tx, &format!("{word} locker is 42"), Locale::En)
        .await
        .unwrap();
    let provider_id = format!("SM{}", Uuid::new_v4().simple());
    let inbound = SmsMessage::insert_inbound(
        &mut tx,
        &format!("{word} hello"),
        phones[0],
        &provider_id,
        &serde_json::json!([]),
        MessageStatus::Received,
    )
    .await
    .unwrap()
    .unwrap();
    let outbound_key = format!("test:{}", Uuid::new_v4());
    let outbound =
        SmsMessage::insert_outbound(&mut tx, &format!("{word} reply"), &outbound_key, None)
            .await
            .unwrap();
    let out_provider = format!("SM{}", Uuid::new_v4().simple());
    SmsMessage::record_handed_over(
        &mut tx,
        outbound.id,
        &Handover {
            status: MessageStatus::Sent,
            provider_message_id: &out_provider,
            segments: 1,
            body: &format!("{word} reply"),
            encoding: "gsm7",
            estimated_cost_micros: 7900,
        },
    )
    .await
    .unwrap();
    StoredMessage::insert_console(&mut tx, &format!("{word} note"))
        .await
        .unwrap();
    assert!(
        TurnLease::take(
            &mut tx,
            &format!("{word}-job"),
            std::time::Duration::from_secs(600)
        )
        .await
        .unwrap()
    );
    ConversationSummary::save(&mut tx, &format!("{word} summary"), chrono::Utc::now())
        .await
        .unwrap();
    let pending = PendingAction::create(
        &mut tx,
        "cancel_all_reminders",
        &serde_json::json!({}),
        &format!("{word} cancel all"),
        "Q7",
        chrono::Utc::now() + chrono::Duration::minutes(10),
    )
    .await
    .unwrap();
    record_llm_usage(&mut tx, "offline", "rules", 1, 2, 3)
        .await
        .unwrap();
    Bookmark::create(&mut tx, &format!("{word} bookmark"), None, None)
        .await
        .unwrap();
    let report = format!("{word} report");
    // Done: "how long does the report take" would read it.
    let session = FocusSession::start(
        &mut tx,
        &report,
        None,
        25,
        chrono::Utc::now() - chrono::Duration::hours(2),
    )
    .await
    .unwrap();
    FocusSession::finish(&mut tx, session.id, FocusStatus::Done, chrono::Utc::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    Seeded {
        id,
        phones: phones.to_vec(),
        reminder: reminder.id,
        task: task.id,
        goal: goal.id,
        inbound: inbound.id,
        outbound: outbound.id,
        outbound_key,
        provider_id: out_provider,
        pending: pending.id,
    }
}

/// Every row of the person in every user table, and their queued jobs, as
/// one comparable text (read by the superuser owner).
async fn snapshot(db: &TestDb, user: UserId) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for table in user_tables(&db.owner).await {
        let rows: Option<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "select string_agg(to_jsonb(t)::text, E'\\n' order by to_jsonb(t)::text) from {table} t \
             where {} = $1",
            owner_column(&table)
        )))
        .bind(user.0)
        .fetch_one(&db.owner)
        .await
        .unwrap();
        out.push((table, rows.unwrap_or_default()));
    }
    let jobs: Option<String> = sqlx::query_scalar(
        "select string_agg(id || ' ' || status, ',' order by id) from apalis.jobs \
         where convert_from(job, 'UTF8')::jsonb ->> 'user_id' = $1",
    )
    .bind(user.0.to_string())
    .fetch_one(&db.owner)
    .await
    .unwrap();
    out.push(("apalis.jobs".into(), jobs.unwrap_or_default()));
    out
}

/// Everything a call returned, for "did it show the other person's data".
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    fn add(&mut self, what: &str, value: impl std::fmt::Debug) {
        self.0.push(format!("{what}: {value:?}"));
    }

    fn assert_clean_of(&self, other: &Seeded) {
        // The other person's texts (never passed as arguments, which tools
        // may echo), their id and their numbers.
        let mut forbidden: Vec<String> = [
            "bravo person",
            "bravo dentist",
            "bravo pills",
            "bravo sent",
            "bravo taxes",
            "bravo marathon",
            "bravo lunch",
            "bravo locker is 42",
            "bravo hello",
            "bravo reply",
            "bravo note",
            "bravo summary",
            "bravo cancel all",
            "bravo bookmark",
            "bravo report",
        ]
        .map(String::from)
        .to_vec();
        forbidden.push(other.id.0.to_string());
        forbidden.extend(other.phones.iter().map(|p| p.to_string()));
        for line in &self.0 {
            for f in &forbidden {
                assert!(
                    !line.contains(f.as_str()),
                    "saw the other person's {f} in {line}"
                );
            }
        }
    }
}

#[tokio::test]
async fn with_rls_bypassed_the_store_api_and_tools_never_cross_people() {
    use nudge::agent::tools::{RemoteContext, ToolContext, ToolRegistry, Wording};
    use nudge::store::*;

    let db = TestDb::new().await;
    let bypass = BypassRole::create(&db).await;
    let pool = bypass.pool.clone();
    let alpha = seed_person(&pool, "alpha", ["+15145550111", "+15145550112"]).await;
    let bravo = seed_person(&pool, "bravo", ["+15145550121", "+15145550122"]).await;
    // The role really walks through RLS: unscoped, it sees both people.
    let visible: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(visible, 2, "the test role must bypass RLS");
    let before = snapshot(&db, bravo.id).await;

    let mut seen = Seen::default();
    let now = chrono::Utc::now();
    let mut tx = UserTx::begin(&pool, alpha.id).await.unwrap();

    // Reads.
    seen.add("current", User::current(&mut tx).await.unwrap());
    seen.add("phones", PhoneRecord::list(&mut tx).await.unwrap());
    seen.add("primary", PhoneRecord::primary(&mut tx).await.unwrap());
    let upcoming = Reminder::upcoming(&mut tx, 100).await.unwrap();
    assert_eq!(upcoming.len(), 2, "{upcoming:?}");
    seen.add("upcoming", &upcoming);
    seen.add(
        "find_scheduled",
        Reminder::find_scheduled(&mut tx, "").await.unwrap(),
    );
    seen.add(
        "last_delivered",
        Reminder::last_delivered(&mut tx).await.unwrap(),
    );
    seen.add(
        "delivered_since",
        Reminder::delivered_since(&mut tx, now - chrono::Duration::hours(1))
            .await
            .unwrap(),
    );
    seen.add(
        "recent",
        StoredMessage::recent(&mut tx, now + chrono::Duration::hours(1), 100)
            .await
            .unwrap(),
    );
    seen.add("since", StoredMessage::since(&mut tx, None).await.unwrap());
    seen.add(
        "summary",
        ConversationSummary::latest(&mut tx).await.unwrap(),
    );
    seen.add(
        "oldest_unanswered",
        SmsMessage::oldest_unanswered(&mut tx).await.unwrap(),
    );
    seen.add(
        "unsent_replies",
        SmsMessage::unsent_replies(&mut tx).await.unwrap(),
    );
    seen.add("list", ListItem::show(&mut tx, DEFAULT_LIST).await.unwrap());
    seen.add("tasks", Task::open(&mut tx).await.unwrap());
    seen.add(
        "find_open",
        Task::find_open(&mut tx, None, "").await.unwrap(),
    );
    seen.add("goals", Goal::active(&mut tx).await.unwrap());
    seen.add(
        "find_active",
        Goal::find_active(&mut tx, None, "").await.unwrap(),
    );
    let year_month = now.with_timezone(&chrono_tz::America::Montreal);
    let totals = Expense::month_totals(
        &mut tx,
        "America/Montreal",
        chrono::Datelike::year(&year_month),
        chrono::Datelike::month(&year_month),
    )
    .await
    .unwrap();
    assert_eq!(
        totals.iter().map(|t| t.total_minor).sum::<i64>(),
        1250,
        "{totals:?}"
    );
    seen.add(
        "recall",
        Memory::recall(&mut tx, "locker", 10).await.unwrap(),
    );
    seen.add(
        "awaiting",
        PendingAction::awaiting(&mut tx, now).await.unwrap(),
    );
    seen.add(
        "summary_due",
        nudge::agent::conversation::summary_due(&mut tx)
            .await
            .unwrap(),
    );
    let facts = nudge::agent::planner::TurnFacts::load(&mut tx, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(facts.tokens_today, 3, "another person's tokens counted");
    seen.add("facts.summary", &facts.summary);
    let registry = ToolRegistry::builtin();
    let request =
        nudge::agent::planner::build_request(&mut tx, &facts, &registry, "locker", now, now)
            .await
            .unwrap();
    seen.add("request", &request.system);
    seen.add("request.messages", &request.messages);

    // Reads and writes aimed at the other person's rows, by id or key.
    assert!(matches!(
        Reminder::get(&mut tx, bravo.reminder).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        Reminder::lock(&mut tx, bravo.reminder)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        Reminder::cancel(&mut tx, bravo.reminder).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        Reminder::reschedule(&mut tx, bravo.reminder, now + chrono::Duration::days(1)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        Reminder::advance(
            &mut tx,
            bravo.reminder,
            ReminderStatus::Sent,
            Some(now + chrono::Duration::days(2)),
            Some(now)
        )
        .await,
        Err(StoreError::NotFound)
    ));
    Reminder::mark_done(&mut tx, bravo.reminder).await.unwrap();
    assert_eq!(
        nudge::db::queue::unschedule_reminder(tx.conn(), alpha.id.0, bravo.reminder)
            .await
            .unwrap(),
        0
    );
    assert!(matches!(
        SmsMessage::get_for_sending(&mut tx, bravo.inbound).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        SmsMessage::by_idempotency_key(&mut tx, &bravo.outbound_key)
            .await
            .unwrap()
            .is_none()
    );
    SmsMessage::set_status(&mut tx, bravo.outbound, MessageStatus::Failed)
        .await
        .unwrap();
    assert_eq!(
        SmsMessage::claim_for_sending(
            &mut tx,
            bravo.outbound,
            "hijack",
            1,
            std::time::Duration::ZERO,
            "hijacker"
        )
        .await
        .unwrap(),
        Claim::Busy
    );
    SmsMessage::record_send(
        &mut tx,
        bravo.outbound,
        MessageStatus::Delivered,
        Some("SMx"),
        None,
        Some(1),
        "hijack",
    )
    .await
    .unwrap();
    assert!(matches!(
        SmsMessage::apply_callback(&mut tx, &bravo.provider_id, MessageStatus::Read, None).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        StoredMessage::store_reply(&mut tx, bravo.inbound, "hijack").await,
        Err(StoreError::NotFound)
    ));
    SmsMessage::release_claim(&mut tx, bravo.outbound)
        .await
        .unwrap();
    assert!(
        !SmsMessage::release_rate_limited(&mut tx, bravo.inbound)
            .await
            .unwrap()
    );
    // The other person's lease is theirs: releasing "it" as its holder
    // touches nothing, and our own lease is independent of theirs.
    TurnLease::release(&mut tx, "bravo-job").await.unwrap();
    assert!(
        TurnLease::take(&mut tx, "alpha-job", std::time::Duration::from_secs(60))
            .await
            .unwrap()
    );
    Task::complete(&mut tx, bravo.task).await.unwrap();
    Goal::add_progress(&mut tx, bravo.goal, "hijack")
        .await
        .unwrap();
    assert!(
        !PendingAction::resolve(&mut tx, bravo.pending, true)
            .await
            .unwrap()
    );
    assert!(
        PhoneRecord::find(&mut tx, &bravo.phones[0].parse().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        PhoneRecord::remove(&mut tx, &bravo.phones[0].parse().unwrap()).await,
        Err(StoreError::NotFound)
    ));
    PhoneRecord::set_opted_out(&mut tx, bravo.phones[1], true)
        .await
        .unwrap();
    seen.add(
        "remove bravo items",
        ListItem::remove(&mut tx, DEFAULT_LIST, &["bravo milk".into(), "eggs".into()])
            .await
            .unwrap(),
    );

    // Writes that act on "all of mine".
    seen.add("cancel_all", Reminder::cancel_all(&mut tx).await.unwrap());
    seen.add(
        "retime_all",
        Reminder::retime_all(&mut tx, "Europe/Paris").await.unwrap(),
    );
    seen.add(
        "clear",
        ListItem::clear(&mut tx, DEFAULT_LIST).await.unwrap(),
    );
    PendingAction::create(
        &mut tx,
        "cancel_all_reminders",
        &serde_json::json!({}),
        "again",
        "Q8",
        now + chrono::Duration::minutes(5),
    )
    .await
    .unwrap();
    PhoneRecord::remove(&mut tx, &alpha.phones[0].parse().unwrap())
        .await
        .unwrap();
    let promoted = PhoneRecord::primary(&mut tx).await.unwrap().unwrap();
    assert_eq!(
        promoted.e164, alpha.phones[1],
        "the person's own other number is promoted"
    );
    User::set_timezone(&mut tx, "Europe/Paris".parse().unwrap())
        .await
        .unwrap();
    User::set_display_name(&mut tx, "Alpha").await.unwrap();
    User::set_quiet_hours(&mut tx, None).await.unwrap();
    User::set_status(&mut tx, UserStatus::Active).await.unwrap();
    tx.commit().await.unwrap();

    // Every tool, as the first person; each in its own transaction so one
    // refused call does not poison the next.
    let user = {
        let mut tx = UserTx::begin(&pool, alpha.id).await.unwrap();
        let u = User::current(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        u
    };
    let b = |id: Uuid| id.to_string();
    let calls: Vec<(&str, serde_json::Value)> = vec![
        (
            "create_reminder",
            serde_json::json!({"text": "alpha tool", "in_minutes": 30}),
        ),
        ("list_reminders", serde_json::json!({})),
        ("cancel_reminder", serde_json::json!({"query": "bravo"})),
        (
            "cancel_reminder",
            serde_json::json!({"reminder_id": b(bravo.reminder)}),
        ),
        (
            "snooze_reminder",
            serde_json::json!({"minutes": 10, "reminder_id": b(bravo.reminder)}),
        ),
        ("snooze_reminder", serde_json::json!({"minutes": 10})),
        ("cancel_all_reminders", serde_json::json!({})),
        ("add_task", serde_json::json!({"title": "alpha tool task"})),
        ("list_tasks", serde_json::json!({})),
        (
            "complete_task",
            serde_json::json!({"task_id": b(bravo.task)}),
        ),
        ("complete_task", serde_json::json!({"query": "bravo"})),
        ("add_goal", serde_json::json!({"title": "alpha tool goal"})),
        ("list_goals", serde_json::json!({})),
        (
            "add_goal_progress",
            serde_json::json!({"goal_id": b(bravo.goal), "note": "x"}),
        ),
        (
            "add_goal_progress",
            serde_json::json!({"query": "bravo", "note": "x"}),
        ),
        (
            "add_list_items",
            serde_json::json!({"items": ["alpha bread"]}),
        ),
        ("show_list", serde_json::json!({})),
        ("remove_list_items", serde_json::json!({"items": ["eggs"]})),
        ("clear_list", serde_json::json!({})),
        (
            "log_expense",
            serde_json::json!({"amount": 3.5, "category": "coffee"}),
        ),
        ("expense_summary", serde_json::json!({})),
        (
            "remember",
            serde_json::json!({"fact": "alpha bike code 1234"}),
        ),
        ("recall", serde_json::json!({"query": "bravo locker"})),
        (
            "save_note",
            serde_json::json!({"text": "alpha note: the shed code is 9"}),
        ),
        (
            "search_knowledge",
            serde_json::json!({"query": "wifi Blue42 bravo"}),
        ),
        ("sync_notion", serde_json::json!({})),
        (
            "set_timezone",
            serde_json::json!({"timezone": "America/Toronto"}),
        ),
        (
            "set_display_name",
            serde_json::json!({"name": "Alpha Tool"}),
        ),
        (
            "set_quiet_hours",
            serde_json::json!({"start": "22:00", "end": "07:00"}),
        ),
        (
            "set_follow_through",
            serde_json::json!({"persist_reminders": true, "turn_off": ["nudges"]}),
        ),
        (
            "save_bookmark",
            serde_json::json!({"doing": "alpha taxes", "next": "alpha receipt"}),
        ),
        ("what_was_i_doing", serde_json::json!({})),
        (
            "start_focus",
            serde_json::json!({"task": "alpha report", "minutes": 25}),
        ),
        ("how_long_usually", serde_json::json!({"task": "report"})),
        (
            "plan_leave_by",
            serde_json::json!({"event": "alpha dentist", "at_local": "2027-01-05T15:00", "travel_minutes": 20}),
        ),
        ("was_late", serde_json::json!({})),
        ("set_morning_checkin", serde_json::json!({"at": "08:00"})),
        ("set_evening_checkin", serde_json::json!({"at": "21:00"})),
        (
            "move_task",
            serde_json::json!({"task_id": b(bravo.task), "date": "2027-01-05"}),
        ),
        (
            "move_task",
            serde_json::json!({"query": "bravo", "date": "2027-01-05"}),
        ),
        (
            "archive_task",
            serde_json::json!({"task_id": b(bravo.task)}),
        ),
        ("archive_task", serde_json::json!({"query": "bravo"})),
    ];
    let mut names_called: BTreeSet<&str> = BTreeSet::new();
    for (name, args) in calls {
        let Some(tool) = registry.get(name) else {
            continue;
        };
        names_called.insert(name);
        if tool.remote() {
            // Runs with no transaction open and opens its own (search).
            let connected = Default::default();
            let ctx = RemoteContext {
                pool: &pool,
                user: &user,
                tz: user.tz(),
                now: chrono::Utc::now(),
                say: Wording::new(user.locale()),
                connected: &connected,
            };
            let result = tool.call_remote(&ctx, args.clone()).await;
            assert!(result.is_ok(), "{name}: {result:?}");
            seen.add(
                &format!("{name} {args}"),
                result.as_ref().map_err(|e| e.to_string()),
            );
            continue;
        }
        let mut tx = UserTx::begin(&pool, alpha.id).await.unwrap();
        let mut ctx = ToolContext {
            tx: &mut tx,
            user: &user,
            tz: user.tz(),
            now: chrono::Utc::now(),
            say: Wording::new(user.locale()),
        };
        let result = tool.call(&mut ctx, args.clone()).await;
        seen.add(
            &format!("{name} {args}"),
            result.as_ref().map_err(|e| e.to_string()),
        );
        match result {
            Ok(_) => tx.commit().await.unwrap(),
            Err(_) => tx.rollback().await.unwrap(),
        }
    }
    // Every built-in tool took part (a renamed tool would silently drop out).
    for declared in registry.declarations_for(&Default::default()) {
        assert!(
            names_called.contains(declared.name.as_str()),
            "tool {} is not exercised here; add a call for it",
            declared.name
        );
    }

    seen.assert_clean_of(&bravo);
    let after = snapshot(&db, bravo.id).await;
    for ((table, was), (_, now)) in before.iter().zip(after.iter()) {
        assert_eq!(was, now, "the other person's {table} rows changed");
    }
    bypass.drop_role(&db).await;
}

#[tokio::test]
async fn a_pool_never_hands_out_a_connection_that_bypasses_rls() {
    let db = TestDb::new().await;
    let owner: sqlx::postgres::PgConnectOptions = db.owner_url().parse().unwrap();
    // The pool retries the refused connection until its acquire timeout.
    assert!(nudge::db::lazy_pool(owner, 2).acquire().await.is_err());
    let app: sqlx::postgres::PgConnectOptions = db.app_url().parse().unwrap();
    nudge::db::lazy_pool(app, 2).acquire().await.unwrap();
}

#[tokio::test]
async fn database_errors_are_logged_without_row_values() {
    let db = TestDb::new().await;
    let user = create_user(&db, "Dee", "+15145550100").await;
    let mut tx = UserTx::begin(&db.owner, user).await.unwrap();
    let body = format!("call my therapist at +15145550199 {}", "x".repeat(1000));
    let raw = sqlx::query(
        "insert into reminders (user_id, body, due_at, timezone) values ($1, $2, now(), 'UTC')",
    )
    .bind(user.0)
    .bind(&body)
    .execute(tx.conn())
    .await
    .unwrap_err();
    tx.rollback().await.unwrap();
    // What the driver would have logged: the row, body and number included
    // (the owner sees the detail; under RLS PostgreSQL leaves it out).
    assert!(format!("{raw:?}").contains("therapist"), "{raw:?}");

    let redacted = nudge::db::redact(&raw);
    assert_eq!(redacted.code(), Some("23514"));
    assert_eq!(redacted.constraint(), Some("reminders_body_check"));
    let shown = vec![
        redacted.to_string(),
        format!("{redacted:?}"),
        format!(
            "{}",
            nudge::store::StoreError::from(raw_again(&db, user, &body).await)
        ),
        format!(
            "{:?}",
            nudge::store::StoreError::from(raw_again(&db, user, &body).await)
        ),
        format!(
            "{:?}",
            anyhow::Error::new(nudge::store::StoreError::from(
                raw_again(&db, user, &body).await
            ))
        ),
        format!(
            "{:?}",
            nudge::error::AppError::from(raw_again(&db, user, &body).await)
        ),
    ];
    for line in &shown {
        assert!(
            !line.contains("therapist") && !line.contains("5550199"),
            "{line}"
        );
        assert!(
            line.contains("23514") && line.contains("reminders"),
            "{line}"
        );
    }
}

async fn raw_again(db: &TestDb, user: UserId, body: &str) -> sqlx::Error {
    let mut tx = UserTx::begin(&db.owner, user).await.unwrap();
    let e = sqlx::query(
        "insert into reminders (user_id, body, due_at, timezone) values ($1, $2, now(), 'UTC')",
    )
    .bind(user.0)
    .bind(body)
    .execute(tx.conn())
    .await
    .unwrap_err();
    tx.rollback().await.unwrap();
    e
}

/// `nudge dev` given a superuser `DATABASE_URL` becomes its owner and runs
/// as the plain application role, as it does with its private cluster.
#[tokio::test]
async fn dev_given_a_superuser_url_runs_as_a_plain_application_role() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let db = TestDb::new().await;
    let cwd = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_nudge"))
        .arg("dev")
        .current_dir(cwd.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db.owner_url())
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let base = tokio::time::timeout(std::time::Duration::from_secs(60), async {
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
    assert!(
        seen.iter()
            .any(|l| l.contains("running as the plain role 'nudge_app'")),
        "{seen:?}"
    );
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let roles: Vec<String> = sqlx::query_scalar(
        "select distinct usename::text from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
    )
    .bind(&db.name)
    .fetch_all(&db.owner)
    .await
    .unwrap();
    assert!(roles.contains(&"nudge_app".to_string()), "{roles:?}");
    let (superuser, bypass): (bool, bool) =
        sqlx::query_as("select rolsuper, rolbypassrls from pg_roles where rolname = 'nudge_app'")
            .fetch_one(&db.owner)
            .await
            .unwrap();
    assert!(!superuser && !bypass);
    child.kill().await.unwrap();
}
