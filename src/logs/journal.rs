//! The systemd journal as a source: `journal:PATH` (a journal file, or a directory of them),
//! read with `journalctl -o json` (argv, never a shell). Each entry becomes one line —
//! `TIME [level] UNIT: MESSAGE` — with the level from `PRIORITY`; a `MESSAGE` that is not
//! UTF-8 comes as an array of bytes and is kept as those bytes (shown lossily, never dropped).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use super::level::Level;

pub const PREFIX: &str = "journal:";

pub fn path_of(source: &str) -> Option<&str> {
    source.strip_prefix(PREFIX).filter(|p| !p.is_empty())
}

/// `journalctl` reading `path` (`--file` or `--directory`), following when asked.
pub fn command(path: &str, follow: bool, lines: usize) -> Command {
    let mut c = Command::new("journalctl");
    c.args(["-o", "json", "--no-pager"]);
    c.arg(if Path::new(path).is_dir() {
        "--directory"
    } else {
        "--file"
    });
    c.arg(path);
    if follow {
        c.arg("--follow").arg(format!("--lines={lines}"));
    }
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// One entry of `journalctl -o json` as a line (with its newline).
pub fn to_line(entry: &[u8], out: &mut Vec<u8>) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(entry) else {
        return;
    };
    let bytes = |k: &str| -> Vec<u8> {
        match v.get(k) {
            Some(serde_json::Value::String(s)) => s.as_bytes().to_vec(),
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|b| b.as_u64().map(|b| b as u8))
                .collect(),
            _ => Vec::new(),
        }
    };
    let micros: i64 = String::from_utf8_lossy(&bytes("__REALTIME_TIMESTAMP"))
        .parse()
        .unwrap_or(0);
    if let Some(t) = chrono::DateTime::from_timestamp_micros(micros) {
        out.extend_from_slice(t.format("%Y-%m-%dT%H:%M:%S%.6fZ ").to_string().as_bytes());
    }
    let pri: u8 = String::from_utf8_lossy(&bytes("PRIORITY"))
        .parse()
        .unwrap_or(6);
    out.extend_from_slice(format!("[{}] ", Level::from_syslog(pri)).as_bytes());
    let mut unit = bytes("_SYSTEMD_UNIT");
    if unit.is_empty() {
        unit = bytes("SYSLOG_IDENTIFIER");
    }
    if !unit.is_empty() {
        out.extend_from_slice(&unit);
        out.extend_from_slice(b": ");
    }
    // A message with newlines stays one entry, one line.
    out.extend(
        bytes("MESSAGE")
            .into_iter()
            .map(|b| if b == b'\n' { b' ' } else { b }),
    );
    out.push(b'\n');
}

/// Every entry of the journal at `path`, as lines.
pub fn read_all(path: &str) -> std::io::Result<Vec<u8>> {
    let out = command(path, false, 0).output()?;
    if !out.status.success() {
        return Err(std::io::Error::other(format!(
            "journalctl: {}",
            crate::sanitize::strip_escapes(String::from_utf8_lossy(&out.stderr).trim())
        )));
    }
    let mut lines = Vec::with_capacity(out.stdout.len() / 2);
    for entry in out.stdout.split(|&b| b == b'\n').filter(|e| !e.is_empty()) {
        to_line(entry, &mut lines);
    }
    Ok(lines)
}

/// Follows the journal: calls `batch` with whole lines as entries come (several entries at
/// a time when they come fast); returns when journalctl ends or `batch` says stop.
pub fn follow(
    path: &str,
    lines: usize,
    mut batch: impl FnMut(Vec<u8>) -> bool,
) -> std::io::Result<()> {
    let mut child = command(path, true, lines).spawn()?;
    let stdout = child.stdout.take().expect("piped");
    let mut r = BufReader::with_capacity(1 << 20, stdout);
    let mut buf = Vec::new();
    let mut entry = Vec::new();
    loop {
        entry.clear();
        if r.read_until(b'\n', &mut entry)? == 0 {
            break;
        }
        to_line(entry.trim_ascii_end(), &mut buf);
        if (r.buffer().is_empty() || buf.len() > 1 << 20) && !batch(std::mem::take(&mut buf)) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_become_lines_with_levels_and_raw_bytes() {
        let mut out = Vec::new();
        to_line(br#"{"__REALTIME_TIMESTAMP":"1764748801000000","PRIORITY":"3","_SYSTEMD_UNIT":"app.service","MESSAGE":"crashed"}"#, &mut out);
        to_line(br#"{"__REALTIME_TIMESTAMP":"1764748802000000","PRIORITY":"4","SYSLOG_IDENTIFIER":"kernel","MESSAGE":[255,10,65]}"#, &mut out);
        assert_eq!(
            out,
            b"2025-12-03T08:00:01.000000Z [error] app.service: crashed\n2025-12-03T08:00:02.000000Z [warn] kernel: \xff A\n"
        );
        assert_eq!(
            super::super::level::detect(
                b"2025-12-03T08:00:01.000000Z [error] app.service: crashed"
            ),
            Some(Level::Error)
        );
    }
}
