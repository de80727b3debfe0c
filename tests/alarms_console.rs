//! The Alarms tab as an operator drives it, keys through the keymap: a backup alarm leads
//! to a drill of that service's newest good backup in two keys; a remote alert to the
//! runbook its annotation names; acknowledging asks for a note and is refused read-only;
//! `Enter` shows the whole alarm.

mod common;

use std::sync::Arc;

use chrono::Duration;
use common::console::Console;
use toban::alarms::model::{AlarmKind, AlarmState};
use toban::alarms::{Alarm, AlarmsEffect, AlarmsMsg, Snapshot};
use toban::backups::config::BackupsConfig;
use toban::backups::fixture::dump;
use toban::backups::provider::BackupsUpdate;
use toban::backups::scan::scan_once;
use toban::providers::ProviderId;
use toban::state::{Effect, Msg};
use toban::tab::Tab;

/// Seed 004's nightly dumps of backup_mgmt, the newest 3 days old: past the 24 h RPO.
fn stale_dumps(c: &mut Console) -> (tempfile::TempDir, String) {
    let t = tempfile::tempdir().unwrap();
    let now = c.s.now;
    let mut newest = String::new();
    for d in (3..6).rev() {
        let p = dump(
            t.path(),
            "backup_mgmt",
            Some("db"),
            now - Duration::days(d),
            b"CREATE TABLE t (id int);\n",
            true,
        )
        .unwrap();
        newest = p.display().to_string();
    }
    let cfg = BackupsConfig {
        roots: vec![t.path().to_path_buf()],
        storage_warn: 100.0,
        storage_crit: 100.0,
        ..Default::default()
    };
    c.s.backups.configured = true;
    let cat = scan_once(&cfg, now);
    c.msg(Msg::Backups(BackupsUpdate::Catalog(Arc::new(cat))));
    (t, newest)
}

#[test]
fn a_backup_alarm_leads_to_a_drill_of_the_newest_good_backup_in_two_keys() {
    let mut c = Console::shipped();
    let (_dir, newest) = stale_dumps(&mut c);
    c.keys("2");
    assert_eq!(c.s.tab, Tab::Alarms);
    let screen = c.screen(80, 24);
    assert!(screen.contains("backup.rpo:backup_mgmt"), "{screen}");
    // The backup alarm is the only one: it is selected; `r` opens its drill.
    c.keys("r");
    let form = c.s.form.as_ref().unwrap_or_else(|| {
        panic!(
            "r opened no form; notice {:?}\n{}",
            c.s.notice,
            c.screen(80, 24)
        )
    });
    assert_eq!(form.runbook, "restore-postgres");
    assert!(
        form.drill,
        "a drill from an alarm, never a restore over live data"
    );
    let chosen = form.given.values().any(|v| *v == newest)
        || form.fields.iter().any(|f| f.value() == newest);
    assert!(
        chosen,
        "the newest good dump {newest} is the one to drill on"
    );
}

fn remote_alert(c: &mut Console, runbook: &str) {
    let id = ProviderId::named("alertmanager", "main");
    let mut a = Alarm::new(
        id.clone(),
        "alertmanager:main/abc".into(),
        AlarmKind::Alert,
        "DiskAlmostFull",
        AlarmState::Firing,
        c.s.now - Duration::minutes(12),
    )
    .with_reason("/var/log is 93% full on ops-1 — the application logs were not rotated");
    a.annotation("runbook", runbook);
    a.finish();
    c.msg(Msg::Alarms(AlarmsMsg::Snapshot(
        id,
        Snapshot {
            alarms: vec![a],
            ..Default::default()
        },
    )));
}

#[test]
fn a_remote_alert_opens_the_runbook_its_annotation_names() {
    let mut c = Console::shipped();
    remote_alert(&mut c, "rotate-logs");
    c.keys("2 / D i s k <Enter>");
    assert_eq!(c.s.alarm_list.visible.len(), 1, "{}", c.screen(80, 24));
    c.keys("r");
    let form = c.s.form.as_ref().expect("rotate-logs asks its parameters");
    assert_eq!(form.runbook, "rotate-logs");
    assert!(!form.drill);
}

#[test]
fn enter_shows_the_whole_alarm_and_esc_goes_back() {
    let mut c = Console::shipped();
    remote_alert(&mut c, "rotate-logs");
    c.keys("2 <Enter>");
    let screen = c.screen(80, 24);
    assert!(c.s.alarm_list.detail.is_some());
    // The reason, cut in the list at 80 columns, is there in full.
    assert!(screen.contains("were not rotated"), "{screen}");
    assert!(screen.contains("rotate-logs"), "{screen}");
    insta::assert_snapshot!("alarm_detail_80x24", screen);
    c.keys("<Esc>");
    assert!(c.s.alarm_list.detail.is_none());
}

#[test]
fn acknowledging_asks_for_a_note_and_records_it() {
    let mut c = Console::shipped();
    remote_alert(&mut c, "rotate-logs");
    c.keys("2 a");
    assert!(c.s.prompt.is_some(), "a asks for a note");
    // An empty note is refused: the others on call need to know who is on it.
    c.keys("<Enter>");
    assert!(c.s.prompt.as_ref().is_some_and(|p| p.error.is_some()));
    c.type_text("on it, rotating");
    c.keys("<Enter>");
    assert!(c.s.prompt.is_none());
    let recorded = c.fx.iter().any(
        |e| matches!(e, Effect::Alarms(AlarmsEffect::Record(n)) if n.note == "on it, rotating"),
    );
    assert!(recorded, "{:?}", c.fx);
}

#[test]
fn read_only_refuses_acknowledge_and_silence_at_the_gate() {
    let mut c = Console::shipped();
    c.s.read_only = true;
    remote_alert(&mut c, "rotate-logs");
    c.keys("2 a");
    assert!(c.s.prompt.is_none());
    let notice =
        c.s.notice
            .as_ref()
            .map(|n| n.text.clone())
            .unwrap_or_default();
    assert!(notice.contains("read-only"), "{notice}");
    c.keys("s");
    assert!(c.s.prompt.is_none());
}

#[test]
fn silence_takes_a_duration_then_a_note() {
    let mut c = Console::shipped();
    remote_alert(&mut c, "rotate-logs");
    c.keys("2 s <C-u>");
    c.type_text("soon");
    c.keys("<Enter>");
    let err = c.s.prompt.as_ref().and_then(|p| p.error.clone());
    assert!(err.is_some_and(|e| e.contains("not a duration")));
    c.keys("<C-u>");
    c.type_text("2h deploy in progress");
    c.keys("<Enter>");
    assert!(c.s.prompt.is_none(), "{}", c.screen(80, 24));
    let silenced = c.fx.iter().any(|e| {
        matches!(e, Effect::Alarms(AlarmsEffect::SilenceRemote { note, until, .. })
            if note == "deploy in progress" && *until == c.s.now + Duration::hours(2))
    });
    assert!(silenced, "{:?}", c.fx);
}

#[test]
fn a_certificate_near_its_end_leads_to_renew_certificate() {
    let mut c = Console::shipped();
    let now = c.s.now;
    // What the certificate provider reports: www ends in 5 days (critical under 7).
    let cert = toban::services::model::CertInfo {
        name: "www".into(),
        source: "/etc/nginx/ssl/cert.pem".into(),
        subject: "CN=www.example.test".into(),
        not_after: Some(now + Duration::days(5) + Duration::hours(1)),
        error: None,
        checked: now,
        warn_days: 30,
        critical_days: 7,
    };
    c.msg(Msg::Services(toban::services::ServicesMsg::Certs(vec![
        cert,
    ])));
    c.msg(Msg::Tick(now + Duration::seconds(1)));
    c.keys("2 r");
    let form = c.s.form.as_ref().unwrap_or_else(|| {
        panic!(
            "no form; wizard {:?} notice {:?}\n{}",
            c.s.wizard.as_ref().map(|w| w.engine.spec.name.clone()),
            c.s.notice,
            c.screen(80, 24)
        )
    });
    assert_eq!(form.runbook, "renew-certificate");
    let named = form.given.get("cert_name").map(String::as_str) == Some("www")
        || form
            .fields
            .iter()
            .any(|f| f.param.name == "cert_name" && f.value() == "www");
    assert!(named, "the certificate's name is filled in");
}
