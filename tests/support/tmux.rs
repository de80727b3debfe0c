//! Drives the toban binary in a detached tmux session, as an operator would: keys in, the
//! screen read back. One `Tui` per test: its own tmux server (socket), its own HOME and XDG
//! folders, killed when dropped. Tests call `Tui::start`, which returns `None` (after
//! recording the skip, or failing under CI) when tmux is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Printed by the shell once toban exits, followed by its exit code.
pub const EXITED: &str = "TOBAN-EXITED-";

pub struct Tui {
    socket: String,
    home: tempfile::TempDir,
}

impl Tui {
    /// A fresh HOME for a session not started yet: write config, runbooks and fixtures under
    /// `config_dir()` / `data_dir()` first, then `launch`.
    pub fn start(name: &str) -> Option<Tui> {
        if let Err(e) = Command::new("tmux").arg("-V").output() {
            super::service_unavailable("tmux", &format!("cannot run tmux: {e}"));
            return None;
        }
        let socket = format!("toban-e2e-{name}-{}", std::process::id());
        Some(Tui {
            socket,
            home: tempfile::tempdir().expect("temp HOME"),
        })
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// `$XDG_CONFIG_HOME/toban`: config.toml, runbooks/, keymaps.
    pub fn config_dir(&self) -> PathBuf {
        self.home.path().join("c/toban")
    }

    /// `$XDG_DATA_HOME/toban`: the store and run folders.
    pub fn data_dir(&self) -> PathBuf {
        self.home.path().join("d/toban")
    }

    /// The binary with this session's HOME and XDG folders and no SSH client, for headless
    /// commands beside the console (`runbook history`, `calendar`, …).
    pub fn command(&self) -> Command {
        let h = self.home.path();
        let mut c = Command::new(super::toban_bin());
        c.env("HOME", h)
            .env("XDG_CONFIG_HOME", h.join("c"))
            .env("XDG_DATA_HOME", h.join("d"))
            .env("XDG_STATE_HOME", h.join("s"))
            .env_remove("SSH_CONNECTION")
            .env_remove("SSH_CLIENT");
        c
    }

    /// Starts `toban ARGS…` at `cols`x`rows`. `env` adds variables (argv pairs, never a shell
    /// string built from data). When toban exits the pane prints `TOBAN-EXITED-<code>` and
    /// stays, so the screen it left can be read.
    pub fn launch(&self, cols: u16, rows: u16, args: &[&str], env: &[(&str, &str)]) {
        let h = self.home.path().to_string_lossy().into_owned();
        // env's options come before its assignments (GNU env takes `-u` after one as the
        // program to run).
        let mut argv: Vec<String> = vec![
            "env".into(),
            "-u".into(),
            "SSH_CONNECTION".into(),
            "-u".into(),
            "SSH_CLIENT".into(),
            format!("HOME={h}"),
            format!("XDG_CONFIG_HOME={h}/c"),
            format!("XDG_DATA_HOME={h}/d"),
            format!("XDG_STATE_HOME={h}/s"),
        ];
        argv.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        argv.push(super::toban_bin().to_string_lossy().into_owned());
        argv.extend(args.iter().map(|a| a.to_string()));
        // `sh -c 'exec_and_report "$@"' sh ARGV…`: the arguments reach toban as argv.
        let script = format!("\"$@\"; echo {EXITED}$?; sleep 600");
        let (cols, rows) = (cols.to_string(), rows.to_string());
        let mut cmd: Vec<&str> = vec![
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            &cols,
            "-y",
            &rows,
            "sh",
            "-c",
            &script,
            "sh",
        ];
        cmd.extend(argv.iter().map(String::as_str));
        self.tmux(&cmd);
    }

    pub fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// One key as tmux names it: `Enter`, `Escape`, `Tab`, `C-x`, `Up`, `y`, …
    pub fn key(&self, key: &str) {
        self.tmux(&["send-keys", "-t", "e2e", key]);
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.key(k);
        }
    }

    /// Text typed literally (no key-name lookup), as into a form field.
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "e2e", "-l", text]);
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "e2e"])
    }

    /// The screen once it contains `needle`; panics with the last screen after `secs`.
    pub fn wait_for_within(&self, needle: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("`{needle}` never appeared within {secs}s; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn wait_for(&self, needle: &str) -> String {
        self.wait_for_within(needle, 20)
    }

    /// Presses `q` and waits for toban to exit; returns its exit code.
    pub fn quit(&self) -> i32 {
        self.key("q");
        let screen = self.wait_for(EXITED);
        screen
            .split(EXITED)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|c| c.parse().ok())
            .unwrap_or(-1)
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}
