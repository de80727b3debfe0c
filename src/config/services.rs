//! `[services]` in config.toml: the container engines to watch, HTTP checks, certificates,
//! the availability objective per service and the restart-loop rule. Defaults from seeds
//! 000 §1.2/§2.2 and 004 §1.1/§6.2: checks every 30 s, 3 failures in a row alarm,
//! certificates warn at 30 days and are critical at 7, 99.9 % a month.
//!
//! ```toml
//! [services]
//! stats_interval = "10s"             # CPU/memory of the rows on screen, this often
//! restart_loop = { restarts = 3, within = "10m" }
//!
//! [[services.engine]]                # none: the local engine (DOCKER_HOST, context, sockets)
//! name = "docker"
//! host = "unix:///var/run/docker.sock"
//!
//! [[services.engine]]
//! name = "podman"
//! host = "podman"                    # /run/podman/podman.sock; "podman-rootless": the user's
//!
//! [[services.engine]]
//! name = "prod"
//! context = "prod"                   # a Docker context; or host = "tcp://h:2376" with
//!                                    # tls_verify = true, cert_path = "/etc/toban/docker"
//!
//! [[services.check]]
//! name = "backend"
//! url = "http://127.0.0.1:8000/health/ready"
//! expect_status = 200
//! body_contains = "ok"
//!
//! [[services.certificate]]
//! name = "www"
//! host = "example.com:443"           # or file = "/etc/nginx/ssl/cert.pem"
//!
//! [[services.slo]]
//! service = "backend"
//! availability = 99.9
//! ```

use std::time::Duration;

use serde::Deserialize;

use crate::config::humantime_serde_compat;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServicesConfig {
    /// Watch the local engine when no `[[services.engine]]` is given.
    pub auto_engine: bool,
    #[serde(rename = "engine")]
    pub engines: Vec<EngineConfig>,
    #[serde(rename = "check")]
    pub checks: Vec<CheckConfig>,
    #[serde(rename = "certificate")]
    pub certificates: Vec<CertConfig>,
    #[serde(rename = "slo")]
    pub slos: Vec<SloConfig>,
    pub restart_loop: RestartLoop,
    /// How often the CPU and memory of the containers on screen are read (one request
    /// per visible row; none while the services are not on screen).
    #[serde(with = "humantime_serde_compat")]
    pub stats_interval: Duration,
    /// How often certificates are looked at again.
    #[serde(with = "humantime_serde_compat")]
    pub cert_interval: Duration,
}

impl Default for ServicesConfig {
    fn default() -> Self {
        ServicesConfig {
            auto_engine: true,
            engines: Vec::new(),
            checks: Vec::new(),
            certificates: Vec::new(),
            slos: Vec::new(),
            restart_loop: RestartLoop::default(),
            // Each read costs the engine a cgroup walk per container: 10 s keeps 21
            // watched containers near a percent of a core (benches/services_idle.py).
            stats_interval: Duration::from_secs(10),
            cert_interval: Duration::from_secs(3600),
        }
    }
}

/// A container engine by name: Docker or Podman's Docker-compatible socket.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    pub name: String,
    /// `unix:///path`, `tcp://host:port`, `ssh://user@host`, a socket path, `podman`
    /// (rootful) or `podman-rootless`; none (and no context): `DOCKER_HOST`, the current
    /// Docker context, then the Docker and Podman sockets.
    pub host: Option<String>,
    /// A Docker context by name (`docker context ls`), instead of `host`.
    pub context: Option<String>,
    /// `host` is `tcp://` over TLS, the engine verified against `ca.pem` in `cert_path`.
    pub tls_verify: bool,
    /// `ca.pem`, `cert.pem`, `key.pem`; default `~/.docker`.
    pub cert_path: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CheckConfig {
    pub name: String,
    pub url: String,
    pub expect_status: u16,
    /// The body must contain this.
    pub body_contains: Option<String>,
    #[serde(with = "humantime_serde_compat")]
    pub timeout: Duration,
    #[serde(with = "humantime_serde_compat")]
    pub interval: Duration,
    /// Failures in a row before the check alarms.
    pub threshold: u32,
    /// Follow a redirect to another host (redirects on the same host are always followed).
    pub follow_other_hosts: bool,
}

impl Default for CheckConfig {
    fn default() -> Self {
        CheckConfig {
            name: String::new(),
            url: String::new(),
            expect_status: 200,
            body_contains: None,
            timeout: Duration::from_secs(5),
            interval: Duration::from_secs(30),
            threshold: 3,
            follow_other_hosts: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CertConfig {
    pub name: String,
    /// `host:port` for a TLS handshake (SNI is the host).
    pub host: Option<String>,
    /// A PEM file on disk.
    pub file: Option<std::path::PathBuf>,
    pub warn_days: i64,
    pub critical_days: i64,
}

impl Default for CertConfig {
    fn default() -> Self {
        CertConfig {
            name: String::new(),
            host: None,
            file: None,
            warn_days: 30,
            critical_days: 7,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SloConfig {
    /// A check name or a compose service.
    pub service: String,
    /// Percent of the month.
    pub availability: f64,
}

impl Default for SloConfig {
    fn default() -> Self {
        SloConfig {
            service: String::new(),
            availability: 99.9,
        }
    }
}

/// `restarts` deaths within `within` is a restart loop.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RestartLoop {
    pub restarts: u32,
    #[serde(with = "humantime_serde_compat")]
    pub within: Duration,
}

impl Default for RestartLoop {
    fn default() -> Self {
        RestartLoop {
            restarts: 3,
            within: Duration::from_secs(600),
        }
    }
}

impl ServicesConfig {
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut names = std::collections::HashSet::new();
        for (i, e) in self.engines.iter().enumerate() {
            let at = format!("services.engine[{i}]");
            if e.name.trim().is_empty() {
                out.push((format!("{at}.name"), "an engine needs a name".into()));
            } else if !names.insert(format!("engine:{}", e.name)) {
                out.push((format!("{at}.name"), format!("`{}` is used twice", e.name)));
            }
            if let Some(h) = &e.host {
                match crate::providers::docker::Endpoint::parse(h) {
                    Err(why) => out.push((format!("{at}.host"), why)),
                    Ok(crate::providers::docker::Endpoint::Tcp(_)) => {}
                    Ok(_) if e.tls_verify => out.push((
                        format!("{at}.tls_verify"),
                        "TLS is for a tcp:// host".into(),
                    )),
                    Ok(_) => {}
                }
            }
            if e.host.is_some() && e.context.is_some() {
                out.push((at.clone(), "give either host or context, not both".into()));
            }
            if e.host.is_none() && (e.tls_verify || e.cert_path.is_some()) {
                out.push((
                    format!("{at}.tls_verify"),
                    "TLS settings need a tcp:// host".into(),
                ));
            }
        }
        for (i, c) in self.checks.iter().enumerate() {
            let at = format!("services.check[{i}]");
            if c.name.trim().is_empty() {
                out.push((format!("{at}.name"), "a check needs a name".into()));
            } else if !names.insert(format!("check:{}", c.name)) {
                out.push((format!("{at}.name"), format!("`{}` is used twice", c.name)));
            }
            match url::Url::parse(&c.url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                Ok(u) => out.push((
                    format!("{at}.url"),
                    format!("`{}` URLs are not checked (http or https)", u.scheme()),
                )),
                Err(e) => out.push((format!("{at}.url"), format!("`{}`: {e}", c.url))),
            }
            if !(100..=599).contains(&c.expect_status) {
                out.push((
                    format!("{at}.expect_status"),
                    "must be an HTTP status (100–599)".into(),
                ));
            }
            if c.interval < Duration::from_secs(1) {
                out.push((format!("{at}.interval"), "must be at least 1s".into()));
            }
            if c.timeout.is_zero() || c.timeout > c.interval.max(Duration::from_secs(1)) {
                out.push((
                    format!("{at}.timeout"),
                    "must be more than 0 and at most the interval".into(),
                ));
            }
            if c.threshold == 0 {
                out.push((format!("{at}.threshold"), "must be at least 1".into()));
            }
        }
        for (i, c) in self.certificates.iter().enumerate() {
            let at = format!("services.certificate[{i}]");
            if c.name.trim().is_empty() {
                out.push((format!("{at}.name"), "a certificate needs a name".into()));
            } else if !names.insert(format!("cert:{}", c.name)) {
                out.push((format!("{at}.name"), format!("`{}` is used twice", c.name)));
            }
            match (&c.host, &c.file) {
                (Some(_), Some(_)) | (None, None) => out.push((
                    at.clone(),
                    "give either host = \"name:port\" or file = \"/path/cert.pem\"".into(),
                )),
                (Some(h), None)
                    if !h
                        .rsplit_once(':')
                        .is_some_and(|(n, p)| !n.is_empty() && p.parse::<u16>().is_ok()) =>
                {
                    out.push((format!("{at}.host"), format!("`{h}` is not host:port")));
                }
                _ => {}
            }
            if c.critical_days < 0 || c.warn_days < c.critical_days {
                out.push((
                    format!("{at}.warn_days"),
                    "must be at least critical_days (and both at least 0)".into(),
                ));
            }
        }
        for (i, s) in self.slos.iter().enumerate() {
            if !(s.availability > 0.0 && s.availability < 100.0) {
                out.push((
                    format!("services.slo[{i}].availability"),
                    "must be a percentage between 0 and 100 (99.9)".into(),
                ));
            }
        }
        if self.restart_loop.restarts < 2 {
            out.push((
                "services.restart_loop.restarts".into(),
                "must be at least 2".into(),
            ));
        }
        if self.stats_interval < Duration::from_secs(1) {
            out.push((
                "services.stats_interval".into(),
                "must be at least 1s".into(),
            ));
        }
        out
    }

    /// The objective of `service` (99.9 unless configured).
    pub fn slo_of(&self, service: &str) -> f64 {
        self.slos
            .iter()
            .find(|s| s.service == service)
            .map(|s| s.availability)
            .unwrap_or(99.9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_example_parses_with_the_seeds_defaults() {
        let cfg: ServicesConfig = toml::from_str(
            r#"
            restart_loop = { restarts = 3, within = "10m" }
            [[engine]]
            name = "local"
            host = "unix:///run/podman/podman.sock"
            [[check]]
            name = "backend"
            url = "http://127.0.0.1:8000/health/ready"
            [[certificate]]
            name = "www"
            host = "example.com:443"
            [[slo]]
            service = "backend"
            "#,
        )
        .unwrap();
        assert_eq!(cfg.validate(), Vec::<(String, String)>::new());
        let c = &cfg.checks[0];
        assert_eq!(
            (c.interval, c.threshold, c.expect_status),
            (Duration::from_secs(30), 3, 200)
        );
        assert_eq!(
            (
                cfg.certificates[0].warn_days,
                cfg.certificates[0].critical_days
            ),
            (30, 7)
        );
        assert_eq!(cfg.slo_of("backend"), 99.9);
    }

    #[test]
    fn bad_values_name_their_field() {
        let cfg: ServicesConfig = toml::from_str(
            r#"
            [[engine]]
            name = "remote"
            host = "ftp://me@host"
            [[check]]
            name = "api"
            url = "ftp://x/"
            [[certificate]]
            name = "both"
            host = "a:1"
            file = "/x.pem"
            "#,
        )
        .unwrap();
        let fields: Vec<String> = cfg.validate().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "services.engine[0].host",
                "services.check[0].url",
                "services.certificate[0]"
            ]
        );
        assert!(toml::from_str::<ServicesConfig>("[[check]]\nnmae = \"x\"\n").is_err());
    }

    #[test]
    fn engines_by_podman_name_context_or_tls_and_what_is_refused() {
        let cfg: ServicesConfig = toml::from_str(
            r#"
            [[engine]]
            name = "podman"
            host = "podman"
            [[engine]]
            name = "mine"
            host = "podman-rootless"
            [[engine]]
            name = "lab"
            context = "lab"
            [[engine]]
            name = "prod"
            host = "tcp://10.0.0.5:2376"
            tls_verify = true
            cert_path = "/etc/toban/docker"
            [[engine]]
            name = "edge"
            host = "ssh://ops@edge1"
            "#,
        )
        .unwrap();
        assert_eq!(cfg.validate(), Vec::<(String, String)>::new());
        let bad: ServicesConfig = toml::from_str(
            r#"
            [[engine]]
            name = "both"
            host = "podman"
            context = "lab"
            [[engine]]
            name = "tls-on-a-socket"
            host = "unix:///run/x.sock"
            tls_verify = true
            [[engine]]
            name = "tls-alone"
            tls_verify = true
            "#,
        )
        .unwrap();
        let fields: Vec<String> = bad.validate().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "services.engine[0]",
                "services.engine[1].tls_verify",
                "services.engine[2].tls_verify"
            ]
        );
    }
}
