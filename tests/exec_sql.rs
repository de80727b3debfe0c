//! SQL executor against a real PostgreSQL on loopback (and SQLite in a temp dir): results
//! as text, expectations, errors without passwords, and a password change whose new
//! password works, whose old one fails, and whose quoting injects nothing.

mod support;

use std::str::FromStr;

use sqlx::any::AnyConnectOptions;
use toban::runbook::exec::{
    alter_user_password, check_login, redact_url, run_sql, ExpectRows, SqlRequest,
};

fn req(url: &str, statements: &str, expect: Option<ExpectRows>) -> SqlRequest {
    SqlRequest {
        url: url.to_string(),
        statements: statements.to_string(),
        expect,
    }
}

/// `url` logging in as `user` with `password`.
fn as_user(url: &str, user: &str, password: &str) -> String {
    let mut u = AnyConnectOptions::from_str(url).unwrap().database_url;
    u.set_username(user).unwrap();
    u.set_password(Some(password)).unwrap();
    u.to_string()
}

fn password_of(url: &str) -> String {
    AnyConnectOptions::from_str(url)
        .unwrap()
        .database_url
        .password()
        .unwrap_or_default()
        .to_string()
}

async fn statements_and_expectations(url: &str) {
    let out = run_sql(&req(
        url,
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, NULL);
         SELECT id, name FROM items ORDER BY id;",
        Some(ExpectRows::Exactly(3)),
    ))
    .await
    .unwrap();
    assert_eq!(out.columns, vec!["id", "name"]);
    assert_eq!(
        out.rows,
        vec![
            vec!["1".to_string(), "one".to_string()],
            vec!["2".to_string(), "two".to_string()],
            vec!["3".to_string(), String::new()],
        ]
    );
    assert_eq!(out.rows_returned, 3);
    assert_eq!(out.last_statement_rows, 3);

    let out = run_sql(&req(
        url,
        "UPDATE items SET name = 'x' WHERE id >= 2",
        Some(ExpectRows::AtLeast(2)),
    ))
    .await
    .unwrap();
    assert_eq!(out.rows_affected, 2);
    assert!(out.rows.is_empty());

    let out = run_sql(&req(
        url,
        "SELECT count(*) FROM items",
        Some(ExpectRows::FirstValue("3".into())),
    ))
    .await
    .unwrap();
    assert_eq!(out.rows, vec![vec!["3".to_string()]]);

    let err = run_sql(&req(
        url,
        "SELECT count(*) FROM items",
        Some(ExpectRows::FirstValue("4".into())),
    ))
    .await
    .unwrap_err();
    assert_eq!(err, "expected `4`, got `3`");

    let err = run_sql(&req(url, "SELECT * FROM no_such_table", None))
        .await
        .unwrap_err();
    assert!(err.contains("no_such_table"), "{err}");
    assert!(err.contains(&redact_url(url)), "{err}");
    let pw = password_of(url);
    if !pw.is_empty() {
        assert!(!err.contains(&pw), "error shows the password: {err}");
    }
}

#[tokio::test]
async fn sqlite_statements_rows_and_expectations() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    statements_and_expectations(&url).await;
}

#[tokio::test]
async fn postgres_statements_rows_and_expectations() {
    let Some(url) = support::postgres::fresh_pg_url().await else {
        return;
    };
    statements_and_expectations(&url).await;
    // Types the Any driver cannot carry are named, with the way out.
    let err = run_sql(&req(&url, "SELECT now()", None)).await.unwrap_err();
    assert!(err.contains("::text"), "{err}");
    let out = run_sql(&req(&url, "SELECT now()::text <> ''", None))
        .await
        .unwrap();
    assert_eq!(out.rows, vec![vec!["true".to_string()]]);
}

#[tokio::test]
async fn alter_user_password_new_works_old_fails_and_nothing_is_injected() {
    let Some(url) = support::postgres::fresh_pg_url().await else {
        return;
    };
    let role = format!("app \"quoted\" {:08x}", rand::random::<u32>());
    let old = "old-password-1";
    // Set up with plain SQL (the role name is quoted by hand here, with fixed text).
    run_sql(&req(
        &url,
        &format!(
            "CREATE ROLE \"{}\" LOGIN PASSWORD '{old}';
             CREATE TABLE canary (v int); INSERT INTO canary VALUES (1);",
            role.replace('"', "\"\"")
        ),
        None,
    ))
    .await
    .unwrap();
    check_login(&as_user(&url, &role, old)).await.unwrap();

    let new = "n3w'; DROP TABLE canary; CREATE ROLE pwned; -- \\' $$ ;\"x";
    alter_user_password(&url, &role, new).await.unwrap();

    check_login(&as_user(&url, &role, new))
        .await
        .expect("the new password logs in");
    let err = check_login(&as_user(&url, &role, old))
        .await
        .expect_err("the old password must fail");
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains(old), "error shows the password: {err}");

    // Nothing in the password ran as SQL.
    let out = run_sql(&req(
        &url,
        "SELECT (SELECT count(*) FROM canary)::text || '/' ||
                (SELECT count(*) FROM pg_roles WHERE rolname = 'pwned')::text",
        None,
    ))
    .await
    .unwrap();
    assert_eq!(out.rows, vec![vec!["1/0".to_string()]]);

    // A role that does not exist: the server's message, not the password.
    let err = alter_user_password(&url, "no_such_role_x", "secret-zz-99")
        .await
        .unwrap_err();
    assert!(err.contains("no_such_role_x"), "{err}");
    assert!(!err.contains("secret-zz-99"), "{err}");
}

#[tokio::test]
async fn check_login_fails_clearly_on_a_closed_port() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("postgres://app:topsecret-77@127.0.0.1:{port}/db");
    let err = check_login(&url).await.unwrap_err();
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(!err.contains("topsecret-77"), "{err}");
    let err = alter_user_password("sqlite://x.db", "app", "pw")
        .await
        .unwrap_err();
    assert!(err.contains("PostgreSQL"), "{err}");
}
