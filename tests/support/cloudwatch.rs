//! CloudWatch for the real SDK: moto (tests/support/moto.rs) behind the RPC v2 CBOR adapter
//! `tests/support/cloudwatch_cbor.py` (see its header for what it translates and what it
//! answers itself). One adapter per test process, on a free port; it dies with the process.

use std::io::BufRead;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::OnceLock;

static URL: OnceLock<Result<String, String>> = OnceLock::new();

/// The adapter's URL (the SDK's endpoint), with moto's dummy credentials in the env.
pub fn cloudwatch_url() -> Option<String> {
    let moto = super::moto::moto_url()?;
    let r = URL.get_or_init(|| start(&moto));
    match r {
        Ok(u) => Some(u.clone()),
        Err(why) => {
            super::service_unavailable("CloudWatch adapter (moto + cbor2)", why);
            None
        }
    }
}

/// The Python that has moto: the one beside `moto_server`, else `python3`.
fn python() -> PathBuf {
    if let Ok(p) = std::env::var("TOBAN_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cache/toban-ci/venv/bin"));
    }
    dirs.into_iter()
        .filter(|d| d.join("moto_server").is_file())
        .map(|d| d.join("python3"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("python3"))
}

fn start(moto: &str) -> Result<String, String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/cloudwatch_cbor.py");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let py = python();
    let (tx, rx) = std::sync::mpsc::channel();
    let moto = moto.to_string();
    std::thread::spawn(move || {
        use std::os::unix::process::CommandExt;
        let mut cmd = std::process::Command::new(&py);
        cmd.arg(&script)
            .arg(port.to_string())
            .arg(&moto)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        // SAFETY: prctl is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let _ = tx.send(Err(format!("{}: {e}", py.display())));
                return;
            }
        };
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let _ = out.read_line(&mut line);
        if line.trim() == "ready" {
            let _ = tx.send(Ok(()));
        } else {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            let _ = tx.send(Err(format!(
                "the adapter did not start (pip install cbor2 'moto[server]'): {}",
                err.lines().last().unwrap_or_default()
            )));
        }
        let _ = child.wait();
    });
    rx.recv().map_err(|e| e.to_string())??;
    Ok(format!("http://127.0.0.1:{port}"))
}
