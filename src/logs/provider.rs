//! The Logs tab's providers: a thread per file that loads it tail first, then whole, then
//! follows it (notify, with polling as the fallback and the floor), and the searches, each
//! on its own thread, cancelled when a newer one starts.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use notify::Watcher;
use tokio_util::sync::CancellationToken;

use super::follow::{Follower, READ_BLOCK};
use super::store::Chunk;
use super::update::{LogsEffect, LogsMsg};
use super::{load, search};

/// Hands a report to the console; `false` once nobody listens (toban is leaving).
pub trait Send: Fn(LogsMsg) -> bool + std::marker::Send + Sync + 'static {}
impl<F: Fn(LogsMsg) -> bool + std::marker::Send + Sync + 'static> Send for F {}

/// The newest search; older ones stop at their next chunk.
static CURRENT: AtomicU64 = AtomicU64::new(0);

/// Polls at least this often, whatever notify says (network filesystems, missed events).
const POLL: Duration = Duration::from_millis(250);
/// Events closer than this are taken together: a file growing fast costs few reads.
const SETTLE: Duration = Duration::from_millis(40);
/// Rows searched first, so the end of the view fills before the whole count is in.
const FIRST_SCREEN: usize = 20_000;

pub fn run(e: LogsEffect, tx: impl Send, cancel: CancellationToken) {
    match e {
        LogsEffect::Open {
            source,
            path,
            cap,
            aws,
        } => spawn_source(source, path, cap, &aws, tx, cancel),
        LogsEffect::Query {
            id,
            groups,
            query,
            since,
            aws,
        } => super::cloud_provider::spawn_query(id, groups, query, since, aws, tx),
        LogsEffect::Search {
            generation,
            source,
            store,
            query,
        } => {
            CURRENT.store(generation, Ordering::Relaxed);
            std::thread::spawn(move || {
                let send = |rows: Vec<u64>, from: u64, upto: u64, partial: bool| {
                    tx(LogsMsg::Rows {
                        generation,
                        source,
                        rows,
                        from,
                        upto,
                        partial,
                    })
                };
                let d = store.dropped();
                let end = d + store.len() as u64;
                let tail = store.len().saturating_sub(FIRST_SCREEN);
                if tail > 0 {
                    let Some(rows) = search::search(&store, tail, &query, generation, &CURRENT)
                    else {
                        return;
                    };
                    send(rows, d + tail as u64, end, true);
                }
                if let Some(rows) = search::search(&store, 0, &query, generation, &CURRENT) {
                    send(rows, d, end, false);
                }
            });
        }
    }
}

/// Starts a source: `container:NAME` from the container engine, `journal:PATH` from
/// journalctl, `cw:GROUP[:STREAM]` from CloudWatch Logs, else a file.
pub fn spawn_source(
    source: usize,
    path: PathBuf,
    cap: usize,
    aws: &crate::config::logs::LogsAws,
    tx: impl Send,
    cancel: CancellationToken,
) {
    let s = path.to_str().unwrap_or_default();
    if let Some((group, stream)) = super::cloudwatch::target_of(s) {
        let (group, stream) = (group.to_string(), stream.map(str::to_string));
        super::cloud_provider::spawn_group(source, group, stream, aws.clone(), cap, tx, cancel);
    } else if let Some(name) = super::container::name_of(s) {
        spawn_container(source, name.to_string(), cap, tx, cancel);
    } else if let Some(j) = super::journal::path_of(s) {
        spawn_journal(source, j.to_string(), cap, tx, cancel);
    } else {
        spawn_file(source, path, cap, tx, cancel);
    }
}

/// Follows a container's output (needs a tokio runtime): the last `cap` lines, then new
/// ones as they come; after the stream breaks, again from the start (the store replaced).
pub fn spawn_container(
    source: usize,
    name: String,
    cap: usize,
    tx: impl Send,
    cancel: CancellationToken,
) {
    use futures::StreamExt;
    tokio::spawn(async move {
        // The console's sender may block (a full queue): allowed here on the multi-thread
        // runtime, without stalling the other tasks.
        let tx = move |m: LogsMsg| tokio::task::block_in_place(|| tx(m));
        while !cancel.is_cancelled() {
            let engine = match crate::providers::docker::Engine::connect().await {
                Ok(e) => e,
                Err(e) => {
                    if !tx(LogsMsg::Failed {
                        source,
                        error: e.to_string(),
                    }) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
            };
            let mut stream = Box::pin(engine.logs_stream(&name, true, Some(cap)));
            let mut lines = super::container::Lines::default();
            let mut first = true;
            let mut buf = Vec::new();
            loop {
                let next = tokio::select! {
                    n = tokio::time::timeout(SETTLE, stream.next()) => n,
                    _ = cancel.cancelled() => return,
                };
                let ended = match next {
                    Ok(Some(Ok(frame))) => {
                        lines.feed(&frame, &mut buf);
                        if buf.len() < READ_BLOCK {
                            continue;
                        }
                        false
                    }
                    Ok(Some(Err(e))) => {
                        if !tx(LogsMsg::Failed {
                            source,
                            error: e.to_string(),
                        }) {
                            return;
                        }
                        true
                    }
                    Ok(None) => {
                        lines.finish(&mut buf);
                        true
                    }
                    // Quiet for a moment: hand over what came.
                    Err(_) => false,
                };
                if !buf.is_empty() || first {
                    let bytes = std::mem::take(&mut buf);
                    let sent = if first {
                        let mut store = super::store::LineStore::new(cap);
                        store.push_bytes(bytes);
                        tx(LogsMsg::Loaded {
                            source,
                            store,
                            complete: true,
                            at: Utc::now(),
                        })
                    } else {
                        tx(LogsMsg::Appended {
                            source,
                            chunk: Arc::new(Chunk::new(bytes)),
                            rotation: super::follow::Rotation::None,
                            at: Utc::now(),
                        })
                    };
                    first = false;
                    if !sent {
                        return;
                    }
                }
                if ended {
                    break;
                }
            }
            // The container stopped or the connection broke: look again in a while.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    });
}

/// Follows a journal with `journalctl --follow` on its own thread: the first batch is the
/// history, the next ones new entries.
pub fn spawn_journal(
    source: usize,
    path: String,
    cap: usize,
    tx: impl Send,
    cancel: CancellationToken,
) {
    let _ = std::thread::Builder::new()
        .name(format!("logs-{source}"))
        .spawn(move || {
            while !cancel.is_cancelled() {
                let mut first = true;
                let r = super::journal::follow(&path, cap, |bytes| {
                    let at = Utc::now();
                    let ok = if std::mem::take(&mut first) {
                        let mut store = super::store::LineStore::new(cap);
                        store.push_bytes(bytes);
                        tx(LogsMsg::Loaded {
                            source,
                            store,
                            complete: true,
                            at,
                        })
                    } else {
                        tx(LogsMsg::Appended {
                            source,
                            chunk: Arc::new(Chunk::new(bytes)),
                            rotation: super::follow::Rotation::None,
                            at,
                        })
                    };
                    ok && !cancel.is_cancelled()
                });
                if let Err(e) = r {
                    if !tx(LogsMsg::Failed {
                        source,
                        error: format!("journalctl: {e}"),
                    }) {
                        return;
                    }
                }
                std::thread::sleep(Duration::from_secs(2));
            }
        });
}

/// Starts following `path` as source `source`.
pub fn spawn_file(
    source: usize,
    path: PathBuf,
    cap: usize,
    tx: impl Send,
    cancel: CancellationToken,
) {
    let _ = std::thread::Builder::new()
        .name(format!("logs-{source}"))
        .spawn(move || {
            while !cancel.is_cancelled() {
                if let Err(e) = follow_file(source, &path, cap, &tx, &cancel) {
                    let error = format!("{}: {e}", path.display());
                    if !tx(LogsMsg::Failed { source, error }) {
                        return;
                    }
                }
                // Not there yet, or unreadable: try again in a while.
                std::thread::sleep(Duration::from_secs(2));
            }
        });
}

fn follow_file(
    source: usize,
    path: &Path,
    cap: usize,
    tx: &impl Send,
    cancel: &CancellationToken,
) -> std::io::Result<()> {
    let mut fol = Follower::open(path, false)?;
    let end = std::fs::metadata(path)?.len();
    let send = |m: LogsMsg| tx(m);
    let tail = load::tail(path, end, cap)?;
    if end > load::TAIL
        && !send(LogsMsg::Loaded {
            source,
            store: tail,
            complete: false,
            at: Utc::now(),
        })
    {
        return Ok(());
    }
    let (store, upto) = load::full(path, end, cap)?;
    if !send(LogsMsg::Loaded {
        source,
        store,
        complete: true,
        at: Utc::now(),
    }) {
        return Ok(());
    }
    fol.seek(upto);

    let (wtx, wrx) = std::sync::mpsc::channel::<()>();
    let mut watcher = notify::recommended_watcher(move |_res: notify::Result<notify::Event>| {
        let _ = wtx.send(());
    })
    .ok();
    if let (Some(w), Some(dir)) = (watcher.as_mut(), path.parent()) {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let _ = w.watch(dir, notify::RecursiveMode::NonRecursive);
    }
    while !cancel.is_cancelled() {
        if wrx.recv_timeout(POLL).is_ok() {
            std::thread::sleep(SETTLE);
            while wrx.try_recv().is_ok() {}
        }
        let mut buf = Vec::new();
        let rotation = fol.poll(&mut buf, READ_BLOCK)?;
        if buf.is_empty() && rotation == super::follow::Rotation::None {
            continue;
        }
        if !send(LogsMsg::Appended {
            source,
            chunk: Arc::new(Chunk::new(buf)),
            rotation,
            at: Utc::now(),
        }) {
            return Ok(());
        }
    }
    Ok(())
}
