//! `schedule_followup`: put a follow-up on the calendar (delete the old access key in 7
//! days), due after a duration like "7d". With `action = { name = "RUNBOOK", params = {…} }`
//! the follow-up carries a runbook that marking it done runs (headless); it is done only if
//! that run succeeds. The action is stored with the follow-up: no secrets in it.

use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use serde::Deserialize;

use super::kind::{de, duration, Field, Render, StepHeader, StepKind};
use super::{Outcome, StepContext};
use crate::config::calendar::RunbookLink;

#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleFollowup {
    /// The calendar entry's title: `followup`, else the step's own title.
    pub title: String,
    pub due: String,
    pub note: Option<String>,
    /// What marking the follow-up done runs.
    pub action: Option<RunbookLink>,
    pub timeout: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default = "half_a_minute", deserialize_with = "duration")]
    timeout: Duration,
    #[serde(default)]
    followup: Option<String>,
    due: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    action: Option<RunbookLink>,
}

fn half_a_minute() -> Duration {
    Duration::from_secs(30)
}

impl StepKind for ScheduleFollowup {
    const NAME: &'static str = "schedule_followup";

    fn parse(table: toml::Table, header: &StepHeader<'_>) -> Result<Self, String> {
        let r: Raw = de(table)?;
        let title = r
            .followup
            .or_else(|| header.title.map(str::to_string))
            .ok_or("missing field `followup` (the follow-up's title; or give the step a `title`)")?;
        Ok(ScheduleFollowup {
            title,
            due: r.due,
            note: r.note,
            action: r.action,
            timeout: r.timeout,
        })
    }

    fn fields(&self) -> Vec<Field<'_>> {
        let mut v = vec![
            Field::public("title", &self.title),
            Field::public("due", &self.due),
        ];
        if let Some(n) = &self.note {
            v.push(Field::public("note", n));
        }
        // Stored with the follow-up and shown on the calendar: public, never a secret.
        if let Some(a) = &self.action {
            v.push(Field::public("action.name", &a.name));
            for (k, t) in &a.params {
                v.push(Field::public(format!("action.params.{k}"), t));
            }
        }
        v
    }

    fn render(&self, r: &Render<'_>) -> Result<Self, String> {
        Ok(ScheduleFollowup {
            title: r.text(&self.title)?,
            due: r.text(&self.due)?,
            note: r.opt(&self.note)?,
            action: match &self.action {
                None => None,
                Some(a) => Some(RunbookLink {
                    name: r.text(&a.name)?,
                    params: a
                        .params
                        .iter()
                        .map(|(k, t)| Ok((k.clone(), r.text(t)?)))
                        .collect::<Result<_, String>>()?,
                    ..a.clone()
                }),
            },
            timeout: self.timeout,
        })
    }

    fn describe(&self) -> Vec<String> {
        let mut v = vec![format!(
            "add a follow-up to the calendar, due in {}: {}",
            self.due, self.title
        )];
        if let (Some(n), None) = (&self.note, &self.action) {
            v.push(n.clone());
        }
        if let Some(a) = &self.action {
            v.push(format!("marked done, it runs runbook {} with:", a.name));
            v.extend(
                a.params
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| format!("  {k} = {v}")),
            );
        }
        v
    }

    fn time_limit(&self) -> Duration {
        self.timeout
    }

    fn execute(self, cx: StepContext) -> BoxFuture<'static, Outcome> {
        Box::pin(async move { cx.bounded(run(self, &cx)).await })
    }
}

async fn run(f: ScheduleFollowup, cx: &StepContext) -> Outcome {
    let d = match humantime::parse_duration(&f.due) {
        Ok(d) => d,
        Err(e) => return Outcome::said(false, format!("`{}` is not a duration: {e}", f.due)),
    };
    let now = Utc::now();
    let due_at = now + chrono::Duration::from_std(d).unwrap_or_default();
    let stored = cx
        .exec
        .store
        .add_one_off_duty(
            &f.title,
            f.note.as_deref(),
            due_at,
            f.action.as_ref(),
            Some(&cx.exec.run_id),
            now,
        )
        .await;
    match stored {
        Ok(id) => {
            let mut o = Outcome::said(
                true,
                format!(
                    "follow-up #{id} on the calendar, due {}",
                    due_at.format("%Y-%m-%d %H:%M UTC")
                ),
            );
            o.output = id.to_string();
            o
        }
        Err(e) => Outcome::said(false, format!("cannot store the follow-up: {e:#}")),
    }
}
