//! A real Podman for the container tests: `podman system service` started by the test on a
//! socket of its own, with a containers.conf of the test's own (`CONTAINERS_CONF`; on this
//! kind of machine Podman needs `default_ulimits = []`), stopped on drop. The test can stop
//! it mid-run and start it again on the same socket. Images are made here from the static
//! busybox (`podman import`), nothing pulled.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use toban::providers::docker::{Endpoint, Engine};

pub struct Podman {
    pub socket: PathBuf,
    dir: tempfile::TempDir,
    service: Option<Child>,
}

fn conf(dir: &Path) -> PathBuf {
    dir.join("containers.conf")
}

impl Podman {
    /// The service on its own socket, answering; None (after a note) when Podman is not
    /// installed, a panic instead when services are required.
    pub async fn start_or_skip() -> Option<Podman> {
        if Command::new("podman")
            .arg("--version")
            .output()
            .map(|o| !o.status.success())
            .unwrap_or(true)
        {
            super::service_unavailable("Podman", "the podman command is not installed");
            return None;
        }
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::write(
            conf(dir.path()),
            "[containers]\n# Podman's default nofile ulimit is refused here.\ndefault_ulimits = []\n",
        )
        .unwrap();
        let socket = dir.path().join("podman.sock");
        let mut p = Podman {
            socket,
            dir,
            service: None,
        };
        if let Err(e) = p.start_service().await {
            super::service_unavailable("Podman", &e);
            return None;
        }
        Some(p)
    }

    /// The test's containers.conf, for the podman CLI (`CONTAINERS_CONF`).
    pub fn conf_path(&self) -> PathBuf {
        conf(self.dir.path())
    }

    pub fn endpoint(&self) -> Endpoint {
        Endpoint::Unix(self.socket.clone())
    }

    /// (Again) `podman system service` on the socket, until it answers.
    pub async fn start_service(&mut self) -> Result<(), String> {
        let _ = std::fs::remove_file(&self.socket);
        let log = std::fs::File::create(self.dir.path().join("service.log"))
            .map_err(|e| e.to_string())?;
        let child = Command::new("podman")
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", self.socket.display()))
            .env("CONTAINERS_CONF", conf(self.dir.path()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("podman system service: {e}"))?;
        self.service = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match Engine::connect_to(&self.endpoint()).await {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > deadline => {
                    let log = std::fs::read_to_string(self.dir.path().join("service.log"))
                        .unwrap_or_default();
                    return Err(format!("podman system service does not answer: {e}\n{log}"));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// Kills the service: the engine goes away.
    pub fn stop_service(&mut self) {
        if let Some(mut c) = self.service.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(&self.socket);
    }

    /// The podman CLI with the test's containers.conf; stdout on success.
    pub fn cli(&self, args: &[&str]) -> Result<String, String> {
        cli(&conf(self.dir.path()), args)
    }

    /// The busybox image, imported; removed on drop.
    pub fn image(&self) -> Result<PodmanImage, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let tar = super::engine::busybox_rootfs(dir.path())?;
        let tag = format!("localhost/toban-podman-test:{:016x}", rand::random::<u64>());
        self.cli(&["import", &tar.to_string_lossy(), &tag])?;
        Ok(PodmanImage {
            conf: conf(self.dir.path()),
            tag,
        })
    }

    /// `podman run -d --name <name>` of `image` with `extra` options and `cmd`; removed on
    /// drop.
    pub fn run(
        &self,
        image: &PodmanImage,
        extra: &[&str],
        cmd: &[&str],
    ) -> Result<PodmanContainer, String> {
        let name = format!("toban-test-pm-{:012x}", rand::random::<u64>() >> 16);
        let mut args = vec!["run", "-d", "--name", &name];
        args.extend_from_slice(extra);
        args.push(&image.tag);
        args.extend_from_slice(cmd);
        self.cli(&args)?;
        Ok(PodmanContainer {
            conf: conf(self.dir.path()),
            name,
        })
    }
}

fn cli(conf: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("podman")
        .args(args)
        .env("CONTAINERS_CONF", conf)
        .output()
        .map_err(|e| format!("podman {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "podman {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        self.stop_service();
    }
}

pub struct PodmanImage {
    conf: PathBuf,
    pub tag: String,
}

impl Drop for PodmanImage {
    fn drop(&mut self) {
        let _ = cli(&self.conf, &["rmi", "-f", &self.tag]);
    }
}

pub struct PodmanContainer {
    conf: PathBuf,
    pub name: String,
}

impl Drop for PodmanContainer {
    fn drop(&mut self) {
        let _ = cli(&self.conf, &["rm", "-f", "-t", "0", &self.name]);
    }
}
