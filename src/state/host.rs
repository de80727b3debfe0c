//! The host's recent samples, for the Overview cards and sparklines.

use std::collections::VecDeque;

use crate::providers::host_types::HostSample;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostView {
    /// Oldest first, at most `capacity` samples.
    pub samples: VecDeque<HostSample>,
    pub capacity: usize,
}

impl HostView {
    pub fn new(capacity: usize) -> Self {
        HostView {
            samples: VecDeque::with_capacity(capacity.min(4096)),
            capacity: capacity.max(2),
        }
    }

    pub fn push(&mut self, s: HostSample) {
        self.samples.push_back(s);
        while self.samples.len() > self.capacity {
            self.samples.pop_front();
        }
    }

    pub fn latest(&self) -> Option<&HostSample> {
        self.samples.back()
    }

    /// The last `n` values of a series, oldest first, as whole percents for a sparkline.
    pub fn series(&self, n: usize, f: impl Fn(&HostSample) -> f64) -> Vec<u64> {
        let skip = self.samples.len().saturating_sub(n);
        self.samples
            .iter()
            .skip(skip)
            .map(|s| f(s).round().clamp(0.0, 100.0) as u64)
            .collect()
    }
}
