//! Every kind of wizard screen, reached as an operator reaches it: `R`, the runbook, the
//! parameter form filled in by typing, keys for each answer. The whole console is drawn at
//! 80x24 (and one at 160x48), so hints come from the keymap and a hint naming an unbound
//! key would show here.

mod common;

use common::console::Console;
use toban::runbook::engine::{Event, Reattach, StepOutcome, StepState};
use toban::runbook::runner::RunnerMsg;
use toban::runbook::spec::{load_all, Runbook, StepAction};

fn book(name: &str) -> Runbook {
    load_all(&[])
        .0
        .into_iter()
        .find(|b| b.name == name)
        .unwrap()
}

/// `name` cut to start at step `id`, so that step is the first one.
fn from_step(name: &str, id: &str) -> Runbook {
    let mut spec = book(name);
    let pos = spec.steps.iter().position(|s| s.id == id).unwrap();
    spec.steps.drain(..pos);
    spec
}

/// Opens the only runbook with `R` `Enter`, types `kv` into the form, starts it.
fn open(spec: Runbook, kv: &[(&str, &str)]) -> Console {
    let mut c = Console::new(vec![spec]);
    c.keys("R <Enter>");
    c.fill_form(kv);
    c
}

const PG: &[(&str, &str)] = &[
    ("database", "backup_mgmt"),
    ("dump", "/backup/db/20260225_030000.sql.gz"),
];

#[test]
fn wizard_note() {
    let c = open(
        from_step("rotate-db-password", "restart-note"),
        &[("user", "app"), ("secret_file", "/etc/app/db_password")],
    );
    insta::assert_snapshot!(c.screen(80, 24));
}

#[test]
fn wizard_checklist() {
    let c = open(
        from_step("rotate-access-key", "elsewhere"),
        &[("old_key_id", "AKIAOLDKEY000001")],
    );
    insta::assert_snapshot!(c.screen(80, 24));
}

#[test]
fn wizard_input_text_with_its_problem() {
    let mut c = open(
        book("restore-files"),
        &[("backup", "/mnt/backup-hdd/mailserver/daily/2026-11-20")],
    );
    // The backup step takes a typed path here (no catalog); then where to restore.
    c.keys("<C-u>");
    c.type_text("/mnt/backup-hdd/mailserver/daily/2026-11-20");
    c.keys("<Enter>");
    c.keys("<C-u>");
    c.type_text("srv/mail");
    insta::assert_snapshot!(c.screen(80, 24));
}

#[test]
fn wizard_confirm_typed_wrong_name() {
    let mut c = open(from_step("restore-postgres", "confirm"), PG);
    c.type_text("backup_mgnt");
    insta::assert_snapshot!(c.screen(80, 24));
}

#[test]
fn wizard_confirm_plain_focus_on_no() {
    let mut spec = from_step("rotate-access-key", "confirm");
    if let StepAction::Confirm(c) = &mut spec.steps[0].action {
        c.typed = None;
    }
    let c = open(spec, &[("old_key_id", "AKIAOLDKEY000001")]);
    insta::assert_snapshot!(c.screen(80, 24));
}

#[test]
fn wizard_command_before_it_runs() {
    let c = open(
        from_step("restore-postgres", "restore"),
        &[
            ("database", "backup_mgmt"),
            ("dump", "/backup/db/20260225_030000.sql.gz"),
            ("passfile", "/root/.pgpass"),
        ],
    );
    insta::assert_snapshot!(c.screen(80, 24));
}

fn running_restore(lines: usize, line: impl Fn(usize) -> String) -> Console {
    let mut c = open(from_step("restore-postgres", "restore"), PG);
    c.keys("<Enter>");
    for i in 0..lines {
        c.runner(RunnerMsg::Output {
            step: 0,
            line: line(i),
        });
    }
    c
}

#[test]
fn wizard_command_running_with_output() {
    let c = running_restore(30, |i| format!("\u{1b}[32mSET\u{1b}[0m line {i}"));
    let screen = c.screen(80, 24);
    assert!(!screen.contains('\u{1b}'), "escape sequences are inert");
    insta::assert_snapshot!(screen);
}

#[test]
fn wizard_command_running_160x48() {
    let mut c = running_restore(60, |i| format!("ALTER TABLE {i}"));
    c.keys("<PageUp>");
    insta::assert_snapshot!(c.screen(160, 48));
}

#[test]
fn wizard_cancel_asks_first() {
    let mut c = running_restore(0, |_| String::new());
    c.keys("<C-x>");
    insta::assert_snapshot!(c.screen(80, 24));
}

#[test]
fn wizard_container() {
    let c = open(from_step("restore-postgres", "stop"), PG);
    insta::assert_snapshot!(c.screen(80, 24));
}

#[test]
fn wizard_sql() {
    let kv = [PG, &[("verify_table", "items")]].concat();
    let c = open(from_step("restore-postgres", "count"), &kv);
    insta::assert_snapshot!(c.screen(80, 24));
}

#[test]
fn wizard_alter_password_masked() {
    let mut c = open(
        from_step("rotate-db-password", "generate"),
        &[("user", "app"), ("secret_file", "/etc/app/db_password")],
    );
    c.keys("<Enter>");
    c.runner(RunnerMsg::Event(Event::StepFinished(StepOutcome {
        ok: true,
        secret: Some("Sup3rSecretPasswordValue12345678".into()),
        ..StepOutcome::failed(0, "generated a 32-character secret (not shown)")
    })));
    // The current password is kept for a rollback, never shown either.
    c.keys("<Enter>");
    c.runner(RunnerMsg::Event(Event::StepFinished(StepOutcome {
        ok: true,
        secret: Some("TheOldPasswordValue0123456789".into()),
        ..StepOutcome::failed(
            1,
            "kept the current value of /etc/app/db_password (not shown)",
        )
    })));
    c.type_text("app");
    c.keys("<Enter>");
    let w = c.s.wizard.as_ref().unwrap();
    assert_eq!(w.engine.current_step().unwrap().id, "alter");
    assert!(!c.screen(80, 24).contains("TheOldPassword"));
    let s = c.screen(80, 24);
    assert!(!s.contains("Sup3rSecret"), "{s}");
    insta::assert_snapshot!(s);
    // Shown only when asked, with the key the hint names.
    c.keys("v");
    assert!(c.screen(80, 24).contains("Sup3rSecret"));
}

#[test]
fn wizard_wait() {
    let c = open(
        from_step("restore-postgres", "health"),
        &[
            ("database", "db"),
            ("dump", "/d.sql.gz"),
            ("health_url", "https://backup-mgmt.example.com/health/ready"),
        ],
    );
    insta::assert_snapshot!(c.screen(80, 24));
}

#[test]
fn wizard_verify_backup() {
    let c = open(from_step("restore-postgres", "verify"), PG);
    insta::assert_snapshot!(c.screen(80, 24));
}

#[test]
fn wizard_extract_preview_then_the_listing_above_the_question() {
    let mut c = open(
        from_step("restore-files", "preview"),
        &[
            ("backup", "/mnt/backup-hdd/mailserver/daily/2026-11-20"),
            ("target", "/srv/mail"),
        ],
    );
    insta::assert_snapshot!("wizard_extract_preview", c.screen(80, 24));
    c.keys("<Enter>");
    c.runner(RunnerMsg::Event(Event::StepFinished(StepOutcome {
        ok: true,
        output: "overwrite /srv/mail/etc/postfix/main.cf\ncreate /srv/mail/var/mail/new.eml".into(),
        ..StepOutcome::failed(0, "2 files would change")
    })));
    let s = c.screen(80, 24);
    assert!(s.contains("overwrite /srv/mail/etc/postfix/main.cf"), "{s}");
    insta::assert_snapshot!("wizard_confirm_shows_the_listing", s);
}

#[test]
fn wizard_schedule_followup() {
    let mut spec = from_step("rotate-access-key", "schedule");
    // The deactivation's time is an earlier step's output; this screen starts after it.
    if let StepAction::ScheduleFollowup(f) = &mut spec.steps[0].action {
        let at = "2026-11-20T09:00:00Z";
        f.note = f
            .note
            .as_ref()
            .map(|n| n.replace("{{steps.deactivate.output}}", at));
        for v in f.action.iter_mut().flat_map(|a| a.params.values_mut()) {
            *v = v.replace("{{steps.deactivate.output}}", at);
        }
    }
    let c = open(spec, &[("old_key_id", "AKIAOLDKEY000001")]);
    insta::assert_snapshot!(c.screen(80, 24));
}

#[test]
fn wizard_generate_secret() {
    let c = open(
        from_step("rotate-db-password", "generate"),
        &[("user", "app"), ("secret_file", "/etc/app/db_password")],
    );
    insta::assert_snapshot!(c.screen(80, 24));
}

/// The restore's first step found interrupted by a restarted toban, with `info` known of it.
fn reopened_after_restart(info: Reattach) -> Console {
    let mut c = running_restore(0, |_| String::new());
    let w = c.s.wizard.take().unwrap();
    let e = toban::runbook::engine::Engine::resume(w.engine.spec.clone(), w.engine.state.clone());
    c.msg(toban::state::Msg::Resume {
        runs: vec![(e, vec![Event::Reattached { step: 0, info }])],
        missing: vec![],
    });
    c
}

#[test]
fn wizard_interrupted_after_restart_rests_on_the_safe_choice() {
    let mut c = reopened_after_restart(Reattach::Finished {
        exit_code: 3,
        tail: "ERROR: relation exists".into(),
    });
    let s = c.screen(80, 24);
    assert!(s.contains("exit code 3"), "{s}");
    insta::assert_snapshot!(s);
    // A stray Enter aborts rather than accepting the failure.
    c.keys("<Enter>");
    let w = c.s.wizard.as_ref().unwrap();
    assert_eq!(
        w.engine.state.status,
        toban::runbook::engine::RunStatus::Aborted
    );
}

#[test]
fn wizard_a_step_that_never_started_offers_to_run_it_and_never_to_skip_it() {
    let mut c = reopened_after_restart(Reattach::NeverStarted);
    let s = c.screen(80, 24);
    assert!(s.contains("Nothing ran"), "{s}");
    assert!(s.contains("Run the step (it never started)"), "{s}");
    assert!(
        !s.contains("Accept what is known"),
        "nothing ran to accept:\n{s}"
    );
    assert!(
        s.contains("▸ Abort the run"),
        "a stray Enter lands on abort:\n{s}"
    );
    insta::assert_snapshot!(s);
    // Up, then Enter: the step runs (its first and only time).
    c.keys("<Up> <Enter>");
    let w = c.s.wizard.as_ref().unwrap();
    assert_eq!(w.engine.state.steps[0].state, StepState::Running);
}

#[test]
fn wizard_dry_run_shows_the_values_typed_in_the_form() {
    let mut c = Console::new(vec![book("restore-postgres")]);
    c.keys("R D");
    // A dry run stops at no step, so the form asks for the dump too.
    c.fill_form(&[
        ("dump", "/backup/db/20260225_030000.sql.gz"),
        ("database", "shop"),
        ("services", "api worker"),
    ]);
    let s = c.screen(80, 24);
    assert!(s.contains("DRY RUN"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn wizard_failed_run() {
    let mut c = running_restore(0, |_| String::new());
    c.runner(RunnerMsg::Event(Event::StepFinished(StepOutcome {
        exit_code: Some(3),
        ..StepOutcome::failed(0, "exit code 3")
    })));
    insta::assert_snapshot!(c.screen(80, 24));
}
