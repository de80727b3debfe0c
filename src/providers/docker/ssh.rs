//! `ssh://[user@]host[:port]` engines: the system's `ssh` (the user's config, agent and known
//! hosts) runs `docker system dial-stdio` on the host, as the docker CLI does, and each
//! request is HTTP/1.1 over that process's stdin and stdout.
//!
//! toban starts ssh itself, with an argv and never a shell, because bollard's own ssh
//! connector (0.19–0.21) drops the port of `ssh://user@host:port`. Requests share one ssh
//! connection through ssh's connection sharing: a master per destination, its socket in a
//! 0700 folder of toban's, closed a minute after the last request.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use bollard::errors::Error;
use bollard::BollardRequest;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncReadExt;

/// How long ssh may take to reach the host before it gives up (BatchMode: never a prompt).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `[user@]host[:port]`, already checked by the endpoint parser to hold no option or shell
/// text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshDestination {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl SshDestination {
    /// `[user@]host[:port]` (an IPv6 host in brackets), the port a number: what ssh is
    /// handed. The endpoint parser also refuses characters no host or user has.
    pub fn parse(dest: &str) -> Result<SshDestination, String> {
        let (user, rest) = match dest.rsplit_once('@') {
            Some((u, r)) => (Some(u.to_string()), r),
            None => (None, dest),
        };
        let (host, port) = match rest.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((h, "")) => (h, None),
                Some((h, p)) => (h, p.strip_prefix(':').or(Some(p))),
                None => ("", None),
            },
            None => match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            },
        };
        let port = port
            .map(|p| {
                p.parse::<u16>()
                    .map_err(|_| format!("`ssh://{dest}`: `{p}` is not a port"))
            })
            .transpose()?;
        if host.is_empty() || host.starts_with('-') || user.as_deref().is_some_and(str::is_empty) {
            return Err(format!("`ssh://{dest}` is not [user@]host[:port]"));
        }
        Ok(SshDestination {
            user,
            host: host.to_string(),
            port,
        })
    }

    /// ssh's arguments: batch mode, shared connections under `control_dir`, the port and
    /// user as options, the host after `--`, then the remote command.
    pub fn argv(&self, control_dir: &Path) -> Vec<OsString> {
        let mut a: Vec<OsString> = [
            "-o",
            "BatchMode=yes",
            "-o",
            &format!("ConnectTimeout={}", CONNECT_TIMEOUT.as_secs()),
            "-o",
            "ControlMaster=auto",
            "-o",
            "ControlPersist=60",
            "-o",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let mut path = OsString::from("ControlPath=");
        path.push(control_dir.join("%C"));
        a.push(path);
        if let Some(p) = self.port {
            a.extend(["-p".into(), p.to_string().into()]);
        }
        if let Some(u) = &self.user {
            a.extend(["-l".into(), u.into()]);
        }
        a.push("--".into());
        a.push((&self.host).into());
        a.extend(["docker", "system", "dial-stdio"].map(OsString::from));
        a
    }
}

/// A 0700 folder for ssh's shared-connection sockets: short enough for a socket path.
fn control_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let uid = current_uid();
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_dir())
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("toban-ssh-{uid}"));
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    // Someone else's folder in a shared /tmp is not ours to put sockets in.
    let m = std::fs::symlink_metadata(&dir)?;
    if !m.is_dir() || m.uid() != uid || m.mode() & 0o077 != 0 {
        return Err(std::io::Error::other(format!(
            "{} is not a private folder of this user",
            dir.display()
        )));
    }
    Ok(dir)
}

fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// A bollard client whose every request goes over `ssh … docker system dial-stdio`.
pub fn connect(dest: &str, timeout_secs: u64) -> Result<bollard::Docker, Error> {
    let target = SshDestination::parse(dest).map_err(std::io::Error::other)?;
    let argv = target.argv(&control_dir()?);
    bollard::Docker::connect_with_custom_transport(
        move |req: BollardRequest| request(argv.clone(), req),
        Some("http://docker"),
        timeout_secs,
        bollard::API_DEFAULT_VERSION,
    )
}

async fn request(
    argv: Vec<OsString>,
    req: BollardRequest,
) -> Result<http::Response<hyper::body::Incoming>, Error> {
    let mut child = tokio::process::Command::new("ssh")
        .args(&argv)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| std::io::Error::other(format!("cannot run ssh: {e}")))?;
    let (Some(stdin), Some(stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(std::io::Error::other("ssh's pipes are missing").into());
    };
    let io = TokioIo::new(tokio::io::join(stdout, stdin));
    let (mut send, conn) = hyper::client::conn::http1::handshake(io).await?;
    // The process lives as long as the connection: a stream (events, logs) keeps it, a
    // finished request ends it.
    tokio::spawn(async move {
        let _ = conn.await;
        drop(child);
    });
    let (mut parts, body) = req.into_parts();
    parts.uri = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .parse()
        .map_err(http::Error::from)?;
    parts
        .headers
        .insert(http::header::HOST, http::HeaderValue::from_static("docker"));
    match send
        .send_request(http::Request::from_parts(parts, body))
        .await
    {
        Ok(resp) => Ok(resp),
        Err(e) => {
            // ssh says why it ended (host key, refused, no route, no docker there).
            let mut why = String::new();
            let _ =
                tokio::time::timeout(Duration::from_secs(2), stderr.read_to_string(&mut why)).await;
            let why = why
                .lines()
                .map(str::trim)
                .rfind(|l| !l.is_empty())
                .map(str::to_string);
            Err(match why {
                Some(w) => std::io::Error::other(format!("ssh: {w}")).into(),
                None => e.into(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_host_and_port_become_options_and_the_host_follows_the_double_dash() {
        let d = SshDestination::parse("ops@db-1.example:2222").unwrap();
        assert_eq!(
            d,
            SshDestination {
                user: Some("ops".into()),
                host: "db-1.example".into(),
                port: Some(2222)
            }
        );
        let argv: Vec<String> = d
            .argv(Path::new("/run/user/0/toban-ssh-0"))
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert_eq!(
            argv[argv.len() - 10..],
            [
                "ControlPath=/run/user/0/toban-ssh-0/%C",
                "-p",
                "2222",
                "-l",
                "ops",
                "--",
                "db-1.example",
                "docker",
                "system",
                "dial-stdio",
            ]
        );
        assert!(argv.contains(&"BatchMode=yes".to_string()));
        let bare = SshDestination::parse("host").unwrap();
        assert_eq!((bare.user, bare.port), (None, None));
        assert!(SshDestination::parse("me@host:notaport").is_err());
        let v6 = SshDestination::parse("ops@[::1]:2222").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", Some(2222)));
        assert_eq!(SshDestination::parse("[::1]").unwrap().port, None);
        assert!(SshDestination::parse("@host").is_err());
    }
}
