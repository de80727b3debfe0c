//! Logs Insights: saved queries (seed 002's two ship; `[[logs.query]]` adds more), run with
//! StartQuery and GetQueryResults until the query is done, the results a table (columns in
//! the order the fields first appear, `@ptr` left out, every value made inert).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::cloudwatch::{describe, Connection};
use crate::config::logs::SavedQueryConfig;

#[derive(Debug, Clone, PartialEq)]
pub struct SavedQuery {
    pub name: String,
    pub query: String,
    /// Empty: the selected CloudWatch source's group (else every configured group).
    pub groups: Vec<String>,
    pub since: Duration,
}

/// Seed 002's queries: the morning check's errors of the last hour, newest first, and the
/// RDS slow-query review (queries over 1 s, slowest first).
pub fn shipped() -> Vec<SavedQuery> {
    vec![
        SavedQuery {
            name: "Errors, last hour, newest first".into(),
            query: "fields @timestamp, level, message, statusCode\n| filter level = \"ERROR\"\n| sort @timestamp desc\n| limit 100".into(),
            groups: Vec::new(),
            since: Duration::from_secs(3600),
        },
        SavedQuery {
            name: "Slow queries over 1 s".into(),
            query: "fields @timestamp, @message\n| filter @message like /duration/\n| parse @message /duration: (?<duration>\\d+\\.\\d+) ms/\n| filter duration > 1000\n| sort duration desc\n| limit 20".into(),
            groups: Vec::new(),
            since: Duration::from_secs(3600),
        },
    ]
}

/// The shipped queries, then the config's.
pub fn all(extra: &[SavedQueryConfig]) -> Vec<SavedQuery> {
    let mut out = shipped();
    out.extend(extra.iter().map(|q| SavedQuery {
        name: q.name.clone(),
        query: q.query.clone(),
        groups: q.groups.clone(),
        since: q.since,
    }));
    out
}

/// A finished query's rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Complete, Failed, Cancelled, Timeout…
    pub status: String,
    pub records_matched: f64,
    pub records_scanned: f64,
}

impl QueryResult {
    /// From GetQueryResults' rows of (field, value) pairs.
    pub fn from_fields(rows: Vec<Vec<(String, String)>>) -> QueryResult {
        let mut columns: Vec<String> = Vec::new();
        for r in &rows {
            for (f, _) in r {
                if f != "@ptr" && !columns.contains(f) {
                    columns.push(f.clone());
                }
            }
        }
        let rows = rows
            .into_iter()
            .map(|r| {
                columns
                    .iter()
                    .map(|c| {
                        r.iter()
                            .find(|(f, _)| f == c)
                            .map(|(_, v)| cell(c, v))
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .collect();
        QueryResult {
            columns: columns
                .iter()
                .map(|c| super::text::inert(c.as_bytes()))
                .collect(),
            rows,
            ..Default::default()
        }
    }
}

/// A value made drawable: inert, one line; a `@timestamp` in epoch milliseconds (as some
/// endpoints send it) written as a time.
fn cell(column: &str, value: &str) -> String {
    if column == "@timestamp" && !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        if let Some(t) = value
            .parse::<i64>()
            .ok()
            .and_then(DateTime::<Utc>::from_timestamp_millis)
        {
            return t.format("%Y-%m-%d %H:%M:%S%.3f").to_string();
        }
    }
    super::text::inert(value.replace('\n', " ").as_bytes())
}

/// How long a query may run before it is stopped.
const QUERY_LIMIT: Duration = Duration::from_secs(300);

/// Runs `query` over `groups` for the window `from..to` and waits for its results.
pub async fn run(
    conn: &Connection,
    groups: &[String],
    query: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<QueryResult, String> {
    let started = conn
        .client
        .start_query()
        .set_log_group_names(Some(groups.to_vec()))
        .start_time(from.timestamp())
        .end_time(to.timestamp())
        .query_string(query)
        .send()
        .await
        .map_err(|e| describe(&e, conn))?;
    let id = started
        .query_id()
        .ok_or("StartQuery answered without a query id")?
        .to_string();
    let deadline = tokio::time::Instant::now() + QUERY_LIMIT;
    let mut wait = Duration::from_millis(200);
    loop {
        let out = conn
            .client
            .get_query_results()
            .query_id(&id)
            .send()
            .await
            .map_err(|e| describe(&e, conn))?;
        let status = out
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        if !matches!(status.as_str(), "Running" | "Scheduled" | "") {
            let rows = out
                .results()
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|f| {
                            (
                                f.field().unwrap_or_default().to_string(),
                                f.value().unwrap_or_default().to_string(),
                            )
                        })
                        .collect()
                })
                .collect();
            let mut res = QueryResult::from_fields(rows);
            res.status = status;
            if let Some(s) = out.statistics() {
                res.records_matched = s.records_matched();
                res.records_scanned = s.records_scanned();
            }
            return Ok(res);
        }
        if tokio::time::Instant::now() > deadline {
            let _ = conn.client.stop_query().query_id(&id).send().await;
            return Err(format!(
                "the query ran over {} s and was stopped",
                QUERY_LIMIT.as_secs()
            ));
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_in_order_without_ptr_and_cells_inert() {
        let f = |a: &str, b: &str| (a.to_string(), b.to_string());
        let r = QueryResult::from_fields(vec![
            vec![f("@timestamp", "1764748800123"), f("@ptr", "x")],
            vec![f("@message", "a\x1b[31mred\nnext"), f("@timestamp", "t")],
        ]);
        assert_eq!(r.columns, ["@timestamp", "@message"]);
        assert_eq!(r.rows[0], ["2025-12-03 08:00:00.123", ""]);
        assert_eq!(r.rows[1], ["t", "ared next"]);
        assert_eq!(shipped().len(), 2);
    }
}
