//! A real PostgreSQL for tests: every call to [`fresh_pg_url`] creates its own empty
//! database on one server.
//!
//! The server is `TOBAN_TEST_PG_URL` (an admin URL, as `.ci/run` exports) when set; else
//! one throw-away cluster per test process, made with the newest `initdb` under
//! `/usr/lib/postgresql/*/bin` (or on `PATH`) in a temp dir, listening on 127.0.0.1 at a
//! free port with its socket in that dir. As root it runs as the `postgres` user. A
//! watchdog process stops the cluster and removes the dir when the test process exits,
//! however it exits.
//!
//! Databases are never dropped: on the throw-away clusters that is moot, and on a server
//! named by `TOBAN_TEST_PG_URL` they are left for inspection (`t_<16 hex digits>`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::str::FromStr;
use std::sync::OnceLock;

use sqlx::any::AnyConnectOptions;
use sqlx::Connection;

use super::service_unavailable;

/// Env var naming an admin URL of a running server (may create databases).
pub const PG_URL_VAR: &str = "TOBAN_TEST_PG_URL";

static LOCAL_CLUSTER: OnceLock<Result<String, String>> = OnceLock::new();

/// URL of a new, empty database `t_<random>`, or None (after a note) when no PostgreSQL
/// can be had. Panics instead of returning None when services are required.
pub async fn fresh_pg_url() -> Option<String> {
    let admin = match admin_url() {
        Ok(url) => url,
        Err(why) => {
            service_unavailable("PostgreSQL", &why);
            return None;
        }
    };
    let name = format!("t_{:016x}", rand::random::<u64>());
    match create_database(&admin, &name).await {
        Ok(url) => Some(url),
        Err(why) => {
            service_unavailable("PostgreSQL", &why);
            None
        }
    }
}

/// The admin URL tests use: `TOBAN_TEST_PG_URL`, else this process's own cluster.
pub fn admin_url() -> Result<String, String> {
    if let Ok(url) = std::env::var(PG_URL_VAR) {
        if !url.trim().is_empty() {
            return Ok(url.trim().to_string());
        }
    }
    LOCAL_CLUSTER.get_or_init(start_local_cluster).clone()
}

/// `url` with its database replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let mut u = AnyConnectOptions::from_str(url)
        .expect("admin URL parses")
        .database_url;
    u.set_path(&format!("/{database}"));
    u.to_string()
}

async fn create_database(admin: &str, name: &str) -> Result<String, String> {
    let shown = toban::store::redact_url(admin);
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .map_err(|e| format!("cannot connect to {shown}: {e}"))?;
    // `name` is made here from hex digits, never from input.
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .map_err(|e| format!("CREATE DATABASE {name} on {shown}: {e}"))?;
    let _ = conn.close().await;
    Ok(with_database(admin, name))
}

fn start_local_cluster() -> Result<String, String> {
    let bin = find_bindir().ok_or_else(|| {
        format!(
            "{PG_URL_VAR} is not set and no initdb was found under /usr/lib/postgresql/*/bin \
             or on PATH (install the postgresql package, or point {PG_URL_VAR} at a server)"
        )
    })?;
    let as_root = unsafe { libc::geteuid() } == 0;
    if as_root && !command_exists("runuser") {
        return Err("running as root needs runuser to start PostgreSQL as postgres".into());
    }
    let dir = tempfile::Builder::new()
        .prefix("toban-test-pg.")
        .tempdir()
        .map_err(|e| format!("temp dir for PostgreSQL: {e}"))?
        .keep();
    let result = init_and_start(&bin, &dir, as_root);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn init_and_start(bin: &Path, dir: &Path, as_root: bool) -> Result<String, String> {
    let data = dir.join("data");
    let pwfile = dir.join("pw");
    let password = format!("{:032x}", rand::random::<u128>());
    std::fs::write(&pwfile, &password).map_err(|e| format!("writing {}: {e}", pwfile.display()))?;
    if as_root {
        run(Command::new("chown")
            .arg("-R")
            .arg("postgres:postgres")
            .arg(dir))?;
    }
    let mut initdb = pg_command(bin, "initdb", as_root);
    initdb
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "-A", "scram-sha-256", "-E", "UTF8"])
        .args(["--locale=C", "-N"])
        .arg(format!("--pwfile={}", pwfile.display()));
    run(&mut initdb)?;
    let _ = std::fs::remove_file(&pwfile);

    // Throw-away data: durability settings off for speed; room for many test pools.
    let conf = format!(
        "\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
         max_connections = 300\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
        dir.display()
    );
    append(&data.join("postgresql.conf"), &conf)?;

    let log = dir.join("server.log");
    let mut last_err = String::new();
    for _ in 0..5 {
        let port = free_port()?;
        let mut start = pg_command(bin, "pg_ctl", as_root);
        start
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o"])
            .arg(format!("-p {port}"))
            .arg("start");
        match run(&mut start) {
            Ok(()) => {
                spawn_watchdog(bin, dir, &data, as_root)?;
                return Ok(format!(
                    "postgres://postgres:{password}@127.0.0.1:{port}/postgres"
                ));
            }
            Err(e) => {
                let tail = std::fs::read_to_string(&log).unwrap_or_default();
                last_err = format!(
                    "{e}\n{}",
                    tail.lines().rev().take(5).collect::<Vec<_>>().join("\n")
                );
            }
        }
    }
    Err(format!("pg_ctl start failed: {last_err}"))
}

/// A process in its own group that blocks reading a pipe only this process writes to:
/// when the test process exits for any reason the pipe closes, and it stops the cluster
/// and deletes its dir.
fn spawn_watchdog(bin: &Path, dir: &Path, data: &Path, as_root: bool) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    let stop = pg_command(bin, "pg_ctl", as_root);
    let mut argv: Vec<std::ffi::OsString> = vec![stop.get_program().to_owned()];
    argv.extend(stop.get_args().map(|a| a.to_owned()));
    let child = Command::new("/bin/sh")
        .arg("-c")
        .arg(r#"cat >/dev/null 2>&1; "$@" -D "$DATA" -m immediate -w stop >/dev/null 2>&1; rm -rf "$0""#)
        .arg(dir)
        .args(argv)
        .env("DATA", data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("starting the PostgreSQL watchdog: {e}"))?;
    // Keep the pipe's write end open for the life of the process.
    std::mem::forget(child);
    Ok(())
}

fn pg_command(bin: &Path, tool: &str, as_root: bool) -> Command {
    let exe = bin.join(tool);
    if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

/// The newest PostgreSQL server tools (`initdb`, `pg_ctl`, `pg_dump`, `psql` …): under
/// `/usr/lib/postgresql/*/bin`, else the first `PATH` entry holding `initdb` and `pg_ctl`.
pub fn find_bindir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
    })
}

fn command_exists(name: &str) -> bool {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|d| d.join(name).is_file()))
        .unwrap_or(false)
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn append(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out: Output = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{:?} {:?} failed ({}): {}",
            cmd.get_program(),
            cmd.get_args().collect::<Vec<_>>(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A fresh database and the parts of its URL a runbook's parameters want (host, port,
/// user, password for a pgpass file).
pub struct Pg {
    pub url: String,
    pub admin: String,
    pub db: String,
    pub host: String,
    pub port: String,
    pub user: String,
    pub password: String,
}

impl Pg {
    /// A fresh database; None (after a note, a failure under CI) without PostgreSQL.
    pub async fn fresh() -> Option<Pg> {
        let url = fresh_pg_url().await?;
        // The cluster fresh_pg_url just made a database on.
        let admin = admin_url().expect("the admin URL of the cluster in use");
        let rest = url.split_once("://").unwrap().1;
        let (auth, hostpart) = rest.rsplit_once('@').unwrap();
        let (user, password) = auth.split_once(':').unwrap();
        let (hostport, db) = hostpart.split_once('/').unwrap();
        let (host, port) = hostport.rsplit_once(':').unwrap();
        Some(Pg {
            url: url.clone(),
            admin,
            db: db.split('?').next().unwrap().to_string(),
            host: host.to_string(),
            port: port.to_string(),
            user: user.to_string(),
            password: password.to_string(),
        })
    }

    /// A pgpass file (0600) in `dir` for this database's user; its path.
    pub fn pgpass(&self, dir: &std::path::Path) -> String {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join("pgpass");
        std::fs::write(
            &p,
            format!(
                "{}:{}:*:{}:{}\n",
                self.host, self.port, self.user, self.password
            ),
        )
        .unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p.to_str().unwrap().to_string()
    }
}

/// Runs `sql` (several statements allowed) on `url`.
pub async fn exec(url: &str, sql: &str) {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    c.close().await.unwrap();
}
