//! The Prometheus side of an alert's chart: the expression behind it (from the alert's
//! `generatorURL`, `g0.expr=`), split into the series and the threshold it is compared with
//! (`rate(x[5m]) > 0.5` → chart `rate(x[5m])`, line at 0.5), and `/api/v1/query_range`.

use std::time::Duration;

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::model::{Comparison, Series};

/// `g0.expr` of a Prometheus graph URL.
pub fn expr_of(generator_url: &str) -> Option<String> {
    let u = url::Url::parse(generator_url).ok()?;
    u.query_pairs()
        .find(|(k, _)| k == "g0.expr")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.trim().is_empty())
}

/// Splits `left OP number` at its last top-level comparison: the left side to chart and the
/// threshold. An expression that is not compared with a number is charted whole.
pub fn split_comparison(expr: &str) -> (String, Option<(Comparison, f64)>) {
    let b = expr.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut found: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if let Some(q) = quote {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' | b'\'' | b'`' => quote = Some(c),
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => depth -= 1,
            b'>' | b'<' | b'=' | b'!' if depth == 0 => {
                let two = b.get(i + 1) == Some(&b'=');
                let len = if two { 2 } else { 1 };
                // `=` alone is not a comparison (only inside matchers, at depth > 0).
                if (c == b'=' || c == b'!') && !two {
                    i += 1;
                    continue;
                }
                found = Some((i, len));
                i += len;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    let Some((at, len)) = found else {
        return (expr.trim().to_string(), None);
    };
    let op = &expr[at..at + len];
    let right = expr[at + len..].trim();
    let right = right.strip_prefix("bool").map(str::trim).unwrap_or(right);
    match (Comparison::from_promql(op), right.parse::<f64>()) {
        (Some(cmp), Ok(v)) => (expr[..at].trim().to_string(), Some((cmp, v))),
        _ => (expr.trim().to_string(), None),
    }
}

#[derive(Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    result: Vec<Matrix>,
}

#[derive(Deserialize)]
struct Matrix {
    #[serde(default)]
    metric: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// A step giving about 240 points over the window (at least 1 s).
pub fn step_for(from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    Duration::from_secs(((to - from).num_seconds() / 240).max(1) as u64)
}

/// Runs `expr` over `[from, to]`; at most `max_series` series come back, labelled by their
/// labels.
pub async fn query_range(
    http: &reqwest::Client,
    base: &str,
    expr: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    max_series: usize,
) -> anyhow::Result<Vec<Series>> {
    let url = url::Url::parse(base)
        .and_then(|u| u.join("api/v1/query_range"))
        .map_err(|e| anyhow!("prometheus_url `{base}`: {e}"))?;
    let step = step_for(from, to).as_secs().to_string();
    let resp = http
        .get(url)
        .query(&[
            ("query", expr),
            ("start", &from.timestamp().to_string()),
            ("end", &to.timestamp().to_string()),
            ("step", &step),
        ])
        .send()
        .await
        .map_err(|e| anyhow!("Prometheus at {base} not reachable: {e}"))?;
    let status = resp.status();
    let body = resp.bytes().await?;
    let answer: Answer = serde_json::from_slice(&body).map_err(|_| {
        anyhow!(
            "Prometheus at {base} answered {status}: {}",
            crate::sanitize::strip_escapes(&String::from_utf8_lossy(&body))
                .chars()
                .take(200)
                .collect::<String>()
        )
    })?;
    if answer.status != "success" {
        return Err(anyhow!(
            "Prometheus rejected the query: {}",
            crate::sanitize::strip_escapes(&answer.error.unwrap_or_default())
        ));
    }
    let result = answer.data.map(|d| d.result).unwrap_or_default();
    Ok(result
        .into_iter()
        .take(max_series)
        .map(|m| Series {
            label: crate::sanitize::strip_escapes(&if m.metric.is_empty() {
                expr.to_string()
            } else {
                m.metric
                    .iter()
                    .filter(|(k, _)| *k != "__name__")
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            }),
            points: m
                .values
                .into_iter()
                .filter_map(|(t, v)| {
                    let at = DateTime::from_timestamp_millis((t * 1000.0) as i64)?;
                    Some((at, v.parse::<f64>().ok().filter(|v| v.is_finite())?))
                })
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expression_from_a_generator_url() {
        let u = "http://prom:9090/graph?g0.expr=rate%28http_requests_total%7Bcode%3D~%225..%22%7D%5B5m%5D%29+%3E+0.5&g0.tab=1";
        assert_eq!(
            expr_of(u).as_deref(),
            Some(r#"rate(http_requests_total{code=~"5.."}[5m]) > 0.5"#)
        );
        assert_eq!(expr_of("not a url"), None);
    }

    #[test]
    fn comparisons_split_at_the_top_level_only() {
        type Case<'a> = (&'a str, &'a str, Option<(Comparison, f64)>);
        let cases: &[Case] = &[
            (
                r#"rate(x{code=~"5.."}[5m]) > 0.5"#,
                r#"rate(x{code=~"5.."}[5m])"#,
                Some((Comparison::Gt, 0.5)),
            ),
            ("up == 0", "up", Some((Comparison::Eq, 0.0))),
            (
                "node_filesystem_avail_bytes / node_filesystem_size_bytes * 100 < 10",
                "node_filesystem_avail_bytes / node_filesystem_size_bytes * 100",
                Some((Comparison::Lt, 10.0)),
            ),
            ("x >= bool 3", "x", Some((Comparison::Ge, 3.0))),
            (r#"sum(x{a!="b"})"#, r#"sum(x{a!="b"})"#, None),
            ("a > b", "a > b", None),
            ("vector(1)", "vector(1)", None),
        ];
        for (expr, left, cmp) in cases {
            let (l, c) = split_comparison(expr);
            assert_eq!((&l.as_str(), &c), (left, cmp), "{expr}");
        }
    }
}
