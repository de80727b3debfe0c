//! Docker contexts as the docker CLI keeps them: `config.json`'s `currentContext`, and per
//! context `contexts/meta/<sha256 of the name>/meta.json` with the engine's address, its
//! TLS files (if any) in `contexts/tls/<sha256>/docker/`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::Endpoint;

#[derive(Deserialize)]
struct CliConfig {
    #[serde(rename = "currentContext", default)]
    current_context: Option<String>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(rename = "Endpoints", default)]
    endpoints: std::collections::HashMap<String, MetaEndpoint>,
}

#[derive(Deserialize)]
struct MetaEndpoint {
    #[serde(rename = "Host", default)]
    host: Option<String>,
    #[serde(rename = "SkipTLSVerify", default)]
    skip_tls_verify: bool,
}

/// `currentContext` from `<config_dir>/config.json` (none when the file or key is missing
/// or unreadable: the docker CLI then uses the default context too).
pub fn current_context(config_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(config_dir.join("config.json")).ok()?;
    let cfg: CliConfig = serde_json::from_str(&text).ok()?;
    cfg.current_context.filter(|c| !c.trim().is_empty())
}

fn digest(name: &str) -> String {
    Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The engine context `name` points at, with its TLS files when it has them.
pub fn endpoint(
    config_dir: &Path,
    name: &str,
    xdg_runtime_dir: Option<&str>,
) -> Result<Endpoint, String> {
    let id = digest(name);
    let meta_path = config_dir.join("contexts/meta").join(&id).join("meta.json");
    let text = std::fs::read_to_string(&meta_path).map_err(|e| {
        format!(
            "context {name}: {}: {e} (see `docker context ls`)",
            meta_path.display()
        )
    })?;
    let meta: Meta = serde_json::from_str(&text)
        .map_err(|e| format!("context {name}: {}: {e}", meta_path.display()))?;
    let ep = meta.endpoints.get("docker").ok_or_else(|| {
        format!(
            "context {name}: {}: no docker endpoint",
            meta_path.display()
        )
    })?;
    let host = ep
        .host
        .as_deref()
        .filter(|h| !h.trim().is_empty())
        .ok_or_else(|| format!("context {name}: {}: Host is empty", meta_path.display()))?;
    let e = Endpoint::parse_with(host, xdg_runtime_dir)
        .map_err(|e| format!("context {name}: {}: Host: {e}", meta_path.display()))?;
    let tls: PathBuf = config_dir.join("contexts/tls").join(&id).join("docker");
    match e {
        Endpoint::Tcp(_) if tls.join("ca.pem").is_file() => {
            if ep.skip_tls_verify {
                return Err(format!(
                    "context {name}: {}: SkipTLSVerify: toban only talks to an engine it \
                     can verify",
                    meta_path.display()
                ));
            }
            e.with_tls(&tls).map_err(|e| format!("context {name}: {e}"))
        }
        e => Ok(e),
    }
}
