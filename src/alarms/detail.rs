//! The open detail view's data: which alarm, its history and its chart as they load.

use chrono::{DateTime, Utc};

use super::model::{HistoryItem, Series};

/// Something fetched for the detail view.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Load<T> {
    #[default]
    Loading,
    Ready(T),
    Failed(String),
    /// Not available for this alarm (no metric, no Prometheus configured …), and why.
    None(String),
}

impl<T> Load<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Load::Ready(t) => Some(t),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    /// The alarm's key (the row may change or vanish while the detail is open).
    pub key: String,
    pub history: Load<Vec<HistoryItem>>,
    pub chart: Load<Vec<Series>>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}
