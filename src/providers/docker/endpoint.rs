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
        let _ = s;
        unimplemented!()
    }
}

/// In order: `docker_host` (the `DOCKER_HOST` value) alone when set; else
/// `/var/run/docker.sock`, `/run/podman/podman.sock`, `$XDG_RUNTIME_DIR/podman/podman.sock`.
pub fn candidate_endpoints(
    docker_host: Option<&str>,
    xdg_runtime_dir: Option<&str>,
) -> Result<Vec<Endpoint>, String> {
    let _ = (docker_host, xdg_runtime_dir);
    unimplemented!()
}
