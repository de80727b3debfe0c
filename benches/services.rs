//! The Services tab with many containers (issue 15: 200 listed and sorted without a frame
//! over 16 ms; oxker #34 froze at 120). Each step as the app does it, through `update` and
//! the keymap: a full snapshot taken in, a sort key pressed and the frame drawn after it, a
//! filter keystroke and its frame, and a plain frame at 80x24 and 160x48. 200 and 2,000
//! containers, in 20 compose projects, every one with CPU and memory read.

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use toban::config::keymap::Keymap;
use toban::config::theme::Theme;
use toban::config::HostConfig;
use toban::console::update;
use toban::services::model::{Container, ContainerHealth, ContainerState, StatsSample};
use toban::services::{ContainerUpdate, ServicesMsg, ServicesState};
use toban::state::{Msg, State};

fn containers(n: usize) -> Vec<Container> {
    (0..n)
        .map(|i| Container {
            engine: "local".into(),
            id: format!("{i:064x}"),
            name: format!("project{:02}-service{:03}-1", i % 20, i),
            project: Some(format!("project{:02}", i % 20)),
            service: Some(format!("service{i:03}")),
            image: format!("registry.example/app{}:1.{}", i % 7, i % 13),
            state: if i % 17 == 0 {
                ContainerState::Exited
            } else {
                ContainerState::Running
            },
            health: match i % 5 {
                0 => ContainerHealth::Unhealthy,
                1 => ContainerHealth::Starting,
                2 => ContainerHealth::None,
                _ => ContainerHealth::Healthy,
            },
            restart_count: (i % 4) as i64,
            started_at: Some(Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).unwrap()),
            finished_at: None,
            exit_code: (i % 17 == 0).then_some(137),
            oom_killed: false,
            ports: vec![format!("{}->80/tcp", 8000 + i)],
            health_log: Vec::new(),
        })
        .collect()
}

fn snapshot(n: usize) -> Msg {
    Msg::Services(ServicesMsg::Containers(vec![ContainerUpdate::Snapshot {
        engine: "local".into(),
        describe: "Docker 27.3.1 at unix:///var/run/docker.sock".into(),
        containers: containers(n),
    }]))
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent {
        code: KeyCode::Char(c),
        modifiers: KeyModifiers::NONE,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    })
}

/// The Services tab showing `n` containers, each with CPU and memory read twice.
fn state(n: usize) -> State {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap();
    let mut s = State::new(HostConfig::default(), Keymap::builtin_default(), t0);
    s.hostname = "ops-1".into();
    s.services = ServicesState::new(&Default::default(), vec!["local".into()]);
    update(&mut s, snapshot(n));
    for round in 0..2u64 {
        let stats = (0..n)
            .map(|i| {
                (
                    "local".to_string(),
                    format!("{i:064x}"),
                    StatsSample {
                        at_ms: round as i64 * 10_000,
                        cpu_total: round * (i as u64 + 1) * 10_000_000,
                        system_total: round * 40_000_000_000,
                        online_cpus: 4,
                        mem_used: (i as u64 + 1) << 20,
                        mem_limit: 8 << 30,
                    },
                )
            })
            .collect();
        update(&mut s, Msg::Services(ServicesMsg::Stats(stats)));
    }
    update(&mut s, key('6'));
    assert_eq!(s.tab, toban::tab::Tab::Services);
    s
}

fn services(c: &mut Criterion) {
    let theme = Theme::fallback();
    let mut g = c.benchmark_group("services");
    for n in [200usize, 2000] {
        let mut s = state(n);
        let list = containers(n);
        g.bench_with_input(BenchmarkId::new("snapshot taken in", n), &n, |b, _| {
            b.iter_batched(
                || {
                    Msg::Services(ServicesMsg::Containers(vec![ContainerUpdate::Snapshot {
                        engine: "local".into(),
                        describe: "Docker 27.3.1 at unix:///var/run/docker.sock".into(),
                        containers: list.clone(),
                    }]))
                },
                |m| update(&mut s, m),
                criterion::BatchSize::SmallInput,
            )
        });
        for (w, h) in [(80u16, 24u16), (160, 48)] {
            let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
            g.bench_with_input(BenchmarkId::new(format!("frame {w}x{h}"), n), &n, |b, _| {
                b.iter(|| {
                    term.draw(|f| toban::console::render(f, &s, &theme))
                        .unwrap();
                })
            });
        }
        let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
        g.bench_with_input(
            BenchmarkId::new("sort key `o` + frame 160x48", n),
            &n,
            |b, _| {
                b.iter(|| {
                    update(&mut s, key('o'));
                    term.draw(|f| toban::console::render(f, &s, &theme))
                        .unwrap();
                })
            },
        );
        // A filter typed one key at a time: each keystroke re-filters and redraws.
        update(&mut s, key('/'));
        g.bench_with_input(
            BenchmarkId::new("filter keystroke + frame 160x48", n),
            &n,
            |b, _| {
                b.iter(|| {
                    update(&mut s, key('1'));
                    term.draw(|f| toban::console::render(f, &s, &theme))
                        .unwrap();
                    update(
                        &mut s,
                        Msg::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)),
                    );
                })
            },
        );
        update(
            &mut s,
            Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
        );
    }
    g.finish();
}

criterion_group!(benches, services);
criterion_main!(benches);
