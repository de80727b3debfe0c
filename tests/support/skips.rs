//! A record of the service-backed tests that did not run in this `cargo test`, read back by
//! `tests/zz_skip_summary.rs` to print the summary at the end of the run.
//!
//! Every test binary of one `cargo test` is a child of the same cargo process, so the records
//! go to `<target>/tmp/toban-skips/<cargo's pid>/`, one file per test process, one line per
//! skip: `binary<TAB>test<TAB>service<TAB>why`.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The folder this run's records go to.
pub fn run_dir() -> PathBuf {
    root().join(std::os::unix::process::parent_id().to_string())
}

/// `<target>/tmp/toban-skips`: beside the build, never in the source tree.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("toban-skips")
}

/// One skipped test: which binary, which test, which service, why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skip {
    pub binary: String,
    pub test: String,
    pub service: String,
    pub why: String,
}

/// Records that the current test skipped for lack of `service`. Never fails the test: a
/// record that cannot be written only costs the summary line.
pub fn record(service: &str, why: &str) {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|s| match s.rsplit_once('-') {
            // Cargo names test binaries `<target>-<hash>`.
            Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_string(),
            _ => s,
        })
        .unwrap_or_else(|| "?".into());
    // libtest runs each test on a thread named after it.
    let test = std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .unwrap_or("?")
        .to_string();
    let dir = run_dir();
    let line = [binary.as_str(), &test, service, why]
        .map(|f| f.replace(['\t', '\n'], " "))
        .join("\t");
    let _ = std::fs::create_dir_all(&dir).and_then(|_| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!("{binary}-{}.tsv", std::process::id())))
            .and_then(|mut f| writeln!(f, "{line}"))
    });
}

/// Every record in `dir`, sorted, duplicates removed.
pub fn read(dir: &Path) -> Vec<Skip> {
    let mut skips = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for line in text.lines() {
            let f: Vec<&str> = line.splitn(4, '\t').collect();
            if let [binary, test, service, why] = f[..] {
                skips.push(Skip {
                    binary: binary.into(),
                    test: test.into(),
                    service: service.into(),
                    why: why.into(),
                });
            }
        }
    }
    skips.sort();
    skips.dedup();
    skips
}
