//! A real AWS API on loopback: moto's server (`moto[server]` from PyPI). Uses
//! `TOBAN_TEST_MOTO_URL` when set (CI starts one), else starts `moto_server` once per test
//! process on a free port; it dies with the test process.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static URL: OnceLock<Result<String, String>> = OnceLock::new();

/// The endpoint URL, with dummy credentials and a region set in this process's env.
pub fn moto_url() -> Option<String> {
    let r = URL.get_or_init(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        if let Ok(u) = std::env::var("TOBAN_TEST_MOTO_URL") {
            return Ok(u);
        }
        start()
    });
    match r {
        Ok(u) => Some(u.clone()),
        Err(why) => {
            super::service_unavailable("moto (AWS API on loopback)", why);
            None
        }
    }
}

fn find_server() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("moto_server"))
                .collect()
        })
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join(".cache/toban-ci/venv/bin/moto_server"));
    }
    candidates.into_iter().find(|p| p.is_file())
}

fn start() -> Result<String, String> {
    let server = find_server().ok_or("moto_server not found (pip install 'moto[server]')")?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let (tx, rx) = std::sync::mpsc::channel();
    // The spawning thread lives as long as the process, so PDEATHSIG fires only when the
    // test process ends.
    std::thread::spawn(move || {
        use std::os::unix::process::CommandExt;
        let mut cmd = std::process::Command::new(server);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        // SAFETY: prctl is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = cmd.spawn();
        let _ = tx.send(child.as_ref().map(|_| ()).map_err(|e| e.to_string()));
        if let Ok(mut c) = child {
            let _ = c.wait();
        }
    });
    rx.recv().map_err(|e| e.to_string())??;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(format!("http://127.0.0.1:{port}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err("moto_server did not start listening within 30 s".into())
}

/// A moto server of the caller's own, not the process's shared one: for a test that turns
/// on moto's request authentication (`/moto-api/reset-auth`), which would refuse every
/// other test's dummy credentials. Dies with the test process.
pub fn private_moto_url() -> Option<String> {
    std::env::set_var("AWS_REGION", "us-east-1");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    match start() {
        Ok(u) => Some(u),
        Err(why) => {
            super::service_unavailable("moto (AWS API on loopback)", &why);
            None
        }
    }
}
