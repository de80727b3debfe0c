//! What the Logs tab does with its providers' reports and its filter: lines loaded and
//! appended, searches started (inline for small stores, off the UI task for large ones,
//! each newer one cancelling the older) and their rows taken in.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::follow::Rotation;
use super::search::{self, Matcher, Query};
use super::state::{LogsState, SourceView, INLINE_SEARCH};
use super::store::{Chunk, LineStore};
use crate::alarm_types::Finding;
use crate::health::Severity;

#[derive(Debug)]
pub enum LogsMsg {
    /// The source's lines so far: the tail first (`complete: false`), then all of them.
    Loaded {
        source: usize,
        store: LineStore,
        complete: bool,
        at: DateTime<Utc>,
    },
    /// New lines (after a rotation, if any).
    Appended {
        source: usize,
        chunk: Arc<Chunk>,
        rotation: Rotation,
        at: DateTime<Utc>,
    },
    Failed {
        source: usize,
        error: String,
    },
    /// Rows of a search: for the lines up to `upto` (absolute), or only those from `from`
    /// when `partial` (the lines near the end, which the screen shows first).
    Rows {
        generation: u64,
        source: usize,
        rows: Vec<u64>,
        from: u64,
        upto: u64,
        partial: bool,
    },
    /// A Logs Insights query finished (or could not run).
    QueryDone {
        id: u64,
        result: Result<super::insights::QueryResult, String>,
    },
}

#[derive(Debug, Clone)]
pub enum LogsEffect {
    /// Read and follow a file.
    Open {
        source: usize,
        path: PathBuf,
        cap: usize,
        aws: crate::config::logs::LogsAws,
    },
    /// Run a Logs Insights query over `groups` for the last `since`.
    Query {
        id: u64,
        groups: Vec<String>,
        query: String,
        since: std::time::Duration,
        aws: crate::config::logs::LogsAws,
    },
    /// Search a snapshot of a source's lines.
    Search {
        generation: u64,
        source: usize,
        store: LineStore,
        query: Query,
    },
}

pub fn update(s: &mut LogsState, msg: LogsMsg) -> Vec<LogsEffect> {
    let mut fx = Vec::new();
    match msg {
        LogsMsg::Loaded {
            source,
            store,
            complete,
            at,
        } => {
            let Some(v) = s.sources.get_mut(source) else {
                return fx;
            };
            v.store = store;
            v.complete = complete;
            v.error = None;
            v.updated = Some(at);
            if s.is_merged() {
                remerge(s);
                if !s.query.is_empty() {
                    restart_search(s, &mut fx);
                }
            } else if source == s.selected && !s.query.is_empty() {
                restart_search(s, &mut fx);
            }
        }
        LogsMsg::Appended {
            source,
            chunk,
            rotation,
            at,
        } => {
            let Some(v) = s.sources.get_mut(source) else {
                return fx;
            };
            let name = v.name.clone();
            v.store.push(chunk.clone());
            v.error = None;
            v.updated = Some(at);
            if rotation != Rotation::None {
                v.rotations += 1;
            }
            if s.is_merged() {
                if let Some(m) = s.merged.as_mut() {
                    m.store
                        .push(Arc::new(super::merge::tagged_chunk(&name, &chunk)));
                    m.updated = Some(at);
                }
                catch_up(s);
            } else if source == s.selected {
                catch_up(s);
            }
        }
        LogsMsg::QueryDone { id, result } => {
            let Some(super::state::Insights::Running {
                id: running,
                name,
                groups,
                started,
            }) = &s.insights
            else {
                return fx;
            };
            if *running != id {
                return fx;
            }
            let (name, groups, started) = (name.clone(), groups.clone(), *started);
            s.insights = Some(match result {
                Ok(result) => super::state::Insights::Results {
                    name,
                    groups,
                    result,
                    top: 0,
                    left: 0,
                    at: started,
                },
                Err(error) => super::state::Insights::Failed {
                    name,
                    error: crate::sanitize::strip_escapes(&error),
                },
            });
        }
        LogsMsg::Failed { source, error } => {
            if let Some(v) = s.sources.get_mut(source) {
                v.error = Some(crate::sanitize::strip_escapes(&error));
            }
        }
        LogsMsg::Rows {
            generation,
            source,
            rows,
            from,
            upto,
            partial,
        } => {
            if generation != s.generation || source != s.selected {
                return fx;
            }
            if partial {
                // The rows near the end, until the whole search is in.
                if s.searched < from {
                    s.rows = Some(rows);
                    s.searched = from;
                }
            } else {
                s.rows = Some(rows);
                s.searched = upto;
                s.searching = false;
                catch_up(s);
            }
        }
    }
    fx
}

/// Lines appended since the last search are searched here (a few at a time).
fn catch_up(s: &mut LogsState) {
    if s.searching || s.query.is_empty() {
        return;
    }
    let Some(v) = s.source() else {
        return;
    };
    let end = v.store.dropped() + v.store.len() as u64;
    if s.searched >= end {
        return;
    }
    let from = s.searched.saturating_sub(v.store.dropped()) as usize;
    let cur = std::sync::atomic::AtomicU64::new(s.generation);
    let new = search::search(&v.store, from, &s.query, s.generation, &cur).unwrap_or_default();
    let d = v.store.dropped();
    let rows = s.rows.get_or_insert_with(Vec::new);
    rows.retain(|&a| a >= d);
    rows.extend(new);
    s.searched = end;
}

/// The query changed, or the selected source's lines were replaced: search again.
pub fn restart_search(s: &mut LogsState, fx: &mut Vec<LogsEffect>) {
    s.generation += 1;
    s.cursor = None;
    if s.query.is_empty() {
        s.rows = None;
        s.searching = false;
        return;
    }
    let Some(v) = s.source() else {
        return;
    };
    if v.store.len() <= INLINE_SEARCH {
        let dropped = v.store.dropped();
        s.rows = Some(Vec::new());
        s.searched = dropped;
        s.searching = false;
        catch_up(s);
    } else {
        let store = v.store.clone();
        s.searching = true;
        s.searched = 0;
        fx.push(LogsEffect::Search {
            generation: s.generation,
            source: s.selected,
            store,
            query: s.query.clone(),
        });
    }
}

/// The filter as typed: a regex when it is one, else plain text; empty clears it.
pub fn set_filter(s: &mut LogsState, text: &str, fx: &mut Vec<LogsEffect>) {
    if text == s.filter {
        return;
    }
    s.filter = text.to_string();
    s.query.matcher = (!text.is_empty()).then(|| Matcher::typed(text));
    restart_search(s, fx);
}

pub fn cycle_level(s: &mut LogsState, fx: &mut Vec<LogsEffect>) {
    use super::level::Level;
    s.query.level = match s.query.level {
        None => Some(Level::Error),
        Some(Level::Error) => Some(Level::Warn),
        Some(Level::Warn) => Some(Level::Info),
        Some(_) => None,
    };
    restart_search(s, fx);
}

/// Shows source `i`; `sources.len()` (with two sources or more) shows them all interleaved.
pub fn select_source(s: &mut LogsState, i: usize, fx: &mut Vec<LogsEffect>) {
    let merged = i == s.sources.len() && s.sources.len() > 1;
    if (i < s.sources.len() || merged) && i != s.selected {
        s.selected = i;
        if merged {
            remerge(s);
        } else {
            s.merged = None;
        }
        s.live();
        restart_search(s, fx);
    }
}

/// The next source, then all of them interleaved (with two or more), then the first.
pub fn next_source(s: &mut LogsState, fx: &mut Vec<LogsEffect>) {
    let n = s.sources.len() + usize::from(s.sources.len() > 1);
    if n > 0 {
        select_source(s, (s.selected + 1) % n, fx);
    }
}

/// Builds the interleaved view from every source's lines.
fn remerge(s: &mut LogsState) {
    let parts: Vec<(&str, &LineStore)> = s
        .sources
        .iter()
        .map(|v| (v.name.as_str(), &v.store))
        .collect();
    let mut v = SourceView::new(
        format!("all {} sources by time", s.sources.len()),
        PathBuf::new(),
        s.cap,
    );
    v.store = super::merge::merge(&parts, s.cap);
    v.complete = s.sources.iter().all(|x| x.complete);
    v.updated = s.sources.iter().filter_map(|x| x.updated).max();
    s.merged = Some(v);
}

/// Runs saved query `i` over its groups (or the selected source's, or every CloudWatch
/// source's); without a group to ask, says how to get one.
pub fn run_query(s: &mut LogsState, i: usize, now: DateTime<Utc>, fx: &mut Vec<LogsEffect>) {
    let Some(q) = s.queries.get(i).cloned() else {
        return;
    };
    let groups = if q.groups.is_empty() {
        s.query_groups()
    } else {
        q.groups.clone()
    };
    if groups.is_empty() {
        s.insights = Some(super::state::Insights::Failed {
            name: q.name,
            error: "no CloudWatch Logs group to query: open one (cw:GROUP) or list groups under [logs] cloudwatch".into(),
        });
        return;
    }
    s.query_seq += 1;
    s.insights = Some(super::state::Insights::Running {
        id: s.query_seq,
        name: q.name.clone(),
        groups: groups.clone(),
        started: now,
    });
    fx.push(LogsEffect::Query {
        id: s.query_seq,
        groups,
        query: q.query,
        since: q.since,
        aws: s.aws.clone(),
    });
}

/// A file opened from the prompt: a new source, selected; its lines come from the provider.
pub fn open(s: &mut LogsState, path: &str, fx: &mut Vec<LogsEffect>) {
    let path = PathBuf::from(path.trim());
    if path.as_os_str().is_empty() {
        return;
    }
    if let Some(i) = s.sources.iter().position(|v| v.path == path) {
        select_source(s, i, fx);
        return;
    }
    let i = s.sources.len();
    s.sources.push(SourceView::new(
        path.display().to_string(),
        path.clone(),
        s.cap,
    ));
    fx.push(LogsEffect::Open {
        source: i,
        path,
        cap: s.cap,
        aws: s.aws.clone(),
    });
    select_source(s, i, fx);
}

/// The local alarms: a source with more error lines than the threshold in the current hour.
pub fn findings(s: &LogsState, now: DateTime<Utc>) -> Vec<Finding> {
    let hour = now.timestamp().div_euclid(3600) * 3600;
    s.sources
        .iter()
        .filter_map(|v| {
            let n = v.store.errors_by_hour().get(&hour).copied().unwrap_or(0);
            (n > s.threshold).then(|| Finding {
                key: format!("logs.errors:{}", v.name),
                severity: Severity::Warning,
                message: format!(
                    "{}: {n} errors since {}:00 (more than {} an hour)",
                    crate::sanitize::strip_escapes(&v.name),
                    chrono::DateTime::from_timestamp(hour, 0)
                        .map(|t| t.format("%H").to_string())
                        .unwrap_or_default(),
                    s.threshold
                ),
                value: n as f64,
                subject: v.name.clone(),
            })
        })
        .collect()
}
