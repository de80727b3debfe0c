//! 10,000 alarms (issue 16's budget: each under 2 ms):
//! - filtering as you type: one keystroke of `set_filter` (parse + match every row), for a
//!   word, a word plus `state:`/`source:` terms, and a `key=value` label;
//! - drawing a frame of the list at 80x24 and 160x48, and of the detail view with its chart.
//!
//! Also ingesting a 10,000-alarm snapshot (sort, classify), for reference.

use chrono::{Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use toban::alarms::model::{
    Alarm, AlarmKind, AlarmState, Comparison, MetricQuery, Series, Snapshot, Threshold,
};
use toban::alarms::{update, view, AlarmsMsg, AlarmsState};
use toban::config::alarms::AlarmsConfig;
use toban::config::theme::Theme;
use toban::providers::ProviderId;

const N: usize = 10_000;

fn alarms() -> Vec<Alarm> {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap();
    let src = ProviderId::named("cloudwatch", "prod");
    let services = [
        "staff-api",
        "billing",
        "mail",
        "auth",
        "search",
        "cart",
        "media",
    ];
    (0..N)
        .map(|i| {
            let svc = services[i % services.len()];
            let name = format!("{svc}-{}-{i:05}", ["high-error-rate", "high-latency", "ecs-cpu-high", "rds-storage-low", "alb-5xx"][i % 5]);
            let state = match i % 10 {
                0 | 1 => AlarmState::Firing,
                2 => AlarmState::InsufficientData,
                _ => AlarmState::Ok,
            };
            let mut a = Alarm::new(
                src.clone(),
                format!("cloudwatch:prod/ap-northeast-1/{name}"),
                AlarmKind::Metric,
                &name,
                state,
                t0 - Duration::minutes((i % 600) as i64),
            )
            .with_reason(&format!("Threshold Crossed: 1 datapoint [{}.0] was greater than or equal to the threshold (5.0).", i % 13));
            a.label("service", svc);
            a.label("team", if i % 3 == 0 { "web" } else { "platform" });
            a.region = Some("ap-northeast-1".into());
            a.threshold = Some(Threshold { value: 5.0, comparison: Comparison::Ge, over: None });
            a.metric = Some(MetricQuery::Prometheus { expr: "x".into() });
            a.finish();
            a
        })
        .collect()
}

fn state() -> AlarmsState {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap();
    let mut s = AlarmsState::new(&AlarmsConfig::default(), t0);
    update(
        &mut s,
        AlarmsMsg::Snapshot(
            ProviderId::named("cloudwatch", "prod"),
            Snapshot {
                alarms: alarms(),
                ..Default::default()
            },
        ),
        t0,
    );
    s
}

fn filtering(c: &mut Criterion) {
    let mut s = state();
    assert_eq!(s.rows.len(), N);
    let mut g = c.benchmark_group("alarms 10k filter keystroke");
    // Alternate between two texts so every iteration really refilters.
    for (name, a, b) in [
        ("word", "latenc", "latency"),
        (
            "word+state+source",
            "cpu state:alarm source:cloudwatch",
            "cpu state:alarm source:cloudwatc",
        ),
        ("label", "team=web", "team=we"),
    ] {
        let mut flip = false;
        g.bench_function(name, |bench| {
            bench.iter(|| {
                flip = !flip;
                s.set_filter(if flip { a } else { b });
                s.visible.len()
            })
        });
    }
    g.finish();
}

fn drawing(c: &mut Criterion) {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap();
    let theme = Theme::fallback();
    let tz = chrono_tz::Asia::Tokyo;
    let mut s = state();
    s.page_down(4_000);
    let mut g = c.benchmark_group("alarms 10k frame");
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        g.bench_function(format!("list {w}x{h}"), |b| {
            b.iter(|| {
                term.draw(|f| view::list::render(f, f.area(), &s, &theme, t0, tz))
                    .unwrap()
                    .area
                    .width
            })
        });
    }
    s.open_detail(t0);
    let key = s.detail.as_ref().unwrap().key.clone();
    let points = (0..1440)
        .map(|m| {
            (
                t0 - Duration::minutes(180) + Duration::seconds(m * 7),
                (m % 37) as f64,
            )
        })
        .collect();
    update(
        &mut s,
        AlarmsMsg::Chart {
            key,
            source: ProviderId::named("cloudwatch", "prod"),
            result: Ok(vec![Series {
                label: "x".into(),
                points,
            }]),
            metrics: 1,
        },
        t0,
    );
    let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
    g.bench_function("detail with chart 160x48", |b| {
        b.iter(|| {
            term.draw(|f| view::detail::render(f, f.area(), &s, &theme, t0, tz))
                .unwrap()
                .area
                .width
        })
    });
    g.finish();
}

fn ingest(c: &mut Criterion) {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap();
    let rows = alarms();
    let mut s = AlarmsState::new(&AlarmsConfig::default(), t0);
    c.bench_function("alarms 10k snapshot ingest", |b| {
        b.iter(|| {
            update(
                &mut s,
                AlarmsMsg::Snapshot(
                    ProviderId::named("cloudwatch", "prod"),
                    Snapshot {
                        alarms: rows.clone(),
                        ..Default::default()
                    },
                ),
                t0,
            )
            .len()
        })
    });
}

criterion_group!(benches, filtering, drawing, ingest);
criterion_main!(benches);
