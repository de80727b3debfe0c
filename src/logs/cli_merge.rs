//! `toban logs A B …`: every source read whole, then their lines printed interleaved by time
//! (as the Logs tab's all-sources view orders them), each prefixed with its source's name.

use std::io::Write;

use super::cli::{print_block, read_source, Filter};
use super::sources::FileSource;
use super::store::LineStore;
use crate::config::logs::LogsConfig;

pub fn print_merged(
    files: &[FileSource],
    cfg: &LogsConfig,
    f: &Filter,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let mut failed = false;
    let mut stores: Vec<(&FileSource, LineStore)> = Vec::new();
    for src in files {
        if super::cli::is_file(src) {
            // In blocks, so no chunk outgrows its 32-bit offsets.
            let full = std::fs::metadata(&src.path)
                .and_then(|m| super::load::full(&src.path, m.len(), usize::MAX));
            match full {
                Ok((s, _)) => stores.push((src, s)),
                Err(e) => {
                    failed = true;
                    let _ = writeln!(err, "toban logs: {}: {e}", src.path.display());
                }
            }
            continue;
        }
        match read_source(src, cfg, f.since) {
            Ok(mut bytes) => {
                if bytes.last().is_some_and(|&b| b != b'\n') {
                    bytes.push(b'\n');
                }
                let mut s = LineStore::new(usize::MAX);
                s.push_bytes(bytes);
                stores.push((src, s));
            }
            Err(e) => {
                failed = true;
                let _ = writeln!(err, "toban logs: {}: {e}", src.path.display());
            }
        }
    }
    let order = super::merge::order(&stores.iter().map(|(_, s)| s).collect::<Vec<&LineStore>>());
    let mut printed = false;
    let mut last_time = vec![None; stores.len()];
    let mut buf = Vec::with_capacity(1 << 20);
    let mut line = Vec::new();
    let mut lines: Vec<_> = stores.iter().map(|(_, s)| s.lines()).collect();
    for (k, i) in order {
        let src = stores[k].0;
        line.clear();
        line.extend_from_slice(lines[k].get(i));
        line.push(b'\n');
        match print_block(src, &line, f, &mut last_time[k], &mut buf, out) {
            Ok(any) => printed |= any,
            // The reader went away (a closed pipe).
            Err(_) => return 2,
        }
    }
    if out.write_all(&buf).and_then(|_| out.flush()).is_err() {
        return 2;
    }
    if failed {
        2
    } else if printed {
        0
    } else {
        1
    }
}
