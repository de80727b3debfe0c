//! Shared by the runbook integration tests: `#[path = "runbook_common.rs"] mod common;`.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use tempfile::TempDir;
use toban::runbook::engine::{Engine, EngineEffect, Event, RunOptions, RunStatus};
use toban::runbook::exec::{set_supervisor, Supervisor, SUPERVISE_SUBCOMMAND};
use toban::runbook::runner::{self, RunEnv};
use toban::runbook::spec::{self, Runbook};
use toban::runbook::steps::SupervisedExecutor;
use toban::store::Store;
use tokio_util::sync::CancellationToken;

pub struct TestEnv {
    pub env: RunEnv,
    pub dir: TempDir,
}

impl TestEnv {
    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
}

/// Commands run under the real `toban __supervise`, as in production.
pub fn use_toban_supervisor() {
    set_supervisor(Supervisor {
        program: PathBuf::from(env!("CARGO_BIN_EXE_toban")),
        args: vec![SUPERVISE_SUBCOMMAND.to_string()],
    });
}

/// A run environment over SQLite in a temp dir and the production executor.
pub async fn sqlite_env() -> TestEnv {
    use_toban_supervisor();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(None, &dir.path().join("data"))
        .await
        .expect("opening SQLite");
    TestEnv {
        env: RunEnv {
            store,
            executor: Arc::new(SupervisedExecutor),
            runs_dir: dir.path().join("data/runs"),
            connections: BTreeMap::new(),
            engines: Default::default(),
        },
        dir,
    }
}

pub fn shipped(name: &str) -> Runbook {
    let (books, errors) = spec::load_all(&[]);
    assert!(errors.is_empty(), "{errors:?}");
    books
        .into_iter()
        .find(|b| b.name == name)
        .expect("shipped runbook")
}

pub fn params(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn engine(spec: &Runbook, kv: &[(&str, &str)], opts: RunOptions) -> Engine {
    runner::new_engine(spec, &params(kv), opts).expect("engine")
}

/// What a scripted run did.
pub struct Driven {
    pub status: Option<RunStatus>,
    pub notices: Vec<String>,
    pub executed: Vec<String>,
}

/// Starts the run (unless `start` is false) and feeds `script` whenever the engine waits
/// for an answer, doing every effect for real. Stops when the run finishes or the script
/// runs out while the engine waits.
pub async fn drive(env: &RunEnv, engine: &mut Engine, script: Vec<Event>, start: bool) -> Driven {
    let mut script: VecDeque<Event> = script.into();
    let mut queue: VecDeque<Event> = VecDeque::new();
    if start {
        queue.push_back(Event::Start);
    }
    let mut d = Driven {
        status: None,
        notices: Vec::new(),
        executed: Vec::new(),
    };
    loop {
        let ev = match queue.pop_front().or_else(|| script.pop_front()) {
            Some(e) => e,
            None => return d,
        };
        for fx in engine.handle(ev, Utc::now().timestamp_millis()) {
            match fx {
                EngineEffect::Execute(r) => {
                    d.executed.push(r.id.clone());
                    let o =
                        runner::perform_step(env, &engine.state, r, None, CancellationToken::new())
                            .await;
                    queue.push_back(Event::StepFinished(o));
                }
                EngineEffect::Notice(n) => d.notices.push(n),
                EngineEffect::Finished(s) => d.status = Some(s),
                EngineEffect::Interrupt { .. } => {}
                other => runner::record(env, &engine.state, &other)
                    .await
                    .expect("store"),
            }
        }
        if d.status.is_some() {
            return d;
        }
    }
}

/// Builds `<dir>/<component>.tar.gz` from (path, bytes) pairs, and the manifest.json a
/// backup job writes (seed 000's format: service, kind, created, status, each file's size
/// and sha256). `dir` is `<root>/<service>/<kind>/<date>`.
/// (path inside the archive, content)
pub type Entry<'a> = (&'a str, &'a [u8]);

pub fn make_backup(dir: &std::path::Path, components: &[(&str, &[Entry])]) {
    use sha2::{Digest, Sha256};
    std::fs::create_dir_all(dir).unwrap();
    let mut manifest = Vec::new();
    for (component, files) in components {
        let name = format!("{component}.tar.gz");
        let f = std::fs::File::create(dir.join(&name)).unwrap();
        let gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        for (path, bytes) in *files {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            h.set_mtime(1_700_000_000);
            h.set_cksum();
            tar.append_data(&mut h, path, *bytes).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
        let bytes = std::fs::read(dir.join(&name)).unwrap();
        let sum = format!("{:x}", Sha256::digest(&bytes));
        manifest.push(serde_json::json!({"path": name, "size": bytes.len(), "sha256": sum}));
    }
    let name_of = |p: Option<&std::path::Path>| {
        p.and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let kind = name_of(dir.parent());
    let service = name_of(dir.parent().and_then(|p| p.parent()));
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&serde_json::json!({
            "service": service,
            "kind": kind,
            "created": "2026-11-20T03:00:00Z",
            "status": "success",
            "files": manifest,
        }))
        .unwrap(),
    )
    .unwrap();
}
