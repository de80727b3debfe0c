//! Command executor against real child processes: argv only, output to a file, a
//! supervisor that records the exit status, timeout and cancel reaching the whole
//! process group, and reattach after the owning toban was killed.

mod support;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use support::engine::{
    process_alive, run_one_test, unique_tmp, use_test_supervisor, SPAWNER_ARGV_ENV, SPAWNER_DIR_ENV,
};
use toban::runbook::exec::{
    read_command_output, reattach, spawn_command, CommandOutcome, CommandRequest, ExecError,
    Reattached, SecretBytes, StdinSource,
};

supervisor_hook!();

/// A toban that starts a command and then hangs until killed (see
/// `survives_toban_being_killed_and_reattach_finds_it`); ignored in a normal run.
#[test]
#[ignore = "entry point for a child process, not a test"]
fn spawner_hook() {
    let Some(dir) = std::env::var_os(SPAWNER_DIR_ENV) else {
        return;
    };
    let argv: Vec<String> =
        serde_json::from_str(&std::env::var(SPAWNER_ARGV_ENV).unwrap()).unwrap();
    use_test_supervisor();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let running = spawn_command(CommandRequest::new(argv, PathBuf::from(dir)))
            .await
            .expect("spawn");
        println!("spawned {}", running.pgid());
        std::io::stdout().flush().unwrap();
        tokio::time::sleep(Duration::from_secs(600)).await;
    });
}

fn argv(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

async fn run(req: CommandRequest) -> CommandOutcome {
    use_test_supervisor();
    spawn_command(req)
        .await
        .expect("spawn")
        .wait()
        .await
        .expect("wait")
}

fn sha_hex(b: &[u8]) -> String {
    format!("{:x}", Sha256::digest(b))
}

#[tokio::test]
async fn output_is_streamed_and_tail_and_digest_match() {
    use_test_supervisor();
    let dir = tempfile::tempdir().unwrap();
    let running = spawn_command(CommandRequest::new(argv(&["seq", "1", "120"]), dir.path()))
        .await
        .unwrap();
    let mut lines = running.output_lines();
    let outcome = running.wait().await.unwrap();
    let mut streamed = Vec::new();
    while let Some(l) = lines.recv().await {
        streamed.push(l);
    }
    let expected: Vec<String> = (1..=120).map(|i| i.to_string()).collect();
    assert_eq!(streamed, expected);
    assert!(outcome.success(), "{outcome:?}");
    assert_eq!(outcome.output_tail, expected[70..].to_vec());
    let text = expected.join("\n") + "\n";
    assert_eq!(outcome.output_sha256, sha_hex(text.as_bytes()));
    assert_eq!(outcome.output_bytes, text.len() as u64);
    // The log holds it too, for after a crash.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("output.log")).unwrap(),
        text
    );
}

#[tokio::test]
async fn stderr_is_kept_and_escapes_are_stripped_from_the_tail() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(CommandRequest::new(
        argv(&[
            "sh",
            "-c",
            "printf '\\033[31mred\\033[0m \\033]0;title\\007ok\\n'; echo oops >&2",
        ]),
        dir.path(),
    ))
    .await;
    assert_eq!(
        o.output_tail,
        vec!["red ok".to_string(), "oops".to_string()]
    );
    // The digest is of the bytes as written, escapes and all.
    let raw = std::fs::read(dir.path().join("output.log")).unwrap();
    assert!(raw.contains(&0x1b));
    assert_eq!(o.output_sha256, sha_hex(&raw));
}

#[tokio::test]
async fn a_second_command_in_the_same_folder_reports_only_its_own_output() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(CommandRequest::new(argv(&["echo", "first"]), dir.path())).await;
    let second = run(CommandRequest::new(argv(&["echo", "second"]), dir.path())).await;
    assert_eq!(first.output_tail, vec!["first"]);
    assert_eq!(second.output_tail, vec!["second"]);
    assert_eq!(second.output_sha256, sha_hex(b"second\n"));
    assert_eq!(read_command_output(dir.path(), 1 << 16).unwrap(), "second");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("output.log")).unwrap(),
        "first\nsecond\n"
    );
}

#[tokio::test]
async fn exit_code_and_signal_are_propagated() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(CommandRequest::new(
        argv(&["sh", "-c", "exit 7"]),
        dir.path(),
    ))
    .await;
    assert_eq!(o.exit_code, Some(7));
    assert_eq!(o.signal, None);
    assert!(!o.success());
    assert!(o.summary().starts_with("exit code 7"), "{}", o.summary());

    let o = run(CommandRequest::new(
        argv(&["sh", "-c", "kill -TERM $$"]),
        dir.path(),
    ))
    .await;
    assert_eq!(o.exit_code, None);
    assert_eq!(o.signal, Some(libc::SIGTERM));
    assert!(o.summary().contains("SIGTERM"), "{}", o.summary());
}

#[tokio::test]
async fn cwd_and_env_reach_the_command_and_env_values_never_reach_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let mut req = CommandRequest::new(
        argv(&["sh", "-c", "pwd; printenv TOBAN_TEST_SECRET"]),
        dir.path(),
    );
    req.cwd = Some(work.path().to_path_buf());
    req.env = vec![("TOBAN_TEST_SECRET".into(), "hunter2-b7e1".into())];
    let o = run(req.clone()).await;
    assert_eq!(
        o.output_tail,
        vec![
            work.path().canonicalize().unwrap().display().to_string(),
            "hunter2-b7e1".to_string()
        ]
    );
    assert!(!format!("{req:?}").contains("hunter2"));
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.file_name().unwrap() == "output.log" {
            continue;
        }
        let content = std::fs::read_to_string(&p).unwrap_or_default();
        assert!(
            !content.contains("hunter2"),
            "{} holds the secret",
            p.display()
        );
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("output.log"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "output.log is readable by others");
}

#[tokio::test]
async fn injection_attempts_stay_one_argument_and_run_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let c1 = unique_tmp("canary");
    let c2 = unique_tmp("canary2");
    let a1 = format!("x; touch {}", c1.display());
    let a2 = format!("$(touch {})", c2.display());
    let a3 = format!("`touch {}` | tee {}", c2.display(), c1.display());
    let o = run(CommandRequest::new(
        vec![
            "printf".into(),
            "<%s>\n".into(),
            a1.clone(),
            a2.clone(),
            a3.clone(),
        ],
        dir.path(),
    ))
    .await;
    assert!(o.success(), "{o:?}");
    assert_eq!(
        o.output_tail,
        vec![format!("<{a1}>"), format!("<{a2}>"), format!("<{a3}>")]
    );
    assert!(!c1.exists(), "{} was created", c1.display());
    assert!(!c2.exists(), "{} was created", c2.display());
}

#[tokio::test]
async fn timeout_stops_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("bg.pid");
    let script = format!("sleep 300 & echo $! > {}; wait", pidfile.display());
    let mut req = CommandRequest::new(argv(&["sh", "-c", &script]), dir.path().join("run"));
    req.timeout = Some(Duration::from_millis(800));
    req.kill_grace = Duration::from_secs(1);
    let started = Instant::now();
    let o = run(req).await;
    assert!(o.timed_out, "{o:?}");
    assert!(!o.success());
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(o.summary().contains("timed out"), "{}", o.summary());
    let bg: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The background sleep (a grandchild) went with its group.
    let gone_by = Instant::now() + Duration::from_secs(5);
    while process_alive(bg) && Instant::now() < gone_by {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !process_alive(bg),
        "background process {bg} survived the timeout"
    );
}

#[tokio::test]
async fn cancel_interrupts_and_escalates_to_sigkill() {
    use_test_supervisor();
    let dir = tempfile::tempdir().unwrap();
    let running = spawn_command(CommandRequest::new(argv(&["sleep", "300"]), dir.path()))
        .await
        .unwrap();
    let handle = running.cancel_handle();
    let waiter = tokio::spawn(running.wait());
    // Cancel once `sleep` really runs: on a loaded machine a fixed pause can end before the
    // supervisor has started it, and an interrupt then meets no `sleep` to stop.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let comm = std::fs::read_to_string(dir.path().join("command.pid"))
            .ok()
            .and_then(|p| std::fs::read_to_string(format!("/proc/{}/comm", p.trim())).ok());
        if comm.is_some_and(|c| c.trim() == "sleep") || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.cancel().await;
    let o = waiter.await.unwrap().unwrap();
    assert!(o.cancelled, "{o:?}");
    assert_eq!(o.signal, Some(libc::SIGINT));
    assert!(o.summary().contains("cancelled"));

    // A command that ignores SIGINT is killed after the grace period.
    let dir = tempfile::tempdir().unwrap();
    let mut req = CommandRequest::new(
        argv(&["sh", "-c", "trap '' INT; echo ready; sleep 300"]),
        dir.path(),
    );
    req.kill_grace = Duration::from_millis(700);
    let running = spawn_command(req).await.unwrap();
    let mut lines = running.output_lines();
    assert_eq!(lines.recv().await.as_deref(), Some("ready"));
    let token = tokio_util::sync::CancellationToken::new();
    let t = token.clone();
    let started = Instant::now();
    let waiter = tokio::spawn(running.wait_or_cancel(t));
    token.cancel();
    let o = waiter.await.unwrap().unwrap();
    assert!(o.cancelled, "{o:?}");
    assert_eq!(o.signal, Some(libc::SIGKILL));
    assert!(started.elapsed() < Duration::from_secs(10));
}

fn gzip(data: &[u8], path: &Path) {
    let f = std::fs::File::create(path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap();
}

#[tokio::test]
async fn gunzip_stdin_streams_the_decompressed_file() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let gz = dir.path().join("dump.sql.gz");
    gzip(&data, &gz);

    let mut req = CommandRequest::new(argv(&["sha256sum"]), dir.path().join("a"));
    req.stdin = StdinSource::GunzipFile(gz.clone());
    let o = run(req).await;
    assert!(o.success(), "{o:?}");
    assert_eq!(o.output_tail, vec![format!("{}  -", sha_hex(&data))]);

    let mut req = CommandRequest::new(argv(&["wc", "-c"]), dir.path().join("b"));
    req.stdin = StdinSource::GunzipFile(gz.clone());
    let o = run(req).await;
    assert_eq!(o.output_tail, vec![data.len().to_string()]);

    // Plain file: the compressed bytes as they are.
    let mut req = CommandRequest::new(argv(&["sha256sum"]), dir.path().join("c"));
    req.stdin = StdinSource::File(gz.clone());
    let o = run(req).await;
    let gz_bytes = std::fs::read(&gz).unwrap();
    assert_eq!(o.output_tail, vec![format!("{}  -", sha_hex(&gz_bytes))]);

    // A damaged archive is reported, not silently fed short.
    let bad = dir.path().join("bad.sql.gz");
    std::fs::write(&bad, &gz_bytes[..gz_bytes.len() / 2]).unwrap();
    let mut req = CommandRequest::new(argv(&["wc", "-c"]), dir.path().join("d"));
    req.stdin = StdinSource::GunzipFile(bad);
    let o = run(req).await;
    assert!(!o.success());
    assert!(
        o.error
            .as_deref()
            .unwrap_or("")
            .contains("reading the input failed"),
        "{o:?}"
    );
}

#[tokio::test]
async fn secret_bytes_reach_stdin_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let mut req = CommandRequest::new(argv(&["sha256sum"]), dir.path());
    req.stdin = StdinSource::Bytes(SecretBytes(b"s3cret-pa55\n".to_vec()));
    assert!(!format!("{req:?}").contains("s3cret"));
    let o = run(req).await;
    assert_eq!(
        o.output_tail,
        vec![format!("{}  -", sha_hex(b"s3cret-pa55\n"))]
    );
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let content = std::fs::read(entry.unwrap().path()).unwrap_or_default();
        assert!(!String::from_utf8_lossy(&content).contains("s3cret"));
    }
}

#[tokio::test]
async fn bad_requests_are_refused_before_anything_runs() {
    use_test_supervisor();
    let dir = tempfile::tempdir().unwrap();
    let e = spawn_command(CommandRequest::new(
        argv(&["no-such-program-b1f3"]),
        dir.path(),
    ))
    .await
    .unwrap_err();
    assert!(matches!(e, ExecError::NotFound { .. }), "{e}");
    assert!(e.to_string().contains("no-such-program-b1f3"));

    let e = spawn_command(CommandRequest::new(vec![], dir.path()))
        .await
        .unwrap_err();
    assert!(matches!(e, ExecError::EmptyArgv));

    let mut req = CommandRequest::new(argv(&["wc", "-c"]), dir.path());
    req.stdin = StdinSource::GunzipFile(dir.path().join("missing.gz"));
    let e = spawn_command(req).await.unwrap_err();
    assert!(e.to_string().contains("missing.gz"), "{e}");
    assert!(!dir.path().join("output.log").exists());
}

#[tokio::test]
async fn the_command_runs_in_its_own_session_away_from_the_terminal() {
    use_test_supervisor();
    let dir = tempfile::tempdir().unwrap();
    let running = spawn_command(CommandRequest::new(argv(&["sleep", "30"]), dir.path()))
        .await
        .unwrap();
    let pgid = running.pgid();
    let (sid_child, sid_me, pg) =
        unsafe { (libc::getsid(pgid), libc::getsid(0), libc::getpgid(pgid)) };
    assert_eq!(pg, pgid, "the command leads its own process group");
    assert_ne!(sid_child, sid_me, "the command shares toban's session");
    running.cancel().await;
}

#[tokio::test]
async fn reattach_reports_a_finished_command_and_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(CommandRequest::new(
        argv(&["sh", "-c", "echo done; exit 3"]),
        dir.path(),
    ))
    .await;
    match reattach(dir.path()) {
        Reattached::Finished(again) => {
            assert_eq!(again.exit_code, Some(3));
            assert_eq!(again.output_sha256, o.output_sha256);
            assert_eq!(again.output_tail, vec!["done"]);
        }
        other => panic!("expected Finished, got {other:?}"),
    }
    let empty = tempfile::tempdir().unwrap();
    match reattach(empty.path()) {
        Reattached::Lost { what_is_known } => {
            assert!(
                what_is_known.contains("no command was started"),
                "{what_is_known}"
            )
        }
        other => panic!("expected Lost, got {other:?}"),
    }
}

/// toban killed after writing a step's spec but before its supervisor ran leaves a spec and
/// no pid files: once the supervisor's start-up time has passed, reattach says the command
/// never started (so the wizard can offer to run it without risking a second copy); while
/// a supervisor could still be starting, it stays "lost".
#[tokio::test]
async fn a_spec_without_any_process_is_a_command_that_never_started() {
    let dir = tempfile::tempdir().unwrap();
    run(CommandRequest::new(argv(&["true"]), dir.path())).await;
    for f in ["status.json", "supervisor.pid", "command.pid"] {
        std::fs::remove_file(dir.path().join(f)).unwrap();
    }
    let spec_path = dir.path().join("spec.json");
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&spec_path).unwrap()).unwrap();
    let set_started = |spec: &mut serde_json::Value, ago: i64| {
        spec["started_at"] = serde_json::json!(chrono::Utc::now() - chrono::Duration::seconds(ago));
        std::fs::write(&spec_path, serde_json::to_vec(spec).unwrap()).unwrap();
    };

    set_started(&mut spec, 0);
    assert!(
        matches!(reattach(dir.path()), Reattached::Lost { .. }),
        "a supervisor may still be starting"
    );
    set_started(&mut spec, 60);
    assert!(matches!(reattach(dir.path()), Reattached::NeverStarted));
    // A supervisor that recorded itself and died is not "never started".
    std::fs::write(dir.path().join("supervisor.pid"), "999999999 1").unwrap();
    assert!(matches!(reattach(dir.path()), Reattached::Lost { .. }));
}

/// Starts `argv` from a separate process (a toban), waits until it has spawned, and
/// kills that process with SIGKILL.
fn spawn_from_a_toban_then_kill_it(run_dir: &Path, argv: &[String]) {
    let mut toban = std::process::Command::new(std::env::current_exe().unwrap())
        .args(run_one_test("spawner_hook"))
        .env(SPAWNER_DIR_ENV, run_dir)
        .env(SPAWNER_ARGV_ENV, serde_json::to_string(argv).unwrap())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = std::io::BufReader::new(toban.stdout.take().unwrap());
    let mut spawned = false;
    for line in out.lines() {
        if line.unwrap().starts_with("spawned ") {
            spawned = true;
            break;
        }
    }
    assert!(spawned, "the spawner never started the command");
    unsafe { libc::kill(toban.id() as i32, libc::SIGKILL) };
    let status = toban.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGKILL));
}

#[tokio::test]
async fn survives_toban_being_killed_and_reattach_finds_it() {
    let dir = tempfile::tempdir().unwrap();
    let marks = dir.path().join("marks");
    let script = format!(
        "echo start >> {m}; sleep 2; echo end >> {m}; echo finished; exit 5",
        m = marks.display()
    );
    let run_dir = dir.path().join("run");
    spawn_from_a_toban_then_kill_it(&run_dir, &argv(&["sh", "-c", &script]));

    // Right after the kill it is still running.
    let running = match reattach(&run_dir) {
        Reattached::StillRunning(r) => r,
        other => panic!("expected StillRunning, got {other:?}"),
    };
    let mut lines = running.output_lines();
    let o = running.wait().await.unwrap();
    assert_eq!(o.exit_code, Some(5), "{o:?}");
    assert_eq!(o.output_tail, vec!["finished"]);
    assert_eq!(lines.recv().await.as_deref(), Some("finished"));
    // It ran exactly once, to the end.
    assert_eq!(std::fs::read_to_string(&marks).unwrap(), "start\nend\n");

    // And a later look finds the same result.
    match reattach(&run_dir) {
        Reattached::Finished(again) => assert_eq!(again.exit_code, Some(5)),
        other => panic!("expected Finished, got {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&marks).unwrap(), "start\nend\n");
}

#[tokio::test]
async fn a_command_whose_supervisor_died_is_lost_with_what_is_known() {
    use_test_supervisor();
    let dir = tempfile::tempdir().unwrap();
    let running = spawn_command(CommandRequest::new(
        argv(&["sh", "-c", "echo working; exec sleep 300"]),
        dir.path(),
    ))
    .await
    .unwrap();
    let pgid = running.pgid();
    let mut lines = running.output_lines();
    assert_eq!(lines.recv().await.as_deref(), Some("working"));
    let sup: i32 = std::fs::read_to_string(dir.path().join("supervisor.pid"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    unsafe { libc::kill(sup, libc::SIGKILL) };
    let err = running.wait().await.unwrap_err();
    assert!(err.to_string().contains("without recording"), "{err}");
    match reattach(dir.path()) {
        Reattached::Lost { what_is_known } => {
            assert!(what_is_known.contains("sleep 300"), "{what_is_known}");
            assert!(
                what_is_known.contains(&format!("process group {pgid} is still running")),
                "{what_is_known}"
            );
            assert!(what_is_known.contains("working"), "{what_is_known}");
        }
        other => panic!("expected Lost, got {other:?}"),
    }
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
}

#[tokio::test]
async fn a_folder_with_a_running_command_refuses_a_second_one() {
    use_test_supervisor();
    let dir = tempfile::tempdir().unwrap();
    let running = spawn_command(CommandRequest::new(argv(&["sleep", "30"]), dir.path()))
        .await
        .unwrap();
    let e = spawn_command(CommandRequest::new(argv(&["echo", "again"]), dir.path()))
        .await
        .unwrap_err();
    assert!(matches!(e, ExecError::Busy(_)), "{e}");
    running.cancel().await;
    let o = running.wait().await.unwrap();
    assert!(o.cancelled);
    // Once it has ended, the folder takes the next command.
    let o = run(CommandRequest::new(argv(&["echo", "again"]), dir.path())).await;
    assert_eq!(o.output_tail, vec!["again"]);
}
