//! Frame render time of the Overview at 160x48 (target: under 1 ms).

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use toban::config::keymap::Keymap;
use toban::config::theme::Theme;
use toban::config::HostConfig;
use toban::providers::host_types::{DiskUsage, HostSample};

use toban::console::update;
use toban::state::{Msg, State};

fn state() -> State {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap();
    let mut s = State::new(HostConfig::default(), Keymap::builtin_default(), t0);
    s.hostname = "ops-1".into();
    for i in 0..300 {
        let sample = HostSample {
            at: t0 + chrono::Duration::seconds(2 * i),
            cpu_pct: (i % 100) as f64,
            mem_used: 3 << 30,
            mem_total: 8 << 30,
            load: [0.5, 0.4, 0.3],
            cores: 4,
            disks: (0..8)
                .map(|d| DiskUsage {
                    mount: format!("/mnt/disk{d}"),
                    fs_type: "ext4".into(),
                    total: 100 << 30,
                    used: (d as u64 * 12) << 30,
                    avail: (100 - d as u64 * 12) << 30,
                })
                .collect(),
        };
        update(&mut s, Msg::Host(sample));
    }
    s
}

fn overview_160x48(c: &mut Criterion) {
    let s = state();
    let theme = Theme::fallback();
    let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
    c.bench_function("render overview 160x48", |b| {
        b.iter(|| {
            term.draw(|f| toban::console::render(f, &s, &theme))
                .unwrap();
        })
    });
}

criterion_group!(benches, overview_160x48);
criterion_main!(benches);
