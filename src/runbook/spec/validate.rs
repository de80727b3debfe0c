//! Checks that need the whole runbook: parameters (duplicates, choices, patterns that do not
//! compile), the drill's overrides, step ids, rollbacks, each kind's own checks, and every
//! template (known names, steps that ran earlier, secrets kept out of what others can see,
//! SQL quoted).

use std::collections::HashSet;

use super::parse::{did_you_mean, line_of};
use super::{ParamKind, Runbook};
use crate::config::ConfigError;
use crate::runbook::steps::{CheckCx, Field, FieldUse};
use crate::runbook::template::{self, Filter, Var};

pub fn validate(rb: &Runbook, source: &str) -> Vec<ConfigError> {
    let file = &rb.source;
    let mut errors = Vec::new();
    let params: HashSet<&str> = rb.params.iter().map(|p| p.name.as_str()).collect();
    let mut seen_params = HashSet::new();
    for (i, p) in rb.params.iter().enumerate() {
        let at = |field: &str, msg: String| {
            ConfigError::new(file, msg)
                .at(line_of(source, &format!("\"{}\"", p.name), 1), 1)
                .field(format!("param[{i}].{field}"))
        };
        if !seen_params.insert(p.name.as_str()) {
            errors.push(at("name", format!("duplicate parameter `{}`", p.name)));
        }
        if p.kind == ParamKind::Choice && p.choices.is_empty() {
            errors.push(at("choices", "a choice parameter needs `choices`".into()));
        }
        if let Some(why) = p.pattern.as_ref().and_then(|pat| pat.error()) {
            let pat = p.pattern.as_ref().map(|x| x.as_str()).unwrap_or_default();
            let from = line_of(source, &format!("\"{}\"", p.name), 1);
            errors.push(
                ConfigError::new(
                    file,
                    format!("`pattern` is not a regular expression: {why}"),
                )
                .at(line_of(source, pat, from), 1)
                .field(format!("param[{i}].pattern")),
            );
        }
    }
    if let Some(d) = &rb.drill {
        for k in d.set.keys().chain(d.backup_param.iter()) {
            if !params.contains(k.as_str()) {
                errors.push(
                    ConfigError::new(file, format!("unknown parameter `{k}`"))
                        .at(line_of(source, k, 1), 1)
                        .field("drill"),
                );
            }
        }
    }
    let mut earlier: HashSet<&str> = HashSet::new();
    let all_ids: HashSet<&str> = rb.steps.iter().map(|s| s.id.as_str()).collect();
    let secret_steps: HashSet<&str> = rb
        .steps
        .iter()
        .filter(|s| s.action.makes_secret())
        .map(|s| s.id.as_str())
        .collect();
    let secret_params: HashSet<&str> = rb
        .params
        .iter()
        .filter(|p| p.kind == ParamKind::Secret)
        .map(|p| p.name.as_str())
        .collect();
    let cx = CheckCx { params: &params };
    for (i, step) in rb.steps.iter().enumerate() {
        let at = |field: &str, needle: &str, msg: String| {
            ConfigError::new(file, msg)
                .at(line_of(source, needle, step.line), 1)
                .field(format!("step[{i}].{field}"))
        };
        if !earlier.insert(step.id.as_str()) {
            errors.push(at(
                "id",
                &step.id,
                format!("duplicate step id `{}`", step.id),
            ));
        }
        for p in step.action.check(&cx) {
            errors.push(at(&p.field, &p.needle, p.message));
        }
        if let Some(r) = &step.rollback {
            match rb.steps.iter().find(|s| &s.id == r) {
                None => errors.push(at(
                    "rollback",
                    r,
                    format!("no step `{r}` to roll back with"),
                )),
                Some(s) if !s.rollback_only => errors.push(at(
                    "rollback",
                    r,
                    format!("step `{r}` must be marked `rollback_only = true`"),
                )),
                _ => {}
            }
        }
        let mut fields = step.action.fields();
        if let Some(w) = &step.when {
            fields.push(Field::text("when", w));
        }
        if let Some(w) = &step.unless {
            fields.push(Field::text("unless", w));
        }
        let names = Names {
            params: &params,
            secret_params: &secret_params,
            secret_steps: &secret_steps,
            earlier: &earlier,
            all_ids: &all_ids,
            this_step: &step.id,
        };
        for f in fields {
            for (needle, m) in names.problems(&f) {
                errors.push(at(&f.name, &needle, m));
            }
        }
    }
    errors
}

/// What a template in a step may name.
struct Names<'a> {
    params: &'a HashSet<&'a str>,
    secret_params: &'a HashSet<&'a str>,
    secret_steps: &'a HashSet<&'a str>,
    earlier: &'a HashSet<&'a str>,
    all_ids: &'a HashSet<&'a str>,
    this_step: &'a str,
}

impl Names<'_> {
    /// (text to point at, message) for each problem in one field's template.
    fn problems(&self, f: &Field<'_>) -> Vec<(String, String)> {
        let pieces = match template::parse(f.text) {
            Ok(p) => p,
            Err(m) => return vec![(f.text.to_string(), m)],
        };
        let mut out = Vec::new();
        for piece in pieces {
            let template::Piece::Hole(h) = piece else {
                continue;
            };
            let problem = match &h.var {
                Var::Param(n) if !self.params.contains(n.as_str()) => {
                    let names: Vec<&str> = self.params.iter().copied().collect();
                    let mut m = format!("`{}` references unknown parameter `{n}`", h.text);
                    if let Some(s) = did_you_mean(n, &names) {
                        m.push_str(&format!(" (did you mean `{s}`?)"));
                    }
                    Some(m)
                }
                Var::StepOutput(id)
                    if !self.earlier.contains(id.as_str()) || id == self.this_step =>
                {
                    if self.all_ids.contains(id.as_str()) {
                        Some(format!(
                            "`{}` references step `{id}`, which runs later",
                            h.text
                        ))
                    } else {
                        Some(format!("`{}` references unknown step `{id}`", h.text))
                    }
                }
                Var::Secret(id) if !self.secret_steps.contains(id.as_str()) => Some(format!(
                    "`{}`: step `{id}` makes no secret (generate_secret, read_secret, access_key create)",
                    h.text
                )),
                Var::Secret(_) if f.usage == FieldUse::Public => Some(format!(
                    "`{}`: secrets may not go into command lines, environment, paths or \
                     container names (they would be visible in `ps`)",
                    h.text
                )),
                Var::Param(n)
                    if f.usage == FieldUse::Public && self.secret_params.contains(n.as_str()) =>
                {
                    Some(format!(
                        "`{}`: secret parameters may not go into command lines, environment, \
                         paths or container names",
                        h.text
                    ))
                }
                _ if f.usage == FieldUse::Sql && h.filter == Filter::None => Some(format!(
                    "`{}` in SQL needs a filter: `| ident`, `| literal` or `| raw`",
                    h.text
                )),
                _ => None,
            };
            if let Some(m) = problem {
                out.push((h.text.clone(), m));
            }
        }
        out
    }
}
