//! `[calendar]` in config.toml: which shipped duty presets are on, the user's own duties, and
//! the defaults (zone, grace) duties fall back to. Also the shipped presets themselves
//! (`calendars/*.toml`, embedded) and the parsing of a duty's fields, which the calendar's
//! recurrence builder and the checks here share.
//!
//! ```toml
//! [calendar]
//! presets = ["seed002", "seed004"]   # default ["seed002"]; [] for none
//! zone = "Asia/Tokyo"                # zone of your duties; default: the system zone
//! grace = "1h"                       # due → overdue after this, unless a duty says
//! disable = ["deploy-window"]        # preset duties you do not keep
//!
//! [[calendar.duty]]
//! id = "alarm-check"                 # same id as a preset duty: replaces it
//! title = "CloudWatch alarms check"
//! every = "day"                      # day | week | month | year | "90 days"
//! at = ["09:00", "14:00", "17:00"]
//! grace = "1h"
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Deserializer, Serialize};

use crate::config::humantime_serde_compat;
use crate::health::Severity;

/// The shipped calendars: the seeds' operations calendars as duties.
pub const PRESETS: &[(&str, &str)] = &[
    ("seed002", include_str!("../../calendars/seed002.toml")),
    ("seed000", include_str!("../../calendars/seed000.toml")),
    ("seed004", include_str!("../../calendars/seed004.toml")),
    ("seed001", include_str!("../../calendars/seed001.toml")),
];

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CalendarConfig {
    /// Shipped presets to load (`seed002`, `seed000`, `seed004`, `seed001`), in order.
    pub presets: Vec<String>,
    /// IANA zone of duties in config.toml that name none. `None`: the system's zone.
    pub zone: Option<String>,
    /// Puts every preset duty in this zone instead of the preset's own (the seeds are JST).
    pub preset_zone: Option<String>,
    /// How long after its time a duty is due before it is overdue, unless it says.
    #[serde(with = "humantime_serde_compat")]
    pub grace: Duration,
    /// Ids of preset duties to leave out.
    pub disable: Vec<String>,
    /// How often completions are re-read from the store (other operators on a shared
    /// PostgreSQL store).
    #[serde(with = "humantime_serde_compat")]
    pub refresh: Duration,
    /// Days ahead `toban calendar` lists by default.
    pub agenda_days: u32,
    /// Your own duties; one with a preset duty's id replaces it.
    #[serde(rename = "duty")]
    pub duties: Vec<DutySpec>,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        CalendarConfig {
            presets: vec!["seed002".into()],
            zone: None,
            preset_zone: None,
            grace: Duration::from_secs(3600),
            disable: Vec::new(),
            refresh: Duration::from_secs(30),
            agenda_days: 7,
            duties: Vec::new(),
        }
    }
}

/// One duty as written in a preset or config.toml.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DutySpec {
    /// Stable id: completions are recorded against it. Letters, digits, `-`, `_`, `.`.
    pub id: String,
    pub title: String,
    /// `day`, `week`, `month`, `year`, or `N days` (`90 days`, `90d`).
    pub every: Option<String>,
    /// Every 2nd week, 3rd month …; needs `start` (the phase).
    pub interval: Option<u16>,
    /// Times of day, `HH:MM`, in the duty's zone. Default 09:00.
    #[serde(deserialize_with = "one_or_many")]
    pub at: Vec<String>,
    /// Weekdays (`mon` … `sun`): for `week`; for `day`, only on these days; for `month` and
    /// `year` with `nth`, the weekday of the month.
    pub on: Vec<String>,
    /// Day of the month for `month`/`year`: 1–31 (past a short month's end: its last day)
    /// or `"last"`.
    pub day: Option<DaySpec>,
    /// With `on` in `month`/`year`: 1 = first, 2 = second, -1 = last such weekday.
    pub nth: Option<i8>,
    /// Only in these months (1–12): quarterly is `[1, 4, 7, 10]`.
    pub months: Vec<u8>,
    /// For `N days`: `done` counts from the last completion; `start` (default) from `start`.
    pub from: Option<String>,
    /// First date, `YYYY-MM-DD`, in the duty's zone.
    pub start: Option<String>,
    /// An RFC 5545 RRULE instead of `every` (`FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1`); needs
    /// `start`. Times still come from `at`.
    pub rrule: Option<String>,
    /// IANA zone (`Asia/Tokyo`); default the preset's zone or `[calendar] zone`.
    pub zone: Option<String>,
    /// Due → overdue after this long (`1h`, `2d`).
    #[serde(deserialize_with = "opt_duration")]
    pub grace: Option<Duration>,
    /// Local alarm when overdue: `warning` (default) or `critical`.
    pub severity: Option<String>,
    /// `false`: never raises a local alarm (a window that only matters when planned).
    pub alarm: Option<bool>,
    /// What to do, shown in the duty's detail.
    pub text: Option<String>,
    pub checklist: Vec<String>,
    /// The runbook that does the duty.
    pub runbook: Option<RunbookLink>,
}

/// `day = 1` or `day = "last"`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum DaySpec {
    Number(i64),
    Word(String),
}

/// A runbook a duty (or a follow-up) starts, with what to start it with.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RunbookLink {
    pub name: String,
    /// Parameters given to the run (`key = "value"`).
    pub params: BTreeMap<String, String>,
    /// Start it as a drill (a restore into a scratch target, timed and recorded).
    pub drill: bool,
    /// Which backup the run's backup parameter starts on: `newest-good`.
    pub backup: Option<String>,
}

/// `calendars/<name>.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PresetFile {
    pub description: String,
    /// The zone the seed's times are in.
    pub zone: String,
    #[serde(rename = "duty")]
    pub duties: Vec<DutySpec>,
}

/// Where a duty came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "name")]
pub enum DutyOrigin {
    Preset(String),
    Config,
}

/// A duty with its zone decided (`None`: the system's zone) and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedDuty {
    pub spec: DutySpec,
    pub zone: Option<String>,
    pub grace: Duration,
    pub origin: DutyOrigin,
    /// Dotted config field for messages (`calendar.duty[2]`, `preset seed002 duty[0]`).
    pub field: String,
}

impl CalendarConfig {
    /// The presets' duties (less `disable`d ones and those a config duty replaces) followed
    /// by the config's duties. Presets that do not parse are left out (see `validate`).
    pub fn resolved(&self) -> Vec<ResolvedDuty> {
        let mine: BTreeSet<&str> = self.duties.iter().map(|d| d.id.as_str()).collect();
        let mut out = Vec::new();
        for name in &self.presets {
            let Some(Ok(file)) = preset(name) else {
                continue;
            };
            let zone = self.preset_zone.clone().unwrap_or(file.zone.clone());
            for (i, d) in file.duties.into_iter().enumerate() {
                if mine.contains(d.id.as_str()) || self.disable.contains(&d.id) {
                    continue;
                }
                out.push(ResolvedDuty {
                    zone: Some(d.zone.clone().unwrap_or(zone.clone())),
                    grace: d.grace.unwrap_or(self.grace),
                    origin: DutyOrigin::Preset(name.clone()),
                    field: format!("preset {name} duty[{i}]"),
                    spec: d,
                });
            }
        }
        for (i, d) in self.duties.iter().enumerate() {
            out.push(ResolvedDuty {
                zone: d.zone.clone().or(self.zone.clone()),
                grace: d.grace.unwrap_or(self.grace),
                origin: DutyOrigin::Config,
                field: format!("calendar.duty[{i}]"),
                spec: d.clone(),
            });
        }
        out
    }

    /// Problems as (dotted field, message) pairs.
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, p) in self.presets.iter().enumerate() {
            match preset(p) {
                None => out.push((
                    format!("calendar.presets[{i}]"),
                    format!(
                        "no preset `{p}`; shipped: {}",
                        PRESETS
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
                Some(Err(e)) => out.push((format!("calendar.presets[{i}]"), e)),
                Some(Ok(_)) => {}
            }
        }
        for (field, zone) in [("zone", &self.zone), ("preset_zone", &self.preset_zone)] {
            if let Some(z) = zone {
                if let Err(e) = parse_zone(z) {
                    out.push((format!("calendar.{field}"), e));
                }
            }
        }
        if self.refresh < Duration::from_secs(1) {
            out.push(("calendar.refresh".into(), "must be at least 1s".into()));
        }
        if self.agenda_days == 0 || self.agenda_days > 366 {
            out.push((
                "calendar.agenda_days".into(),
                format!("must be 1 to 366 days (is {})", self.agenda_days),
            ));
        }
        let preset_ids: BTreeSet<String> = self
            .presets
            .iter()
            .filter_map(|p| preset(p)?.ok())
            .flat_map(|f| f.duties.into_iter().map(|d| d.id))
            .collect();
        for (i, id) in self.disable.iter().enumerate() {
            if !preset_ids.contains(id) {
                out.push((
                    format!("calendar.disable[{i}]"),
                    format!("no duty `{id}` in the presets in use"),
                ));
            }
        }
        let mut seen = BTreeMap::new();
        for (i, d) in self.duties.iter().enumerate() {
            let at = format!("calendar.duty[{i}]");
            if let Some(j) = seen.insert(d.id.clone(), i) {
                out.push((
                    format!("{at}.id"),
                    format!("`{}` is already the id of calendar.duty[{j}]", d.id),
                ));
            }
            out.extend(check_duty(&at, d));
        }
        out
    }
}

/// A shipped preset by name: None when there is none, Err when it does not parse.
pub fn preset(name: &str) -> Option<Result<PresetFile, String>> {
    let (_, text) = PRESETS.iter().find(|(n, _)| *n == name)?;
    Some(toml::from_str(text).map_err(|e| format!("preset {name}: {}", e.message())))
}

/// Every problem with one duty's fields (not the rule as a whole: the calendar builds that
/// and reports what the recurrence library refuses).
pub fn check_duty(at: &str, d: &DutySpec) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut bad = |f: &str, m: String| out.push((format!("{at}.{f}"), m));
    if d.id.is_empty() {
        bad("id", "is required".into());
    } else if !d
        .id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        bad(
            "id",
            format!("`{}` may hold only letters, digits, `-`, `_` and `.`", d.id),
        );
    }
    if d.title.trim().is_empty() {
        bad("title", "is required".into());
    }
    match (&d.every, &d.rrule) {
        (None, None) => bad("every", "is required (or an `rrule`)".into()),
        (Some(_), Some(_)) => bad("rrule", "give `every` or `rrule`, not both".into()),
        (Some(e), None) => {
            if let Err(m) = parse_every(e) {
                bad("every", m);
            }
        }
        (None, Some(r)) => {
            if let Err(e) = rrule::RRule::<rrule::Unvalidated>::from_str(r) {
                bad("rrule", format!("not an RFC 5545 RRULE: {e}"));
            }
            if d.start.is_none() {
                bad(
                    "start",
                    "is required with `rrule` (it fixes the rule's phase)".into(),
                );
            }
        }
    }
    for (i, t) in d.at.iter().enumerate() {
        if let Err(m) = parse_time(t) {
            bad(&format!("at[{i}]"), m);
        }
    }
    for (i, w) in d.on.iter().enumerate() {
        if let Err(m) = parse_weekday(w) {
            bad(&format!("on[{i}]"), m);
        }
    }
    if let Some(day) = &d.day {
        if let Err(m) = parse_day(day) {
            bad("day", m);
        }
    }
    if let Some(n) = d.nth {
        if n == 0 || !(-5..=5).contains(&n) {
            bad("nth", format!("must be 1 to 5 or -1 to -5 (is {n})"));
        }
    }
    for (i, m) in d.months.iter().enumerate() {
        if !(1..=12).contains(m) {
            bad(&format!("months[{i}]"), format!("must be 1 to 12 (is {m})"));
        }
    }
    if d.interval == Some(0) {
        bad("interval", "must be at least 1".into());
    }
    if let Some(f) = &d.from {
        if f != "done" && f != "start" {
            bad("from", format!("must be `done` or `start` (is `{f}`)"));
        }
    }
    if let Some(s) = &d.start {
        if let Err(m) = parse_date(s) {
            bad("start", m);
        }
    }
    if let Some(z) = &d.zone {
        if let Err(m) = parse_zone(z) {
            bad("zone", m);
        }
    }
    if let Some(s) = &d.severity {
        if !matches!(s.as_str(), "warning" | "critical") {
            bad(
                "severity",
                format!("must be `warning` or `critical` (is `{s}`)"),
            );
        }
    }
    if let Some(r) = &d.runbook {
        if r.name.trim().is_empty() {
            bad("runbook.name", "is required".into());
        }
        if let Some(b) = &r.backup {
            if b != "newest-good" {
                bad(
                    "runbook.backup",
                    format!("must be `newest-good` (is `{b}`)"),
                );
            }
        }
    }
    out
}

/// How often a duty recurs, from `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Day,
    Week,
    Month,
    Year,
    Days(u16),
}

pub fn parse_every(s: &str) -> Result<Every, String> {
    let t = s.trim().to_ascii_lowercase();
    Ok(match t.as_str() {
        "day" | "daily" => Every::Day,
        "week" | "weekly" => Every::Week,
        "month" | "monthly" => Every::Month,
        "year" | "yearly" => Every::Year,
        _ => {
            let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
            let unit = t[digits.len()..].trim();
            match (digits.parse::<u16>(), unit) {
                (Ok(n), "d" | "day" | "days") if n > 0 => Every::Days(n),
                _ => {
                    return Err(format!(
                        "`{s}` is not `day`, `week`, `month`, `year` or a number of days like `90 days`"
                    ))
                }
            }
        }
    })
}

pub fn parse_time(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| format!("`{s}` is not a time of day like `09:00` or `17:30`"))
}

pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date like `2026-04-01`"))
}

pub fn parse_weekday(s: &str) -> Result<Weekday, String> {
    s.trim()
        .parse::<Weekday>()
        .map_err(|_| format!("`{s}` is not a weekday (mon, tue, wed, thu, fri, sat, sun)"))
}

/// 1–31, or -1 for `"last"`.
pub fn parse_day(d: &DaySpec) -> Result<i8, String> {
    match d {
        DaySpec::Number(n) if (1..=31).contains(n) => Ok(*n as i8),
        DaySpec::Word(w) if w.eq_ignore_ascii_case("last") => Ok(-1),
        DaySpec::Number(n) => Err(format!("must be 1 to 31 or \"last\" (is {n})")),
        DaySpec::Word(w) => Err(format!("must be 1 to 31 or \"last\" (is `{w}`)")),
    }
}

pub fn parse_zone(s: &str) -> Result<chrono_tz::Tz, String> {
    s.trim().parse::<chrono_tz::Tz>().map_err(|_| {
        format!("`{s}` is not an IANA time zone like `Asia/Tokyo`, `Europe/Berlin` or `UTC`")
    })
}

pub fn parse_severity(s: Option<&str>) -> Severity {
    match s {
        Some("critical") => Severity::Critical,
        _ => Severity::Warning,
    }
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    humantime_serde_compat::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_preset_parses_and_its_duties_check_clean() {
        let mut ids = BTreeSet::new();
        for (name, _) in PRESETS {
            let file = preset(name).unwrap().unwrap_or_else(|e| panic!("{e}"));
            parse_zone(&file.zone).unwrap();
            for (i, d) in file.duties.iter().enumerate() {
                let problems = check_duty(&format!("{name}.duty[{i}]"), d);
                assert!(problems.is_empty(), "{problems:?}");
                assert!(
                    ids.insert(d.id.clone()),
                    "duty id {} is in two presets",
                    d.id
                );
            }
        }
    }

    #[test]
    fn defaults_are_seed_002_with_an_hour_of_grace() {
        let c = CalendarConfig::default();
        assert_eq!(c.presets, ["seed002"]);
        assert_eq!(c.grace, Duration::from_secs(3600));
        assert!(c.validate().is_empty(), "{:?}", c.validate());
        let r = c.resolved();
        assert!(r.iter().any(|d| d.spec.id == "alarm-check"));
        assert!(r.iter().all(|d| d.zone.as_deref() == Some("Asia/Tokyo")));
    }

    #[test]
    fn a_config_duty_replaces_the_preset_duty_of_its_id_and_disable_drops_one() {
        let c: CalendarConfig = toml::from_str(
            "disable = [\"deploy-window\"]\nzone = \"Europe/Berlin\"\n\
             [[duty]]\nid = \"alarm-check\"\ntitle = \"Alarms\"\nevery = \"day\"\nat = \"08:00\"\n",
        )
        .unwrap();
        assert!(c.validate().is_empty(), "{:?}", c.validate());
        let r = c.resolved();
        let mine: Vec<_> = r.iter().filter(|d| d.spec.id == "alarm-check").collect();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].origin, DutyOrigin::Config);
        assert_eq!(mine[0].spec.at, ["08:00"]);
        assert_eq!(mine[0].zone.as_deref(), Some("Europe/Berlin"));
        assert!(!r.iter().any(|d| d.spec.id == "deploy-window"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let c: CalendarConfig = toml::from_str(
            "presets = [\"seed999\"]\n[[duty]]\nid = \"a b\"\ntitle = \"\"\nevery = \"fortnight\"\n\
             at = [\"9am\"]\non = [\"someday\"]\nday = 32\nmonths = [13]\nzone = \"Mars/Base\"\n\
             [[duty]]\nid = \"r\"\ntitle = \"R\"\nrrule = \"FREQ=SOMETIMES\"\n",
        )
        .unwrap();
        let fields: Vec<String> = c.validate().into_iter().map(|p| p.0).collect();
        assert_eq!(
            fields,
            [
                "calendar.presets[0]",
                "calendar.duty[0].id",
                "calendar.duty[0].title",
                "calendar.duty[0].every",
                "calendar.duty[0].at[0]",
                "calendar.duty[0].on[0]",
                "calendar.duty[0].day",
                "calendar.duty[0].months[0]",
                "calendar.duty[0].zone",
                "calendar.duty[1].rrule",
                "calendar.duty[1].start",
            ]
        );
    }

    #[test]
    fn every_reads_units_and_numbers_of_days() {
        assert_eq!(parse_every("day"), Ok(Every::Day));
        assert_eq!(parse_every("90 days"), Ok(Every::Days(90)));
        assert_eq!(parse_every("90d"), Ok(Every::Days(90)));
        assert!(parse_every("0 days").is_err());
        assert_eq!(parse_day(&DaySpec::Word("last".into())), Ok(-1));
    }
}
