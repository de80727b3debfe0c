//! restore-files end to end on real folders and tarballs; dry runs, typed confirmations and
//! injection through parameters, against real child processes.

#[path = "runbook_common.rs"]
mod common;

use std::path::PathBuf;

use common::*;
use toban::runbook::engine::{Event, RunOptions, RunStatus, StepState};
use toban::runbook::runner::{self, HeadlessOpts};

const HEADER: &[u8] = b"Received: from mx\r\nSubject: \xe3\x81\x82\r\n\r\nbody\n";

fn big_binary() -> Vec<u8> {
    (0..200_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect()
}

struct Setup {
    t: TestEnv,
    backup: PathBuf,
    target: PathBuf,
    canary: PathBuf,
}

async fn setup() -> Setup {
    let t = sqlite_env().await;
    let backup = t.path("backup/mailserver/daily/2026-11-20");
    let bin = big_binary();
    make_backup(
        &backup,
        &[
            ("mail", &[("cur/1.eml", HEADER), ("cur/2.bin", &bin)]),
            (
                "config",
                &[("postfix/main.cf", b"myhostname = mx.example.com\n")],
            ),
        ],
    );
    let target = t.path("restore-target");
    std::fs::create_dir_all(target.join("cur")).unwrap();
    // Damage: one file changed, one missing; a canary the backup does not contain.
    std::fs::write(target.join("cur/1.eml"), b"corrupted").unwrap();
    let canary = target.join("canary.txt");
    std::fs::write(&canary, b"do not touch").unwrap();
    Setup {
        t,
        backup,
        target,
        canary,
    }
}

fn mtime(p: &std::path::Path) -> std::time::SystemTime {
    std::fs::metadata(p).unwrap().modified().unwrap()
}

#[tokio::test]
async fn restore_files_restores_byte_for_byte_after_a_dry_run_listing() {
    let s = setup().await;
    let spec = shipped("restore-files");
    let target = s.target.to_str().unwrap().to_string();
    let mut e = engine(
        &spec,
        &[("target", &target), ("component", "all")],
        RunOptions::default(),
    );
    let d = drive(
        &s.t.env,
        &mut e,
        vec![
            Event::Input(s.backup.to_str().unwrap().into()),
            // "Where to restore": the operator keeps the target given as a parameter.
            Event::Input(target.clone()),
            Event::Typed(target.clone()),
        ],
        true,
    )
    .await;
    assert_eq!(d.status, Some(RunStatus::Succeeded), "{:#?}", e.state);
    assert_eq!(d.executed, ["verify", "preview", "extract", "compare"]);

    // The listing said what would change before anything changed.
    let preview = &e.state.outputs["preview"];
    assert!(preview.contains("changed cur/1.eml"), "{preview}");
    assert!(preview.contains("new     cur/2.bin"), "{preview}");

    assert_eq!(std::fs::read(s.target.join("cur/1.eml")).unwrap(), HEADER);
    assert_eq!(
        std::fs::read(s.target.join("cur/2.bin")).unwrap(),
        big_binary()
    );
    assert_eq!(
        std::fs::read(s.target.join("postfix/main.cf")).unwrap(),
        b"myhostname = mx.example.com\n"
    );
    assert_eq!(std::fs::read(&s.canary).unwrap(), b"do not touch");

    let audit = s.t.env.store.run_audit(&e.state.run_id).await.unwrap();
    assert!(audit
        .iter()
        .any(|a| a.event == "answer" && a.detail.contains(&target)));
    let ends: Vec<_> = audit.iter().filter(|a| a.event == "step_end").collect();
    assert_eq!(ends.len(), 4);
    assert!(ends
        .iter()
        .all(|a| a.digest.is_some() && a.duration_ms.is_some()));
}

#[tokio::test]
async fn a_dry_run_changes_nothing_and_the_audit_says_dry_run() {
    let s = setup().await;
    let before = (mtime(&s.canary), mtime(&s.target.join("cur/1.eml")));
    let spec = shipped("restore-files");
    let mut out = Vec::new();
    let code = runner::run_headless(
        &s.t.env,
        &spec,
        &params(&[
            ("backup", s.backup.to_str().unwrap()),
            ("target", s.target.to_str().unwrap()),
        ]),
        &HeadlessOpts {
            dry_run: true,
            ..Default::default()
        },
        &mut out,
    )
    .await;
    let text = String::from_utf8(out).unwrap();
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("would extract `all`"), "{text}");

    assert_eq!(
        std::fs::read(s.target.join("cur/1.eml")).unwrap(),
        b"corrupted"
    );
    assert!(!s.target.join("cur/2.bin").exists());
    assert_eq!(std::fs::read(&s.canary).unwrap(), b"do not touch");
    assert_eq!(
        before,
        (mtime(&s.canary), mtime(&s.target.join("cur/1.eml")))
    );
    // No command output folder: nothing was run.
    assert!(!s.t.env.runs_dir.exists());

    let runs = s.t.env.store.run_history(10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].dry_run);
    let audit = s.t.env.store.run_audit(&runs[0].run_id).await.unwrap();
    assert!(audit.iter().all(|a| a.dry_run));
    assert!(audit.iter().all(|a| a.event != "step_start"));
    assert!(audit[0].detail.starts_with("dry run of restore-files"));
}

#[tokio::test]
async fn a_wrong_typed_name_does_not_proceed() {
    let s = setup().await;
    let spec = shipped("restore-files");
    let target = s.target.to_str().unwrap().to_string();
    let mut e = engine(&spec, &[("target", &target)], RunOptions::default());
    let d = drive(
        &s.t.env,
        &mut e,
        vec![
            Event::Input(s.backup.to_str().unwrap().into()),
            Event::Input(target.clone()),
            Event::Typed(format!("{target}/")),
            Event::Confirm(true),
            Event::Typed("restore-target".into()),
        ],
        true,
    )
    .await;
    assert_eq!(d.status, None);
    assert_eq!(d.executed, ["verify", "preview"]);
    assert_eq!(d.notices.len(), 3, "{:?}", d.notices);
    let confirm = e.spec.steps.iter().position(|s| s.id == "confirm").unwrap();
    assert_eq!(e.state.steps[confirm].state, StepState::Pending);
    assert_eq!(
        std::fs::read(s.target.join("cur/1.eml")).unwrap(),
        b"corrupted"
    );
    let audit = s.t.env.store.run_audit(&e.state.run_id).await.unwrap();
    assert_eq!(audit.iter().filter(|a| a.event == "rejected").count(), 2);

    // Headless: --yes must name the target; a wrong one fails without touching anything.
    let mut out = Vec::new();
    let code = runner::run_headless(
        &s.t.env,
        &spec,
        &params(&[("backup", s.backup.to_str().unwrap()), ("target", &target)]),
        &HeadlessOpts {
            yes: Some("something-else".into()),
            ..Default::default()
        },
        &mut out,
    )
    .await;
    let text = String::from_utf8(out).unwrap();
    assert_eq!(code, runner::EXIT_NEEDS_CONFIRMATION, "{text}");
    assert!(text.contains(&format!("needs --yes {target}")), "{text}");
    assert_eq!(
        std::fs::read(s.target.join("cur/1.eml")).unwrap(),
        b"corrupted"
    );
}

#[tokio::test]
async fn headless_with_the_right_yes_restores() {
    let s = setup().await;
    let spec = shipped("restore-files");
    let target = s.target.to_str().unwrap().to_string();
    let mut out = Vec::new();
    let code = runner::run_headless(
        &s.t.env,
        &spec,
        &params(&[
            ("backup", s.backup.to_str().unwrap()),
            ("target", &target),
            ("component", "mail"),
        ]),
        &HeadlessOpts {
            yes: Some(target.clone()),
            ..Default::default()
        },
        &mut out,
    )
    .await;
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&out));
    assert_eq!(std::fs::read(s.target.join("cur/1.eml")).unwrap(), HEADER);
    // Only the chosen component.
    assert!(!s.target.join("postfix/main.cf").exists());
}

#[tokio::test]
async fn a_corrupt_backup_stops_before_anything_is_touched() {
    let s = setup().await;
    let archive = s.backup.join("mail.tar.gz");
    let mut bytes = std::fs::read(&archive).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(&archive, bytes).unwrap();
    let spec = shipped("restore-files");
    let target = s.target.to_str().unwrap().to_string();
    let mut e = engine(&spec, &[("target", &target)], RunOptions::default());
    let d = drive(
        &s.t.env,
        &mut e,
        vec![
            Event::Input(s.backup.to_str().unwrap().into()),
            Event::Input(target.clone()),
        ],
        true,
    )
    .await;
    assert_eq!(d.status, Some(RunStatus::Failed));
    assert_eq!(d.executed, ["verify"]);
    assert_eq!(
        std::fs::read(s.target.join("cur/1.eml")).unwrap(),
        b"corrupted"
    );
    let v = s.t.env.store.latest_backup_verifications().await.unwrap();
    assert!(
        matches!(
            v.get(s.backup.to_str().unwrap()),
            Some(toban::backups::catalog::VerificationState::Failed { .. })
        ),
        "{v:?}"
    );
}

#[tokio::test]
async fn a_drill_restores_into_a_scratch_folder_and_records_the_drill() {
    let s = setup().await;
    let spec = shipped("restore-files");
    let target = s.target.to_str().unwrap().to_string();
    let mut e = engine(
        &spec,
        &[("target", &target), ("backup", s.backup.to_str().unwrap())],
        RunOptions {
            drill: true,
            ..Default::default()
        },
    );
    let scratch = PathBuf::from(&e.state.params["target"]);
    assert_eq!(
        scratch,
        PathBuf::from(format!("{}.drill-{}", s.target.display(), e.state.run_id))
    );
    let d = drive(
        &s.t.env,
        &mut e,
        vec![Event::Input(s.backup.to_str().unwrap().into())],
        true,
    )
    .await;
    assert_eq!(d.status, Some(RunStatus::Succeeded), "{:#?}", e.state);
    // Compared byte for byte in the scratch folder, which goes however the drill ends.
    assert_eq!(
        d.executed.last().map(String::as_str),
        Some("remove-scratch")
    );
    let compare = e.spec.steps.iter().position(|s| s.id == "compare").unwrap();
    assert_eq!(e.state.steps[compare].state, StepState::Done);
    assert!(!scratch.exists(), "{}", scratch.display());
    // Production untouched.
    assert_eq!(
        std::fs::read(s.target.join("cur/1.eml")).unwrap(),
        b"corrupted"
    );
    let drills = s.t.env.store.drills(10).await.unwrap();
    assert_eq!(drills.len(), 1);
    assert!(drills[0].ok);
    assert_eq!(drills[0].backup.as_deref(), s.backup.to_str());
    assert!(drills[0].duration_ms >= 0);
    // The drill's gate is a verification the Backups tab shows ("ok 1m ago", not "not
    // verified").
    let v = s.t.env.store.latest_backup_verifications().await.unwrap();
    assert!(
        matches!(
            v.get(s.backup.to_str().unwrap()),
            Some(toban::backups::catalog::VerificationState::Ok { .. })
        ),
        "{v:?}"
    );
}

#[tokio::test]
async fn injection_through_a_parameter_stays_one_argv_element() {
    let t = sqlite_env().await;
    let canary = t.path("canary");
    let canary2 = t.path("canary2");
    let (books, errors) =
        toban::runbook::spec::load_all(&[
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runbooks/good")
        ]);
    assert!(errors.is_empty(), "{errors:?}");
    let spec = books.iter().find(|b| b.name == "echo-param").unwrap();
    for evil in [
        format!("x; touch {}", canary.display()),
        format!("$(touch {})", canary2.display()),
        format!(
            "`touch {}` && touch {} | true",
            canary.display(),
            canary2.display()
        ),
        "-n --help \n\t'\"".to_string(),
    ] {
        let mut e = engine(spec, &[("x", &evil)], RunOptions::default());
        let d = drive(&t.env, &mut e, vec![], true).await;
        // Control characters are refused at validation; the rest arrive verbatim.
        if evil.contains('\n') {
            assert!(e.param_errors().iter().any(|p| p.contains("control")));
            continue;
        }
        assert_eq!(d.status, Some(RunStatus::Succeeded), "{:#?}", e.state);
        assert_eq!(e.state.outputs["echo"], evil.trim());
    }
    assert!(!canary.exists());
    assert!(!canary2.exists());
}
