//! Filter-as-you-type over alarm rows. Words are ANDed:
//!
//! - plain words: found in the name, reason, source or labels (case-insensitive)
//! - `state:alarm` (`firing`, `insufficient`/`nodata`, `ok`), `source:cloudwatch` (glob or
//!   prefix of `cloudwatch:prod`), `p:1` (priority), `key=value` or `label:key=value`
//! - `is:acked`, `is:silenced`, `is:new` and their `-is:` negations
//!
//! Parsing happens once per keystroke; matching one row is a few substring searches in its
//! precomputed lower-case text, so 10,000 rows filter well under the 2 ms budget.

use crate::config::alarms::Priority;

use super::classify::glob;
use super::model::{Alarm, AlarmState, LABEL_MARK};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    words: Vec<String>,
    states: Vec<AlarmState>,
    sources: Vec<String>,
    priorities: Vec<Priority>,
    labels: Vec<LabelTerm>,
    handled: Option<bool>,
    silenced: Option<bool>,
    /// Words that are not understood (`state:burning`), shown beside the filter.
    pub problems: Vec<String>,
}

/// What the state knows about a row beyond the row itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    /// Acknowledged or silenced (in toban or in the source).
    pub handled: bool,
    pub silenced: bool,
}

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let mut f = Filter::default();
        for raw in text.split_whitespace() {
            let (neg, w) = match raw.strip_prefix('-') {
                Some(rest) if rest.starts_with("is:") => (true, rest),
                _ => (false, raw),
            };
            let lower = w.to_lowercase();
            if let Some((k, v)) = lower.split_once(':') {
                match k {
                    "state" | "s" => match AlarmState::parse(v) {
                        Some(s) => f.states.push(s),
                        None => f.problems.push(raw.to_string()),
                    },
                    "source" | "src" => f.sources.push(v.to_string()),
                    "p" | "priority" => {
                        let v = if v.starts_with('p') {
                            v.to_string()
                        } else {
                            format!("p{v}")
                        };
                        match Priority::parse(&v) {
                            Some(p) => f.priorities.push(p),
                            None => f.problems.push(raw.to_string()),
                        }
                    }
                    "label" | "l" | "tag" => f.labels.push(LabelTerm::new(v)),
                    "is" => match v {
                        "acked" | "ack" | "handled" => f.handled = Some(!neg),
                        "silenced" => f.silenced = Some(!neg),
                        "firing" | "alarm" => f.states.push(AlarmState::Firing),
                        _ => f.problems.push(raw.to_string()),
                    },
                    _ => f.words.push(lower),
                }
            } else if lower.contains('=') {
                f.labels.push(LabelTerm::new(&lower));
            } else {
                f.words.push(lower);
            }
        }
        f
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
            && self.states.is_empty()
            && self.sources.is_empty()
            && self.priorities.is_empty()
            && self.labels.is_empty()
            && self.handled.is_none()
            && self.silenced.is_none()
    }

    pub fn matches(&self, a: &Alarm, marks: Marks) -> bool {
        if !self.states.is_empty() && !self.states.contains(&a.state) {
            return false;
        }
        if !self.priorities.is_empty() && !self.priorities.contains(&a.priority) {
            return false;
        }
        if !self.sources.is_empty() {
            let src = a.source.name();
            let hit = self.sources.iter().any(|s| {
                src.starts_with(s.as_str()) || glob(s, src) || src.eq_ignore_ascii_case(s)
            });
            if !hit {
                return false;
            }
        }
        if self.handled.is_some_and(|h| h != marks.handled)
            || self.silenced.is_some_and(|s| s != marks.silenced)
        {
            return false;
        }
        if !self.labels.iter().all(|l| l.matches(a)) {
            return false;
        }
        self.words.iter().all(|w| a.haystack.contains(w.as_str()))
    }
}

/// `key`, `key=value` or `key=glob*`. Exact terms are one substring search in the row's
/// lower-case text (its label lines start with [`LABEL_MARK`]); globs walk the labels.
#[derive(Debug, Clone, PartialEq)]
struct LabelTerm {
    key: String,
    value: Option<String>,
    /// `\n\u{1}key=value` (or `\n\u{1}key=` for a key alone) when there is no wildcard.
    needle: Option<String>,
}

impl LabelTerm {
    fn new(s: &str) -> LabelTerm {
        let (key, value) = match s.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (s.to_string(), None),
        };
        let wild = value.as_deref().is_some_and(|v| v.contains(['*', '?']));
        let needle = (!wild).then(|| {
            format!(
                "\n{LABEL_MARK}{key}={}",
                value.as_deref().unwrap_or_default()
            )
        });
        LabelTerm { key, value, needle }
    }

    fn matches(&self, a: &Alarm) -> bool {
        match &self.needle {
            Some(n) => {
                // `contains` has a SIMD path; most rows fail here.
                if !a.haystack.contains(n.as_str()) {
                    return false;
                }
                let whole_value = self.value.is_some();
                a.haystack.match_indices(n.as_str()).any(|(i, _)| {
                    !whole_value
                        || matches!(a.haystack.as_bytes().get(i + n.len()), None | Some(b'\n'))
                })
            }
            None => a.labels.iter().any(|(lk, lv)| {
                lk.eq_ignore_ascii_case(&self.key)
                    && self.value.as_deref().is_none_or(|v| glob(v, lv))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::model::AlarmKind;
    use crate::providers::ProviderId;
    use chrono::Utc;

    fn alarm(src: (&str, &str), name: &str, state: AlarmState, labels: &[(&str, &str)]) -> Alarm {
        let mut a = Alarm::new(
            ProviderId::named(src.0, src.1),
            name.into(),
            AlarmKind::Metric,
            name,
            state,
            Utc::now(),
        )
        .with_reason("Threshold Crossed: 1 datapoint [7.2] was >= 5.0");
        for (k, v) in labels {
            a.label(k, v);
        }
        a.finish();
        a
    }

    #[test]
    fn table() {
        let rows = [
            alarm(
                ("cloudwatch", "prod"),
                "alb-5xx-error-rate",
                AlarmState::Firing,
                &[("team", "web")],
            ),
            alarm(("cloudwatch", "stg"), "ecs-cpu-high", AlarmState::Ok, &[]),
            alarm(
                ("alertmanager", "main"),
                "HighLatency",
                AlarmState::Firing,
                &[("severity", "warning")],
            ),
            alarm(
                ("alertmanager", "main"),
                "NoData",
                AlarmState::InsufficientData,
                &[],
            ),
        ];
        let cases: &[(&str, &[usize])] = &[
            ("", &[0, 1, 2, 3]),
            ("5XX", &[0]),
            ("state:alarm", &[0, 2]),
            ("s:nodata", &[3]),
            ("source:cloudwatch", &[0, 1]),
            ("source:cloudwatch:stg", &[1]),
            ("src:alertmanager state:firing", &[2]),
            ("severity=warning", &[2]),
            ("label:team", &[0]),
            ("tag:team=w*", &[0]),
            ("team=we", &[]),
            ("team=WEB", &[0]),
            ("threshold crossed", &[0, 1, 2, 3]),
            ("alertmanager:main", &[2, 3]),
            ("cpu high", &[1]),
            ("cpu missing", &[]),
        ];
        for (q, want) in cases {
            let f = Filter::parse(q);
            let got: Vec<usize> = rows
                .iter()
                .enumerate()
                .filter(|(_, a)| f.matches(a, Marks::default()))
                .map(|(i, _)| i)
                .collect();
            assert_eq!(&got, want, "filter {q:?}");
        }
    }

    #[test]
    fn marks_and_problems() {
        let a = alarm(("cloudwatch", "prod"), "x", AlarmState::Firing, &[]);
        let acked = Marks {
            handled: true,
            silenced: false,
        };
        assert!(Filter::parse("is:acked").matches(&a, acked));
        assert!(!Filter::parse("-is:acked").matches(&a, acked));
        assert!(Filter::parse("-is:acked").matches(&a, Marks::default()));
        let f = Filter::parse("state:burning p:9");
        assert_eq!(f.problems, ["state:burning", "p:9"]);
    }
}
