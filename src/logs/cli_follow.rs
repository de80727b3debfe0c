//! `toban logs --follow`: files polled by their followers (across rotation), containers,
//! journals and CloudWatch groups through the Logs tab's own providers — their history
//! first, then new lines as they come — until interrupted or the reader goes away.

use std::io::Write;
use std::sync::mpsc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::cli::{print_block, Filter};
use super::follow::{Follower, READ_BLOCK};
use super::sources::FileSource;
use super::store::LineStore;
use super::update::LogsMsg;
use crate::config::logs::LogsConfig;

/// A source reconnected (a container restarted, journalctl ran again) hands its history
/// again: only the lines after the last one printed are new.
#[derive(Default)]
struct Seen {
    last: Option<Vec<u8>>,
}

impl Seen {
    fn fresh(&self, store: &LineStore) -> usize {
        let Some(last) = &self.last else { return 0 };
        let mut lines = store.lines();
        (0..store.len())
            .rev()
            .find(|&i| lines.get(i) == last.as_slice())
            .map_or(0, |i| i + 1)
    }
}

pub fn follow(
    files: &mut [(&FileSource, Follower)],
    streams: &[&FileSource],
    cfg: &LogsConfig,
    f: &Filter,
    out: &mut dyn Write,
    err: &mut dyn Write,
) {
    let (tx, rx) = mpsc::channel::<LogsMsg>();
    let cancel = CancellationToken::new();
    let rt = (!streams.is_empty())
        .then(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
        })
        .transpose();
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(err, "toban logs: {e}");
            return;
        }
    };
    if let Some(rt) = &rt {
        let _enter = rt.enter();
        for (i, src) in streams.iter().enumerate() {
            let tx = tx.clone();
            super::provider::spawn_source(
                i,
                src.path.clone(),
                cfg.max_lines,
                &cfg.aws,
                move |m| tx.send(m).is_ok(),
                cancel.clone(),
            );
        }
    }
    let mut seen: Vec<Seen> = streams.iter().map(|_| Seen::default()).collect();
    let mut last_time = vec![None; streams.len()];
    let mut file_time = None;
    loop {
        let mut buf = Vec::new();
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(LogsMsg::Loaded { source, store, .. }) => {
                let from = seen[source].fresh(&store);
                let mut block = Vec::new();
                let mut lines = store.lines();
                for i in from..store.len() {
                    block.extend_from_slice(lines.get(i));
                    block.push(b'\n');
                }
                if !store.is_empty() {
                    seen[source].last = Some(store.line(store.len() - 1).to_vec());
                }
                let src = streams[source];
                if print_block(src, &block, f, &mut last_time[source], &mut buf, out).is_err() {
                    break;
                }
            }
            Ok(LogsMsg::Appended { source, chunk, .. }) => {
                if !chunk.is_empty() {
                    seen[source].last = Some(chunk.line(chunk.len() - 1).to_vec());
                }
                let src = streams[source];
                let block = chunk.bytes();
                if print_block(src, &block, f, &mut last_time[source], &mut buf, out).is_err() {
                    break;
                }
            }
            Ok(LogsMsg::Failed { source, error }) => {
                let _ = writeln!(err, "toban logs: {}: {error}", streams[source].name);
            }
            Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) if files.is_empty() => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(Duration::from_millis(200))
            }
        }
        for (src, fol) in files.iter_mut() {
            let mut new = Vec::new();
            if let Err(e) = fol.poll(&mut new, READ_BLOCK) {
                let _ = writeln!(err, "toban logs: {}: {e}", src.path.display());
                continue;
            }
            if !new.is_empty() && print_block(src, &new, f, &mut file_time, &mut buf, out).is_err()
            {
                cancel.cancel();
                return;
            }
        }
        if !buf.is_empty() && out.write_all(&buf).and_then(|_| out.flush()).is_err() {
            // The reader went away (a closed pipe): stop like `tail -f | head` does.
            break;
        }
    }
    cancel.cancel();
    if let Some(rt) = rt {
        rt.shutdown_background();
    }
}
