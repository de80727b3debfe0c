//! Where to find the engine: `DOCKER_HOST` (with `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH`), the
//! current Docker context, the Docker socket, Podman's rootful and rootless sockets.

use std::path::{Path, PathBuf};

use super::context;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    /// `host:port` from `tcp://host:port` (plain HTTP).
    Tcp(String),
    /// `host:port` over TLS: the engine is verified against `ca.pem` in `certs`, and toban
    /// shows `cert.pem`/`key.pem` from there when the engine asks for a client certificate.
    Tls {
        addr: String,
        certs: PathBuf,
    },
    /// `ssh://[user@]host[:port]`: the engine behind `docker system dial-stdio` over ssh.
    Ssh(String),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(p) => write!(f, "unix://{}", p.display()),
            Endpoint::Tcp(a) => write!(f, "tcp://{a}"),
            Endpoint::Tls { addr, .. } => write!(f, "tcp://{addr} (TLS)"),
            Endpoint::Ssh(a) => write!(f, "ssh://{a}"),
        }
    }
}

/// Podman's rootful socket.
pub const PODMAN_ROOTFUL: &str = "/run/podman/podman.sock";

impl Endpoint {
    /// `unix:///path`, `tcp://host:port` (also `http://`), `ssh://user@host[:port]`, a bare
    /// socket path, or `podman` / `podman-rootless` for Podman's rootful socket and the
    /// user's own (`$XDG_RUNTIME_DIR/podman/podman.sock`).
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        let xdg = std::env::var("XDG_RUNTIME_DIR").ok();
        Endpoint::parse_with(s, xdg.as_deref())
    }

    pub fn parse_with(s: &str, xdg_runtime_dir: Option<&str>) -> Result<Endpoint, String> {
        let s = s.trim();
        match s {
            "podman" => return Ok(Endpoint::Unix(PathBuf::from(PODMAN_ROOTFUL))),
            "podman-rootless" => return Ok(Endpoint::Unix(rootless_podman(xdg_runtime_dir))),
            _ => {}
        }
        if let Some(path) = s.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(format!("`{s}` names no socket"));
            }
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        for scheme in ["tcp://", "http://"] {
            if let Some(addr) = s.strip_prefix(scheme) {
                let addr = addr.trim_end_matches('/');
                if addr.is_empty() || addr.contains('/') {
                    return Err(format!("`{s}` is not host:port"));
                }
                let addr = if addr
                    .rsplit_once(':')
                    .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
                {
                    addr.to_string()
                } else {
                    // Docker's default plain-HTTP port.
                    format!("{addr}:2375")
                };
                return Ok(Endpoint::Tcp(addr));
            }
        }
        if let Some(dest) = s.strip_prefix("ssh://") {
            return ssh_destination(dest).map(Endpoint::Ssh);
        }
        if s.starts_with('/') {
            return Ok(Endpoint::Unix(PathBuf::from(s)));
        }
        match s.split_once("://") {
            Some((scheme, _)) => Err(format!(
                "`{scheme}://` engine addresses are not supported (unix://, tcp:// or ssh://)"
            )),
            None => Err(format!(
                "`{s}` is not an engine address (unix:///path, tcp://host:port, \
                 ssh://user@host, podman or podman-rootless)"
            )),
        }
    }

    /// This address over TLS with the files in `certs` (a plain `tcp://` only).
    pub fn with_tls(self, certs: &Path) -> Result<Endpoint, String> {
        match self {
            Endpoint::Tcp(addr) => {
                let ca = certs.join("ca.pem");
                if !ca.is_file() {
                    return Err(format!(
                        "TLS needs the engine's CA in {} (not found)",
                        ca.display()
                    ));
                }
                Ok(Endpoint::Tls {
                    addr,
                    certs: certs.to_path_buf(),
                })
            }
            other => Err(format!("TLS is for tcp:// addresses, not {other}")),
        }
    }
}

/// `[user@]host[:port]`, refused when ssh could read it as an option or it holds anything
/// a host name or user does not.
fn ssh_destination(dest: &str) -> Result<String, String> {
    let dest = dest.trim_end_matches('/');
    let host = dest.rsplit_once('@').map_or(dest, |(_, h)| h);
    let ok = |c: char| c.is_ascii_alphanumeric() || "._-@:[]".contains(c);
    if dest.is_empty() || host.is_empty() || dest.starts_with('-') || host.starts_with('-') {
        return Err(format!("`ssh://{dest}` names no host"));
    }
    if !dest.chars().all(ok) {
        return Err(format!(
            "`ssh://{dest}` is not [user@]host[:port] (letters, digits, . _ - only)"
        ));
    }
    // The shape ssh is handed (a port that is a number), found when the config is read.
    super::ssh::SshDestination::parse(dest)?;
    Ok(dest.to_string())
}

/// The user's rootless Podman socket: `$XDG_RUNTIME_DIR`, else `/run/user/<uid>`.
fn rootless_podman(xdg_runtime_dir: Option<&str>) -> PathBuf {
    let dir = match xdg_runtime_dir.filter(|x| !x.trim().is_empty()) {
        Some(x) => PathBuf::from(x),
        // SAFETY: geteuid has no preconditions and cannot fail.
        None => PathBuf::from(format!("/run/user/{}", unsafe { libc::geteuid() })),
    };
    dir.join("podman/podman.sock")
}

/// What the docker CLI reads from its environment to find the engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineEnv {
    pub docker_host: Option<String>,
    /// `DOCKER_TLS_VERIFY` set and not empty (the docker CLI's test).
    pub tls_verify: bool,
    /// `DOCKER_CERT_PATH`; else the docker config directory.
    pub cert_path: Option<PathBuf>,
    /// `DOCKER_CONTEXT`; else the config's `currentContext`.
    pub context: Option<String>,
    /// `DOCKER_CONFIG`, else `~/.docker`.
    pub config_dir: Option<PathBuf>,
    pub xdg_runtime_dir: Option<String>,
}

impl EngineEnv {
    pub fn from_process() -> EngineEnv {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        EngineEnv {
            docker_host: var("DOCKER_HOST"),
            tls_verify: var("DOCKER_TLS_VERIFY").is_some(),
            cert_path: var("DOCKER_CERT_PATH").map(PathBuf::from),
            context: var("DOCKER_CONTEXT"),
            config_dir: var("DOCKER_CONFIG")
                .map(PathBuf::from)
                .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".docker"))),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR"),
        }
    }

    /// Where `ca.pem`, `cert.pem` and `key.pem` are for `DOCKER_HOST`.
    fn tls_dir(&self) -> Option<PathBuf> {
        self.cert_path.clone().or_else(|| self.config_dir.clone())
    }

    /// `DOCKER_HOST` as the docker CLI reads it: TLS when `DOCKER_TLS_VERIFY` is set.
    fn docker_host(&self) -> Option<Result<Endpoint, String>> {
        let h = self.docker_host.as_deref()?;
        let e = Endpoint::parse_with(h, self.xdg_runtime_dir.as_deref());
        Some(
            match e {
                Ok(e @ Endpoint::Tcp(_)) if self.tls_verify => match self.tls_dir() {
                    Some(dir) => e.with_tls(&dir),
                    None => Err("DOCKER_TLS_VERIFY is set but no DOCKER_CERT_PATH".into()),
                },
                other => other,
            }
            .map_err(|e| format!("DOCKER_HOST: {e}")),
        )
    }

    /// The context in use: `DOCKER_CONTEXT`, else the config's `currentContext`; none for
    /// `default` (the socket).
    pub fn current_context(&self) -> Option<String> {
        let name = self.context.clone().or_else(|| {
            self.config_dir
                .as_deref()
                .and_then(context::current_context)
        })?;
        (name != "default").then_some(name)
    }

    /// The engine of context `name`.
    pub fn context_endpoint(&self, name: &str) -> Result<Endpoint, String> {
        let Some(dir) = self.config_dir.as_deref() else {
            return Err(format!(
                "context {name}: no docker config directory (HOME unset)"
            ));
        };
        context::endpoint(dir, name, self.xdg_runtime_dir.as_deref())
    }

    /// In order: `DOCKER_HOST` alone when set; else the current context's engine alone when
    /// one is chosen; else `/var/run/docker.sock`, Podman's rootful socket, the user's
    /// rootless Podman socket and, last, rootless Docker's `$XDG_RUNTIME_DIR/docker.sock`.
    pub fn candidates(&self) -> Result<Vec<Endpoint>, String> {
        if let Some(e) = self.docker_host() {
            return e.map(|e| vec![e]);
        }
        if let Some(ctx) = self.current_context() {
            return self.context_endpoint(&ctx).map(|e| vec![e]);
        }
        let mut v = vec![
            Endpoint::Unix(PathBuf::from("/var/run/docker.sock")),
            Endpoint::Unix(PathBuf::from(PODMAN_ROOTFUL)),
        ];
        if let Some(x) = self
            .xdg_runtime_dir
            .as_deref()
            .filter(|x| !x.trim().is_empty())
        {
            v.push(Endpoint::Unix(PathBuf::from(x).join("podman/podman.sock")));
            v.push(Endpoint::Unix(PathBuf::from(x).join("docker.sock")));
        }
        Ok(v)
    }
}

/// The candidates of [`EngineEnv::candidates`] from `DOCKER_HOST` and `XDG_RUNTIME_DIR` only.
pub fn candidate_endpoints(
    docker_host: Option<&str>,
    xdg_runtime_dir: Option<&str>,
) -> Result<Vec<Endpoint>, String> {
    EngineEnv {
        docker_host: docker_host.filter(|h| !h.trim().is_empty()).map(Into::into),
        xdg_runtime_dir: xdg_runtime_dir.map(Into::into),
        ..Default::default()
    }
    .candidates()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_or_say_why_not() {
        assert_eq!(
            Endpoint::parse("unix:///run/user/1000/podman/podman.sock").unwrap(),
            Endpoint::Unix("/run/user/1000/podman/podman.sock".into())
        );
        assert_eq!(
            Endpoint::parse("tcp://10.0.0.5:2376").unwrap(),
            Endpoint::Tcp("10.0.0.5:2376".into())
        );
        assert_eq!(
            Endpoint::parse("tcp://docker").unwrap(),
            Endpoint::Tcp("docker:2375".into())
        );
        assert_eq!(
            Endpoint::parse("/var/run/docker.sock").unwrap(),
            Endpoint::Unix("/var/run/docker.sock".into())
        );
        assert_eq!(
            Endpoint::parse("ssh://me@host:2222").unwrap(),
            Endpoint::Ssh("me@host:2222".into())
        );
        assert!(Endpoint::parse("ssh://-oProxyCommand=x").is_err());
        assert!(Endpoint::parse("ssh://me@-oProxyCommand=x").is_err());
        assert!(Endpoint::parse("ssh://me@host;rm").is_err());
        // A port that is not a number is refused when the configuration is read.
        assert!(Endpoint::parse("ssh://me@host:22x").is_err());
        assert!(Endpoint::parse("nonsense").is_err());
        assert!(Endpoint::parse("ftp://x").unwrap_err().contains("ftp://"));
        assert_eq!(
            Endpoint::Tcp("h:1".into()).to_string(),
            "tcp://h:1".to_string()
        );
    }

    #[test]
    fn podman_by_name_rootful_and_rootless() {
        assert_eq!(
            Endpoint::parse_with("podman", None).unwrap(),
            Endpoint::Unix(PODMAN_ROOTFUL.into())
        );
        assert_eq!(
            Endpoint::parse_with("podman-rootless", Some("/run/user/1000")).unwrap(),
            Endpoint::Unix("/run/user/1000/podman/podman.sock".into())
        );
        let Endpoint::Unix(p) = Endpoint::parse_with("podman-rootless", None).unwrap() else {
            panic!()
        };
        assert!(p.starts_with("/run/user/"), "{p:?}");
    }

    #[test]
    fn docker_host_wins_else_docker_then_podman() {
        assert_eq!(
            candidate_endpoints(Some("tcp://h:1"), Some("/run/user/7")).unwrap(),
            vec![Endpoint::Tcp("h:1".into())]
        );
        assert_eq!(
            candidate_endpoints(None, Some("/run/user/7")).unwrap(),
            vec![
                Endpoint::Unix("/var/run/docker.sock".into()),
                Endpoint::Unix("/run/podman/podman.sock".into()),
                Endpoint::Unix("/run/user/7/podman/podman.sock".into()),
                Endpoint::Unix("/run/user/7/docker.sock".into()),
            ]
        );
        assert_eq!(candidate_endpoints(Some(""), None).unwrap().len(), 2);
        assert!(candidate_endpoints(Some("ftp://x"), None)
            .unwrap_err()
            .starts_with("DOCKER_HOST"));
    }

    #[test]
    fn tls_verify_takes_the_certificates_from_cert_path() {
        let dir = tempfile::tempdir().unwrap();
        let env = EngineEnv {
            docker_host: Some("tcp://127.0.0.1:2376".into()),
            tls_verify: true,
            cert_path: Some(dir.path().into()),
            ..Default::default()
        };
        // No ca.pem: said, with the path.
        let err = env.candidates().unwrap_err();
        assert!(err.contains("ca.pem"), "{err}");
        std::fs::write(dir.path().join("ca.pem"), "x").unwrap();
        assert_eq!(
            env.candidates().unwrap(),
            vec![Endpoint::Tls {
                addr: "127.0.0.1:2376".into(),
                certs: dir.path().into()
            }]
        );
    }

    fn write_context(config: &std::path::Path, name: &str, meta: &str) -> PathBuf {
        use sha2::{Digest, Sha256};
        let id: String = Sha256::digest(name.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let dir = config.join("contexts/meta").join(&id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("meta.json"), meta).unwrap();
        config.join("contexts/tls").join(id).join("docker")
    }

    #[test]
    fn the_current_context_names_the_engine() {
        let home = tempfile::tempdir().unwrap();
        let cfg = home.path().join(".docker");
        std::fs::create_dir_all(&cfg).unwrap();
        std::fs::write(cfg.join("config.json"), r#"{"currentContext":"lab"}"#).unwrap();
        write_context(
            &cfg,
            "lab",
            r#"{"Name":"lab","Metadata":{},"Endpoints":{"docker":{"Host":"unix:///run/lab.sock","SkipTLSVerify":false}}}"#,
        );
        let tls = write_context(
            &cfg,
            "remote",
            r#"{"Name":"remote","Endpoints":{"docker":{"Host":"tcp://10.0.0.5:2376"}}}"#,
        );
        let env = EngineEnv {
            config_dir: Some(cfg.clone()),
            ..Default::default()
        };
        assert_eq!(env.current_context().as_deref(), Some("lab"));
        assert_eq!(
            env.candidates().unwrap(),
            vec![Endpoint::Unix("/run/lab.sock".into())]
        );
        // DOCKER_CONTEXT wins over the config; its TLS files make it TLS.
        std::fs::create_dir_all(&tls).unwrap();
        std::fs::write(tls.join("ca.pem"), "x").unwrap();
        let env = EngineEnv {
            context: Some("remote".into()),
            ..env
        };
        assert_eq!(
            env.candidates().unwrap(),
            vec![Endpoint::Tls {
                addr: "10.0.0.5:2376".into(),
                certs: tls
            }]
        );
        // DOCKER_HOST wins over both.
        let env2 = EngineEnv {
            docker_host: Some("unix:///x.sock".into()),
            ..env.clone()
        };
        assert_eq!(
            env2.candidates().unwrap(),
            vec![Endpoint::Unix("/x.sock".into())]
        );
        // `default` is the sockets; an unknown context says where it looked.
        let env3 = EngineEnv {
            context: Some("default".into()),
            ..env.clone()
        };
        assert_eq!(env3.candidates().unwrap().len(), 2);
        let err = env.context_endpoint("nope").unwrap_err();
        assert!(
            err.contains("context nope") && err.contains("meta.json"),
            "{err}"
        );
    }
}
