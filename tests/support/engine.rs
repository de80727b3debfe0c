//! Helpers for the executor tests: the test binary standing in for toban's supervisor and
//! for a toban that gets killed, and a throw-away image for the container engine tests.

use std::path::PathBuf;

use toban::runbook::exec::supervise::SUPERVISE_DIR_ENV;
use toban::runbook::exec::{set_supervisor, Supervisor};

/// Env var that makes [`spawner_hook!`]'s test act as a toban that starts a command.
pub const SPAWNER_DIR_ENV: &str = "TOBAN_TEST_SPAWNER_DIR";
/// JSON argv for the spawner.
pub const SPAWNER_ARGV_ENV: &str = "TOBAN_TEST_SPAWNER_ARGV";

/// libtest arguments that run exactly one test of this binary, with nothing captured.
pub fn run_one_test(name: &str) -> Vec<String> {
    [
        name,
        "--exact",
        "--include-ignored",
        "--nocapture",
        "--test-threads=1",
        "-q",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Makes `spawn_command` start this test binary's `supervisor_hook` test as the
/// supervisor: the same `supervise_main` that `toban __supervise` runs.
pub fn use_test_supervisor() {
    set_supervisor(Supervisor {
        program: std::env::current_exe().expect("test binary path"),
        args: run_one_test("supervisor_hook"),
    });
}

/// When this process was started as a supervisor, become one and exit.
pub fn maybe_supervise() {
    if std::env::var_os(SUPERVISE_DIR_ENV).is_some() {
        std::process::exit(toban::runbook::exec::supervise_main(&[]));
    }
}

/// Defines the `supervisor_hook` entry point: the supervisor when started by
/// `spawn_command`; ignored (not a test) in a normal run.
#[macro_export]
macro_rules! supervisor_hook {
    () => {
        #[test]
        #[ignore = "entry point for the supervisor process, not a test"]
        fn supervisor_hook() {
            $crate::support::engine::maybe_supervise();
        }
    };
}

/// A unique path under /tmp that does not exist yet.
pub fn unique_tmp(prefix: &str) -> PathBuf {
    PathBuf::from(format!(
        "/tmp/{prefix}{}_{:016x}",
        std::process::id(),
        rand::random::<u64>()
    ))
}

/// Is `pid` a live process (not absent, not a zombie)?
pub fn process_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s
            .rfind(')')
            .map(|i| !s[i + 2..].starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

// ---------------------------------------------------------------------------------------
// Container engine

use std::process::Command;

use toban::providers::docker::Engine;

/// The engine on this machine, or None (after a note) when there is none; panics instead
/// when services are required.
pub async fn engine_or_skip() -> Option<Engine> {
    match Engine::connect().await {
        Ok(e) => {
            if docker_cli(&["version"]).is_err() {
                super::service_unavailable("Docker", "the docker CLI (docker.io) is not installed");
                return None;
            }
            Some(e)
        }
        Err(e) => {
            super::service_unavailable("Docker", &e.to_string());
            None
        }
    }
}

/// Runs the docker CLI (test setup only); stdout on success.
pub fn docker_cli(args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker")
        .args(args)
        .output()
        .map_err(|e| format!("docker {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "docker {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A tiny image made here from the static busybox (no registry needed); removed on drop.
pub struct TestImage {
    pub tag: String,
}

/// Where a statically linked busybox is (Debian: busybox-static).
fn static_busybox() -> Result<PathBuf, String> {
    for p in ["/bin/busybox", "/usr/bin/busybox"] {
        let p = PathBuf::from(p);
        if p.exists() {
            let ldd = Command::new("ldd").arg(&p).output();
            let dynamic = ldd
                .map(|o| String::from_utf8_lossy(&o.stdout).contains("=>"))
                .unwrap_or(false);
            if !dynamic {
                return Ok(p);
            }
        }
    }
    Err("no static busybox (install busybox-static)".into())
}

/// A root file system of the static busybox and a few of its applets, as a tar in `dir`,
/// for `docker import` or `podman import`.
pub fn busybox_rootfs(dir: &std::path::Path) -> Result<PathBuf, String> {
    let busybox = static_busybox()?;
    let tar_path = dir.join("rootfs.tar");
    let f = std::fs::File::create(&tar_path).map_err(|e| e.to_string())?;
    let mut b = tar::Builder::new(f);
    b.append_path_with_name(&busybox, "bin/busybox")
        .map_err(|e| e.to_string())?;
    for tool in ["sh", "sleep", "touch", "test", "rm", "echo", "cat"] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        b.append_link(&mut h, format!("bin/{tool}"), "busybox")
            .map_err(|e| e.to_string())?;
    }
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_size(0);
    h.set_mode(0o1777);
    b.append_data(&mut h, "tmp", std::io::empty())
        .map_err(|e| e.to_string())?;
    b.finish().map_err(|e| e.to_string())?;
    Ok(tar_path)
}

impl TestImage {
    pub fn build() -> Result<TestImage, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let tar_path = busybox_rootfs(dir.path())?;
        let tag = format!("toban-exec-test:{:016x}", rand::random::<u64>());
        docker_cli(&["import", &tar_path.to_string_lossy(), &tag])?;
        Ok(TestImage { tag })
    }
}

impl Drop for TestImage {
    fn drop(&mut self) {
        let _ = docker_cli(&["rmi", "-f", &self.tag]);
    }
}

/// A container removed (forcibly) on drop.
pub struct TestContainer {
    pub name: String,
}

impl TestContainer {
    /// `docker run -d` of `image` with `extra` options before the image and `cmd` after.
    pub fn run(image: &TestImage, extra: &[&str], cmd: &[&str]) -> Result<TestContainer, String> {
        let name = format!("toban-exec-test-{:016x}", rand::random::<u64>());
        let mut args = vec!["run", "-d", "--name", &name];
        args.extend_from_slice(extra);
        args.push(&image.tag);
        args.extend_from_slice(cmd);
        docker_cli(&args)?;
        Ok(TestContainer { name })
    }
}

impl Drop for TestContainer {
    fn drop(&mut self) {
        let _ = docker_cli(&["rm", "-f", &self.name]);
    }
}
