//! restore-postgres drills and restores that prove themselves, against a real PostgreSQL
//! (and Docker for the services a drill must never start): a dump that leaves its database
//! is refused with production untouched, a dump cut short fails naming its table, a failed
//! drill leaves no scratch database and starts no container, and a restore in one
//! transaction that fails half way leaves the old rows.

#[path = "runbook_common.rs"]
mod common;
mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;
use sqlx::{Connection, PgConnection};
use support::postgres::{exec, Pg};
use toban::runbook::engine::{Event, RunOptions, RunStatus};

async fn value(url: &str, sql: &str) -> i64 {
    let mut c = PgConnection::connect(url).await.unwrap();
    let (v,): (i64,) = sqlx::query_as(sql).fetch_one(&mut c).await.unwrap();
    c.close().await.unwrap();
    v
}

async fn fingerprint(url: &str) -> (i64, String) {
    let mut c = PgConnection::connect(url).await.unwrap();
    let r: (i64, String) = sqlx::query_as(
        "SELECT count(*), md5(string_agg(id::text || ':' || name, ',' ORDER BY id)) FROM items",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    c.close().await.unwrap();
    r
}

async fn database_exists(pg: &Pg, name: &str) -> bool {
    let mut c = PgConnection::connect(&pg.admin).await.unwrap();
    let n: (i64,) = sqlx::query_as("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_one(&mut c)
        .await
        .unwrap();
    n.0 > 0
}

fn tool(name: &str) -> std::path::PathBuf {
    support::postgres::find_bindir()
        .map(|b| b.join(name))
        .filter(|p| p.exists())
        .unwrap_or_else(|| name.into())
}

/// The plain SQL `pg_dump` writes with `args` (the test edits it before gzipping).
fn pg_dump(pg: &Pg, passfile: &str, args: &[&str]) -> String {
    let out = Command::new(tool("pg_dump"))
        .args(args)
        .args(["-h", &pg.host, "-p", &pg.port, "-U", &pg.user, "-d", &pg.db])
        .env("PGPASSFILE", passfile)
        .stderr(Stdio::inherit())
        .output()
        .expect("pg_dump");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn gzip_to(sql: &str, to: &Path) {
    let mut e = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::fast(),
    );
    e.write_all(sql.as_bytes()).unwrap();
    e.finish().unwrap();
}

async fn seed(pg: &Pg) {
    exec(
        &pg.url,
        "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
         INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2000) g;
         CREATE TABLE notes (id serial PRIMARY KEY, body text);
         INSERT INTO notes (body) SELECT 'note ' || g FROM generate_series(1, 50) g;",
    )
    .await;
}

fn restore_params<'a>(
    pg: &'a Pg,
    dump: &'a str,
    passfile: &'a str,
    services: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("dump", dump),
        ("database", pg.db.as_str()),
        ("host", pg.host.as_str()),
        ("port", pg.port.as_str()),
        ("user", pg.user.as_str()),
        ("passfile", passfile),
        ("connection", "pg"),
        ("services", services),
        ("health_url", ""),
        ("verify_table", ""),
    ]
}

/// A run environment whose connection `pg` is the test database, seeded, with a pgpass
/// file for it and a plain `pg_dump --clean` of it.
async fn seeded(pg: &Pg) -> (TestEnv, String, String) {
    let mut t = sqlite_env().await;
    t.env.connections.insert("pg".into(), pg.admin.clone());
    let passfile = pg.pgpass(t.dir.path());
    seed(pg).await;
    let sql = pg_dump(pg, &passfile, &["--clean", "--if-exists", "--no-owner"]);
    (t, passfile, sql)
}

fn drill() -> RunOptions {
    RunOptions {
        drill: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_create_dump_is_refused_in_a_drill_and_the_live_database_is_untouched() {
    let Some(pg) = Pg::fresh().await else { return };
    let mut t = sqlite_env().await;
    t.env.connections.insert("pg".into(), pg.admin.clone());
    let passfile = pg.pgpass(t.dir.path());
    seed(&pg).await;
    let sql = pg_dump(
        &pg,
        &passfile,
        &["--clean", "--if-exists", "--create", "--no-owner"],
    );
    assert!(sql.contains("DROP DATABASE") && sql.contains("\\connect"));
    let dump = t.path("nightly.sql.gz");
    gzip_to(&sql, &dump);
    // Written after the backup: a drill that reached production would lose it.
    exec(
        &pg.url,
        "INSERT INTO items VALUES (999999, 'after the backup')",
    )
    .await;
    let live = fingerprint(&pg.url).await;

    let spec = shipped("restore-postgres");
    let dump_s = dump.to_str().unwrap().to_string();
    let mut e = engine(&spec, &restore_params(&pg, &dump_s, &passfile, ""), drill());
    let d = drive(&t.env, &mut e, vec![Event::Input(dump_s.clone())], true).await;
    assert_eq!(d.status, Some(RunStatus::Failed), "{:#?}", e.state);
    let why = e.state.failure.clone().unwrap_or_default();
    assert!(why.contains("refused"), "{why}");
    assert!(
        why.contains(&format!("drops database `{}`", pg.db)),
        "{why}"
    );
    // Verified in the same read as the restore; the stream stopped before the first line.
    assert_eq!(d.executed, ["scratch", "restore", "drop-scratch"]);

    assert_eq!(fingerprint(&pg.url).await, live);
    assert_eq!(
        value(&pg.url, "SELECT count(*) FROM items WHERE id = 999999").await,
        1
    );
    assert!(!database_exists(&pg, &format!("{}_drill", pg.db)).await);
    let drills = t.env.store.drills(5).await.unwrap();
    assert!(!drills[0].ok);
    assert!(drills[0].detail.contains("refused"), "{}", drills[0].detail);
}

#[tokio::test]
async fn a_real_restore_warns_of_a_create_dump_before_the_typed_confirmation() {
    let Some(pg) = Pg::fresh().await else { return };
    let mut t = sqlite_env().await;
    t.env.connections.insert("pg".into(), pg.admin.clone());
    let passfile = pg.pgpass(t.dir.path());
    seed(&pg).await;
    let sql = pg_dump(&pg, &passfile, &["--clean", "--if-exists", "--create"]);
    let dump = t.path("nightly.sql.gz");
    gzip_to(&sql, &dump);
    let spec = shipped("restore-postgres");
    let dump_s = dump.to_str().unwrap().to_string();
    let mut e = engine(
        &spec,
        &restore_params(&pg, &dump_s, &passfile, ""),
        RunOptions::default(),
    );
    // Up to the confirmation, then no answer: the operator reads before typing.
    let d = drive(&t.env, &mut e, vec![Event::Input(dump_s.clone())], true).await;
    assert_eq!(d.executed, ["verify"]);
    let confirm = e.spec.steps.iter().position(|s| s.id == "confirm").unwrap();
    let shown = e.preview(confirm).join("\n");
    assert!(shown.contains("WARNING"), "{shown}");
    assert!(
        shown.contains(&format!("drops database `{}`", pg.db)),
        "{shown}"
    );
}

/// A dump whose `notes` data stops half way (its end-of-data line and everything after
/// lost), gzipped whole: the gzip is sound, the SQL is not.
fn cut_in_notes(sql: &str) -> String {
    let start = sql.find("COPY public.notes").expect("notes data");
    let rows_from = start + sql[start..].find('\n').unwrap() + 1;
    let mut end = rows_from;
    for _ in 0..20 {
        end += sql[end..].find('\n').unwrap() + 1;
    }
    sql[..end].to_string()
}

#[tokio::test]
async fn a_dump_cut_short_in_one_table_fails_the_drill_naming_that_table() {
    let Some(pg) = Pg::fresh().await else { return };
    let (t, passfile, sql) = seeded(&pg).await;
    let dump = t.path("cut.sql.gz");
    gzip_to(&cut_in_notes(&sql), &dump);

    let spec = shipped("restore-postgres");
    let dump_s = dump.to_str().unwrap().to_string();
    let mut e = engine(&spec, &restore_params(&pg, &dump_s, &passfile, ""), drill());
    let d = drive(&t.env, &mut e, vec![Event::Input(dump_s.clone())], true).await;
    assert_eq!(d.status, Some(RunStatus::Failed), "{:#?}", e.state);
    let why = e.state.failure.clone().unwrap_or_default();
    assert!(why.contains("public.notes"), "{why}");
    assert!(why.contains("cut short"), "{why}");
    assert!(!why.contains("public.items"), "{why}");
    assert!(!database_exists(&pg, &format!("{}_drill", pg.db)).await);
    let drills = t.env.store.drills(5).await.unwrap();
    assert!(!drills[0].ok);
    assert!(
        drills[0].detail.contains("public.notes"),
        "{}",
        drills[0].detail
    );
}

/// `pg_dump --clean --if-exists` with a statement that fails after the `items` data.
fn failing_half_way(sql: &str) -> String {
    let start = sql.find("COPY public.items").expect("items data");
    let end = start + sql[start..].find("\n\\.\n").unwrap() + 4;
    format!(
        "{}SELECT 1 / 0 AS restore_fails_here;\n{}",
        &sql[..end],
        &sql[end..]
    )
}

#[tokio::test]
async fn a_restore_in_one_transaction_that_fails_half_way_leaves_the_old_rows() {
    let Some(pg) = Pg::fresh().await else { return };
    let (t, passfile, sql) = seeded(&pg).await;
    let dump = t.path("bad.sql.gz");
    gzip_to(&failing_half_way(&sql), &dump);
    // The live data differs from the dump's: a half-done restore would show.
    exec(
        &pg.url,
        "DELETE FROM items WHERE id > 1500; INSERT INTO items VALUES (5000, 'new');",
    )
    .await;
    let old = fingerprint(&pg.url).await;

    let spec = shipped("restore-postgres");
    let dump_s = dump.to_str().unwrap().to_string();
    let mut e = engine(
        &spec,
        &restore_params(&pg, &dump_s, &passfile, ""),
        RunOptions::default(),
    );
    let d = drive(
        &t.env,
        &mut e,
        vec![Event::Input(dump_s.clone()), Event::Typed(pg.db.clone())],
        true,
    )
    .await;
    assert_eq!(d.status, Some(RunStatus::Failed), "{:#?}", e.state);
    assert_eq!(d.executed, ["verify", "restore"]);
    let restore = e.spec.steps.iter().position(|s| s.id == "restore").unwrap();
    assert!(
        e.state.steps[restore].tail.contains("division by zero"),
        "{}",
        e.state.steps[restore].tail
    );
    assert_eq!(fingerprint(&pg.url).await, old);
    assert_eq!(value(&pg.url, "SELECT count(*) FROM notes").await, 50);
}

#[tokio::test]
async fn a_passing_drill_records_every_table_with_its_rows_and_machine_time() {
    let Some(pg) = Pg::fresh().await else { return };
    let (t, passfile, sql) = seeded(&pg).await;
    let dump = t.path("good.sql.gz");
    gzip_to(&sql, &dump);
    let spec = shipped("restore-postgres");
    let dump_s = dump.to_str().unwrap().to_string();
    let mut e = engine(&spec, &restore_params(&pg, &dump_s, &passfile, ""), drill());
    let d = drive(&t.env, &mut e, vec![Event::Input(dump_s.clone())], true).await;
    assert_eq!(d.status, Some(RunStatus::Succeeded), "{:#?}", e.state);
    assert_eq!(
        d.executed,
        ["scratch", "restore", "compare", "drop-scratch"]
    );
    let drills = t.env.store.drills(5).await.unwrap();
    assert!(drills[0].ok, "{:?}", drills[0]);
    assert!(
        drills[0].proof.contains("public.items 2000"),
        "{}",
        drills[0].proof
    );
    assert!(
        drills[0].proof.contains("public.notes 50"),
        "{}",
        drills[0].proof
    );
    assert!(!drills[0].interactive);
    assert_eq!(drills[0].machine_ms, Some(drills[0].duration_ms));
    assert!(!database_exists(&pg, &format!("{}_drill", pg.db)).await);
    // The dump was verified in the same read as the restore: the catalog records it, so the
    // Backups tab does not call a drilled dump "not verified".
    let v = t.env.store.latest_backup_verifications().await.unwrap();
    assert!(
        matches!(
            v.get(dump_s.as_str()),
            Some(toban::backups::catalog::VerificationState::Ok { .. })
        ),
        "{v:?}"
    );

    let mut out = Vec::new();
    toban::runbook::cli::history(&mut out, &t.env.store, None, 10).await;
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("drill passed, RTO"), "{out}");
    assert!(out.contains("machine (headless)"), "{out}");
    assert!(out.contains("public.items 2000, public.notes 50"), "{out}");
}

#[tokio::test]
async fn a_failed_drill_drops_its_scratch_database_and_starts_no_container() {
    let Some(pg) = Pg::fresh().await else { return };
    let Some(_) = support::engine::engine_or_skip().await else {
        return;
    };
    let image = support::engine::TestImage::build().expect("test image");
    let svc =
        support::engine::TestContainer::run(&image, &[], &["sleep", "600"]).expect("container");
    support::engine::docker_cli(&["stop", "-t", "0", &svc.name]).unwrap();
    let running = || {
        support::engine::docker_cli(&["inspect", "--format", "{{.State.Running}}", &svc.name])
            .unwrap()
    };
    assert_eq!(running(), "false");

    let (t, passfile, sql) = seeded(&pg).await;
    let dump = t.path("bad.sql.gz");
    gzip_to(&failing_half_way(&sql), &dump);
    let spec = shipped("restore-postgres");
    let dump_s = dump.to_str().unwrap().to_string();
    let mut e = engine(
        &spec,
        &restore_params(&pg, &dump_s, &passfile, &svc.name),
        drill(),
    );
    let d = drive(&t.env, &mut e, vec![Event::Input(dump_s.clone())], true).await;
    assert_eq!(d.status, Some(RunStatus::Failed), "{:#?}", e.state);
    // The restore failed, its rollback (start the services) was not run in a drill, and
    // the scratch database went however the drill ended.
    assert_eq!(d.executed, ["scratch", "restore", "drop-scratch"]);
    assert_eq!(running(), "false");
    assert!(!database_exists(&pg, &format!("{}_drill", pg.db)).await);
    let audit = t.env.store.run_audit(&e.state.run_id).await.unwrap();
    assert!(audit
        .iter()
        .any(|a| a.detail.contains("rollback not run: skipped in a drill")));
}

/// The stream itself: `cat` stands in for psql and its output is what it was sent. A line
/// that leaves the database never reaches the command, however deep in the dump it is.
#[tokio::test]
async fn a_refused_line_never_reaches_the_command_and_the_command_is_stopped() {
    use toban::runbook::exec::{spawn_command, CommandRequest, SqlScan, StdinSource};
    use_toban_supervisor();
    let dir = tempfile::tempdir().unwrap();
    let mut rows = String::from("COPY public.t (x) FROM stdin;\n");
    for i in 0..200_000 {
        rows.push_str(&format!("{i}\n"));
    }
    rows.push_str("\\.\n");
    for (name, sql, sent_before) in [
        ("top", format!("DROP DATABASE prod;\n{rows}"), false),
        (
            "deep",
            format!("{rows}\\connect prod\nDELETE FROM t;\n"),
            true,
        ),
    ] {
        let gz = dir.path().join(format!("{name}.sql.gz"));
        gzip_to(&sql, &gz);
        let mut req = CommandRequest::new(vec!["cat".into()], dir.path().join(name));
        req.stdin = StdinSource::GunzipFile(gz);
        req.scan = Some(SqlScan {
            database: "prod_drill".into(),
            refuse_foreign: true,
            verify: false,
        });
        let o = spawn_command(req).await.unwrap().wait().await.unwrap();
        let err = o.error.clone().unwrap_or_default();
        assert!(err.starts_with("refused:"), "{name}: {err}");
        let out = std::fs::read_to_string(dir.path().join(name).join("output.log")).unwrap();
        assert!(
            !out.contains("DROP DATABASE") && !out.contains("\\connect"),
            "{name}"
        );
        assert!(!out.contains("DELETE"), "{name}");
        assert_eq!(!out.is_empty(), sent_before, "{name}: {} bytes", out.len());
        let scan = std::fs::read_to_string(dir.path().join(name).join("dump_scan.json")).unwrap();
        assert!(scan.contains("\"refused\""), "{scan}");
    }
}

/// A drill whose toban died while restoring into its scratch database: `toban runbook
/// abort` runs the drill's `finally` step, as the console would, so the scratch database
/// goes with the run instead of waiting for the next drill.
#[tokio::test]
async fn aborting_a_drill_left_by_a_dead_toban_drops_its_scratch_database() {
    use toban::runbook::engine::EngineEffect;
    let Some(pg) = Pg::fresh().await else { return };
    let (t, passfile, sql) = seeded(&pg).await;
    let dump = t.path("good.sql.gz");
    gzip_to(&sql, &dump);
    let spec = shipped("restore-postgres");
    let dump_s = dump.to_str().unwrap().to_string();
    let mut e = engine(
        &spec,
        &restore_params(&pg, &dump_s, &passfile, "none"),
        drill(),
    );
    // Driven as the console does, until toban "dies" as the restore is asked for.
    let mut events = std::collections::VecDeque::from([Event::Start, Event::Input(dump_s)]);
    let mut died = false;
    while let Some(ev) = events.pop_front() {
        for fx in e.handle(ev, chrono::Utc::now().timestamp_millis()) {
            match fx {
                EngineEffect::Execute(r) if r.id == "restore" => died = true,
                EngineEffect::Execute(r) => {
                    let o = toban::runbook::runner::perform_step(
                        &t.env,
                        &e.state,
                        r,
                        None,
                        tokio_util::sync::CancellationToken::new(),
                    )
                    .await;
                    events.push_back(Event::StepFinished(o));
                }
                EngineEffect::Finished(s) => panic!("the drill ended ({s:?}) before the restore"),
                other => toban::runbook::runner::record(&t.env, &e.state, &other)
                    .await
                    .unwrap(),
            }
        }
        if died {
            break;
        }
    }
    assert!(died, "{:#?}", e.state);
    let scratch = format!("{}_drill", pg.db);
    assert!(database_exists(&pg, &scratch).await, "the scratch was made");
    let run = e.state.run_id.clone();
    drop(e);

    let mut out = Vec::new();
    let code =
        toban::runbook::cli::abort(&mut out, &t.env, &[spec], &run, Some("toban died")).await;
    let text = String::from_utf8_lossy(&out);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("drop-scratch"),
        "the cleanup step is named: {text}"
    );
    assert!(!database_exists(&pg, &scratch).await, "{text}");
    let stored = t.env.store.load_run(&run).await.unwrap().unwrap();
    assert_eq!(stored.status, RunStatus::Aborted);
    let audit = t.env.store.run_audit(&run).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.detail == "aborted from the command line: toban died"),
        "{audit:#?}"
    );
    assert!(audit.iter().any(|a| a.event == "finally"), "{audit:#?}");
}
