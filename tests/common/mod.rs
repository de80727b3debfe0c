//! Shared setup for screen tests: a state with fixed time and host data.
#![allow(dead_code)]

pub mod console;
pub mod services;

use chrono::{DateTime, TimeZone, Utc};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;

use toban::config::keymap::Keymap;
use toban::config::theme::Theme;
use toban::config::HostConfig;
use toban::console::update;
use toban::providers::host_types::{DiskUsage, HostSample};
use toban::state::{Msg, State};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap()
}

pub fn sample(i: i64, cpu: f64, mem_pct: f64, disks: &[(&str, f64)]) -> HostSample {
    let total = 8u64 << 30;
    HostSample {
        at: t0() + chrono::Duration::seconds(2 * i),
        cpu_pct: cpu,
        mem_used: (total as f64 * mem_pct / 100.0) as u64,
        mem_total: total,
        load: [0.42, 0.35, 0.30],
        cores: 4,
        disks: disks
            .iter()
            .map(|(m, p)| DiskUsage {
                mount: m.to_string(),
                fs_type: "ext4".into(),
                total: 200 << 30,
                used: ((200u64 << 30) as f64 * p / 100.0) as u64,
                avail: ((200u64 << 30) as f64 * (100.0 - p) / 100.0) as u64,
            })
            .collect(),
    }
}

pub fn new_state() -> State {
    let mut s = State::new(HostConfig::default(), Keymap::builtin_default(), t0());
    s.hostname = "ops-1".into();
    s
}

/// A state after a minute of samples: CPU climbing into critical, a backup disk critical,
/// the docker disk at warning.
pub fn busy_state() -> State {
    let mut s = new_state();
    let disks = [
        ("/", 62.0),
        ("/mnt/backup-hdd", 88.0),
        ("/var/lib/docker", 72.0),
    ];
    for i in 0..30 {
        let cpu = if i < 25 { 20.0 + i as f64 } else { 97.0 };
        host_sample(&mut s, sample(i, cpu, 41.0, &disks));
    }
    update(&mut s, Msg::Tick(t0() + chrono::Duration::seconds(62)));
    s
}

pub fn draw(state: &State, theme: &Theme, w: u16, h: u16) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| toban::console::render(f, state, theme))
        .unwrap();
    term.backend().buffer().clone()
}

/// The screen as text, then every styled run that is not the default style, so a theme
/// change shows in the snapshot.
pub fn dump(buf: &Buffer, with_styles: bool) -> String {
    let mut out = String::new();
    let area = buf.area;
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if with_styles {
        out.push_str("--- styles ---\n");
        for y in 0..area.height {
            let mut x = 0;
            while x < area.width {
                let c = &buf[(x, y)];
                let key = (c.fg, c.bg, c.modifier);
                let start = x;
                while x < area.width && {
                    let d = &buf[(x, y)];
                    (d.fg, d.bg, d.modifier) == key
                } {
                    x += 1;
                }
                if key != (Color::Reset, Color::Reset, Modifier::empty()) {
                    out.push_str(&format!(
                        "{y:>2}:{start:>3}-{:<3} fg={:?} bg={:?} mod={:?}\n",
                        x - 1,
                        key.0,
                        key.1,
                        key.2
                    ));
                }
            }
        }
    }
    out
}

/// What the host poller sends for one successful poll: its health, then the sample.
pub fn host_sample(s: &mut State, sample: HostSample) -> Vec<toban::state::Effect> {
    let at = sample.at;
    let ok = toban::providers::HealthEvent::Ok { at };
    update(s, Msg::Health(toban::providers::ProviderId::HOST, ok));
    update(s, Msg::Host(sample)).1
}
