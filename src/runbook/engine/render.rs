//! What the engine shows and runs: parameters (defaults, drill overrides, secrets kept
//! apart), a step rendered with its values (masked for the screen, real for the executor),
//! and what the current step waits for.

use std::collections::BTreeMap;

use super::{Engine, Rendered, StepState, Waiting};
use crate::runbook::spec::{ParamKind, Runbook, Step, StepAction};
use crate::runbook::steps::outcome::clean_lines;
use crate::runbook::steps::Render;
use crate::runbook::template::{secret_param_key, Scope, MASK};

/// Parameters: defaults, then `given`, then (in a drill) the drill overrides rendered over
/// those.
pub fn initial_params(
    spec: &Runbook,
    given: &BTreeMap<String, String>,
    drill: bool,
    run_id: &str,
) -> Result<BTreeMap<String, String>, String> {
    let mut params = BTreeMap::new();
    for p in &spec.params {
        params.insert(p.name.clone(), p.default.clone().unwrap_or_default());
    }
    for (k, v) in given {
        if !spec.params.iter().any(|p| &p.name == k) {
            return Err(format!("`{}` has no parameter `{k}`", spec.name));
        }
        params.insert(k.clone(), v.clone());
    }
    if drill {
        let d = spec
            .drill
            .as_ref()
            .filter(|_| spec.drillable)
            .ok_or_else(|| format!("`{}` has no drill mode", spec.name))?;
        let base = params.clone();
        let scope = Scope {
            params: Some(&base),
            run_id,
            ..Default::default()
        };
        for (k, t) in &d.set {
            params.insert(k.clone(), scope.render(t)?);
        }
    }
    Ok(params)
}

impl Engine {
    /// A parameter's value (secret ones from memory).
    pub fn param_value(&self, name: &str) -> String {
        self.state
            .params
            .get(name)
            .or_else(|| self.state.secrets.get(&secret_param_key(name)))
            .cloned()
            .unwrap_or_default()
    }

    /// Parameter problems that would stop a run (for headless runs before starting).
    pub fn param_errors(&self) -> Vec<String> {
        let asked: Vec<&str> = self
            .spec
            .steps
            .iter()
            .filter_map(|s| match &s.action {
                StepAction::Input(input) => Some(input.param.as_str()),
                _ => None,
            })
            .collect();
        self.spec
            .params
            .iter()
            .filter(|p| !(self.state.opts.step_by_step && asked.contains(&p.name.as_str())))
            .filter_map(|p| p.validate(&self.param_value(&p.name)).err())
            .collect()
    }

    pub fn current_step(&self) -> Option<&Step> {
        self.state.current.and_then(|i| self.spec.steps.get(i))
    }

    pub fn waiting(&self) -> Waiting {
        let Some(i) = self.state.current else {
            return Waiting::Nothing;
        };
        if self.state.status.is_finished() {
            return Waiting::Nothing;
        }
        if self.read_only.is_some() {
            return Waiting::ReadOnly;
        }
        let (Some(rec), Some(step)) = (self.state.steps.get(i), self.spec.steps.get(i)) else {
            return Waiting::Nothing;
        };
        match rec.state {
            StepState::Running => return Waiting::Outcome,
            StepState::Interrupted => return Waiting::Resolve,
            _ => {}
        }
        match &step.action {
            StepAction::Confirm(c) => match &c.typed {
                Some(t) => Waiting::Typed(self.scope(false, true).render(t).unwrap_or_default()),
                None => Waiting::Confirm,
            },
            StepAction::Input(input) => Waiting::Input {
                param: input.param.clone(),
                current: self.param_value(&input.param),
            },
            _ => Waiting::Continue,
        }
    }

    pub(super) fn list_params(&self) -> Vec<String> {
        self.spec
            .params
            .iter()
            .filter(|p| p.kind == ParamKind::List)
            .map(|p| p.name.clone())
            .collect()
    }

    pub(super) fn scope(&self, mask: bool, lenient: bool) -> Scope<'_> {
        Scope {
            params: Some(&self.state.params),
            outputs: Some(&self.state.outputs),
            secrets: Some(&self.state.secrets.0),
            run_id: &self.state.run_id,
            mask,
            lenient,
        }
    }

    /// The step with values substituted. `lenient`: unknown values shown as `<…>`
    /// (previews and dry runs) instead of an error.
    pub fn render(&self, i: usize, lenient: bool) -> Result<Rendered, String> {
        let step = self
            .spec
            .steps
            .get(i)
            .ok_or_else(|| format!("no step {} in `{}`", i + 1, self.spec.name))?;
        let lists = self.list_params();
        let masked_scope = self.scope(true, lenient);
        let masked = step.action.render(&Render {
            scope: &masked_scope,
            lists: &lists,
        })?;
        // For the screen and the audit: escape sequences made inert, whatever the values.
        let mut display: Vec<String> = masked.describe().iter().map(|l| clean_lines(l)).collect();
        self.mask_secret_params(&mut display);
        let action = if lenient {
            masked
        } else {
            step.action.render(&Render {
                scope: &self.scope(false, false),
                lists: &lists,
            })?
        };
        let since_ms = self.state.steps[..i]
            .iter()
            .zip(&self.spec.steps)
            .filter(|(r, s)| r.state == StepState::Done && !s.action.is_interactive())
            .filter_map(|(r, _)| r.started_ms)
            .max();
        Ok(Rendered {
            since_ms,
            step: i,
            id: step.id.clone(),
            action,
            display,
            destructive: step.destructive,
            drill: self.state.opts.drill,
        })
    }

    pub(super) fn mask_secret_params(&self, lines: &mut [String]) {
        for p in self
            .spec
            .params
            .iter()
            .filter(|p| p.kind == ParamKind::Secret)
        {
            if let Some(v) = self.state.params.get(&p.name).filter(|v| !v.is_empty()) {
                for l in lines.iter_mut() {
                    *l = l.replace(v.as_str(), MASK);
                }
            }
        }
        for v in self.state.secrets.values().filter(|v| !v.is_empty()) {
            for l in lines.iter_mut() {
                *l = l.replace(v.as_str(), MASK);
            }
        }
    }

    /// What the step will do, for the screen (never fails: unknowns shown as `<…>`).
    pub fn preview(&self, i: usize) -> Vec<String> {
        match self.render(i, true) {
            Ok(r) => r.display,
            Err(e) => vec![format!("cannot show this step yet: {e}")],
        }
    }
}
