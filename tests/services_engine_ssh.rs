//! An engine reached over `ssh://`, through a real OpenSSH server: the test starts `sshd` on
//! loopback with a host key and an authorized key of its own, and the engine behind it is
//! this machine's Docker (`docker system dial-stdio` over ssh, as the docker CLI does).
//! toban runs the system's `ssh`, which reads the user's ssh config; the test gives it one
//! (its key, its known_hosts, strict host checking) through an `ssh` first in PATH that adds
//! `-F` — the host's own ~/.ssh is not touched.
//!
//! `toban services --json` lists a container under the ssh engine; the console, in tmux at
//! 80x24, shows it and follows its stop through the event stream carried over ssh; a host
//! whose key does not match is the engine down with ssh's reason, not a hang.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::engine::{docker_cli, engine_or_skip, TestImage};
use support::tmux::Tui;

const SSHD: &str = "/usr/sbin/sshd";

/// `sshd` on 127.0.0.1 with its own keys, killed on drop; the client side is `ssh_bin`
/// (a folder to put first in PATH).
struct Sshd {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
    user: String,
}

fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen");
    assert!(ok.success());
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Sshd {
    fn start_or_skip() -> Option<Sshd> {
        if !Path::new(SSHD).exists() || Command::new("ssh").arg("-V").output().is_err() {
            support::service_unavailable(
                "OpenSSH",
                "sshd or ssh is not installed (openssh-server)",
            );
            return None;
        }
        // sshd insists on its privilege-separation folder.
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        keygen(&d.join("host_key"));
        keygen(&d.join("id"));
        std::fs::copy(d.join("id.pub"), d.join("authorized_keys")).unwrap();
        let port = free_port();
        std::fs::write(
            d.join("sshd_config"),
            format!(
                "ListenAddress 127.0.0.1\nPort {port}\nHostKey {d}/host_key\n\
                 AuthorizedKeysFile {d}/authorized_keys\nPidFile {d}/sshd.pid\n\
                 PermitRootLogin prohibit-password\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n",
                d = d.display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(d.join("sshd.log")).unwrap();
        let mut child = Command::new(SSHD)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting sshd");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(d.join("sshd.log")).unwrap_or_default();
                support::service_unavailable("OpenSSH", &format!("sshd does not listen: {log}"));
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let host_pub = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
        std::fs::write(
            d.join("known_hosts"),
            format!("[127.0.0.1]:{port} {host_pub}"),
        )
        .unwrap();
        let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string();
        let s = Sshd {
            dir,
            port,
            child,
            user,
        };
        s.client_config(&s.dir.path().join("known_hosts"), "ssh_config");
        Some(s)
    }

    /// An ssh client config using the test's key and `known_hosts`, strictly.
    fn client_config(&self, known_hosts: &Path, name: &str) -> PathBuf {
        let d = self.dir.path();
        let path = d.join(name);
        std::fs::write(
            &path,
            format!(
                "Host *\n  IdentityFile {d}/id\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  \
                 StrictHostKeyChecking yes\n  ConnectTimeout 5\n",
                known_hosts.display(),
                d = d.display()
            ),
        )
        .unwrap();
        path
    }

    /// A folder holding an `ssh` that is the system's with `config`: put first in PATH.
    fn ssh_bin(&self, config: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let bin = self.dir.path().join(format!(
            "bin-{}",
            config.file_name().unwrap().to_string_lossy()
        ));
        std::fs::create_dir_all(&bin).unwrap();
        let ssh = which("ssh").expect("ssh in PATH");
        let script = bin.join("ssh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nexec '{}' -F '{}' \"$@\"\n",
                ssh.display(),
                config.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        bin
    }

    fn url(&self) -> String {
        format!("ssh://{}@127.0.0.1:{}", self.user, self.port)
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(cmd: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_string_lossy()
        .split(':')
        .map(|d| Path::new(d).join(cmd))
        .find(|p| p.is_file())
}

/// PATH with `first` in front.
fn path_with(first: &Path) -> String {
    format!(
        "{}:{}",
        first.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A container removed on drop.
struct Named(String);

impl Drop for Named {
    fn drop(&mut self) {
        let _ = docker_cli(&["rm", "-f", &self.0]);
    }
}

fn write_config(tui: &Tui, url: &str) {
    std::fs::create_dir_all(tui.config_dir()).unwrap();
    std::fs::write(
        tui.config_dir().join("config.toml"),
        format!("[[services.engine]]\nname = \"remote\"\nhost = \"{url}\"\n"),
    )
    .unwrap();
}

#[tokio::test]
async fn an_engine_over_ssh_lists_its_containers_and_follows_their_events() {
    let Some(_docker) = engine_or_skip().await else {
        return;
    };
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let Some(tui) = Tui::start("ssh-engine") else {
        return;
    };
    let img = TestImage::build().unwrap();
    // A short name: the whole of it fits the 80-column table.
    let target = Named(format!("ssh-{:06x}", rand::random::<u32>() >> 8));
    docker_cli(&[
        "run",
        "-d",
        "--name",
        &target.0,
        &img.tag,
        "sh",
        "-c",
        "trap 'exit 0' TERM; while true; do sleep 1; done",
    ])
    .unwrap();
    write_config(&tui, &sshd.url());
    let path = path_with(&sshd.ssh_bin(&sshd.dir.path().join("ssh_config")));

    // For scripts: listed under the ssh engine, the engine described as reached over ssh.
    let out = tui
        .command()
        .args(["services", "--json"])
        .env("PATH", &path)
        .output()
        .unwrap();
    let v = support::services_report(&out);
    let text = v.to_string();
    let c = support::report_container(&v, &target.0);
    assert_eq!(c["engine"], "remote");
    assert_eq!(c["state"], "running");
    let e = &v["engines"][0];
    assert_eq!(
        (e["name"].as_str(), e["up"].as_bool()),
        (Some("remote"), Some(true)),
        "{text}"
    );
    assert!(e["detail"].as_str().unwrap().contains("ssh://"), "{text}");
    assert!(matches!(out.status.code(), Some(0..=2)), "{text}");

    // The console: the Services tab lists it, and its stop arrives over ssh's event stream.
    tui.launch(80, 24, &[], &[("PATH", &path)]);
    tui.wait_for("Overview");
    tui.key("6");
    tui.wait_for_within(&target.0, 60);
    let screen = tui.screen();
    assert!(!screen.contains("remote: down"), "{screen}");
    docker_cli(&["stop", "-t", "1", &target.0]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let screen = tui.screen();
        let row = screen
            .lines()
            .find(|l| l.contains(&target.0))
            .unwrap_or_default()
            .to_string();
        if row.contains("exited") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stop not seen over ssh:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(tui.quit(), 0);
}

#[tokio::test]
async fn an_ssh_host_with_the_wrong_key_is_the_engine_down_with_sshs_reason() {
    let Some(_docker) = engine_or_skip().await else {
        return;
    };
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let Some(tui) = Tui::start("ssh-engine-bad-key") else {
        return;
    };
    // known_hosts holds another key for this host: ssh must refuse it.
    let d = sshd.dir.path();
    keygen(&d.join("other_host_key"));
    let wrong = d.join("known_hosts_wrong");
    std::fs::write(
        &wrong,
        format!(
            "[127.0.0.1]:{} {}",
            sshd.port,
            std::fs::read_to_string(d.join("other_host_key.pub")).unwrap()
        ),
    )
    .unwrap();
    let config = sshd.client_config(&wrong, "ssh_config_wrong");
    write_config(&tui, &sshd.url());
    let path = path_with(&sshd.ssh_bin(&config));
    let started = Instant::now();
    let out = tui
        .command()
        .args(["services", "--json"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    let v = support::services_report(&out);
    let text = v.to_string();
    assert_eq!(
        out.status.code(),
        Some(3),
        "unknown: the engine is down\n{text}"
    );
    let e = &v["engines"][0];
    assert_eq!(
        (e["name"].as_str(), e["up"].as_bool()),
        (Some("remote"), Some(false)),
        "{text}"
    );
    let why = e["detail"].as_str().unwrap();
    assert!(
        why.contains("Host key verification failed"),
        "ssh's reason: {text}"
    );
    // The console shows it down with that reason, and still answers keys.
    tui.launch(80, 24, &[], &[("PATH", &path)]);
    tui.wait_for("Overview");
    tui.key("6");
    let screen = tui.wait_for_within("remote: down", 60);
    // The reason is there in full at 80 columns.
    assert!(screen.contains("Host key verification failed"), "{screen}");
    assert_eq!(tui.quit(), 0);
}
