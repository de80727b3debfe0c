//! Rootless Podman, as many RHEL ops hosts run it: a user of its own (`toban-rootless`,
//! made by `.ci/run` with its subordinate ids) runs `podman system service` on the user's
//! socket (`$XDG_RUNTIME_DIR/podman/podman.sock`) and a container; toban, run as that
//! user with `host = "podman-rootless"`, finds the socket and lists the container, then
//! sees it down once the service is gone. Needs root (to act as the user) and the user.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const USER: &str = "toban-rootless";

struct Rootless {
    uid: u32,
    home: PathBuf,
    runtime: PathBuf,
    service: Option<Child>,
    container: Option<String>,
    image: Option<String>,
}

fn uid_of(user: &str) -> Option<u32> {
    let out = Command::new("id").args(["-u", user]).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

impl Rootless {
    fn start_or_skip() -> Option<Rootless> {
        let me = Command::new("id").arg("-u").output().ok().and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<u32>()
                .ok()
        });
        let why = if me != Some(0) {
            Some("needs root to act as the rootless user".to_string())
        } else if Command::new("podman").arg("--version").output().is_err() {
            Some("podman is not installed".into())
        } else if Command::new("newuidmap").arg("--help").output().is_err() {
            Some("newuidmap is missing (apt-get install uidmap)".into())
        } else if uid_of(USER).is_none() {
            Some(format!(
                "no user {USER} (useradd -m {USER}; .ci/run makes it)"
            ))
        } else {
            None
        };
        if let Some(why) = why {
            support::service_unavailable("rootless Podman", &why);
            return None;
        }
        let uid = uid_of(USER).unwrap();
        let home = PathBuf::from(format!("/home/{USER}"));
        // What a login would make: the user's runtime folder.
        let runtime = PathBuf::from(format!("/run/user/{uid}"));
        std::fs::create_dir_all(&runtime).unwrap();
        let _ = Command::new("chown")
            .arg(format!("{USER}:"))
            .arg(&runtime)
            .status();
        let _ = Command::new("chmod").arg("700").arg(&runtime).status();
        // The test's own containers.conf (this kind of machine refuses Podman's default
        // nofile ulimit), in the user's home.
        let conf = home.join("toban-test-containers.conf");
        std::fs::write(&conf, "[containers]\ndefault_ulimits = []\n").unwrap();
        let mut r = Rootless {
            uid,
            home,
            runtime,
            service: None,
            container: None,
            image: None,
        };
        r.chown(&conf);
        let sock = r.socket();
        let _ = std::fs::remove_file(&sock);
        let log =
            std::fs::File::create(std::env::temp_dir().join("toban-rootless-service.log")).unwrap();
        r.service = Some(
            r.as_user(&["podman", "system", "service", "--time=0"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("podman system service as the user"),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while !sock.exists() {
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(
                    std::env::temp_dir().join("toban-rootless-service.log"),
                )
                .unwrap_or_default();
                support::service_unavailable(
                    "rootless Podman",
                    &format!("the user's service made no socket: {log}"),
                );
                return None;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Some(r)
    }

    fn socket(&self) -> PathBuf {
        self.runtime.join("podman/podman.sock")
    }

    fn chown(&self, p: &Path) {
        let _ = Command::new("chown")
            .arg(format!("{USER}:"))
            .arg(p)
            .status();
    }

    /// `argv` as the user, with the user's HOME, runtime folder and the test's
    /// containers.conf; never through a shell.
    fn as_user(&self, argv: &[&str]) -> Command {
        let mut c = Command::new("runuser");
        c.args(["-u", USER, "--", "env"])
            .arg(format!("HOME={}", self.home.display()))
            .arg(format!("XDG_RUNTIME_DIR={}", self.runtime.display()))
            .arg(format!(
                "CONTAINERS_CONF={}",
                self.home.join("toban-test-containers.conf").display()
            ))
            .args(argv)
            .current_dir("/");
        c
    }

    fn podman(&self, args: &[&str]) -> String {
        let mut argv = vec!["podman"];
        argv.extend_from_slice(args);
        let out = self.as_user(&argv).output().unwrap();
        assert!(
            out.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn stop_service(&mut self) {
        if let Some(mut c) = self.service.take() {
            // runuser's child is the service: end it by its command line, as the user.
            let _ = Command::new("pkill")
                .args(["-u", &self.uid.to_string(), "-f", "podman system service"])
                .status();
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Rootless {
    fn drop(&mut self) {
        if let Some(name) = self.container.take() {
            let _ = self
                .as_user(&["podman", "rm", "-f", "-t", "0", &name])
                .output();
        }
        if let Some(tag) = self.image.take() {
            let _ = self.as_user(&["podman", "rmi", "-f", &tag]).output();
        }
        self.stop_service();
        // The user is the test's own: its Podman pause process goes too.
        let _ = Command::new("pkill")
            .args(["-u", &self.uid.to_string()])
            .status();
    }
}

/// `toban services --json` as the user, with a HOME of the test's that the user owns.
fn services_json(r: &Rootless, dir: &Path) -> (Option<i32>, serde_json::Value) {
    // A copy the user may run: the build may sit under root's 0700 home.
    let bin = dir.join("toban");
    if !bin.exists() {
        std::fs::copy(support::toban_bin(), &bin).unwrap();
        r.chown(&bin);
    }
    let config = dir.join("config.toml");
    // toban's own folders under the test's dir, which the user owns.
    let data = format!("XDG_DATA_HOME={}", dir.join("d").display());
    let state = format!("XDG_STATE_HOME={}", dir.join("s").display());
    let out = r
        .as_user(&[
            &data,
            &state,
            &bin.to_string_lossy(),
            "--config",
            &config.to_string_lossy(),
            "services",
            "--json",
        ])
        .output()
        .unwrap();
    (out.status.code(), support::services_report(&out))
}

#[test]
fn a_rootless_podman_container_is_listed_by_toban_run_as_its_user() {
    let Some(mut r) = Rootless::start_or_skip() else {
        return;
    };
    // The image from the static busybox, imported by the user (nothing pulled).
    let dir = tempfile::Builder::new()
        .prefix("toban-rootless-")
        .tempdir()
        .unwrap();
    let tar = support::engine::busybox_rootfs(dir.path()).unwrap();
    r.chown(dir.path());
    r.chown(&tar);
    let tag = format!(
        "localhost/toban-rootless-test:{:08x}",
        rand::random::<u32>()
    );
    r.podman(&["import", &tar.to_string_lossy(), &tag]);
    r.image = Some(tag.clone());
    let name = format!("toban-rl-{:08x}", rand::random::<u32>());
    // Rootless networking needs /dev/net/tun, which this machine does not give: none.
    r.podman(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        &name,
        &tag,
        "sleep",
        "600",
    ]);
    r.container = Some(name.clone());

    std::fs::write(
        dir.path().join("config.toml"),
        "[[services.engine]]\nname = \"mine\"\nhost = \"podman-rootless\"\n",
    )
    .unwrap();
    r.chown(&dir.path().join("config.toml"));
    let (code, v) = services_json(&r, dir.path());
    let engine = &v["engines"][0];
    assert_eq!(engine["name"], "mine", "{v:#}");
    assert_eq!(engine["up"], true, "{v:#}");
    let detail = engine["detail"].as_str().unwrap();
    assert!(detail.contains("Podman"), "{detail}");
    assert!(
        detail.contains(&r.socket().display().to_string()),
        "the user's socket, found from XDG_RUNTIME_DIR: {detail}"
    );
    let c = support::report_container(&v, &name);
    assert_eq!(c["engine"], "mine");
    assert_eq!(c["state"], "running");
    assert!(matches!(code, Some(0..=2)), "{v:#}");

    // The user's service gone: the engine is down (unknown, 3), with why.
    r.stop_service();
    let (code, v) = services_json(&r, dir.path());
    assert_eq!(code, Some(3), "{v:#}");
    assert_eq!(v["engines"][0]["up"], false, "{v:#}");
}
