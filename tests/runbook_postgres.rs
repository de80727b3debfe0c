//! restore-postgres and rotate-db-password against a real PostgreSQL on loopback (skipped on
//! a laptop without one; failing under CI / TOBAN_REQUIRE_SERVICES).

#[path = "runbook_common.rs"]
mod common;
mod support;

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use common::*;
use sqlx::{Connection, PgConnection};
use support::postgres::{exec, Pg};
use toban::runbook::engine::{Event, RunOptions, RunStatus, StepState};

impl Pg {
    /// Logs in to the test database as `user` with `password`.
    fn login(
        &self,
        user: &str,
        password: &str,
    ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> {
        let u = format!(
            "postgres://{user}:{password}@{}:{}/{}",
            self.host, self.port, self.db
        );
        async move { PgConnection::connect(&u).await.map(drop) }
    }
}

async fn fingerprint(url: &str) -> (i64, String) {
    let mut c = PgConnection::connect(url).await.unwrap();
    let r: (i64, String) = sqlx::query_as(
        "SELECT count(*), md5(string_agg(id::text || ':' || name || ':' || encode(payload, 'hex'), ',' ORDER BY id)) FROM items",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    r
}

fn tool(name: &str) -> std::path::PathBuf {
    support::postgres::find_bindir()
        .map(|b| b.join(name))
        .filter(|p| p.exists())
        .unwrap_or_else(|| name.into())
}

/// `pg_dump --clean --if-exists | gzip > dump`, as two processes joined by a pipe.
fn dump(pg: &Pg, passfile: &str, to: &std::path::Path) {
    let mut pg_dump = Command::new(tool("pg_dump"))
        .args([
            "--clean",
            "--if-exists",
            "--no-owner",
            "-h",
            &pg.host,
            "-p",
            &pg.port,
            "-U",
            &pg.user,
            "-d",
            &pg.db,
        ])
        .env("PGPASSFILE", passfile)
        .stdout(Stdio::piped())
        .spawn()
        .expect("pg_dump");
    let out = std::fs::File::create(to).unwrap();
    let gzip = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::from(pg_dump.stdout.take().unwrap()))
        .stdout(out)
        .status()
        .expect("gzip");
    assert!(pg_dump.wait().unwrap().success());
    assert!(gzip.success());
}

async fn seed(pg: &Pg) {
    exec(
        &pg.url,
        "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, payload bytea NOT NULL);
         INSERT INTO items SELECT g, 'item ' || g, sha256(g::text::bytea) FROM generate_series(1, 2000) g;
         CREATE TABLE notes (id serial PRIMARY KEY, body text);
         INSERT INTO notes (body) VALUES ('a'), ('b');",
    )
    .await;
}

fn restore_params<'a>(pg: &'a Pg, dump: &'a str, passfile: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("dump", dump),
        ("database", pg.db.as_str()),
        ("host", pg.host.as_str()),
        ("port", pg.port.as_str()),
        ("user", pg.user.as_str()),
        ("passfile", passfile),
        ("connection", "pg"),
        ("services", ""),
        ("health_url", ""),
        ("verify_table", "items"),
    ]
}

#[tokio::test]
async fn restore_postgres_brings_back_the_damaged_table() {
    let Some(pg) = Pg::fresh().await else { return };
    let mut t = sqlite_env().await;
    t.env.connections.insert("pg".into(), pg.admin.clone());
    let passfile = pg.pgpass(t.dir.path());
    seed(&pg).await;
    let original = fingerprint(&pg.url).await;
    assert_eq!(original.0, 2000);
    let dump_path = t.path("20260225_030000.sql.gz");
    dump(&pg, &passfile, &dump_path);

    exec(&pg.url, "DELETE FROM items WHERE id % 7 = 0; UPDATE items SET name = 'oops' WHERE id < 50; DROP TABLE notes;").await;
    assert_ne!(fingerprint(&pg.url).await, original);

    let spec = shipped("restore-postgres");
    let dump_s = dump_path.to_str().unwrap().to_string();
    let mut e = engine(
        &spec,
        &restore_params(&pg, "", &passfile),
        RunOptions::default(),
    );
    let d = drive(
        &t.env,
        &mut e,
        vec![Event::Input(dump_s.clone()), Event::Typed(pg.db.clone())],
        true,
    )
    .await;
    assert_eq!(d.status, Some(RunStatus::Succeeded), "{:#?}", e.state);
    assert_eq!(d.executed, ["verify", "restore", "count", "compare"]);
    assert_eq!(fingerprint(&pg.url).await, original);
    assert!(e.state.outputs["count"].starts_with("2000"));
    let stop = e.spec.steps.iter().position(|s| s.id == "stop").unwrap();
    assert_eq!(e.state.steps[stop].state, StepState::Skipped);

    let audit = t.env.store.run_audit(&e.state.run_id).await.unwrap();
    let restore_start = audit
        .iter()
        .find(|a| a.event == "step_start" && a.step_id.as_deref() == Some("restore"))
        .unwrap();
    // The exact argv was recorded, and no password anywhere.
    assert!(
        restore_start.detail.contains(&format!("] {}", pg.db)),
        "{}",
        restore_start.detail
    );
    assert!(audit.iter().all(|a| !a.detail.contains(&pg.password)));
}

#[tokio::test]
async fn restore_postgres_drill_restores_into_a_scratch_database_and_records_the_rto() {
    let Some(pg) = Pg::fresh().await else { return };
    let mut t = sqlite_env().await;
    t.env.connections.insert("pg".into(), pg.admin.clone());
    let passfile = pg.pgpass(t.dir.path());
    seed(&pg).await;
    let dump_path = t.path("nightly.sql.gz");
    dump(&pg, &passfile, &dump_path);
    exec(&pg.url, "DELETE FROM items WHERE id > 1000").await;
    let damaged = fingerprint(&pg.url).await;

    let spec = shipped("restore-postgres");
    let dump_s = dump_path.to_str().unwrap().to_string();
    let mut e = engine(
        &spec,
        &restore_params(&pg, &dump_s, &passfile),
        RunOptions {
            drill: true,
            ..Default::default()
        },
    );
    let scratch = format!("{}_drill", pg.db);
    assert_eq!(e.state.params["database"], scratch);
    // A drill needs no typed confirmation: it never touches the real database.
    let d = drive(&t.env, &mut e, vec![Event::Input(dump_s.clone())], true).await;
    assert_eq!(d.status, Some(RunStatus::Succeeded), "{:#?}", e.state);
    assert_eq!(
        d.executed,
        ["scratch", "restore", "count", "compare", "drop-scratch"]
    );
    // The scratch copy held every row of the dump; the real database was left alone.
    assert!(
        e.state.outputs["count"].starts_with("2000"),
        "{}",
        e.state.outputs["count"]
    );
    assert_eq!(fingerprint(&pg.url).await, damaged);

    let drills = t.env.store.drills(5).await.unwrap();
    assert_eq!(drills.len(), 1);
    assert!(drills[0].ok);
    assert_eq!(drills[0].backup.as_deref(), Some(dump_s.as_str()));
    assert!(drills[0].duration_ms > 0);
    assert_eq!(drills[0].runbook, "restore-postgres");
}

#[tokio::test]
async fn rotate_db_password_new_works_old_fails_and_the_password_is_nowhere_in_the_records() {
    let Some(pg) = Pg::fresh().await else { return };
    let mut t = sqlite_env().await;
    t.env.connections.insert("pg".into(), pg.admin.clone());
    let user = format!("app_{}", &pg.db[2..10]);
    let old = "old-password-0123456789";
    exec(
        &pg.admin,
        &format!("CREATE ROLE {user} LOGIN PASSWORD '{old}'"),
    )
    .await;
    let login = |pw: &str| pg.login(&user, pw);
    login(old)
        .await
        .expect("old password works before the rotation");

    let secret_file = t.path("app/db_password");
    std::fs::create_dir_all(secret_file.parent().unwrap()).unwrap();
    std::fs::write(&secret_file, old).unwrap();
    std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let spec = shipped("rotate-db-password");
    let mut e = engine(
        &spec,
        &[
            ("connection", "pg"),
            ("user", &user),
            ("secret_file", secret_file.to_str().unwrap()),
            ("old_password", old),
        ],
        RunOptions::default(),
    );
    let d = drive(
        &t.env,
        &mut e,
        vec![Event::Typed(user.clone()), Event::Continue],
        true,
    )
    .await;
    assert_eq!(d.status, Some(RunStatus::Succeeded), "{:#?}", e.state);
    assert_eq!(
        d.executed,
        [
            "generate",
            "current",
            "alter",
            "write",
            "new-works",
            "old-fails"
        ]
    );

    let new = std::fs::read_to_string(&secret_file).unwrap();
    assert_eq!(new.len(), 32);
    assert_eq!(
        std::fs::metadata(&secret_file)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    login(&new).await.expect("the new password works");
    assert!(login(old).await.is_err(), "the old password still works");

    // Neither password in the audit, the saved run state, or anything shown.
    let audit = t.env.store.run_audit(&e.state.run_id).await.unwrap();
    let all = serde_json::to_string(&audit).unwrap();
    assert!(!all.contains(&new) && !all.contains(old));
    let saved: (String,) = sqlx::query_as("SELECT state_json FROM runbook_runs WHERE run_id = $1")
        .bind(&e.state.run_id)
        .fetch_one(t.env.store.pool())
        .await
        .unwrap();
    assert!(!saved.0.contains(&new) && !saved.0.contains(old));
    for i in 0..e.spec.steps.len() {
        assert!(e
            .preview(i)
            .iter()
            .all(|l| !l.contains(&new) && !l.contains(old)));
    }
}

/// Seed 001 keeps the database credentials as one JSON secret in AWS Secrets Manager: the
/// rotation replaces its `password` field (moto on loopback) and keeps the other fields.
#[tokio::test]
async fn rotate_db_password_updates_the_aws_secrets_manager_field() {
    let Some(pg) = Pg::fresh().await else { return };
    let Some(moto) = support::moto::moto_url() else {
        return;
    };
    std::env::set_var("AWS_ENDPOINT_URL", &moto);
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto)
        .region(aws_config::Region::new("us-east-1"))
        .load()
        .await;
    let sm = aws_sdk_secretsmanager::Client::new(&conf);
    let secret_id = format!("goal-mandala/production/database-{}", &pg.db[2..10]);
    let mut t = sqlite_env().await;
    t.env.connections.insert("pg".into(), pg.admin.clone());
    let user = format!("aws_{}", &pg.db[2..10]);
    let old = "old-password-aws-0123456789";
    exec(
        &pg.admin,
        &format!("CREATE ROLE {user} LOGIN PASSWORD '{old}'"),
    )
    .await;
    sm.create_secret()
        .name(&secret_id)
        .secret_string(format!(
            r#"{{"username":"{user}","password":"{old}","port":5432}}"#
        ))
        .send()
        .await
        .unwrap();

    let spec = shipped("rotate-db-password");
    let mut e = engine(
        &spec,
        &[
            ("connection", "pg"),
            ("user", &user),
            ("aws_secret_id", &secret_id),
            ("aws_region", "us-east-1"),
            ("secret_field", "password"),
            ("old_password", old),
        ],
        RunOptions::default(),
    );
    let d = drive(
        &t.env,
        &mut e,
        vec![Event::Typed(user.clone()), Event::Continue],
        true,
    )
    .await;
    assert_eq!(d.status, Some(RunStatus::Succeeded), "{:#?}", e.state);
    assert_eq!(
        d.executed,
        ["generate", "alter", "write-aws", "new-works", "old-fails"]
    );

    let raw = sm
        .get_secret_value()
        .secret_id(&secret_id)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(raw.secret_string().unwrap()).unwrap();
    let new = v["password"].as_str().unwrap().to_string();
    assert_eq!(new.len(), 32);
    assert_eq!(v["username"], user.as_str(), "other fields kept");
    let login = |pw: &str| pg.login(&user, pw);
    login(&new).await.expect("the password in the secret works");
    assert!(login(old).await.is_err());
    let audit =
        serde_json::to_string(&t.env.store.run_audit(&e.state.run_id).await.unwrap()).unwrap();
    assert!(!audit.contains(&new) && !audit.contains(old));
}

/// A run of one `sql` step that deletes every row of `items` (blocked while another
/// session holds a lock on it), with `extra` TOML for the step.
fn wipe_runbook(extra: &str) -> toban::runbook::spec::Runbook {
    let src = format!(
        "name = \"wipe\"\ntitle = \"Wipe\"\nkind = \"maintenance\"\n\n[[step]]\nid = \"wipe\"\n\
         kind = \"sql\"\nconnection = \"pg\"\nstatements = [\"DELETE FROM items\"]\n{extra}\n"
    );
    toban::runbook::spec::parse(std::path::Path::new("wipe.toml"), &src).expect("runbook")
}

/// Sessions of `url`'s database waiting for a lock on `DELETE FROM items`.
async fn waiting_deletes(url: &str) -> i64 {
    let mut c = PgConnection::connect(url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND wait_event_type = 'Lock' AND query = 'DELETE FROM items'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    n
}

async fn until_waiting(url: &str, want: i64) {
    let start = std::time::Instant::now();
    while waiting_deletes(url).await != want {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "the DELETE never reached {want} waiting session(s)"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A second session holding `items` locked until it is dropped or commits.
async fn lock_items(url: &str) -> PgConnection {
    let mut holder = PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql("BEGIN; LOCK TABLE items IN ACCESS EXCLUSIVE MODE;")
        .execute(&mut holder)
        .await
        .unwrap();
    holder
}

/// Starts the run and its one SQL step in a task; returns the engine and the step's task.
async fn start_wipe(
    t: &TestEnv,
    spec: &toban::runbook::spec::Runbook,
    cancel: tokio_util::sync::CancellationToken,
) -> (
    toban::runbook::engine::Engine,
    tokio::task::JoinHandle<toban::runbook::engine::StepOutcome>,
) {
    use toban::runbook::engine::EngineEffect;
    let mut e = engine(spec, &[], RunOptions::default());
    let mut rendered = None;
    for fx in e.handle(Event::Start, chrono::Utc::now().timestamp_millis()) {
        match fx {
            EngineEffect::Execute(r) => rendered = Some(r),
            other => toban::runbook::runner::record(&t.env, &e.state, &other)
                .await
                .unwrap(),
        }
    }
    let (env, state, r) = (
        t.env.clone(),
        e.state.clone(),
        rendered.expect("the step runs"),
    );
    let task = tokio::spawn(async move {
        toban::runbook::runner::perform_step(&env, &state, r, None, cancel).await
    });
    (e, task)
}

#[tokio::test]
async fn cancelling_a_sql_step_blocked_on_a_lock_ends_within_a_second_and_says_so() {
    use toban::runbook::engine::EngineEffect;
    let Some(pg) = Pg::fresh().await else { return };
    let mut t = sqlite_env().await;
    t.env.connections.insert("pg".into(), pg.url.clone());
    exec(
        &pg.url,
        "CREATE TABLE items (id int); INSERT INTO items VALUES (1), (2);",
    )
    .await;
    let mut holder = lock_items(&pg.url).await;

    let cancel = tokio_util::sync::CancellationToken::new();
    let (mut e, task) = start_wipe(&t, &wipe_runbook(""), cancel.clone()).await;
    until_waiting(&pg.url, 1).await;

    // The operator interrupts: the engine asks for it, the runner fires the step's token.
    let now = chrono::Utc::now().timestamp_millis();
    let fx = e.handle(Event::Cancel, now);
    assert!(fx.contains(&EngineEffect::Interrupt { step: 0 }), "{fx:?}");
    let asked = std::time::Instant::now();
    cancel.cancel();
    let o = task.await.unwrap();
    let took = asked.elapsed();
    assert!(took < std::time::Duration::from_secs(1), "took {took:?}");
    assert!(o.cancelled, "{o:?}");
    assert!(!o.ok);
    assert!(
        o.message.contains("interrupted by the operator")
            && o.message
                .contains("the server cancelled the running statement"),
        "{}",
        o.message
    );
    let fx = e.handle(Event::StepFinished(o), now + 1);
    assert!(fx.contains(&EngineEffect::Finished(RunStatus::Aborted)));
    assert_eq!(e.state.steps[0].state, StepState::Cancelled);

    // Cancelled on the server, not only abandoned: nothing waits, and when the lock goes
    // the DELETE does not run after all.
    until_waiting(&pg.url, 0).await;
    sqlx::raw_sql("COMMIT").execute(&mut holder).await.unwrap();
    let mut c = PgConnection::connect(&pg.url).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM items")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(n, 2);
}

#[tokio::test]
async fn a_sql_step_stops_at_its_time_limit_and_the_server_stops_too() {
    let Some(pg) = Pg::fresh().await else { return };
    let mut t = sqlite_env().await;
    t.env.connections.insert("pg".into(), pg.url.clone());
    exec(
        &pg.url,
        "CREATE TABLE items (id int); INSERT INTO items VALUES (1);",
    )
    .await;
    let mut holder = lock_items(&pg.url).await;

    let started = std::time::Instant::now();
    let (_e, task) = start_wipe(
        &t,
        &wipe_runbook("timeout = \"1s\""),
        tokio_util::sync::CancellationToken::new(),
    )
    .await;
    let o = task.await.unwrap();
    let took = started.elapsed();
    assert!(
        took >= std::time::Duration::from_millis(900) && took < std::time::Duration::from_secs(4),
        "took {took:?}"
    );
    assert!(!o.ok && !o.cancelled, "{o:?}");
    assert!(
        o.message.contains("stopped at its time limit"),
        "{}",
        o.message
    );
    until_waiting(&pg.url, 0).await;
    sqlx::raw_sql("COMMIT").execute(&mut holder).await.unwrap();
}

#[tokio::test]
async fn a_servers_error_text_reaches_neither_terminal_nor_store_with_escape_sequences() {
    let Some(pg) = Pg::fresh().await else { return };
    let mut t = sqlite_env().await;
    t.env.connections.insert("pg".into(), pg.url.clone());
    let src = "name = \"esc\"\ntitle = \"Esc\"\nkind = \"maintenance\"\n\n[[step]]\nid = \"bad\"\n\
               kind = \"sql\"\nconnection = \"pg\"\n\
               statements = [\"SELECT * FROM \\\"no\\u001b]0;pwned\\u0007\\u001b[2Jtable\\\"\"]\n";
    let spec = toban::runbook::spec::parse(std::path::Path::new("esc.toml"), src).unwrap();
    let mut out = Vec::new();
    let code = toban::runbook::runner::run_headless(
        &t.env,
        &spec,
        &Default::default(),
        &Default::default(),
        &mut out,
    )
    .await;
    let text = String::from_utf8(out).unwrap();
    assert_eq!(code, toban::runbook::runner::EXIT_FAILED, "{text}");
    assert!(text.contains("does not exist"), "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    let runs = t.env.store.run_history(1).await.unwrap();
    let audit = t.env.store.run_audit(&runs[0].run_id).await.unwrap();
    let stored = serde_json::to_string(&audit).unwrap();
    assert!(stored.contains("does not exist"), "{stored}");
    assert!(!stored.contains("\\u001b"), "{stored}");
}
