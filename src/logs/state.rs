//! The Logs tab's own state: the sources and their lines, the filter and its rows, where the
//! view is (following the end, or paused at a row), wrap and horizontal scroll.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::level::Level;
use super::search::{Matcher, Query};
use super::store::LineStore;

/// One source as the tab shows it.
#[derive(Debug, Clone)]
pub struct SourceView {
    pub name: String,
    pub path: PathBuf,
    pub store: LineStore,
    /// Fully indexed (until then only the tail is shown).
    pub complete: bool,
    /// Why the source cannot be read now (it is retried).
    pub error: Option<String>,
    pub rotations: u32,
    pub updated: Option<DateTime<Utc>>,
}

impl SourceView {
    pub fn new(name: String, path: PathBuf, cap: usize) -> SourceView {
        SourceView {
            name,
            path,
            store: LineStore::new(cap),
            complete: false,
            error: None,
            rotations: 0,
            updated: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LogsState {
    pub sources: Vec<SourceView>,
    pub selected: usize,
    /// What was typed into the filter prompt.
    pub filter: String,
    /// The filter when the prompt opened (Esc puts it back).
    pub filter_before: Option<String>,
    pub query: Query,
    /// Lines passing the query (absolute line numbers: dropped lines count), when there is
    /// one; `None` shows every line.
    pub rows: Option<Vec<u64>>,
    /// Lines of the selected source the rows cover (absolute end).
    pub searched: u64,
    /// A search is running off the UI task.
    pub searching: bool,
    pub generation: u64,
    /// First row shown while paused.
    pub top: usize,
    /// New lines appear and the view stays at the end.
    pub follow: bool,
    pub wrap: bool,
    pub hscroll: usize,
    /// The line `n`/`N` found (absolute), highlighted.
    pub cursor: Option<u64>,
    /// Rows the body shows (from the terminal's size).
    pub page: usize,
    pub threshold: u32,
    pub cap: usize,
    /// How CloudWatch Logs sources and queries reach AWS.
    pub aws: crate::config::logs::LogsAws,
    /// Logs Insights queries offered (the shipped ones, then the config's).
    pub queries: Vec<super::insights::SavedQuery>,
    /// The Insights list, a running query or its results, over the lines.
    pub insights: Option<Insights>,
    pub query_seq: u64,
    /// Every source's lines interleaved by time, each tagged with its source: shown when
    /// `selected == sources.len()` (after the last source).
    pub merged: Option<SourceView>,
}

/// What the Logs tab shows of Logs Insights.
#[derive(Debug, Clone)]
pub enum Insights {
    List {
        selected: usize,
    },
    Running {
        id: u64,
        name: String,
        groups: Vec<String>,
        started: DateTime<Utc>,
    },
    Results {
        name: String,
        groups: Vec<String>,
        result: super::insights::QueryResult,
        top: usize,
        /// The first column shown (results wider than the screen scroll sideways).
        left: usize,
        at: DateTime<Utc>,
    },
    Failed {
        name: String,
        error: String,
    },
}

/// Stores of at most this many lines are searched on the UI task (a few milliseconds);
/// larger ones off it.
pub const INLINE_SEARCH: usize = 50_000;

impl Default for LogsState {
    fn default() -> Self {
        LogsState::new(Vec::new(), 10, super::store::DEFAULT_CAP)
    }
}

impl LogsState {
    pub fn new(sources: Vec<SourceView>, threshold: u32, cap: usize) -> LogsState {
        LogsState {
            sources,
            selected: 0,
            filter: String::new(),
            filter_before: None,
            query: Query::default(),
            rows: None,
            searched: 0,
            searching: false,
            generation: 0,
            top: 0,
            follow: true,
            wrap: false,
            hscroll: 0,
            cursor: None,
            page: 16,
            threshold,
            cap,
            aws: Default::default(),
            queries: super::insights::shipped(),
            insights: None,
            query_seq: 0,
            merged: None,
        }
    }

    pub fn from_config(cfg: &crate::config::logs::LogsConfig) -> LogsState {
        let sources = super::sources::configured(cfg)
            .into_iter()
            .map(|s| SourceView::new(s.name, s.path, cfg.max_lines))
            .collect();
        let mut s = LogsState::new(sources, cfg.errors_per_hour, cfg.max_lines);
        s.aws = cfg.aws.clone();
        s.queries = super::insights::all(&cfg.queries);
        s
    }

    /// The source on screen: one of `sources`, or all of them interleaved.
    pub fn source(&self) -> Option<&SourceView> {
        self.sources.get(self.selected).or_else(|| {
            self.merged
                .as_ref()
                .filter(|_| self.selected == self.sources.len())
        })
    }

    /// The interleaved view is on screen.
    pub fn is_merged(&self) -> bool {
        self.selected == self.sources.len() && self.merged.is_some()
    }

    /// The CloudWatch groups a query without its own runs over: the selected source's, else
    /// every CloudWatch source's.
    pub fn query_groups(&self) -> Vec<String> {
        let group = |v: &SourceView| {
            v.path
                .to_str()
                .and_then(super::cloudwatch::target_of)
                .map(|(g, _)| g.to_string())
        };
        if let Some(g) = self.sources.get(self.selected).and_then(group) {
            return vec![g];
        }
        let mut out: Vec<String> = Vec::new();
        for g in self.sources.iter().filter_map(group) {
            if !out.contains(&g) {
                out.push(g);
            }
        }
        out
    }

    /// Rows the view has now.
    pub fn row_count(&self) -> usize {
        match (&self.rows, self.source()) {
            (Some(r), Some(s)) => r.len() - r.partition_point(|&a| a < s.store.dropped()),
            (None, Some(s)) => s.store.len(),
            _ => 0,
        }
    }

    /// The store index of row `r`.
    pub fn row_line(&self, r: usize) -> Option<usize> {
        let s = self.source()?;
        let d = s.store.dropped();
        match &self.rows {
            Some(rows) => {
                let first = rows.partition_point(|&a| a < d);
                rows.get(first + r).map(|&a| (a - d) as usize)
            }
            None => (r < s.store.len()).then_some(r),
        }
    }

    /// The first row on screen.
    pub fn first_row(&self) -> usize {
        let n = self.row_count();
        if self.follow {
            n.saturating_sub(self.page)
        } else {
            self.top.min(n.saturating_sub(1))
        }
    }

    pub fn matcher(&self) -> Option<&Matcher> {
        self.query.matcher.as_ref()
    }

    pub fn level(&self) -> Option<Level> {
        self.query.level
    }

    /// Scrolls by `delta` rows; any move away from the end pauses following.
    pub fn scroll(&mut self, delta: isize) {
        let n = self.row_count();
        let last = n.saturating_sub(self.page);
        let from = self.first_row() as isize;
        let to = (from + delta).clamp(0, last as isize) as usize;
        self.top = to;
        self.follow = to >= last && delta > 0 && self.follow;
    }

    /// Pauses where the view is, or follows again from the end.
    pub fn toggle_follow(&mut self) {
        if self.follow {
            self.top = self.first_row();
            self.follow = false;
        } else {
            self.live();
        }
    }

    /// "Jump to live": the end, following.
    pub fn live(&mut self) {
        self.follow = true;
        self.cursor = None;
    }

    pub fn to_top(&mut self) {
        self.follow = false;
        self.top = 0;
    }

    /// `n` / `N`: the next line (after the cursor, or the first row on screen) matching the
    /// filter's pattern, among the rows shown; the view moves to it and pauses.
    pub fn find(&mut self, forward: bool) -> bool {
        let Some(m) = self.query.matcher.clone() else {
            return false;
        };
        let n = self.row_count();
        if n == 0 {
            return false;
        }
        let Some(s) = self.source() else { return false };
        let d = s.store.dropped();
        let first = self.first_row();
        let start_row = match self.cursor {
            Some(c) => (0..n)
                .find(|&r| self.row_line(r).map(|l| l as u64 + d) >= Some(c))
                .unwrap_or(n - 1),
            None if forward => first.saturating_sub(1),
            None => (first + self.page).min(n),
        };
        let order: Box<dyn Iterator<Item = usize>> = if forward {
            Box::new((start_row + 1..n).chain(0..start_row.min(n)))
        } else {
            Box::new((0..start_row).rev().chain((start_row..n).rev()))
        };
        let mut lines = s.store.lines();
        for r in order {
            let Some(l) = self.row_line(r) else { continue };
            if m.is_match(lines.get(l)) {
                self.cursor = Some(l as u64 + d);
                self.follow = false;
                self.top = first;
                if r < first || r >= first + self.page {
                    self.top = r.saturating_sub(self.page / 2);
                }
                return true;
            }
        }
        false
    }
}
