//! Container steps against the real Docker engine (skipped without one on a laptop;
//! failing under CI / TOBAN_REQUIRE_SERVICES).

#[path = "runbook_common.rs"]
mod common;
mod support;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::*;
use toban::runbook::engine::{Event, RunOptions, RunStatus};
use toban::runbook::spec;

const IMAGE: &str = "toban-runbook-test:busybox";

fn docker(args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// A one-binary image from the host's static busybox, made without a registry.
fn ensure_image() -> Result<(), String> {
    if docker(&["image", "inspect", IMAGE]).is_ok() {
        return Ok(());
    }
    let busybox = std::fs::read("/bin/busybox").map_err(|e| format!("/bin/busybox: {e}"))?;
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(busybox.len() as u64);
    h.set_mode(0o755);
    h.set_cksum();
    tar.append_data(&mut h, "bin/busybox", busybox.as_slice())
        .map_err(|e| e.to_string())?;
    let bytes = tar.into_inner().map_err(|e| e.to_string())?;
    let mut child = Command::new("docker")
        .args(["import", "-", IMAGE])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&bytes)
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn running(name: &str) -> bool {
    docker(&["inspect", "--format", "{{.State.Running}}", name]).as_deref() == Ok("true")
}

struct Containers(Vec<String>);
impl Drop for Containers {
    fn drop(&mut self) {
        for n in &self.0 {
            let _ = docker(&["rm", "-f", n]);
        }
    }
}

#[tokio::test]
async fn container_steps_stop_start_restart_and_wait_on_the_real_engine() {
    if let Err(why) =
        docker(&["version", "--format", "{{.Server.Version}}"]).and_then(|_| ensure_image())
    {
        support::service_unavailable("Docker", &why);
        return;
    }
    let tag = format!("{:08x}", rand::random::<u32>());
    let names: Vec<String> = ["web", "worker"]
        .iter()
        .map(|n| format!("toban-rb-{n}-{tag}"))
        .collect();
    let guard = Containers(names.clone());
    for n in &guard.0 {
        docker(&[
            "run",
            "-d",
            "--stop-timeout",
            "1",
            "--name",
            n,
            IMAGE,
            "/bin/busybox",
            "sleep",
            "600",
        ])
        .expect("docker run");
        assert!(running(n));
    }
    let t = sqlite_env().await;
    let (books, errors) = spec::load_all(&[
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runbooks/good")
    ]);
    assert!(errors.is_empty(), "{errors:?}");
    let spec = books.iter().find(|b| b.name == "container-cycle").unwrap();
    let services = names.join(" ");
    let mut e = engine(
        spec,
        &[("services", &services), ("first", &names[0])],
        RunOptions::default(),
    );

    // Up to the note after the stop: both containers are down.
    let d = drive(&t.env, &mut e, vec![], true).await;
    assert_eq!(d.executed, ["stop"]);
    assert!(names.iter().all(|n| !running(n)), "stopped");
    let d = drive(&t.env, &mut e, vec![Event::Continue], false).await;
    assert_eq!(d.status, Some(RunStatus::Succeeded), "{:#?}", e.state);
    assert_eq!(d.executed, ["start", "restart", "up"]);
    assert!(names.iter().all(|n| running(n)));

    // A container that does not exist fails the step with its name.
    let mut e = engine(
        spec,
        &[
            ("services", "toban-rb-no-such-container"),
            ("first", &names[0]),
        ],
        RunOptions::default(),
    );
    let d = drive(&t.env, &mut e, vec![], true).await;
    assert_eq!(d.status, Some(RunStatus::Failed));
    assert!(
        e.state.steps[0]
            .message
            .contains("toban-rb-no-such-container"),
        "{}",
        e.state.steps[0].message
    );
}
