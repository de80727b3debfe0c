//! rotate-db-password on a real PostgreSQL: the secret file keeps its owner, group and mode
//! (the application's user still reads it), and a write that fails after `ALTER USER` says
//! what state things are in and puts the old password back — the database accepts the old
//! one afterwards, not the new.

#[path = "runbook_common.rs"]
mod common;
mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::*;
use sqlx::{Connection, PgConnection};
use toban::runbook::engine::{Event, RunOptions, RunStatus};

struct Db {
    admin: String,
    url: String,
    user: String,
}

/// A fresh database and a login role `app_…` with `old` as its password.
async fn role_with(old: &str) -> Option<Db> {
    let url = support::postgres::fresh_pg_url().await?;
    let admin = support::postgres::admin_url().ok()?;
    let user = format!("app_{:08x}", rand::random::<u32>());
    let mut c = PgConnection::connect(&admin).await.unwrap();
    sqlx::raw_sql(&format!("CREATE ROLE {user} LOGIN PASSWORD '{old}'"))
        .execute(&mut c)
        .await
        .unwrap();
    Some(Db { admin, url, user })
}

impl Db {
    async fn login(&self, password: &str) -> bool {
        let mut u = url::Url::parse(&self.url).unwrap();
        u.set_username(&self.user).unwrap();
        u.set_password(Some(password)).unwrap();
        PgConnection::connect(u.as_str()).await.is_ok()
    }
}

fn chattr(flag: &str, p: &Path) -> bool {
    std::process::Command::new("chattr")
        .arg(flag)
        .arg(p)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

async fn rotate(
    t: &TestEnv,
    db: &Db,
    secret: &Path,
    old: &str,
) -> (Option<RunStatus>, toban::runbook::engine::Engine) {
    let spec = shipped("rotate-db-password");
    let mut e = engine(
        &spec,
        &[
            ("connection", "pg"),
            ("user", &db.user),
            ("secret_file", secret.to_str().unwrap()),
            ("old_password", old),
        ],
        RunOptions::default(),
    );
    let d = drive(
        &t.env,
        &mut e,
        vec![Event::Typed(db.user.clone()), Event::Continue],
        true,
    )
    .await;
    (d.status, e)
}

#[tokio::test]
async fn the_secret_file_keeps_its_owner_group_and_mode() {
    let old = "old-password-0123456789";
    let Some(db) = role_with(old).await else {
        return;
    };
    let mut t = sqlite_env().await;
    t.env.connections.insert("pg".into(), db.admin.clone());
    let secret = t.path("app/db_password");
    std::fs::create_dir_all(secret.parent().unwrap()).unwrap();
    std::fs::write(&secret, old).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o640)).unwrap();
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        // The application's own user and group, not toban's.
        std::os::unix::fs::chown(&secret, Some(4242), Some(4343)).unwrap();
    }
    let before = std::fs::metadata(&secret).unwrap();
    let (status, e) = rotate(&t, &db, &secret, old).await;
    assert_eq!(status, Some(RunStatus::Succeeded), "{:#?}", e.state);
    let after = std::fs::metadata(&secret).unwrap();
    assert_eq!(after.mode() & 0o7777, 0o640);
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    if root {
        assert_eq!((after.uid(), after.gid()), (4242, 4343));
    }
    let new = std::fs::read_to_string(&secret).unwrap();
    assert_ne!(new, old);
    assert!(db.login(&new).await && !db.login(old).await);
}

#[tokio::test]
async fn a_write_that_fails_after_alter_user_puts_the_old_password_back_and_says_so() {
    let old = "old-password-9876543210";
    let Some(db) = role_with(old).await else {
        return;
    };
    let mut t = sqlite_env().await;
    t.env.connections.insert("pg".into(), db.admin.clone());
    let dir = t.path("ro");
    std::fs::create_dir_all(&dir).unwrap();
    let secret = dir.join("db_password");
    std::fs::write(&secret, old).unwrap();
    // Nothing can be written in the folder (not even by root): the write fails after the
    // database has the new password.
    if !chattr("+i", &dir) {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let (status, e) = rotate(&t, &db, &secret, old).await;
    chattr("-i", &dir);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();

    assert_eq!(status, Some(RunStatus::Failed), "{:#?}", e.state);
    let ran: Vec<_> = e
        .state
        .steps
        .iter()
        .filter(|s| s.started_ms.is_some())
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        ran,
        ["generate", "current", "confirm", "alter", "write", "put-back"]
    );
    // The database takes the old password again, and not the one that was never written.
    assert!(db.login(old).await, "the old password works again");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), old);
    let new = e.state.secrets["generate"].clone();
    assert!(!db.login(&new).await, "the new password was taken back");

    // The screen and the audit say what state things were in and what the rollback did.
    let why = e.state.failure.clone().unwrap();
    assert!(why.contains("is unchanged"), "{why}");
    assert!(why.contains("The database has the NEW password"), "{why}");
    assert!(why.contains("rollback `put-back` done"), "{why}");
    let audit =
        serde_json::to_string(&t.env.store.run_audit(&e.state.run_id).await.unwrap()).unwrap();
    assert!(audit.contains("rollback `put-back` done"), "{audit}");
    assert!(!audit.contains(old) && !audit.contains(&new));
}
