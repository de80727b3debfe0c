//! The three rotations completed from the console by keys at 80x24, every parameter typed
//! into the runbook's form, each screen read: renew-certificate against a TLS listener
//! whose certificate the renew command swaps, rotate-logs with a real logrotate
//! configuration, rotate-db-password on a real PostgreSQL with the secret in a temp dir.

mod support;
#[path = "support/tls_swap.rs"]
mod tls;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use support::tmux::Tui;

/// Every screen seen, for the test's failure message and for reading.
struct Walk {
    tui: Tui,
    screens: Vec<String>,
}

impl Walk {
    fn start(name: &str, config: &str) -> Option<Walk> {
        let tui = Tui::start(name)?;
        std::fs::create_dir_all(tui.config_dir()).unwrap();
        std::fs::write(tui.config_dir().join("config.toml"), config).unwrap();
        tui.launch(80, 24, &[], &[]);
        let mut w = Walk {
            tui,
            screens: Vec::new(),
        };
        w.wait("1 Overview");
        Some(w)
    }

    fn wait(&mut self, needle: &str) -> String {
        let s = self.tui.wait_for_within(needle, 60);
        self.screens.push(s.clone());
        s
    }

    /// `R`, the runbook by its place in the list, Enter: its form.
    fn open(&mut self, runbook: &str, title: &str) {
        let (books, _) = toban::runbook::spec::load_all(&[]);
        let at = books.iter().position(|b| b.name == runbook).unwrap();
        self.tui.key("R");
        self.wait(runbook);
        for _ in 0..at {
            self.tui.key("Down");
        }
        self.tui.key("Enter");
        self.wait(&format!("{title} — before it starts"));
    }

    /// Each field in turn: cleared, typed, Enter to the next; then Enter on the start
    /// button.
    fn fill(&mut self, values: &[&str]) {
        for v in values {
            self.tui.key("C-u");
            if !v.is_empty() {
                self.tui.type_text(v);
            }
            std::thread::sleep(Duration::from_millis(150));
            self.screens.push(self.tui.screen());
            self.tui.key("Enter");
        }
        std::thread::sleep(Duration::from_millis(150));
        self.screens.push(self.tui.screen());
        self.tui.key("Enter");
    }

    /// Enter (run the shown step), then the screen once `next` shows.
    fn step(&mut self, next: &str) -> String {
        self.tui.key("Enter");
        self.wait(next)
    }

    fn finish(&mut self) -> Vec<String> {
        self.wait("Run finished: every step done.");
        // Read with `--nocapture`: every screen the operator saw.
        for s in &self.screens {
            println!("{s}");
        }
        assert_eq!(self.tui.quit(), 0);
        self.screens.clone()
    }
}

/// No line of any screen is cut at the right edge mid-word by more than the frame: every
/// line fits 80 columns (tmux would wrap a longer one, so this is the frame's own check).
fn fits(screens: &[String]) {
    for s in screens {
        for l in s.lines() {
            assert!(
                l.chars().count() <= 80,
                "a line wider than 80 columns:\n{s}"
            );
        }
    }
}

#[test]
fn renew_certificate_by_keys_sees_the_served_expiry_move_forward() {
    let Some(mut w) = Walk::start("renew", "") else {
        return;
    };
    let dir = w.tui.home().join("tls");
    std::fs::create_dir_all(&dir).unwrap();
    let server = tls::Server::start(&dir, "app.example.test");
    let port = server.port.to_string();
    w.open("renew-certificate", "Renew a TLS certificate");
    let cert = dir.join("cert.pem");
    w.fill(&[
        "app",
        "127.0.0.1",
        &port,
        "app.example.test",
        cert.to_str().unwrap(),
        &server.renew_cmd(),
        &server.reload_cmd(),
    ]);
    w.wait("Expiry served now  [cert_expiry]");
    let day = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%d").to_string();
    let before = w.step("Renew  [command]");
    assert!(before.contains(&day(server.served_before)), "{before}");
    w.step("Reload the server  [command]");
    let after = w.step("The served expiry moved forward  [cert_expiry]");
    assert!(after.contains("TLS handshake to 127.0.0.1"), "{after}");
    let after = w.step("✓ served expiry now");
    assert!(after.contains(&day(server.next)), "{after}");
    let screens = w.finish();
    fits(&screens);
}

#[test]
fn rotate_logs_by_keys_with_logrotate_sees_the_log_written_again() {
    if std::process::Command::new("logrotate")
        .arg("--version")
        .output()
        .is_err()
    {
        support::service_unavailable("logrotate", "cannot run logrotate");
        return;
    }
    let Some(mut w) = Walk::start("logs", "") else {
        return;
    };
    let dir = w.tui.home().join("logs");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("app.log");
    std::fs::write(&log, "old line\n".repeat(200)).unwrap();
    let conf = dir.join("logrotate.conf");
    std::fs::write(
        &conf,
        format!(
            "{} {{\n  rotate 2\n  compress\n  copytruncate\n}}\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644)).unwrap();
    w.open("rotate-logs", "Rotate log files now");
    let log_s = log.to_str().unwrap();
    w.fill(&[conf.to_str().unwrap(), log_s, log_s]);
    w.wait("logrotate -f  [command]");
    w.step("The log is being written  [wait]");
    // The application writes after the rotation, while the wait runs.
    let writer = {
        let log = log.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
            writeln!(f, "written after the rotation").unwrap();
        })
    };
    let done = w.step("after the rotation began");
    writer.join().unwrap();
    assert!(done.contains("app.log"), "{done}");
    assert!(dir.join("app.log.1.gz").exists());
    let screens = w.finish();
    fits(&screens);
}

#[test]
fn rotate_db_password_by_keys_changes_the_password_and_the_file() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(url) = rt.block_on(support::postgres::fresh_pg_url()) else {
        return;
    };
    let admin = support::postgres::admin_url().unwrap();
    let old = "old-password-e2e-0123456789";
    let user = format!("app_{:08x}", rand::random::<u32>());
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&admin).await.unwrap();
        sqlx::raw_sql(&format!("CREATE ROLE {user} LOGIN PASSWORD '{old}'"))
            .execute(&mut c)
            .await
            .unwrap();
    });
    let login = |pw: &str| {
        let mut u = url::Url::parse(&url).unwrap();
        u.set_username(&user).unwrap();
        u.set_password(Some(pw)).unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            sqlx::PgConnection::connect(u.as_str()).await.is_ok()
        })
    };
    let config = format!("[runbooks.connections]\npostgres = {:?}\n", admin);
    let Some(mut w) = Walk::start("dbpw", &config) else {
        return;
    };
    let dir = w.tui.home().join("app");
    std::fs::create_dir_all(&dir).unwrap();
    let secret = dir.join("db_password");
    std::fs::write(&secret, old).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o640)).unwrap();
    w.open("rotate-db-password", "Rotate a database password");
    // connection (a choice: the configured one), user, file, AWS id, region, field, old.
    w.tui.key("Enter");
    w.fill(&[&user, secret.to_str().unwrap(), "", "", "", old]);
    w.wait("Generate a password  [generate_secret]");
    w.step("Keep the current password  [read_secret]");
    w.step("Confirm  [confirm]");
    w.tui.type_text(&user);
    w.step("Set the new password  [alter_password]");
    w.step("Update the secret file  [update_secret]");
    w.step("New password works  [check_login]");
    w.step("Old password is refused  [check_login]");
    w.step("Restart the application  [note]");
    w.tui.key("Enter");
    let screens = w.finish();
    fits(&screens);
    let new = std::fs::read_to_string(&secret).unwrap();
    assert_eq!(new.len(), 32);
    assert_eq!(
        std::fs::metadata(&secret).unwrap().permissions().mode() & 0o7777,
        0o640
    );
    assert!(login(&new) && !login(old));
    for s in &screens {
        assert!(!s.contains(&new) && !s.contains(old), "{s}");
    }
}
