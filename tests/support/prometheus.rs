//! Real Prometheus and Alertmanager on loopback (Debian's `prometheus` and
//! `prometheus-alertmanager`): an HA pair of Alertmanagers gossiping with each other, and a
//! Prometheus scraping itself every second whose rule `TobanHeadSeries`
//! (`prometheus_tsdb_head_series > 1`) fires at once and is sent to both Alertmanagers.
//! Started once per test process in a temp dir on free ports; the processes die with it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Stack {
    pub alertmanagers: [String; 2],
    pub prometheus: String,
    pub dir: PathBuf,
}

static STACK: OnceLock<Result<Stack, String>> = OnceLock::new();

pub fn stack() -> Option<Stack> {
    match STACK.get_or_init(start) {
        Ok(s) => Some(s.clone()),
        Err(why) => {
            super::service_unavailable("Prometheus and Alertmanager", why);
            None
        }
    }
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

fn find(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(bin))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/bin").join(bin)])
        .find(|p| p.is_file())
}

/// Runs `bin args` in a thread that lives as long as the test process, so PDEATHSIG stops
/// the server only when the tests end. Output goes to `log`.
fn launch(bin: &Path, args: Vec<String>, log: &Path) -> Result<(), String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let bin = bin.to_path_buf();
    let log = log.to_path_buf();
    std::thread::spawn(move || {
        use std::os::unix::process::CommandExt;
        let out = match std::fs::File::create(&log) {
            Ok(f) => f,
            Err(e) => {
                let _ = tx.send(Err(e.to_string()));
                return;
            }
        };
        let err = out.try_clone().expect("log file handle");
        let mut cmd = std::process::Command::new(&bin);
        cmd.args(&args).stdout(out).stderr(err);
        // SAFETY: prctl is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        match cmd.spawn() {
            Ok(mut c) => {
                let _ = tx.send(Ok(()));
                let _ = c.wait();
            }
            Err(e) => {
                let _ = tx.send(Err(format!("{}: {e}", bin.display())));
            }
        }
    });
    rx.recv().map_err(|e| e.to_string())?
}

fn wait_ready(url: &str, log: &Path) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let addr = url.trim_start_matches("http://");
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "{url} did not start listening within 30 s: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    ))
}

fn start() -> Result<Stack, String> {
    let am_bin = find("prometheus-alertmanager")
        .or_else(|| find("alertmanager"))
        .ok_or("prometheus-alertmanager not installed (apt-get install prometheus-alertmanager)")?;
    let prom_bin =
        find("prometheus").ok_or("prometheus not installed (apt-get install prometheus)")?;
    let dir = tempfile::Builder::new()
        .prefix("toban-prom-")
        .tempdir()
        .map_err(|e| e.to_string())?
        .keep();
    let am_cfg = dir.join("alertmanager.yml");
    std::fs::write(
        &am_cfg,
        "route:\n  receiver: 'null'\n  group_by: ['alertname', 'job']\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: 'null'\n",
    )
    .map_err(|e| e.to_string())?;
    let web = [free_port()?, free_port()?];
    let cluster = [free_port()?, free_port()?];
    let mut ams = Vec::new();
    for i in 0..2 {
        let data = dir.join(format!("am{i}"));
        std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
        let args = vec![
            format!("--config.file={}", am_cfg.display()),
            format!("--storage.path={}", data.display()),
            format!("--web.listen-address=127.0.0.1:{}", web[i]),
            format!("--cluster.listen-address=127.0.0.1:{}", cluster[i]),
            format!("--cluster.advertise-address=127.0.0.1:{}", cluster[i]),
            format!("--cluster.peer=127.0.0.1:{}", cluster[1 - i]),
            "--cluster.gossip-interval=100ms".into(),
            "--cluster.pushpull-interval=1s".into(),
            "--log.level=warn".into(),
        ];
        let log = dir.join(format!("am{i}.log"));
        launch(&am_bin, args, &log)?;
        let url = format!("http://127.0.0.1:{}", web[i]);
        wait_ready(&url, &log)?;
        ams.push(url);
    }

    let prom_port = free_port()?;
    let prom_url = format!("http://127.0.0.1:{prom_port}");
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n  - name: toban-test\n    interval: 1s\n    rules:\n      - alert: TobanHeadSeries\n        expr: prometheus_tsdb_head_series > 1\n        labels:\n          severity: warning\n        annotations:\n          summary: Prometheus holds more than one series\n          runbook: rotate-logs\n",
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {rules}\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{prom_port}']\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{}', '127.0.0.1:{}']\n",
            web[0],
            web[1],
            rules = dir.join("rules.yml").display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let log = dir.join("prometheus.log");
    launch(
        &prom_bin,
        vec![
            format!("--config.file={}", dir.join("prometheus.yml").display()),
            format!("--storage.tsdb.path={}", dir.join("tsdb").display()),
            format!("--web.listen-address=127.0.0.1:{prom_port}"),
            format!("--web.external-url={prom_url}/"),
            "--log.level=warn".into(),
        ],
        &log,
    )?;
    wait_ready(&prom_url, &log)?;
    Ok(Stack {
        alertmanagers: [ams[0].clone(), ams[1].clone()],
        prometheus: prom_url,
        dir,
    })
}
