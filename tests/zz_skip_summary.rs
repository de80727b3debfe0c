//! The last word of `cargo test`: which service-backed tests did not run in this run, and
//! why. Cargo runs integration test targets in name order (after the unit tests; the crate
//! has no doc tests), so this target, named to sort last, runs after every test that can
//! skip. It has no test harness: it reads the skips recorded by `support::skips` and prints.
//!
//! A run that stops at a failing target never gets here (`--no-fail-fast` does), and a run of
//! other targets only (`cargo test --test store`) does not include it: the failures and the
//! `--nocapture` notes speak for themselves there.

#[allow(dead_code)]
#[path = "support/skips.rs"]
mod skips;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

fn main() {
    // `cargo test -- --list` asks every target for its tests: this one has none.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = skips::run_dir();
    let found = skips::read(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    forget_old_runs();
    print!("{}", summary(&found));
}

fn summary(found: &[skips::Skip]) -> String {
    if found.is_empty() {
        return "toban: every service-backed test ran (none skipped).\n".into();
    }
    let mut by_service: BTreeMap<&str, Vec<&skips::Skip>> = BTreeMap::new();
    for s in found {
        by_service.entry(&s.service).or_default().push(s);
    }
    let mut out = format!(
        "\ntoban: {} service-backed test{} did not run:\n",
        found.len(),
        if found.len() == 1 { "" } else { "s" }
    );
    for (service, list) in &by_service {
        let mut reasons: Vec<&str> = list.iter().map(|s| s.why.as_str()).collect();
        reasons.dedup();
        out.push_str(&format!("  {service} ({}): {}\n", list.len(), reasons[0]));
        for other in reasons.iter().skip(1).take(2) {
            out.push_str(&format!("      also: {other}\n"));
        }
        let mut tests: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for s in list {
            tests.entry(&s.binary).or_default().push(&s.test);
        }
        for (binary, names) in tests {
            out.push_str(&format!("      {binary}: {}\n", names.join(", ")));
        }
    }
    out.push_str(
        "  Install what they need (README, \"Test it\") or run .ci/run; with CI or \
         TOBAN_REQUIRE_SERVICES set they fail instead of skipping.\n",
    );
    out
}

/// Records of runs that never reached this target (interrupted, or `--test` of others).
fn forget_old_runs() {
    let day = Duration::from_secs(24 * 3600);
    for entry in std::fs::read_dir(skips::root())
        .into_iter()
        .flatten()
        .flatten()
    {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > day);
        if old {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
