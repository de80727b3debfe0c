//! End to end at 80x24, by keys, as an operator: `R`, restore-postgres, every parameter
//! typed into the form, the dump typed, each step run with `Enter`, the database's name
//! typed to confirm — a REAL restore (not a drill) into a test database on a real
//! PostgreSQL — then the result read on the screen and the rows checked in the database.

mod support;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use sqlx::{Connection, PgConnection};
use support::tmux::Tui;

async fn exec(url: &str, sql: &str) {
    let mut c = PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    c.close().await.unwrap();
}

async fn count(url: &str, table: &str) -> i64 {
    let mut c = PgConnection::connect(url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(&mut c)
        .await
        .unwrap();
    n
}

/// No text inside the frame was cut to fit (toban marks a cut with `…`): the character
/// before a right-hand border is never the ellipsis.
fn assert_nothing_cut(screen: &str, what: &str) {
    for line in screen.lines() {
        let chars: Vec<char> = line.chars().collect();
        for (i, c) in chars.iter().enumerate().skip(1) {
            if *c == '│' && chars[i - 1] == '…' {
                panic!("{what}: text cut:\n{line}\n{screen}");
            }
        }
    }
}

#[tokio::test]
async fn an_operator_restores_a_dump_by_keys_at_80x24_and_the_rows_come_back() {
    let Some(url) = support::postgres::fresh_pg_url().await else {
        return;
    };
    let admin = support::postgres::admin_url().unwrap();
    let Some(tui) = Tui::start("restore-pg") else {
        return;
    };
    let rest = url.split_once("://").unwrap().1;
    let (auth, hostpart) = rest.rsplit_once('@').unwrap();
    let (user, password) = auth.split_once(':').unwrap();
    let (hostport, db) = hostpart.split_once('/').unwrap();
    let (host, port) = hostport.rsplit_once(':').unwrap();
    let db = db.split('?').next().unwrap();

    exec(
        &url,
        "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);
         INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2000) g;
         CREATE TABLE notes (id serial PRIMARY KEY, body text);
         INSERT INTO notes (body) SELECT 'note ' || g FROM generate_series(1, 5) g;",
    )
    .await;
    let passfile = tui.home().join("pgpass");
    std::fs::write(&passfile, format!("{host}:{port}:*:{user}:{password}\n")).unwrap();
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o600)).unwrap();
    let bindir = support::postgres::find_bindir();
    let pg_dump = bindir
        .map(|b| b.join("pg_dump"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| "pg_dump".into());
    let out = Command::new(pg_dump)
        .args(["--clean", "--if-exists", "--no-owner"])
        .args(["-h", host, "-p", port, "-U", user, "-d", db])
        .env("PGPASSFILE", &passfile)
        .output()
        .expect("pg_dump");
    assert!(out.status.success());
    let dump = tui.home().join("20260225_030000.sql.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&dump).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(&out.stdout).unwrap();
    gz.finish().unwrap();
    // The incident: rows lost, a table dropped.
    exec(&url, "DELETE FROM items WHERE id > 500; DROP TABLE notes;").await;
    assert_eq!(count(&url, "items").await, 500);

    std::fs::create_dir_all(tui.config_dir()).unwrap();
    std::fs::write(
        tui.config_dir().join("config.toml"),
        format!("[runbooks.connections]\npg = \"{admin}\"\n"),
    )
    .unwrap();
    tui.launch(80, 24, &[], &[]);
    tui.wait_for("Overview");
    tui.key("R");
    let list = tui.wait_for("restore-postgres");
    assert_nothing_cut(&list, "the runbook list");
    tui.key("Enter");
    let form = tui.wait_for("before it starts");
    assert_nothing_cut(&form, "the form");

    // Every parameter typed: clear the default, type, Enter to the next field.
    let passfile_s = passfile.to_string_lossy().into_owned();
    for value in [db, host, port, user, passfile_s.as_str()] {
        tui.key("C-u");
        tui.type_text(value);
        tui.key("Enter");
    }
    // The connection is a choice among the configured ones.
    tui.key("Right");
    tui.wait_for("◀ pg ▶");
    tui.key("Enter");
    // services and health_url empty; one transaction kept; no extra table counted.
    for _ in 0..2 {
        tui.key("C-u");
        tui.key("Enter");
    }
    tui.wait_for("single_transaction --single-transaction");
    tui.key("Enter");
    tui.key("Enter");
    let filled = tui.wait_for("[ Start the run ]");
    assert!(
        filled.contains(&format!("database           {db}")),
        "{filled}"
    );
    assert!(
        filled.contains(&format!("port               {port}")),
        "{filled}"
    );
    tui.key("Enter");

    let choose = tui.wait_for("Dump file (*.sql.gz)");
    assert_nothing_cut(&choose, "choose the dump");
    tui.type_text(&dump.to_string_lossy());
    tui.key("Enter");
    let verify = tui.wait_for("[verify_backup]");
    assert_nothing_cut(&verify, "verify");
    tui.key("Enter");
    let confirm = tui.wait_for(&format!("Type {db} to confirm"));
    assert_nothing_cut(&confirm, "the typed confirmation");
    assert!(
        confirm.contains(&format!("This replaces the contents of database {db}")),
        "{confirm}"
    );
    assert!(!confirm.contains("WARNING"), "{confirm}");
    tui.type_text(db);
    tui.key("Enter");
    let restore = tui.wait_for("Restore  [command]");
    assert_nothing_cut(&restore, "restore");
    assert!(restore.contains("--single-transaction"), "{restore}");
    // Everything it will do is on screen, down to its time limit.
    assert!(restore.contains("time limit 2h"), "{restore}");
    tui.key("Enter");
    let compare = tui.wait_for_within("[compare_counts]", 60);
    assert_nothing_cut(&compare, "compare");
    tui.key("Enter");
    let done = tui.wait_for_within("Run finished: every step done.", 60);
    assert_nothing_cut(&done, "the end");
    assert!(
        done.contains("every table matches the dump: 2 tables, 2005 rows"),
        "{done}"
    );

    assert_eq!(count(&url, "items").await, 2000);
    assert_eq!(count(&url, "notes").await, 5);
    tui.key("Escape");
    assert_eq!(tui.quit(), 0);
}
