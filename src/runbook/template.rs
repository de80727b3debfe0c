//! `{{params.x}}`, `{{steps.ID.output}}`, `{{secrets.ID}}`, `{{run.id}}` in runbook fields.
//!
//! A template always renders to ONE string: a command's argv element stays one element
//! whatever the value holds (spaces, `;`, `$(…)`), because nothing here ever goes near a
//! shell. The only expansion into several elements is a list parameter used as a whole
//! list element (see [`Scope::render_list`]), which splits on the list's own separators, never on
//! anything a value happens to contain beyond that.
//!
//! Filters for SQL: `{{params.db | ident}}` quotes an identifier, `| literal` a string
//! literal (both with `exec::sql_quote`, the one quoting toban has), `| raw` inserts text
//! as written (the runbook author vouches for it).

use std::collections::BTreeMap;

use super::exec::sql_quote::{quote_pg_ident, quote_pg_literal};

/// What a template may refer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    Param(String),
    StepOutput(String),
    Secret(String),
    RunId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    None,
    Ident,
    Literal,
    Raw,
}

/// One `{{…}}` occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    pub var: Var,
    pub filter: Filter,
    /// The text as written, for error messages.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Hole(Placeholder),
}

/// Splits a template into text and placeholders; Err names the bad placeholder.
pub fn parse(s: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            out.push(Piece::Text(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed `{{{{` in `{s}`"))?;
        let inner = after[..end].trim();
        out.push(Piece::Hole(parse_placeholder(inner)?));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_string()));
    }
    Ok(out)
}

fn parse_placeholder(inner: &str) -> Result<Placeholder, String> {
    let (expr, filter) = match inner.split_once('|') {
        Some((e, f)) => {
            let filter = match f.trim() {
                "ident" => Filter::Ident,
                "literal" => Filter::Literal,
                "raw" => Filter::Raw,
                other => {
                    return Err(format!(
                        "unknown filter `{other}` in `{{{{{inner}}}}}` (ident, literal, raw)"
                    ))
                }
            };
            (e.trim(), filter)
        }
        None => (inner, Filter::None),
    };
    let parts: Vec<&str> = expr.split('.').collect();
    let var = match parts.as_slice() {
        ["params", name] if !name.is_empty() => Var::Param(name.to_string()),
        ["steps", id, "output"] if !id.is_empty() => Var::StepOutput(id.to_string()),
        ["secrets", id] if !id.is_empty() => Var::Secret(id.to_string()),
        ["run", "id"] => Var::RunId,
        _ => {
            return Err(format!(
                "unknown template variable `{{{{{inner}}}}}` (use params.NAME, steps.ID.output, \
                 secrets.ID or run.id)"
            ))
        }
    };
    Ok(Placeholder {
        var,
        filter,
        text: format!("{{{{{inner}}}}}"),
    })
}

/// Every placeholder in `s` (parse errors are reported by validation, not here).
pub fn placeholders(s: &str) -> Vec<Placeholder> {
    parse(s)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| match p {
            Piece::Hole(h) => Some(h),
            Piece::Text(_) => None,
        })
        .collect()
}

/// Values templates render from.
#[derive(Debug, Clone, Default)]
pub struct Scope<'a> {
    pub params: Option<&'a BTreeMap<String, String>>,
    pub outputs: Option<&'a BTreeMap<String, String>>,
    pub secrets: Option<&'a BTreeMap<String, String>>,
    pub run_id: &'a str,
    /// Render secrets as `••••••` (for display and the audit) instead of their value.
    pub mask: bool,
    /// Render a value not known yet as `<params.x>` instead of failing (dry runs, previews).
    pub lenient: bool,
}

pub const MASK: &str = "••••••";

/// Where a secret parameter's value is kept among the run's in-memory secrets.
pub fn secret_param_key(name: &str) -> String {
    format!("param:{name}")
}

impl Scope<'_> {
    fn lookup(&self, var: &Var) -> Result<String, String> {
        match var {
            Var::Param(n) => {
                if let Some(v) = self.params.and_then(|p| p.get(n)) {
                    return Ok(v.clone());
                }
                // Secret parameters live with the secrets (never stored), masked on show.
                match self.secrets.and_then(|s| s.get(&secret_param_key(n))) {
                    Some(_) if self.mask => Ok(MASK.to_string()),
                    Some(v) => Ok(v.clone()),
                    None => Err(format!("parameter `{n}` has no value")),
                }
            }
            Var::StepOutput(id) => self
                .outputs
                .and_then(|o| o.get(id))
                .cloned()
                .ok_or_else(|| format!("step `{id}` has no output yet")),
            Var::Secret(id) => {
                if self.mask {
                    return Ok(MASK.to_string());
                }
                self.secrets
                    .and_then(|s| s.get(id))
                    .cloned()
                    .ok_or_else(|| {
                        format!(
                            "the secret made by step `{id}` is not available (a run's secrets are \
                         removed when it ends or is abandoned; run that step again)"
                        )
                    })
            }
            Var::RunId => Ok(self.run_id.to_string()),
        }
    }

    /// Renders a template to one string.
    pub fn render(&self, s: &str) -> Result<String, String> {
        let mut out = String::new();
        for piece in parse(s)? {
            match piece {
                Piece::Text(t) => out.push_str(&t),
                Piece::Hole(h) => {
                    let v = match self.lookup(&h.var) {
                        Ok(v) => v,
                        Err(_) if self.lenient => {
                            out.push('<');
                            out.push_str(
                                h.text.trim_start_matches('{').trim_end_matches('}').trim(),
                            );
                            out.push('>');
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    match h.filter {
                        Filter::None | Filter::Raw => out.push_str(&v),
                        Filter::Ident => out.push_str(&quote_pg_ident(&v)?),
                        Filter::Literal => out.push_str(&quote_pg_literal(&v)?),
                    }
                }
            }
        }
        Ok(out)
    }

    /// Renders a list field: an element that is exactly one placeholder of a list parameter
    /// expands to that list's items (empty items dropped); every other element renders to
    /// exactly one element.
    pub fn render_list(
        &self,
        items: &[String],
        list_params: &[String],
    ) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for item in items {
            if let Ok(pieces) = parse(item) {
                if let [Piece::Hole(Placeholder {
                    var: Var::Param(name),
                    filter: Filter::None,
                    ..
                })] = pieces.as_slice()
                {
                    if list_params.iter().any(|p| p == name) {
                        let v = match self.lookup(&Var::Param(name.clone())) {
                            Ok(v) => v,
                            Err(_) if self.lenient => format!("<params.{name}>"),
                            Err(e) => return Err(e),
                        };
                        out.extend(split_list(&v));
                        continue;
                    }
                }
            }
            out.push(self.render(item)?);
        }
        Ok(out)
    }
}

/// Items of a list parameter: separated by commas or whitespace.
pub fn split_list(v: &str) -> Vec<String> {
    v.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injection_stays_one_element() {
        let mut params = BTreeMap::new();
        params.insert("x".into(), "a; touch /tmp/x $(id)".into());
        params.insert("svc".into(), "backend, celery worker".into());
        let scope = Scope {
            params: Some(&params),
            run_id: "r1",
            ..Default::default()
        };
        let argv = scope
            .render_list(
                &[
                    "echo".into(),
                    "{{params.x}}".into(),
                    "{{ params.svc }}".into(),
                ],
                &["svc".into()],
            )
            .unwrap();
        assert_eq!(
            argv,
            vec![
                "echo",
                "a; touch /tmp/x $(id)",
                "backend",
                "celery",
                "worker"
            ]
        );
    }

    #[test]
    fn filters_quote() {
        let mut params = BTreeMap::new();
        params.insert("db".into(), "we\"ird".into());
        params.insert("s".into(), "it's".into());
        let scope = Scope {
            params: Some(&params),
            ..Default::default()
        };
        assert_eq!(
            scope
                .render("CREATE DATABASE {{params.db|ident}} -- {{params.s | literal}}")
                .unwrap(),
            "CREATE DATABASE \"we\"\"ird\" -- 'it''s'"
        );
    }

    #[test]
    fn secrets_masked_for_display() {
        let mut secrets = BTreeMap::new();
        secrets.insert("pw".into(), "hunter2".into());
        let scope = Scope {
            secrets: Some(&secrets),
            mask: true,
            ..Default::default()
        };
        assert_eq!(
            scope.render("p={{secrets.pw}}").unwrap(),
            format!("p={MASK}")
        );
    }

    #[test]
    fn bad_variable_named() {
        let e = parse("{{param.x}}").unwrap_err();
        assert!(e.contains("param.x"), "{e}");
    }
}
