//! The Services view's state: containers of every engine, check histories, certificates,
//! CPU/memory of the rows on screen, and the tab's selection, sort, filter, detail and
//! confirmation. Plain data: time comes in as arguments, data as messages, work goes out as
//! effects.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{DateTime, Utc};

use super::availability::Outage;
use super::containers::ContainerUpdate;
pub use super::model::Death;
use super::model::{CertInfo, CheckOutcome, Container, ContainerState, StatsSample, Usage};
use crate::config::services::{RestartLoop, ServicesConfig};

/// Latencies kept per check for its sparkline.
pub const LATENCY_HISTORY: usize = 60;
/// Deaths kept per container (the detail lists them; the loop rule counts them).
const DEATHS_KEPT: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerOp {
    Restart,
    Stop,
    Start,
}

impl ContainerOp {
    pub fn verb(self) -> &'static str {
        match self {
            ContainerOp::Restart => "restart",
            ContainerOp::Stop => "stop",
            ContainerOp::Start => "start",
        }
    }
}

/// What the services ask the effect runner to do.
#[derive(Debug, Clone, PartialEq)]
pub enum ServicesEffect {
    /// One stats read for each of these (engine, container id): the rows on screen.
    Stats(Vec<(String, String)>),
    /// The last lines of a container's log, for its detail.
    Logs { engine: String, id: String },
    /// An outage of a check as it is now (started, or ended), for the store.
    RecordOutage { service: String, outage: Outage },
    /// A confirmed action, with who asked (for the audit).
    Act {
        op: ContainerOp,
        engine: String,
        id: String,
        name: String,
        user: String,
        ssh_client: Option<String>,
    },
}

/// What the providers and effects send.
#[derive(Debug, Clone, PartialEq)]
pub enum ServicesMsg {
    Containers(Vec<ContainerUpdate>),
    Check(CheckOutcome),
    Certs(Vec<CertInfo>),
    Stats(Vec<(String, String, StatsSample)>),
    Logs {
        id: String,
        lines: Result<Vec<String>, String>,
    },
    Acted {
        op: ContainerOp,
        name: String,
        result: Result<(), String>,
    },
    /// Outages read back from the store at start.
    Outages(Vec<(String, Outage)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckState {
    pub name: String,
    pub url: String,
    pub threshold: u32,
    pub last: Option<CheckOutcome>,
    pub latencies: VecDeque<u64>,
    /// Failures in a row.
    pub failures: u32,
    pub outages: Vec<Outage>,
}

impl CheckState {
    pub fn failing(&self) -> bool {
        self.failures >= self.threshold
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    #[default]
    Group,
    State,
    Cpu,
    Memory,
}

impl SortBy {
    pub fn next(self) -> SortBy {
        match self {
            SortBy::Group => SortBy::State,
            SortBy::State => SortBy::Cpu,
            SortBy::Cpu => SortBy::Memory,
            SortBy::Memory => SortBy::Group,
        }
    }
    pub fn word(self) -> &'static str {
        match self {
            SortBy::Group => "project",
            SortBy::State => "state",
            SortBy::Cpu => "cpu",
            SortBy::Memory => "memory",
        }
    }
}

/// A row of the tab: a container, a check or a certificate (indexes into the state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    Container(usize),
    Check(usize),
    Cert(usize),
}

/// "Restart web-1?" with Cancel focused.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub op: ContainerOp,
    pub engine: String,
    pub id: String,
    pub name: String,
    /// False: Cancel has the focus (it starts there).
    pub yes_focused: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EngineDown {
    pub reason: String,
    pub last_ok: Option<DateTime<Utc>>,
}

impl ServicesState {
    /// "Podman 4.3.1 at unix://…", or "down, data 2m old: why".
    pub fn engine_word(&self, name: &str, now: DateTime<Utc>) -> String {
        if let Some(d) = self.engines_down.get(name) {
            let age = d
                .last_ok
                .map(|t| format!("data {} old", crate::ui::widgets::format::age(now - t)))
                .unwrap_or_else(|| "no data yet".into());
            return format!("down, {age}: {}", d.reason);
        }
        self.engines
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, how)| how.clone())
            .unwrap_or_else(|| "not connected".into())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub id: String,
    pub logs: Option<Result<Vec<String>, String>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServicesState {
    pub containers: Vec<Container>,
    /// Engines by name and how they answered ("Docker 27.3 at unix://…").
    pub engines: Vec<(String, Option<String>)>,
    /// Engines not answering now: why, and when their data was last fresh.
    pub engines_down: HashMap<String, EngineDown>,
    pub usage: HashMap<String, Usage>,
    last_sample: HashMap<String, StatsSample>,
    pub deaths: HashMap<String, VecDeque<Death>>,
    /// Stopped on purpose (a stop event): its exit is not unexpected.
    pub stopped: HashSet<String>,
    pub checks: Vec<CheckState>,
    pub certs: Vec<CertInfo>,
    pub restart_loop: RestartLoop,
    pub slos: Vec<(String, f64)>,
    pub stats_interval: chrono::Duration,
    pub last_stats: Option<DateTime<Utc>>,
    // The tab.
    pub selected: usize,
    pub offset: usize,
    pub sort: SortBy,
    pub filter: String,
    pub detail: Option<Detail>,
    pub confirm: Option<Confirm>,
    /// The last action's outcome.
    pub notice: Option<String>,
    /// Something is configured to watch (the Overview shows the card).
    pub configured: bool,
}

impl ServicesState {
    pub fn new(cfg: &ServicesConfig, engines: Vec<String>) -> ServicesState {
        ServicesState {
            configured: !engines.is_empty()
                || !cfg.checks.is_empty()
                || !cfg.certificates.is_empty(),
            engines: engines.into_iter().map(|e| (e, None)).collect(),
            checks: cfg
                .checks
                .iter()
                .map(|c| CheckState {
                    name: c.name.clone(),
                    url: c.url.clone(),
                    threshold: c.threshold.max(1),
                    last: None,
                    latencies: VecDeque::new(),
                    failures: 0,
                    outages: Vec::new(),
                })
                .collect(),
            restart_loop: cfg.restart_loop,
            slos: cfg
                .slos
                .iter()
                .map(|s| (s.service.clone(), s.availability))
                .collect(),
            stats_interval: chrono::Duration::from_std(cfg.stats_interval)
                .unwrap_or(chrono::Duration::seconds(5)),
            ..Default::default()
        }
    }

    pub fn slo_of(&self, service: &str) -> f64 {
        self.slos
            .iter()
            .find(|(s, _)| s == service)
            .map(|(_, v)| *v)
            .unwrap_or(99.9)
    }

    pub fn apply(&mut self, msg: ServicesMsg) {
        match msg {
            ServicesMsg::Containers(updates) => {
                for u in updates {
                    self.apply_container(u);
                }
                self.clamp();
            }
            ServicesMsg::Check(o) => self.apply_check(o),
            ServicesMsg::Certs(c) => self.certs = c,
            ServicesMsg::Stats(samples) => {
                for (_, id, s) in samples {
                    let u = Usage::from_samples(self.last_sample.get(&id), &s);
                    // Keep the last CPU figure until a second sample gives a new one.
                    let prev_cpu = self.usage.get(&id).and_then(|u| u.cpu_pct);
                    self.usage.insert(
                        id.clone(),
                        Usage {
                            cpu_pct: u.cpu_pct.or(prev_cpu),
                            ..u
                        },
                    );
                    self.last_sample.insert(id, s);
                }
            }
            ServicesMsg::Logs { id, lines } => {
                if let Some(d) = self.detail.as_mut().filter(|d| d.id == id) {
                    d.logs = Some(lines);
                }
            }
            ServicesMsg::Outages(stored) => {
                for c in &mut self.checks {
                    let mut all: Vec<Outage> = stored
                        .iter()
                        .filter(|(n, _)| *n == c.name)
                        .map(|(_, o)| *o)
                        .collect();
                    all.append(&mut c.outages);
                    c.outages = super::availability::merge(all);
                }
            }
            ServicesMsg::Acted { op, name, result } => {
                self.notice = Some(match result {
                    Ok(()) => format!("{} {name}: done", op.verb()),
                    // Done, but the audit could not be written: said as it is.
                    Err(e) if e.starts_with("done") => format!("{} {name}: {e}", op.verb()),
                    Err(e) => format!("{} {name} failed: {e}", op.verb()),
                });
            }
        }
    }

    fn apply_container(&mut self, u: ContainerUpdate) {
        match u {
            ContainerUpdate::Snapshot {
                engine,
                describe,
                containers,
            } => {
                self.containers.retain(|c| c.engine != engine);
                for c in &containers {
                    // Killed or stopped before toban looked: not unexpected.
                    if matches!(c.exit_code, Some(0 | 137 | 143)) {
                        self.stopped.insert(c.id.clone());
                    }
                }
                self.containers.extend(containers);
                match self.engines.iter_mut().find(|(n, _)| *n == engine) {
                    Some(e) => e.1 = Some(describe),
                    None => self.engines.push((engine, Some(describe))),
                }
                self.sort_containers();
            }
            ContainerUpdate::Changed {
                container,
                action,
                at,
            } => {
                let verb = action.split(':').next().unwrap_or("").trim();
                match verb {
                    "stop" | "kill" => {
                        self.stopped.insert(container.id.clone());
                    }
                    "start" | "restart" | "create" => {
                        self.stopped.remove(&container.id);
                    }
                    "die" => {
                        let d = self.deaths.entry(container.id.clone()).or_default();
                        d.push_back(Death {
                            at,
                            exit_code: container.exit_code,
                        });
                        while d.len() > DEATHS_KEPT {
                            d.pop_front();
                        }
                    }
                    _ => {}
                }
                match self
                    .containers
                    .iter_mut()
                    .find(|c| c.id == container.id && c.engine == container.engine)
                {
                    Some(c) => *c = *container,
                    None => {
                        self.containers.push(*container);
                        self.sort_containers();
                    }
                }
            }
            ContainerUpdate::PastDeaths { engine, deaths } => {
                // The engine's record of the window replaces what this toban saw of it,
                // so a reconnection never counts a death twice.
                let mut by_id: HashMap<String, VecDeque<Death>> = HashMap::new();
                for (id, d) in deaths {
                    let known = self
                        .containers
                        .iter()
                        .any(|c| c.id == id && c.engine == engine);
                    if known {
                        by_id.entry(id).or_default().push_back(d);
                    }
                }
                for (id, mut d) in by_id {
                    while d.len() > DEATHS_KEPT {
                        d.pop_front();
                    }
                    self.deaths.insert(id, d);
                }
            }
            ContainerUpdate::Removed { engine, id } => {
                self.containers
                    .retain(|c| !(c.id == id && c.engine == engine));
                self.usage.remove(&id);
                self.last_sample.remove(&id);
                self.deaths.remove(&id);
                self.stopped.remove(&id);
            }
        }
    }

    fn sort_containers(&mut self) {
        // Engine first: several engines are shown one after the other.
        self.containers
            .sort_by(|a, b| (&a.engine, a.group(), &a.name).cmp(&(&b.engine, b.group(), &b.name)));
    }

    fn apply_check(&mut self, o: CheckOutcome) {
        let Some(c) = self.checks.iter_mut().find(|c| c.name == o.name) else {
            return;
        };
        c.latencies.push_back(o.latency_ms);
        while c.latencies.len() > LATENCY_HISTORY {
            c.latencies.pop_front();
        }
        let open = c.outages.last().is_some_and(|x| x.end.is_none());
        if o.ok {
            c.failures = 0;
            if open {
                if let Some(x) = c.outages.last_mut() {
                    x.end = Some(o.at);
                }
            }
        } else {
            c.failures += 1;
            if !open {
                c.outages.push(Outage {
                    start: o.at,
                    end: None,
                });
            }
        }
        // Outages older than two months are of no use to this month's figure.
        let cutoff = o.at - chrono::Duration::days(62);
        c.outages.retain(|x| x.end.is_none_or(|e| e > cutoff));
        c.last = Some(o);
    }

    /// Deaths within the restart-loop window before `now`.
    pub fn recent_deaths(&self, id: &str, now: DateTime<Utc>) -> usize {
        let window = chrono::Duration::from_std(self.restart_loop.within)
            .unwrap_or(chrono::Duration::minutes(10));
        self.deaths
            .get(id)
            .map(|d| d.iter().filter(|x| now - x.at <= window).count())
            .unwrap_or(0)
    }

    /// Exited (or dead) with a failure code, not stopped on purpose.
    pub fn exited_unexpectedly(&self, c: &Container) -> bool {
        matches!(c.state, ContainerState::Exited | ContainerState::Dead)
            && !self.stopped.contains(&c.id)
            && (c.exit_code.is_some_and(|x| x != 0) || c.oom_killed)
    }

    // ---- the tab ----

    fn matches(&self, hay: &[&str]) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        let f = self.filter.to_lowercase();
        hay.iter().any(|h| h.to_lowercase().contains(&f))
    }

    /// Containers in the order shown (sorted, filtered).
    pub fn container_order(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.containers.len())
            .filter(|&i| {
                let c = &self.containers[i];
                self.matches(&[&c.name, c.group(), c.service_name(), &c.image, &c.engine])
            })
            .collect();
        let cpu = |i: &usize| {
            self.usage
                .get(&self.containers[*i].id)
                .and_then(|u| u.cpu_pct)
                .unwrap_or(-1.0)
        };
        let mem = |i: &usize| {
            self.usage
                .get(&self.containers[*i].id)
                .map(|u| u.mem_used)
                .unwrap_or(0)
        };
        match self.sort {
            SortBy::Group => {}
            SortBy::State => idx.sort_by_key(|&i| {
                let c = &self.containers[i];
                (state_rank(self, c), c.group().to_string(), c.name.clone())
            }),
            SortBy::Cpu => idx.sort_by(|a, b| cpu(b).total_cmp(&cpu(a))),
            SortBy::Memory => idx.sort_by_key(|i| std::cmp::Reverse(mem(i))),
        }
        idx
    }

    /// Every row of the tab, containers first.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows: Vec<Row> = self
            .container_order()
            .into_iter()
            .map(Row::Container)
            .collect();
        rows.extend(
            (0..self.checks.len())
                .filter(|&i| self.matches(&[&self.checks[i].name, &self.checks[i].url]))
                .map(Row::Check),
        );
        rows.extend(
            (0..self.certs.len())
                .filter(|&i| self.matches(&[&self.certs[i].name, &self.certs[i].source]))
                .map(Row::Cert),
        );
        rows
    }

    pub fn selected_row(&self) -> Option<Row> {
        self.rows().get(self.selected).copied()
    }

    pub fn selected_container(&self) -> Option<&Container> {
        match self.selected_row()? {
            Row::Container(i) => self.containers.get(i),
            _ => None,
        }
    }

    pub fn detail_container(&self) -> Option<&Container> {
        let d = self.detail.as_ref()?;
        self.containers.iter().find(|c| c.id == d.id)
    }

    pub fn clamp(&mut self) {
        let n = self.rows().len();
        self.selected = self.selected.min(n.saturating_sub(1));
    }

    pub fn move_by(&mut self, delta: isize) {
        let n = self.rows().len();
        if n == 0 {
            return;
        }
        self.selected = (self.selected as isize + delta).clamp(0, n as isize - 1) as usize;
    }

    pub fn to_end(&mut self, last: bool) {
        let n = self.rows().len();
        self.selected = if last { n.saturating_sub(1) } else { 0 };
    }

    pub fn set_filter(&mut self, f: &str) {
        self.filter = f.to_string();
        self.selected = 0;
        self.offset = 0;
    }

    /// Keeps the selection inside `[offset, offset + height)`.
    pub fn scroll_to_selection(&mut self, height: usize) {
        let h = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + h {
            self.offset = self.selected + 1 - h;
        }
    }

    /// The running containers among `rows[offset..offset+height]`: whose stats to read.
    pub fn visible_running(&self, offset: usize, height: usize) -> Vec<(String, String)> {
        self.rows()
            .into_iter()
            .skip(offset)
            .take(height)
            .filter_map(|r| match r {
                Row::Container(i) => self.containers.get(i),
                _ => None,
            })
            .filter(|c| c.state == ContainerState::Running)
            .map(|c| (c.engine.clone(), c.id.clone()))
            .collect()
    }

    /// The stats to ask for now, at most once per `stats_interval`.
    pub fn stats_due(
        &mut self,
        now: DateTime<Utc>,
        visible: Vec<(String, String)>,
    ) -> Option<ServicesEffect> {
        if visible.is_empty() {
            return None;
        }
        if self
            .last_stats
            .is_some_and(|t| now - t < self.stats_interval)
        {
            return None;
        }
        self.last_stats = Some(now);
        Some(ServicesEffect::Stats(visible))
    }
}

/// Troubles first: unhealthy, exited unexpectedly, restarting, starting, then fine ones.
pub fn state_rank(s: &ServicesState, c: &Container) -> u8 {
    use super::model::ContainerHealth as H;
    if c.health == H::Unhealthy || s.exited_unexpectedly(c) {
        0
    } else if c.state == ContainerState::Restarting {
        1
    } else if c.health == H::Starting {
        2
    } else if c.state == ContainerState::Running {
        4
    } else {
        3
    }
}
