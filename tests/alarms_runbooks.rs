//! The runbooks shipped for the six CloudWatch alarms of seeds 001 and 002: each parses,
//! runs only read-only commands (argv, no shell), and is what the default mappings link the
//! seeds' alarm names to; a dry run with an alarm's parameters shows the exact commands.

use std::path::{Path, PathBuf};

use toban::alarms::classify;
use toban::alarms::model::{Alarm, AlarmKind, AlarmState};
use toban::config::alarms::AlarmsConfig;
use toban::providers::ProviderId;
use toban::runbook::spec::{self, StepAction};

const NAMES: [&str; 6] = [
    "cw-high-error-rate",
    "cw-high-latency",
    "cw-db-connection-errors",
    "cw-alb-5xx",
    "cw-ecs-cpu-high",
    "cw-rds-storage-low",
];

/// `aws <service> <verb>` where the verb only reads.
fn read_only(argv: &[String]) -> bool {
    let verb = argv.get(2).map(String::as_str).unwrap_or_default();
    argv.first().map(String::as_str) == Some("aws")
        && ["describe-", "get-", "list-", "filter-"]
            .iter()
            .any(|p| verb.starts_with(p))
        || (argv.get(1).map(String::as_str) == Some("logs")
            && verb == "tail"
            && !argv.iter().any(|a| a == "--follow"))
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

#[test]
fn each_parses_and_only_reads() {
    for name in NAMES {
        let path = repo(&format!("runbooks/{name}.toml"));
        let text = std::fs::read_to_string(&path).unwrap();
        let rb = spec::parse(&path, &text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(rb.name, name);
        let mut commands = 0;
        for step in &rb.steps {
            if let StepAction::Command(c) = &step.action {
                let argv = &c.argv;
                commands += 1;
                assert!(
                    read_only(argv),
                    "{name}/{}: {argv:?} changes something",
                    step.id
                );
                assert!(!step.destructive);
            }
            assert!(
                !matches!(
                    step.action,
                    StepAction::Container { .. } | StepAction::Sql { .. }
                ),
                "{name}/{} acts",
                step.id
            );
        }
        assert!(commands >= 1, "{name} reads something");
        assert!(rb.params.iter().any(|p| p.name == "region"));
    }
}

#[test]
fn the_seeds_alarm_names_lead_to_them_with_their_context() {
    let cfg = AlarmsConfig::default();
    let table = [
        (
            "goal-mandala-production-high-error-rate",
            "cw-high-error-rate",
        ),
        ("goal-mandala-production-high-latency", "cw-high-latency"),
        (
            "goal-mandala-production-database-connection-error",
            "cw-db-connection-errors",
        ),
        ("alb-5xx-error-rate", "cw-alb-5xx"),
        ("ecs-cpu-high", "cw-ecs-cpu-high"),
        ("rds-storage-low", "cw-rds-storage-low"),
    ];
    for (alarm, runbook) in table {
        let mut a = Alarm::new(
            ProviderId::named("cloudwatch", "prod"),
            alarm.into(),
            AlarmKind::Metric,
            alarm,
            AlarmState::Firing,
            chrono::Utc::now(),
        );
        a.region = Some("ap-northeast-1".into());
        a.dimensions = vec![("DBInstanceIdentifier".into(), "facility-prod-db".into())];
        let link = classify::runbook(&cfg, &a).unwrap();
        assert_eq!(link.name, runbook, "{alarm}");
        assert_eq!(link.params["region"], "ap-northeast-1");
        // Every parameter handed over is one the runbook declares.
        let text = std::fs::read_to_string(repo(&format!("runbooks/{runbook}.toml"))).unwrap();
        let rb = spec::parse(Path::new(runbook), &text).unwrap();
        for k in link.params.keys() {
            assert!(
                rb.params.iter().any(|p| &p.name == k),
                "{runbook} lacks param {k}"
            );
        }
    }
}

#[test]
fn a_dry_run_shows_the_commands_with_the_alarms_parameters() {
    let home = tempfile::tempdir().unwrap();
    let books = home.path().join("books");
    std::fs::create_dir_all(&books).unwrap();
    for name in NAMES {
        std::fs::copy(
            repo(&format!("runbooks/{name}.toml")),
            books.join(format!("{name}.toml")),
        )
        .unwrap();
    }
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[runbooks]\ndirs = [\"{}\"]\n", books.display()),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_toban"))
        .arg("--config")
        .arg(&config)
        .args([
            "runbook",
            "run",
            "cw-ecs-cpu-high",
            "--dry-run",
            "--set",
            "region=eu-west-1",
            "--set",
            "cluster=shop-cluster",
            "--set",
            "service=cart",
        ])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("describe-services"), "{text}");
    assert!(text.contains("shop-cluster"), "{text}");
    assert!(text.contains("service/shop-cluster/cart"), "{text}");
}
