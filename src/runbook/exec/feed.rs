//! What the supervisor pipes into a command's stdin, and how it stops a stream that must not
//! go on: a dump that leaves its database (in a drill), a dump cut inside its data, one that
//! fails the backup catalog's verification (checked in the same read), or unreadable input.
//! Such a stream is stopped by killing the command's group *before* its stdin closes, so a
//! psql in one transaction never sees the end of its input and never commits (a clean end
//! of input would commit whatever it had).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;

use super::command::SqlScan;
use super::dump_scan::DumpScan;
use super::process_group;
use super::run_dir::{write_atomically, DUMP_SCAN_FILE};

/// Where the bytes come from.
pub(crate) enum Input {
    Read(Box<dyn Read + Send>),
    /// A gzipped backup read by the catalog's verifier (`toban backups verify`: size,
    /// checksum, no symlink out, the gzip stream whole), its decoded bytes streamed on.
    Backup(PathBuf),
}

/// Copies `input` to the command's stdin, each chunk scanned before it is written when
/// `scan` asks. Returns why the stream was stopped, if it was (the group is killed then).
pub(crate) fn feed(
    input: Input,
    mut sink: std::process::ChildStdin,
    scan: Option<&SqlScan>,
    pgid: i32,
    run_dir: &Path,
) -> Option<String> {
    let mut scanner = scan.map(|s| DumpScan::new(&s.database));
    let refuse = scan.is_some_and(|s| s.refuse_foreign);
    let mut stop: Option<String> = None;
    // The command stopped reading (its exit status says why): not our refusal.
    let mut sink_closed = false;
    let mut pass = |chunk: &[u8], stop: &mut Option<String>| -> bool {
        if let Some(s) = scanner.as_mut() {
            // Before the chunk is written: a refused line never reaches the command.
            if s.feed(chunk) > 0 && refuse {
                let found: Vec<String> = s.findings().iter().map(|f| f.describe()).collect();
                *stop = Some(format!(
                    "refused: {}; nothing from that line on was sent, and psql was stopped \
                     before it could commit",
                    found.join("; ")
                ));
                return false;
            }
        }
        if sink.write_all(chunk).is_err() {
            sink_closed = true;
            return false;
        }
        true
    };
    let mut verified = None;
    let mut verification = None;
    match input {
        Input::Read(mut r) => {
            let mut buf = vec![0u8; 256 * 1024];
            let mut read = 0u64;
            loop {
                match r.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        read += n as u64;
                        if !pass(&buf[..n], &mut stop) {
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        stop = Some(format!(
                            "reading the input failed after {read} bytes: {e}; the command \
                             was stopped before the end of its input"
                        ));
                        break;
                    }
                }
            }
        }
        Input::Backup(path) => {
            let halt = CancellationToken::new();
            let (entry, report) =
                crate::backups::lookup::verify_path_reading(&path, &halt, &mut |chunk| {
                    if !halt.is_cancelled() && !pass(chunk, &mut stop) {
                        halt.cancel();
                    }
                });
            if stop.is_none() && !halt.is_cancelled() {
                verification = Some(report.clone());
                let v = crate::backups::verify::verdict(&entry, &report);
                if v.ok {
                    verified = Some(v.summary);
                } else {
                    stop = Some(format!(
                        "the backup failed verification in the same read: {}; psql was \
                         stopped before it could commit",
                        std::iter::once(v.summary)
                            .chain(v.details)
                            .collect::<Vec<_>>()
                            .join("; ")
                    ));
                }
            }
        }
    }
    let reached_end = stop.is_none() && !sink_closed;
    let report = scanner.map(|s| s.finish(reached_end));
    if reached_end {
        if let Some(t) = report.as_ref().and_then(|r| r.cut_short()) {
            stop = Some(format!(
                "the dump is cut short inside the data of table {} (after {} rows); psql was \
                 stopped before it could commit",
                t.display(),
                t.rows
            ));
        }
    }
    if stop.is_some() {
        process_group::signal(pgid, libc::SIGKILL);
    }
    if let Some(mut r) = report {
        r.refused = stop.clone();
        r.verified = verified;
        r.verification = verification;
        if let Ok(json) = serde_json::to_vec_pretty(&r) {
            let _ = write_atomically(&run_dir.join(DUMP_SCAN_FILE), &json);
        }
    }
    // Dropping the sink closes the command's stdin: the end of its input (or nothing, once
    // it was killed).
    drop(sink);
    stop
}
