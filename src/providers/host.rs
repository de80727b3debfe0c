//! The host provider: CPU, memory, load and mounted filesystems from /proc via sysinfo.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use sysinfo::{Disks, System};

use super::host_types::{DiskUsage, HostSample};
use super::poller::Poll;

/// Which filesystems to show.
#[derive(Debug, Clone, Default)]
pub struct DiskFilter {
    pub ignore_fs_types: Vec<String>,
    pub ignore_mounts: Vec<PathBuf>,
}

impl DiskFilter {
    fn keeps(&self, mount: &std::path::Path, fs: &str, total: u64) -> bool {
        // Container layers and volumes mounted by the engine are not the host's filesystems.
        const ENGINE_INTERNALS: [&str; 3] = [
            "/var/lib/docker/",
            "/var/lib/containers/",
            "/run/containers/",
        ];
        let m = mount.to_string_lossy();
        total > 0
            && !ENGINE_INTERNALS.iter().any(|p| m.starts_with(p))
            && !self.ignore_fs_types.iter().any(|t| t == fs)
            && !self.ignore_mounts.iter().any(|m| m == mount)
    }
}

/// Holds sysinfo's state between samples: CPU use is the difference of two readings.
pub struct HostPoller {
    sys: Option<System>,
    filter: DiskFilter,
}

impl HostPoller {
    pub fn new(filter: DiskFilter) -> Self {
        HostPoller { sys: None, filter }
    }
}

impl Poll for HostPoller {
    type Output = HostSample;

    fn poll(&mut self) -> BoxFuture<'_, anyhow::Result<HostSample>> {
        Box::pin(async move {
            let sys = self.sys.take();
            let filter = self.filter.clone();
            // Reading /proc is blocking; a hung read is dropped by the poller's timeout and
            // only this blocking thread waits.
            let (sys, sample) = tokio::task::spawn_blocking(move || {
                let first = sys.is_none();
                let mut sys = sys.unwrap_or_default();
                sys.refresh_cpu_usage();
                if first {
                    std::thread::sleep(
                        sysinfo::MINIMUM_CPU_UPDATE_INTERVAL.max(Duration::from_millis(200)),
                    );
                    sys.refresh_cpu_usage();
                }
                let sample = take_sample(&mut sys, &filter);
                (sys, sample)
            })
            .await?;
            self.sys = Some(sys);
            Ok(sample)
        })
    }
}

/// One sample; CPU use is since the previous `refresh_cpu_usage` on `sys`.
pub fn take_sample(sys: &mut System, filter: &DiskFilter) -> HostSample {
    sys.refresh_memory();
    let load = System::load_average();
    HostSample {
        at: Utc::now(),
        cpu_pct: f64::from(sys.global_cpu_usage()).clamp(0.0, 100.0),
        mem_used: sys.used_memory(),
        mem_total: sys.total_memory(),
        load: [load.one, load.five, load.fifteen],
        cores: sys.cpus().len().max(1),
        disks: read_disks(filter),
    }
}

/// Mounted filesystems, one entry per filesystem: bind mounts of the same device (as in a
/// container's /etc/hosts) collapse to the shortest mount point.
pub fn read_disks(filter: &DiskFilter) -> Vec<DiskUsage> {
    let disks = Disks::new_with_refreshed_list();
    let mut by_device: HashMap<(String, u64, u64), DiskUsage> = HashMap::new();
    for d in disks.list() {
        let fs = d.file_system().to_string_lossy().to_string();
        let total = d.total_space();
        if !filter.keeps(d.mount_point(), &fs, total) {
            continue;
        }
        let (total, used, avail) = statvfs(d.mount_point()).unwrap_or((
            total,
            total.saturating_sub(d.available_space()),
            d.available_space(),
        ));
        let mount = d.mount_point().to_string_lossy().to_string();
        let key = (
            d.name().to_string_lossy().to_string(),
            total,
            used / (1 << 20),
        );
        let entry = DiskUsage {
            mount,
            fs_type: fs,
            total,
            used,
            avail,
        };
        by_device
            .entry(key)
            .and_modify(|e| {
                if entry.mount.len() < e.mount.len() {
                    *e = entry.clone();
                }
            })
            .or_insert(entry);
    }
    let mut out: Vec<DiskUsage> = by_device.into_values().collect();
    out.sort_by(|a, b| a.mount.cmp(&b.mount));
    out
}

/// `(total, used, avail)` in bytes as `df` computes them.
fn statvfs(path: &std::path::Path) -> Option<(u64, u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a writable statvfs.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    let frsize = st.f_frsize as u64;
    let total = st.f_blocks as u64 * frsize;
    let used = (st.f_blocks as u64).saturating_sub(st.f_bfree as u64) * frsize;
    let avail = st.f_bavail as u64 * frsize;
    Some((total, used, avail))
}

/// A one-shot sample for `toban status`: two CPU readings `window` apart.
pub fn sample_now(filter: &DiskFilter, window: Duration) -> HostSample {
    let mut sys = System::new();
    sys.refresh_cpu_usage();
    std::thread::sleep(window.max(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL));
    sys.refresh_cpu_usage();
    take_sample(&mut sys, filter)
}
