//! `toban runbook list | show NAME | run NAME | history [--run ID] | abort RUN`: each writes to `out`
//! and returns the process exit code. (clap wiring lives in `src/cli/`.)

use std::collections::BTreeMap;
use std::io::Write;

use super::engine::{initial_params, Engine, RunOptions};
use super::runner::{self, HeadlessOpts, RunEnv, EXIT_FAILED, EXIT_OK, EXIT_USAGE};
use super::spec::{DrillMode, ParamKind, Runbook};
use crate::sanitize::strip_escapes;
use crate::store::Store;

pub fn list(out: &mut dyn Write, books: &[Runbook]) -> i32 {
    let width = books.iter().map(|b| b.name.len()).max().unwrap_or(0);
    for b in books {
        let _ = writeln!(
            out,
            "{:width$}  {:<11}  {}{}",
            b.name,
            format!("{:?}", b.kind).to_lowercase(),
            b.title,
            if b.drillable { "  [drill]" } else { "" }
        );
    }
    EXIT_OK
}

fn find<'a>(out: &mut dyn Write, books: &'a [Runbook], name: &str) -> Option<&'a Runbook> {
    let b = books.iter().find(|b| b.name == name);
    if b.is_none() {
        let names: Vec<&str> = books.iter().map(|b| b.name.as_str()).collect();
        let _ = writeln!(
            out,
            "error: no runbook `{name}` (have: {})",
            names.join(", ")
        );
    }
    b
}

/// The runbook's parameters and every step with what it would do (defaults filled in).
pub fn show(out: &mut dyn Write, books: &[Runbook], name: &str) -> i32 {
    let Some(b) = find(out, books, name) else {
        return EXIT_USAGE;
    };
    let _ = writeln!(out, "{} — {}", b.name, b.title);
    let _ = writeln!(out, "source: {}", b.source.display());
    if !b.description.is_empty() {
        let _ = writeln!(out, "\n{}", b.description.trim());
    }
    let _ = writeln!(out, "\nparameters:");
    for p in &b.params {
        let default = match (&p.default, p.kind) {
            (Some(_), ParamKind::Secret) => " (default set, hidden)".to_string(),
            (Some(d), _) => format!(" (default {d:?})"),
            (None, _) => String::new(),
        };
        let _ = writeln!(
            out,
            "  {:<14} {:<10} {}{}{}",
            p.name,
            format!("{:?}", p.kind).to_lowercase(),
            p.label.clone().unwrap_or_default(),
            default,
            if p.required { "" } else { " [optional]" }
        );
    }
    let params = initial_params(b, &BTreeMap::new(), false, "RUN-ID").unwrap_or_default();
    let engine = Engine::new(
        b.clone(),
        "RUN-ID".into(),
        params,
        RunOptions::default(),
        String::new(),
        None,
        0,
    );
    let _ = writeln!(out, "\nsteps:");
    for (i, s) in b.steps.iter().enumerate() {
        let mut flags = Vec::new();
        if s.destructive {
            flags.push("destructive".to_string());
        }
        if s.rollback_only {
            flags.push("rollback only".into());
        }
        match s.drill {
            DrillMode::Skip => flags.push("not in drills".into()),
            DrillMode::Only => flags.push("drill only".into()),
            _ => {}
        }
        if let Some(w) = &s.when {
            flags.push(format!("when {w}"));
        }
        let _ = writeln!(
            out,
            "{:>3}. [{}] {} ({}){}",
            i + 1,
            s.action.kind_name(),
            s.title,
            s.id,
            if flags.is_empty() {
                String::new()
            } else {
                format!("  — {}", flags.join(", "))
            }
        );
        for l in engine.preview(i) {
            let _ = writeln!(out, "       {l}");
        }
    }
    EXIT_OK
}

/// Parses `--set key=value` arguments.
pub fn parse_sets(sets: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut m = BTreeMap::new();
    for s in sets {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| format!("--set `{s}`: expected key=value"))?;
        m.insert(k.trim().to_string(), v.to_string());
    }
    Ok(m)
}

pub async fn run(
    out: &mut (dyn Write + Send),
    env: &RunEnv,
    books: &[Runbook],
    name: &str,
    sets: &[String],
    opts: &HeadlessOpts,
) -> i32 {
    let b = match books.iter().find(|b| b.name == name) {
        Some(b) => b,
        None => {
            let _ = writeln!(out, "error: no runbook `{name}`");
            return EXIT_USAGE;
        }
    };
    let params = match parse_sets(sets) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(out, "error: {e}");
            return EXIT_USAGE;
        }
    };
    runner::run_headless(env, b, &params, opts, out).await
}

/// Runs, newest first; or one run in full (every audit record) with `run`.
pub async fn history(out: &mut dyn Write, store: &Store, run: Option<&str>, limit: i64) -> i32 {
    match run {
        None => match store.run_history(limit).await {
            Ok(runs) => {
                for r in runs {
                    let mode = match (r.dry_run, r.drill) {
                        (true, _) => " (dry run)",
                        (false, true) => " (drill)",
                        _ => "",
                    };
                    let dur = r
                        .finished
                        .map(|f| format!("{}s", (f - r.started).num_seconds()))
                        .unwrap_or_else(|| "-".into());
                    // An open run says who drives it now (or that nobody does).
                    let held = if r.status == "active" {
                        let now_ms = chrono::Utc::now().timestamp_millis();
                        match store.run_lease(&r.run_id).await {
                            Ok(Some(l)) if l.is_live(now_ms) => {
                                format!("  [{}]", strip_escapes(&l.describe(now_ms)))
                            }
                            Ok(Some(_)) => "  [lease lapsed: open to resume]".into(),
                            _ => String::new(),
                        }
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        out,
                        "{}  {}  {:<20} {:<10} {:>6}  {}{}{}{held}",
                        strip_escapes(&r.run_id),
                        r.started.format("%Y-%m-%d %H:%M:%S"),
                        strip_escapes(&r.runbook),
                        r.status,
                        dur,
                        strip_escapes(&r.user),
                        r.ssh_client
                            .map(|s| format!(" from {}", strip_escapes(&s)))
                            .unwrap_or_default(),
                        mode
                    );
                    if r.drill && !r.dry_run {
                        if let Ok(Some(d)) = store.drill_of(&r.run_id).await {
                            let _ = writeln!(out, "    {}", drill_line(&d));
                        }
                    }
                }
                EXIT_OK
            }
            Err(e) => {
                let _ = writeln!(out, "error: {e:#}");
                EXIT_FAILED
            }
        },
        Some(id) => {
            let audit = match store.run_audit(id).await {
                Ok(a) => a,
                Err(e) => {
                    let _ = writeln!(out, "error: {e:#}");
                    return EXIT_FAILED;
                }
            };
            if audit.is_empty() {
                let _ = writeln!(out, "error: no run `{id}`");
                return EXIT_USAGE;
            }
            for a in audit {
                let at = crate::store::from_ms(a.at_ms).format("%Y-%m-%d %H:%M:%S%.3f");
                // What was stored may quote a server or a program: never raw to a terminal.
                let _ = writeln!(
                    out,
                    "{at}  {:<10} {:<16} {}{}",
                    strip_escapes(&a.event),
                    strip_escapes(&a.step_id.unwrap_or_default()),
                    strip_escapes(&a.user),
                    a.ssh_client
                        .map(|s| format!(" from {}", strip_escapes(&s)))
                        .unwrap_or_default()
                );
                for l in a.detail.lines() {
                    let _ = writeln!(out, "    {}", strip_escapes(l));
                }
                let mut facts = Vec::new();
                if let Some(c) = a.exit_code {
                    facts.push(format!("exit {c}"));
                }
                if let Some(d) = a.duration_ms {
                    facts.push(format!("{:.1}s", d as f64 / 1000.0));
                }
                if let Some(d) = a.digest {
                    facts.push(strip_escapes(&d));
                }
                if a.dry_run {
                    facts.push("dry run".into());
                }
                if !facts.is_empty() {
                    let _ = writeln!(out, "    [{}]", facts.join(", "));
                }
                if let Some(t) = a.tail.filter(|t| !t.is_empty()) {
                    for l in t.lines() {
                        let _ = writeln!(out, "    | {}", strip_escapes(l));
                    }
                }
            }
            if let Ok(Some(d)) = store.drill_of(id).await {
                let _ = writeln!(out, "{}", drill_line(&d));
            }
            EXIT_OK
        }
    }
}

/// `passed, RTO 1.9s machine (headless) · 2 tables, 2002 rows`: the drill's verdict, its
/// times named (machine: the steps' own; wall: with the operator's pauses) and its proof.
fn drill_line(d: &super::store::Drill) -> String {
    let secs = |ms: i64| format!("{:.1}s", ms as f64 / 1000.0);
    let times = match (d.machine_ms, d.interactive) {
        (Some(m), true) => format!("RTO {} machine, {} wall", secs(m), secs(d.duration_ms)),
        (Some(m), false) => format!("RTO {} machine (headless)", secs(m)),
        (None, _) => format!("RTO {} wall", secs(d.duration_ms)),
    };
    let verdict = if d.ok {
        "passed".to_string()
    } else {
        format!("FAILED: {}", d.detail)
    };
    let mut lines = d.proof.lines().peekable();
    let head = lines
        .next_if(|l| l.starts_with("every table matches"))
        .map(|l| format!("{l}: "));
    let proof = format!(
        "{}{}",
        head.unwrap_or_default(),
        lines.collect::<Vec<_>>().join(", ")
    );
    let line = if proof.is_empty() {
        format!("drill {verdict}, {times}")
    } else {
        format!("drill {verdict}, {times} · {proof}")
    };
    strip_escapes(&line)
}

/// `toban runbook abort RUN [--reason TEXT]`: ends an open run as aborted, with an audit
/// entry naming the user, the SSH client and the reason. Its `finally` steps run first, as
/// in the console (a drill left by a toban that died drops its scratch database); a run
/// whose runbook changed or is gone is ended without them (read-only), and says so. One
/// another session drives right now (a live lease) cannot be aborted.
/// Exit 0 aborted, 1 not possible (already ended, held elsewhere, store error) or a cleanup
/// step failed, 2 no such run.
pub async fn abort(
    out: &mut (dyn Write + Send),
    env: &RunEnv,
    books: &[Runbook],
    run_id: &str,
    reason: Option<&str>,
) -> i32 {
    use super::lease::LeaseHolder;
    let now_ms = chrono::Utc::now().timestamp_millis();
    let state = match env.store.load_run(run_id).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            let _ = writeln!(out, "error: no run `{}`", strip_escapes(run_id));
            return EXIT_USAGE;
        }
        Err(e) => {
            let _ = writeln!(out, "error: {e:#}");
            return EXIT_FAILED;
        }
    };
    if state.status.is_finished() {
        let _ = writeln!(
            out,
            "error: run {} already ended ({}): nothing to abort",
            strip_escapes(run_id),
            state.status.as_str()
        );
        return EXIT_FAILED;
    }
    match env.store.run_lease(run_id).await {
        Ok(Some(l)) if !l.is_held_by(&LeaseHolder::this_session()) && l.is_live(now_ms) => {
            let _ = writeln!(
                out,
                "error: run {} is being driven by another session ({}): not aborted",
                strip_escapes(run_id),
                l.describe(now_ms)
            );
            return EXIT_FAILED;
        }
        Err(e) => {
            let _ = writeln!(out, "error: {e:#}");
            return EXIT_FAILED;
        }
        _ => {}
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let why = match reason {
        Some(r) => format!("aborted from the command line: {r}"),
        None => "aborted from the command line".into(),
    };
    let shown = strip_escapes(run_id);
    let runbook = strip_escapes(&state.runbook);
    // With its runbook as it was, the run ends through its cleanup steps.
    let engine = books
        .iter()
        .find(|b| b.name == state.runbook)
        .map(|spec| Engine::resume(spec.clone(), state.clone()))
        .filter(|e| e.read_only.is_none() && e.spec.steps.iter().any(|s| s.finally));
    if let Some(mut engine) = engine {
        // A lapsed lease (a toban that died) is taken over: ending a run is what it is for.
        let keeper = match take_run(out, env, &mut engine, now_ms, true, "not aborted").await {
            Ok(k) => k,
            Err(code) => return code,
        };
        let _ = writeln!(
            out,
            "run {shown} of `{runbook}`: its cleanup steps run first"
        );
        let code = runner::abort_headless(env, &mut engine, why, out).await;
        keeper.abort();
        let _ = writeln!(out, "run {shown} of `{runbook}`: aborted");
        return code;
    }
    // The runbook is not needed to end a run (its file may be gone or changed).
    let mut engine = Engine::read_only(None, state, "aborted from the command line".into());
    engine.set_actor(runner::current_user(), runner::ssh_client());
    for fx in engine.abort_now(why, now_ms) {
        if let Err(e) = runner::record(env, &engine.state, &fx).await {
            let _ = writeln!(out, "error: {e}");
            return EXIT_FAILED;
        }
    }
    let _ = writeln!(out, "run {shown} of `{runbook}`: aborted");
    EXIT_OK
}

/// Takes `engine`'s run for this session (a lapsed lease too when `take_over`), keeps its
/// lease renewed while the returned task lives, and loads the run's secrets: what driving
/// an open run headless needs. Err is the exit code, after saying why (`refused` ends the
/// line for a run another session holds).
async fn take_run(
    out: &mut (dyn Write + Send),
    env: &RunEnv,
    engine: &mut Engine,
    now_ms: i64,
    take_over: bool,
    refused: &str,
) -> Result<tokio::task::JoinHandle<()>, i32> {
    use super::lease::{Claim, LeaseHolder};
    let run_id = engine.state.run_id.clone();
    let shown = strip_escapes(&run_id);
    match env
        .store
        .claim_run(&run_id, &LeaseHolder::this_session(), now_ms, take_over)
        .await
    {
        Ok(Claim::Held) => {}
        Ok(Claim::Busy(l)) | Ok(Claim::Lapsed(l)) => {
            let _ = writeln!(
                out,
                "error: run {shown} is {}: {refused}",
                l.describe(now_ms)
            );
            return Err(EXIT_FAILED);
        }
        Ok(Claim::NoRun) => {
            let _ = writeln!(out, "error: run {shown} is no longer open");
            return Err(EXIT_FAILED);
        }
        Err(e) => {
            let _ = writeln!(out, "error: {e:#}");
            return Err(EXIT_FAILED);
        }
    }
    let keeper = super::runner::lease_keeper::keep(env.store.clone(), run_id.clone(), false, None);
    engine.set_actor(runner::current_user(), runner::ssh_client());
    engine.state.secrets = runner::load_secrets(env, &run_id).into();
    Ok(keeper)
}

/// `toban runbook resume RUN [--step accept|rerun|abort] [--yes TARGET]`: goes on with a
/// run left open, headless. A run whose runbook changed or is gone is refused (read-only:
/// `toban runbook abort`); so is one another session holds. A step found interrupted needs
/// `--step`; "rerun" is refused while its original command still runs.
/// Exit codes as `run`: 0 succeeded, 1 failed or refused, 2 usage, 3 an answer was needed.
pub async fn resume(
    out: &mut (dyn Write + Send),
    env: &RunEnv,
    books: &[Runbook],
    run_id: &str,
    step: Option<super::engine::ResumeChoice>,
    yes: &Option<String>,
) -> i32 {
    use super::engine::{Event, Waiting};
    let shown = strip_escapes(run_id);
    let state = match env.store.load_run(run_id).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            let _ = writeln!(out, "error: no run `{shown}`");
            return EXIT_USAGE;
        }
        Err(e) => {
            let _ = writeln!(out, "error: {e:#}");
            return EXIT_FAILED;
        }
    };
    if state.status.is_finished() {
        let status = state.status.as_str();
        let _ = writeln!(out, "error: run {shown} already ended ({status})");
        return EXIT_FAILED;
    }
    let mut engine = match books.iter().find(|b| b.name == state.runbook) {
        Some(spec) => Engine::resume(spec.clone(), state),
        None => {
            let why = format!("the runbook `{}` no longer exists", state.runbook);
            Engine::read_only(None, state, why)
        }
    };
    if let Some(ro) = &engine.read_only {
        let _ = writeln!(
            out,
            "error: run {shown} is read-only: {}; its audit: toban runbook history --run \
             {shown}; end it with: toban runbook abort {shown}",
            strip_escapes(&ro.reason)
        );
        return EXIT_FAILED;
    }
    let now_ms = chrono::Utc::now().timestamp_millis();
    let keeper = match take_run(
        out,
        env,
        &mut engine,
        now_ms,
        false,
        "take it over in the console",
    )
    .await
    {
        Ok(k) => k,
        Err(code) => return code,
    };
    let mut first = runner::reattach_events(env, &engine).await;
    // What the executor says decides whether a decision is needed at all.
    let mut probe = engine.clone();
    for ev in &first {
        probe.handle(ev.clone(), now_ms);
    }
    if probe.waiting() == Waiting::Resolve {
        let rec = probe.state.current.and_then(|i| probe.state.steps.get(i));
        match step {
            Some(c) => first.push(Event::Resolve(c)),
            None => {
                let _ = writeln!(
                    out,
                    "step `{}` was interrupted ({}): pass --step accept, rerun or abort",
                    rec.map(|r| r.id.as_str()).unwrap_or("?"),
                    rec.map(|r| strip_escapes(&r.message)).unwrap_or_default()
                );
                // What the executor found is on record either way.
                for fx in engine.handle_all(first, now_ms) {
                    let _ = runner::record(env, &engine.state, &fx).await;
                }
                keeper.abort();
                return runner::EXIT_NEEDS_CONFIRMATION;
            }
        }
    }
    let code = runner::drive_headless_from(env, &mut engine, yes, out, first).await;
    keeper.abort();
    code
}
