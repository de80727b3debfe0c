//! Where to find the engine: `DOCKER_HOST`, the Docker socket, Podman's sockets.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    /// `host:port` from `tcp://host:port` (plain HTTP).
    Tcp(String),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(p) => write!(f, "unix://{}", p.display()),
            Endpoint::Tcp(a) => write!(f, "tcp://{a}"),
        }
    }
}

impl Endpoint {
    /// `unix:///path`, `tcp://host:port` (also `http://`), or a bare socket path.
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        let s = s.trim();
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
        if s.starts_with('/') {
            return Ok(Endpoint::Unix(PathBuf::from(s)));
        }
        match s.split_once("://") {
            Some((scheme, _)) => Err(format!(
                "`{scheme}://` engine addresses are not supported (use unix:// or tcp://; \
                 for ssh forward the socket with `ssh -L`)"
            )),
            None => Err(format!(
                "`{s}` is not an engine address (unix:///path or tcp://host:port)"
            )),
        }
    }
}

/// In order: `docker_host` (the `DOCKER_HOST` value) alone when set; else
/// `/var/run/docker.sock`, `/run/podman/podman.sock`, `$XDG_RUNTIME_DIR/podman/podman.sock`
/// and, last, rootless Docker's `$XDG_RUNTIME_DIR/docker.sock`.
pub fn candidate_endpoints(
    docker_host: Option<&str>,
    xdg_runtime_dir: Option<&str>,
) -> Result<Vec<Endpoint>, String> {
    if let Some(h) = docker_host.filter(|h| !h.trim().is_empty()) {
        return Endpoint::parse(h)
            .map(|e| vec![e])
            .map_err(|e| format!("DOCKER_HOST: {e}"));
    }
    let mut v = vec![
        Endpoint::Unix(PathBuf::from("/var/run/docker.sock")),
        Endpoint::Unix(PathBuf::from("/run/podman/podman.sock")),
    ];
    if let Some(x) = xdg_runtime_dir.filter(|x| !x.trim().is_empty()) {
        v.push(Endpoint::Unix(PathBuf::from(x).join("podman/podman.sock")));
        v.push(Endpoint::Unix(PathBuf::from(x).join("docker.sock")));
    }
    Ok(v)
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
        assert!(Endpoint::parse("ssh://me@host")
            .unwrap_err()
            .contains("ssh"));
        assert!(Endpoint::parse("nonsense").is_err());
        assert_eq!(
            Endpoint::Tcp("h:1".into()).to_string(),
            "tcp://h:1".to_string()
        );
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
}
