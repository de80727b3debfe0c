//! `toban calendar` as scripts use it: the real binary, its exit codes and JSON, and two
//! toban processes on one PostgreSQL store (a duty done in one is done in the other).

mod support;

use std::path::Path;
use std::process::Command;

struct Run {
    code: i32,
    out: String,
    err: String,
}

/// The binary with `config` as config.toml, a home of its own under `home`, and `env`.
fn toban(home: &Path, config: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let path = home.join("config.toml");
    std::fs::write(&path, config).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_toban"));
    cmd.arg("--config")
        .arg(&path)
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("c"))
        .env("XDG_DATA_HOME", home.join("d"))
        .env("XDG_STATE_HOME", home.join("s"))
        .env_remove("SSH_CONNECTION")
        .env_remove("SSH_CLIENT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.out).unwrap_or_else(|e| panic!("{e}: {}{}", r.out, r.err))
}

/// A duty counted from its last completion, never done: due since midnight UTC on the day
/// toban first sees it, overdue after `grace`.
fn calendar(grace: &str, severity: &str) -> String {
    format!(
        "[calendar]\npresets = []\nzone = \"UTC\"\n\
         [[calendar.duty]]\nid = \"key-rotation\"\ntitle = \"Rotate the key\"\n\
         every = \"90 days\"\nfrom = \"done\"\nat = \"00:00\"\ngrace = \"{grace}\"\n\
         severity = \"{severity}\"\nrunbook = {{ name = \"rotate-access-key\" }}\n"
    )
}

fn item<'a>(v: &'a serde_json::Value, list: &str, duty: &str) -> Option<&'a serde_json::Value> {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["duty"] == duty)
}

#[test]
fn exit_codes_follow_what_is_overdue_and_done_clears_it() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    // Due (a long grace): exit 0.
    let r = toban(
        h,
        &calendar("1000d", "warning"),
        &["calendar", "--json"],
        &[],
    );
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    let v = json(&r);
    assert_eq!(item(&v, "items", "key-rotation").unwrap()["state"], "due");
    assert_eq!(v["due"], 1);
    // Overdue: exit 1 as a warning, 2 when the duty says critical.
    let r = toban(h, &calendar("1s", "warning"), &["calendar"], &[]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(r.out.contains("! OVERDUE"), "{}", r.out);
    assert!(r.out.contains("key-rotation"), "{}", r.out);
    assert!(r.out.contains("[runbook rotate-access-key]"), "{}", r.out);
    let r = toban(h, &calendar("1s", "critical"), &["calendar"], &[]);
    assert_eq!(r.code, 2, "{}{}", r.out, r.err);
    // `toban status` carries the same finding.
    let r = toban(
        h,
        &format!("[host]\ncpu = {{ enabled = false }}\ndisk = {{ enabled = false }}\nmemory = {{ warn = 100, crit = 100 }}\n{}", calendar("1s", "critical")),
        &["status", "--json"],
        &[],
    );
    assert_eq!(r.code, 2, "{}{}", r.out, r.err);
    let v = json(&r);
    let check = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "calendar.overdue:key-rotation")
        .unwrap();
    assert_eq!(check["severity"], "critical");
    // Read-only mode records nothing.
    let r = toban(
        h,
        &calendar("1s", "critical"),
        &["--read-only", "calendar", "done", "key-rotation"],
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(r.err.contains("read-only"), "{}", r.err);
    // Done: nothing overdue, the next rotation is 90 days out.
    let r = toban(
        h,
        &calendar("1s", "critical"),
        &[
            "calendar",
            "done",
            "key-rotation",
            "--note",
            "AKIA…NEW in place",
        ],
        &[("USER", "alice")],
    );
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(
        r.out.starts_with("done key-rotation: Rotate the key"),
        "{}",
        r.out
    );
    assert!(r.out.contains("by alice"), "{}", r.out);
    let r = toban(
        h,
        &calendar("1s", "critical"),
        &["calendar", "--json", "--days", "100"],
        &[],
    );
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    let v = json(&r);
    assert_eq!(v["overdue"], 0);
    assert_eq!(
        item(&v, "items", "key-rotation").unwrap()["state"],
        "upcoming"
    );
    let today = item(&v, "today", "key-rotation").unwrap();
    assert_eq!(today["state"], "done");
    assert_eq!(today["note"], "AKIA…NEW in place");
    // A duty that is not there is named with a suggestion.
    let r = toban(
        h,
        &calendar("1s", "critical"),
        &["calendar", "done", "key-rotaton"],
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(r.err.contains("did you mean `key-rotation`"), "{}", r.err);
}

#[test]
fn ics_goes_to_a_file_with_rrules() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("duties.ics");
    let r = toban(
        home.path(),
        "[calendar]\npresets = [\"seed002\"]\n",
        &["calendar", "--ics", "-o", file.to_str().unwrap()],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let text = std::fs::read_to_string(&file).unwrap().replace("\r\n ", "");
    assert!(text.starts_with("BEGIN:VCALENDAR"));
    assert!(text.contains("UID:alarm-check-1400@toban"), "{text}");
    assert!(text.contains("DTSTART;TZID=Asia/Tokyo:"), "{text}");
    assert!(
        text.contains(
            "RRULE:FREQ=MONTHLY;BYMONTH=1,4,7,10;BYHOUR=10;BYMINUTE=0;BYSECOND=0;BYDAY=1MO"
        ),
        "{text}"
    );
    assert!(
        text.contains("BEGIN:VTIMEZONE\r\nTZID:Asia/Tokyo"),
        "{text}"
    );
}

#[tokio::test]
async fn two_processes_on_one_postgresql_store_see_each_others_completions() {
    let Some(url) = support::postgres::fresh_pg_url().await else {
        return;
    };
    // Two operators: separate homes (so separate SQLite files would not share anything),
    // one database_url.
    let alice = tempfile::tempdir().unwrap();
    let bob = tempfile::tempdir().unwrap();
    let config = format!("database_url = \"{url}\"\n{}", calendar("1000d", "warning"));
    let r = toban(alice.path(), &config, &["calendar", "--json"], &[]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert_eq!(
        item(&json(&r), "items", "key-rotation").unwrap()["state"],
        "due"
    );
    let r = toban(
        bob.path(),
        &config,
        &[
            "calendar",
            "done",
            "key-rotation",
            "--note",
            "rotated from the bastion",
        ],
        &[
            ("USER", "bob"),
            ("SSH_CONNECTION", "203.0.113.9 50022 192.0.2.1 22"),
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(
        r.out.contains("by bob from 203.0.113.9 port 50022"),
        "{}",
        r.out
    );
    let r = toban(alice.path(), &config, &["calendar", "--json"], &[]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    let v = json(&r);
    assert!(item(&v, "items", "key-rotation").is_none(), "{v}");
    let done = item(&v, "today", "key-rotation").unwrap();
    assert_eq!(done["state"], "done");
    assert_eq!(done["by"], "bob from 203.0.113.9 port 50022");
    assert_eq!(done["note"], "rotated from the bastion");
    assert!(
        !r.out.contains(url.split('@').next().unwrap()),
        "no credentials in output"
    );
}

#[test]
fn config_check_names_a_bad_duty_field_with_its_line() {
    let home = tempfile::tempdir().unwrap();
    let r = toban(
        home.path(),
        "[calendar]\npresets = [\"seed002\"]\n\n[[calendar.duty]]\nid = \"x\"\ntitle = \"X\"\nevery = \"fortnight\"\n",
        &["config", "check"],
        &[],
    );
    assert_ne!(r.code, 0);
    assert!(r.err.contains("config.toml:7"), "{}", r.err);
    assert!(r.err.contains("calendar.duty[0].every"), "{}", r.err);
    assert!(
        r.err.contains("`fortnight` is not `day`, `week`"),
        "{}",
        r.err
    );
}
