//! Logs on a generated 1,000,000-line (~77 MB) file in the page cache (issue 17's budgets):
//! - the first screen: the tail read and one frame drawn (budget 50 ms, whatever the size);
//! - the full index: the whole file read into the chunked store with memchr (budget 0.25 s);
//! - a filter's first screen of matches (the last 20,000 lines, budget 50 ms) and its full
//!   count (budget 0.15 s);
//! - `toban logs FILE --grep RE` in-process, output discarded (compare with `grep -cE`:
//!   `benches/logs_vs_grep.sh` runs both binaries side by side).

use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicU64;

use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use toban::config::theme::Theme;
use toban::logs::search::{search, Matcher, Query};
use toban::logs::state::{LogsState, SourceView};
use toban::logs::{load, view};

const RE: &str = "ERROR.*svc-1[0-2]";

pub fn million_lines(path: &Path) {
    let levels = [
        "INFO", "INFO", "INFO", "DEBUG", "WARN", "INFO", "ERROR", "INFO",
    ];
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    for i in 0..1_000_000u64 {
        let s = i % 86_400;
        writeln!(
            f,
            "2026-12-03T{:02}:{:02}:{:02}Z {:<5} [svc-{}] req={:07} GET /api/v1/items/{} took={}ms",
            s / 3600,
            s / 60 % 60,
            s % 60,
            levels[(i * 7 % 8) as usize],
            i % 13,
            i,
            i * 31 % 977,
            i * 17 % 1500
        )
        .unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    million_lines(&path);
    let end = std::fs::metadata(&path).unwrap().len();
    let cap = 1_000_000;
    let theme = Theme::fallback();
    let mut g = c.benchmark_group("logs");
    g.sample_size(10);

    g.bench_function("first_screen_tail_and_frame_80x24", |b| {
        b.iter(|| {
            let store = load::tail(&path, end, cap).unwrap();
            let mut s = LogsState::new(
                vec![SourceView::new("big".into(), path.clone(), cap)],
                10,
                cap,
            );
            s.sources[0].store = store;
            let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
            term.draw(|f| view::render(f, f.area(), &s, &theme, chrono::Utc::now(), &[]))
                .unwrap();
        })
    });
    g.bench_function("full_index_1m_lines", |b| {
        b.iter(|| load::full(&path, end, cap).unwrap())
    });

    let (store, _) = load::full(&path, end, cap).unwrap();
    let q = Query {
        matcher: Some(Matcher::regex(RE).unwrap()),
        level: None,
    };
    let cur = AtomicU64::new(1);
    g.bench_function("filter_first_screen_last_20k", |b| {
        b.iter(|| search(&store, store.len() - 20_000, &q, 1, &cur).unwrap())
    });
    g.bench_function("filter_full_count", |b| {
        b.iter(|| search(&store, 0, &q, 1, &cur).unwrap().len())
    });
    let q_level = Query {
        matcher: None,
        level: Some(toban::logs::Level::Error),
    };
    g.bench_function("level_filter_errors", |b| {
        b.iter(|| search(&store, 0, &q_level, 1, &cur).unwrap().len())
    });
    g.bench_function("cli_grep_in_process", |b| {
        b.iter(|| {
            let args = toban::logs::cli::LogsArgs {
                sources: vec![path.display().to_string()],
                grep: Some(RE.into()),
                level: None,
                since: None,
                follow: false,
                json: false,
                raw: false,
            };
            toban::logs::cli::main(
                args,
                &Default::default(),
                &mut std::io::sink(),
                &mut std::io::sink(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
