//! CloudWatch Logs groups as sources: `cw:GROUP` or `cw:GROUP:STREAM` (a group name never
//! holds a colon). A group's tail is FilterLogEvents from `since` ago, every page, then the
//! same call from the newest event's time every `poll` — what `aws logs tail --follow`
//! does; events at that same millisecond are told apart by their event id, so none is shown
//! twice. StartLiveTail is not used: it needs an HTTP/2 event stream that stand-ins such as
//! moto do not serve, and polling costs one request per group per `poll`.
//!
//! Credentials and region come from the standard AWS chain (environment, profile, SSO,
//! instance role) as for CloudWatch alarms; `endpoint_url` or `AWS_ENDPOINT_URL` point
//! elsewhere. Each event becomes one line, `TIME STREAM MESSAGE`, its newlines made spaces.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::Client;
use chrono::{DateTime, Utc};

use crate::config::logs::{group_and_stream, LogsAws};

pub const PREFIX: &str = "cw:";

/// The group and stream a source names, if it names one.
pub fn target_of(source: &str) -> Option<(&str, Option<&str>)> {
    source.strip_prefix(PREFIX).and_then(group_and_stream)
}

/// A client and where it goes (for messages).
#[derive(Clone, Debug)]
pub struct Connection {
    pub client: Client,
    pub profile: Option<String>,
    pub endpoint: String,
}

pub async fn connect(aws: &LogsAws) -> Connection {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).retry_config(
        aws_config::retry::RetryConfig::adaptive()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(500)),
    );
    if let Some(p) = &aws.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &aws.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    if let Some(e) = &aws.endpoint_url {
        loader = loader.endpoint_url(e);
    }
    let sdk = loader.load().await;
    let region = sdk
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "(no region)".into());
    let endpoint = aws
        .endpoint_url
        .clone()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS").ok())
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
        .unwrap_or_else(|| format!("CloudWatch Logs in {region}"));
    Connection {
        client: Client::new(&sdk),
        profile: aws.profile.clone(),
        endpoint,
    }
}

/// A failed call as a reason the person on call can act on.
pub fn describe<E, R>(e: &SdkError<E, R>, conn: &Connection) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let profile = match &conn.profile {
        Some(p) => format!("profile {p}"),
        None => "the default credentials".into(),
    };
    let text = chain(e).to_lowercase();
    let why = match (e, e.code()) {
        (_, Some("ResourceNotFoundException")) => "no such log group".to_string(),
        (_, Some("AccessDeniedException")) => format!("access denied for {profile}"),
        (_, Some(c)) if c.contains("Throttl") => "throttled — polling slower".into(),
        (_, Some(c)) if c.contains("Expired") => {
            format!("credentials expired for {profile} — run aws sso login")
        }
        (_, Some(c)) => format!("{c}: {}", e.message().unwrap_or_default()),
        (SdkError::ConstructionFailure(_), _) if text.contains("credential") => {
            format!("no AWS credentials for {profile} — run aws configure")
        }
        (SdkError::ConstructionFailure(_), _) if text.contains("region") => {
            "no region — set [logs.aws] region or AWS_REGION".into()
        }
        (SdkError::TimeoutError(_), _) => "no answer in time".into(),
        (SdkError::DispatchFailure(_), _) if text.contains("refused") => {
            "connection refused".into()
        }
        (SdkError::DispatchFailure(_), _) => "no connection".into(),
        _ => chain(e),
    };
    crate::sanitize::strip_escapes(&format!("{}: {why}", conn.endpoint))
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !msg.contains(&t) {
            msg.push_str(": ");
            msg.push_str(&t);
        }
        src = s.source();
    }
    msg
}

/// One event as a line: `2026-12-03T07:00:00.123Z STREAM MESSAGE\n`. The message's own
/// newlines (a stack trace in one event) become spaces: one event, one line.
pub fn event_line(ts_ms: i64, stream: &str, message: &str, out: &mut Vec<u8>) {
    if let Some(t) = DateTime::<Utc>::from_timestamp_millis(ts_ms) {
        out.extend_from_slice(t.format("%Y-%m-%dT%H:%M:%S%.3fZ ").to_string().as_bytes());
    }
    out.extend_from_slice(stream.as_bytes());
    out.push(b' ');
    let msg = message.trim_end_matches(['\n', '\r']);
    out.extend(msg.bytes().map(|b| if b == b'\n' { b' ' } else { b }));
    out.push(b'\n');
}

/// Stops a runaway NextToken loop (a million events at 10,000 a page).
const MAX_PAGES: usize = 100;

/// Where a group's tail is: the newest event's time and the ids seen at that millisecond.
#[derive(Debug, Clone)]
pub struct Tail {
    pub group: String,
    pub stream: Option<String>,
    pub last: i64,
    seen: HashSet<String>,
}

impl Tail {
    pub fn new(group: &str, stream: Option<&str>, since: DateTime<Utc>) -> Tail {
        Tail {
            group: group.to_string(),
            stream: stream.map(str::to_string),
            last: since.timestamp_millis(),
            seen: HashSet::new(),
        }
    }

    /// Every event since the last call (every page), oldest first, as lines.
    pub async fn fetch(&mut self, conn: &Connection) -> Result<Vec<u8>, String> {
        let mut events: Vec<(i64, String, String, String)> = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut req = conn
                .client
                .filter_log_events()
                .log_group_name(&self.group)
                .start_time(self.last);
            if let Some(s) = &self.stream {
                req = req.log_stream_names(s);
            }
            if let Some(t) = &token {
                req = req.next_token(t);
            }
            let out = req.send().await.map_err(|e| describe(&e, conn))?;
            for ev in out.events() {
                let id = ev.event_id().unwrap_or_default().to_string();
                let ts = ev.timestamp().unwrap_or(0);
                if ts < self.last || (ts == self.last && self.seen.contains(&id)) {
                    continue;
                }
                events.push((
                    ts,
                    id,
                    ev.log_stream_name().unwrap_or_default().to_string(),
                    ev.message().unwrap_or_default().to_string(),
                ));
            }
            token = out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        // Pages of several streams come interleaved by time; a stable sort keeps each
        // stream's own order for events of the same millisecond.
        events.sort_by_key(|e| e.0);
        let mut lines = Vec::new();
        for (ts, id, stream, msg) in events {
            if ts > self.last {
                self.last = ts;
                self.seen.clear();
            }
            self.seen.insert(id);
            event_line(ts, &stream, &msg, &mut lines);
        }
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_lines() {
        assert_eq!(
            target_of("cw:/ecs/staff-api"),
            Some(("/ecs/staff-api", None))
        );
        assert_eq!(
            target_of("cw:/ecs/staff-api:ecs/api/abc"),
            Some(("/ecs/staff-api", Some("ecs/api/abc")))
        );
        assert_eq!(target_of("cw:"), None);
        assert_eq!(target_of("/var/log/x"), None);
        let mut out = Vec::new();
        event_line(1_764_748_800_123, "s1", "a\nb\n", &mut out);
        assert_eq!(out, b"2025-12-03T08:00:00.123Z s1 a b\n");
    }
}
