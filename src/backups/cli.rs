//! `toban backups verify [--service S] [--json]`: the headless twin of the Backups tab's
//! verify, for cron. Exit 0 when every backup is intact, 1 on any failure or problem, 2 on
//! a usage or configuration error. Times are shown in the configured zone (JSON keeps UTC).

use std::io::Write;

use chrono::Utc;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::catalog::{BackupEntry, Catalog};
use super::config::BackupsConfig;
use super::manifest::clip;
use super::scan::scan_once;
use super::verify::{verdict, verify_backup, Verdict, VerifyReport};
use crate::store::Store;
use crate::time::Zone;

#[derive(Serialize)]
struct JsonOut<'a> {
    ok: bool,
    verified: usize,
    failed: usize,
    roots: Vec<JsonRoot<'a>>,
    backups: Vec<JsonBackup<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    store_error: Option<String>,
}

#[derive(Serialize)]
struct JsonRoot<'a> {
    path: &'a std::path::Path,
    error: Option<&'a str>,
    used_pct: Option<f64>,
}

#[derive(Serialize)]
struct JsonBackup<'a> {
    ok: bool,
    summary: String,
    service: &'a str,
    kind: &'a str,
    name: &'a str,
    path: &'a std::path::Path,
    time: chrono::DateTime<Utc>,
    status: &'a str,
    /// Found by the scan (manifest defects, missing files …).
    problems: Vec<&'a str>,
    report: &'a VerifyReport,
}

/// Verifies every backup (of `service`, when given), records each result in `store`, and
/// prints one line per backup (or one JSON document). Returns the exit code.
pub async fn verify_command(
    cfg: &BackupsConfig,
    zone: &Zone,
    store: Option<&Store>,
    service: Option<&str>,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<i32> {
    if cfg.roots.is_empty() {
        writeln!(
            out,
            "toban: no backup roots configured. Add to config.toml:\n\n[backups]\nroots = [\"/mnt/backup-hdd\"]"
        )?;
        return Ok(2);
    }
    let c = cfg.clone();
    let catalog: Catalog = tokio::task::spawn_blocking(move || scan_once(&c, Utc::now())).await?;
    let entries: Vec<BackupEntry> = match service {
        Some(s) => match catalog.service(s) {
            Some(svc) => svc.backups.clone(),
            None => {
                let known: Vec<&str> = catalog.services.iter().map(|s| s.name.as_str()).collect();
                writeln!(
                    out,
                    "toban: no service `{}` under the backup roots (found: {})",
                    clip(s),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )?;
                return Ok(2);
            }
        },
        None => catalog.entries().cloned().collect(),
    };

    let cancel = CancellationToken::new();
    let mut reports = Vec::with_capacity(entries.len());
    let mut store_error = None;
    for e in &entries {
        let entry = e.clone();
        let token = cancel.clone();
        let report =
            tokio::task::spawn_blocking(move || verify_backup(&entry, &token, &mut |_| {})).await?;
        if let Some(s) = store {
            if let Err(err) = s.record_backup_verification(&report).await {
                store_error = Some(format!("{err:#}"));
            }
        }
        reports.push(report);
    }

    let root_failed = catalog.roots.iter().any(|r| r.error.is_some());
    let results: Vec<Verdict> = entries
        .iter()
        .zip(&reports)
        .map(|(e, r)| verdict(e, r))
        .collect();
    let failed = results.iter().filter(|v| !v.ok).count();
    let all_ok = failed == 0 && !root_failed && !entries.is_empty();

    if json {
        let doc = JsonOut {
            ok: all_ok,
            verified: entries.len(),
            failed,
            roots: catalog
                .roots
                .iter()
                .map(|r| JsonRoot {
                    path: &r.path,
                    error: r.error.as_deref(),
                    used_pct: r.usage.map(|u| (u.used_pct() * 10.0).round() / 10.0),
                })
                .collect(),
            backups: entries
                .iter()
                .zip(&reports)
                .zip(&results)
                .map(|((e, r), v)| JsonBackup {
                    ok: v.ok,
                    summary: v.summary.clone(),
                    service: &e.service,
                    kind: e.kind.as_str(),
                    name: &e.name,
                    path: &e.path,
                    time: e.time,
                    status: e.status.as_str(),
                    problems: e.problems.iter().map(|p| p.message.as_str()).collect(),
                    report: r,
                })
                .collect(),
            store_error: store_error.clone(),
        };
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)?;
    } else {
        for r in &catalog.roots {
            if let Some(err) = &r.error {
                writeln!(out, "FAIL  root {}: {err}", r.path.display())?;
            }
        }
        for (e, v) in entries.iter().zip(&results) {
            writeln!(
                out,
                "{}  {:<14} {:<7} {:<24} {}  {}",
                if v.ok { "OK  " } else { "FAIL" },
                clip(&e.service),
                e.kind.as_str(),
                clip(&e.name),
                zone.show(e.time),
                v.summary
            )?;
            for d in &v.details {
                writeln!(out, "      {d}")?;
            }
        }
        if entries.is_empty() {
            writeln!(out, "no backups found under the configured roots")?;
        } else {
            writeln!(
                out,
                "{} backup{} verified: {} ok, {failed} failed (times in {})",
                entries.len(),
                if entries.len() == 1 { "" } else { "s" },
                entries.len() - failed,
                zone.name()
            )?;
        }
        if let Some(e) = &store_error {
            writeln!(out, "warning: results not recorded: {e}")?;
        }
    }
    Ok(if all_ok { 0 } else { 1 })
}
