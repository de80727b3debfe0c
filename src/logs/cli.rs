//! `toban logs SOURCE… [--grep RE] [--level error] [--since 1h] [--follow] [--json] [--raw]`:
//! the Logs tab's sources and filters for scripts. Lines are printed made safe for a
//! terminal (escape sequences and controls removed, invalid UTF-8 shown lossily) unless
//! `--raw`. Exit 0 when a line was printed, 1 when none, 2 when a source could not be read —
//! as grep does.

use std::io::{self, Read, Write};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::follow::{Follower, READ_BLOCK};
use super::level::{self, Level};
use super::search::Matcher;
use super::sources::{self, FileSource};
use super::{stamp, text};
use crate::config::logs::LogsConfig;

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// Files, globs, `container:NAME`, `journal:PATH`, `cw:GROUP[:STREAM]`, or source names
    /// from `[logs]` in config.toml. Several are interleaved by time.
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// Only lines matching this regex (the `regex` crate's syntax, close to `grep -E`).
    #[arg(long, value_name = "RE")]
    pub grep: Option<String>,
    /// Only lines at least this severe: error, warn, info, debug.
    #[arg(long, value_name = "LEVEL")]
    pub level: Option<Level>,
    /// Only lines from this long ago on (`1h`, `30m`); a line without a time of its own
    /// takes the time of the line before it.
    #[arg(long, value_name = "AGE", value_parser = humantime::parse_duration)]
    pub since: Option<Duration>,
    /// Keep printing new lines (files across rotation; containers, journals and CloudWatch
    /// groups as they come) until interrupted.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// One JSON object a line: source, level, time, text.
    #[arg(long)]
    pub json: bool,
    /// Print lines exactly as read (for pipes), escape sequences and all.
    #[arg(long)]
    pub raw: bool,
}

pub(super) struct Filter {
    pub(super) matcher: Option<Matcher>,
    pub(super) level: Option<Level>,
    pub(super) since: Option<DateTime<Utc>>,
    pub(super) json: bool,
    pub(super) raw: bool,
    /// Prefix lines with their source (several sources).
    pub(super) tag: bool,
}

/// Runs the command; the exit code.
pub fn main(args: LogsArgs, cfg: &LogsConfig, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let matcher = match args.grep.as_deref().map(Matcher::regex).transpose() {
        Ok(m) => m,
        Err(e) => {
            let _ = writeln!(err, "toban logs: {e}");
            return 2;
        }
    };
    let files: Vec<FileSource> = args
        .sources
        .iter()
        .flat_map(|s| sources::resolve(cfg, s))
        .collect();
    let filter = Filter {
        matcher,
        level: args.level,
        since: args
            .since
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| Utc::now() - d),
        json: args.json,
        raw: args.raw,
        tag: files.len() > 1,
    };
    if files.len() > 1 && !args.follow {
        return super::cli_merge::print_merged(&files, cfg, &filter, out, err);
    }
    let mut printed = false;
    let mut failed = false;
    let mut followers = Vec::new();
    let mut streams = Vec::new();
    for src in &files {
        if args.follow && !is_file(src) {
            // The Logs tab's own providers: history first, then new lines as they come.
            streams.push(src);
            continue;
        }
        match print_file(src, cfg, &filter, !args.follow, out) {
            Ok((any, end)) => {
                printed |= any;
                if args.follow {
                    match Follower::open(&src.path, false) {
                        Ok(mut f) => {
                            f.seek(end);
                            followers.push((src, f));
                        }
                        Err(e) => {
                            let _ = writeln!(err, "toban logs: {}: {e}", src.path.display());
                        }
                    }
                }
            }
            Err(e) => {
                failed = true;
                let _ = writeln!(err, "toban logs: {}: {e}", src.path.display());
            }
        }
    }
    let _ = out.flush();
    if args.follow && (!followers.is_empty() || !streams.is_empty()) {
        super::cli_follow::follow(&mut followers, &streams, cfg, &filter, out, err);
    }
    if failed {
        2
    } else if printed {
        0
    } else {
        1
    }
}

/// A file on disk (not a container, journal or CloudWatch source).
pub(super) fn is_file(src: &FileSource) -> bool {
    let s = src.path.to_str().unwrap_or_default();
    super::container::name_of(s).is_none()
        && super::journal::path_of(s).is_none()
        && super::cloudwatch::target_of(s).is_none()
}

/// Every line a container, journal or CloudWatch source has now (for CloudWatch: since
/// `--since`, else `[logs.aws] since`).
pub(super) fn read_source(
    src: &FileSource,
    cfg: &LogsConfig,
    since: Option<DateTime<Utc>>,
) -> io::Result<Vec<u8>> {
    let s = src.path.to_str().unwrap_or_default();
    if let Some(name) = super::container::name_of(s) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        return rt
            .block_on(super::container::read_all(name))
            .map_err(io::Error::other);
    }
    if let Some(j) = super::journal::path_of(s) {
        return super::journal::read_all(j);
    }
    if let Some((group, stream)) = super::cloudwatch::target_of(s) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let since = since.unwrap_or_else(|| {
            Utc::now() - chrono::Duration::from_std(cfg.aws.since).unwrap_or_default()
        });
        return rt.block_on(async {
            let conn = super::cloudwatch::connect(&cfg.aws).await;
            super::cloudwatch::Tail::new(group, stream, since)
                .fetch(&conn)
                .await
                .map_err(io::Error::other)
        });
    }
    std::fs::read(&src.path)
}

/// Prints the matching lines of a file; whether any was printed and the offset read to.
fn print_file(
    src: &FileSource,
    cfg: &LogsConfig,
    f: &Filter,
    last_partial: bool,
    out: &mut dyn Write,
) -> io::Result<(bool, u64)> {
    if !is_file(src) {
        let bytes = read_source(src, cfg, f.since)?;
        let mut buf_out = Vec::new();
        let mut last_time = None;
        let any = print_block(src, &bytes, f, &mut last_time, &mut buf_out, out)?;
        out.write_all(&buf_out)?;
        return Ok((any, 0));
    }
    let mut file = std::fs::File::open(&src.path)?;
    let mut carry: Vec<u8> = Vec::new();
    let mut buf_out = Vec::with_capacity(1 << 20);
    let mut any = false;
    let mut read = 0u64;
    let mut last_time = None;
    loop {
        let mut buf = std::mem::take(&mut carry);
        let had = buf.len();
        buf.reserve(READ_BLOCK);
        (&mut file).take(READ_BLOCK as u64).read_to_end(&mut buf)?;
        let got = buf.len() - had;
        read += got as u64;
        let whole = match memchr::memrchr(b'\n', &buf) {
            Some(p) => p + 1,
            None if got == 0 => 0,
            None => {
                carry = buf;
                continue;
            }
        };
        if got == 0 {
            if last_partial && whole < buf.len() {
                let mut last = buf[whole..].to_vec();
                last.push(b'\n');
                any |= print_block(src, &last, f, &mut last_time, &mut buf_out, out)?;
            } else {
                // A last line without its newline is left for --follow.
                read -= (buf.len() - whole) as u64;
            }
            break;
        }
        carry = buf[whole..].to_vec();
        any |= print_block(src, &buf[..whole], f, &mut last_time, &mut buf_out, out)?;
    }
    out.write_all(&buf_out)?;
    Ok((any, read))
}

/// Prints the lines of `block` (whole lines) that pass `f`.
pub(super) fn print_block(
    src: &FileSource,
    block: &[u8],
    f: &Filter,
    last_time: &mut Option<DateTime<Utc>>,
    buf: &mut Vec<u8>,
    out: &mut dyn Write,
) -> io::Result<bool> {
    let mut any = false;
    let mut emit = |line: &[u8], buf: &mut Vec<u8>| -> io::Result<()> {
        if f.since.is_some() || f.json {
            if let Some(t) = stamp::parse(line) {
                *last_time = Some(t);
            }
            if let Some(since) = f.since {
                if !last_time.is_some_and(|t| t >= since) {
                    return Ok(());
                }
            }
        }
        let lv = if f.level.is_some() || f.json {
            level::detect(line)
        } else {
            None
        };
        if let Some(min) = f.level {
            if lv.is_none_or(|l| l < min) {
                return Ok(());
            }
        }
        any = true;
        write_line(src, line, lv, *last_time, f, buf);
        if buf.len() >= 1 << 20 {
            out.write_all(buf)?;
            buf.clear();
        }
        Ok(())
    };
    match &f.matcher {
        Some(m) => {
            let mut res = Ok(());
            m.for_each_line(block, |a, b| {
                if res.is_ok() {
                    res = emit(&block[a..b], buf);
                }
            });
            res?;
        }
        None => {
            let mut start = 0;
            for end in memchr::memchr_iter(b'\n', block) {
                emit(&block[start..end], buf)?;
                start = end + 1;
            }
        }
    }
    Ok(any)
}

fn write_line(
    src: &FileSource,
    line: &[u8],
    lv: Option<Level>,
    time: Option<DateTime<Utc>>,
    f: &Filter,
    buf: &mut Vec<u8>,
) {
    if f.json {
        let text = if f.raw {
            String::from_utf8_lossy(line).into_owned()
        } else {
            let mut v = Vec::new();
            text::write_inert(&mut v, line);
            String::from_utf8_lossy(&v).into_owned()
        };
        let obj = serde_json::json!({
            "source": src.name,
            "level": lv.map(Level::name),
            "time": time.map(|t| t.to_rfc3339()),
            "text": text,
        });
        buf.extend_from_slice(obj.to_string().as_bytes());
        buf.push(b'\n');
        return;
    }
    if f.tag {
        text::write_inert(buf, src.name.as_bytes());
        buf.push(b':');
    }
    if f.raw {
        buf.extend_from_slice(line);
    } else {
        text::write_inert(buf, line);
    }
    buf.push(b'\n');
}
