//! Engines reached other ways than the local socket, against the real Docker engine:
//! `tcp://` with TLS — a TLS listener the test starts (rustls, certificates made here with
//! rcgen: a CA, the engine's certificate for 127.0.0.1, toban's client certificate, which
//! the listener requires) in front of the engine's socket, as `dockerd --tlsverify` serves
//! it — reached by `DOCKER_HOST`/`DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH` and by a Docker
//! context; a wrong CA refused with the reason; the listener stopped mid-run (engine down
//! with its reason, keys still answered) and started again (recovered by itself).

mod common;
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use support::engine::{docker_cli, engine_or_skip, TestImage};
use toban::providers::docker::{Endpoint, Engine, EngineEnv};
use toban::providers::health::Freshness;
use toban::state::State;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use common::services::{console, engine_down, engine_fresh, quick, until, watch};

/// A CA, the engine's certificate from it, and toban's client files (`ca.pem`, `cert.pem`,
/// `key.pem`) in `client`, as `DOCKER_CERT_PATH` holds them.
struct Pki {
    client: tempfile::TempDir,
    server: Arc<rustls::ServerConfig>,
}

fn make_pki() -> Pki {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "toban test engine CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    client_params
        .distinguished_name
        .push(DnType::CommonName, "toban");
    let client = client_params.signed_by(&client_key, &ca).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.path().join("cert.pem"), client.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), client_key.serialize_pem()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    // As `dockerd --tlsverify`: only clients with a certificate from the CA.
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(server.der().to_vec())],
            PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        )
        .unwrap();
    Pki {
        client: dir,
        server: Arc::new(config),
    }
}

/// TLS on 127.0.0.1 in front of the engine's unix socket.
struct TlsFront {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl TlsFront {
    async fn start(port: u16, config: Arc<rustls::ServerConfig>, engine: PathBuf) -> TlsFront {
        let l = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = l.local_addr().unwrap().port();
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((s, _)) = l.accept().await {
                let (acceptor, engine) = (acceptor.clone(), engine.clone());
                conns.spawn(async move {
                    let Ok(mut tls) = acceptor.accept(s).await else {
                        return;
                    };
                    if let Ok(mut e) = tokio::net::UnixStream::connect(&engine).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut e).await;
                    }
                });
            }
        });
        TlsFront { port, task }
    }

    /// Every connection dropped, nothing listening.
    fn stop(self) {
        self.task.abort();
    }
}

async fn local_socket() -> Option<PathBuf> {
    let engine = engine_or_skip().await?;
    match engine.endpoint {
        Endpoint::Unix(p) => Some(p),
        other => {
            support::service_unavailable(
                "Docker on a unix socket",
                &format!("the engine is at {other}"),
            );
            None
        }
    }
}

#[tokio::test]
async fn docker_host_with_tls_verify_reaches_the_engine_and_a_wrong_ca_is_refused() {
    let Some(socket) = local_socket().await else {
        return;
    };
    let pki = make_pki();
    let front = TlsFront::start(0, pki.server.clone(), socket).await;
    let env = EngineEnv {
        docker_host: Some(format!("tcp://127.0.0.1:{}", front.port)),
        tls_verify: true,
        cert_path: Some(pki.client.path().into()),
        ..Default::default()
    };
    let endpoints = env.candidates().unwrap();
    assert_eq!(endpoints.len(), 1);
    assert!(
        matches!(endpoints[0], Endpoint::Tls { .. }),
        "{endpoints:?}"
    );
    let engine = Engine::connect_to(&endpoints[0]).await.unwrap();
    assert!(engine.describe().contains("(TLS)"), "{}", engine.describe());
    // The same containers the socket shows.
    let img = TestImage::build().unwrap();
    let name = format!("toban-test-tls-{:012x}", rand::random::<u64>() >> 16);
    docker_cli(&["run", "-d", "--name", &name, &img.tag, "sleep", "600"]).unwrap();
    let listed = toban::services::containers::snapshot(&engine, "remote").await;
    let _ = docker_cli(&["rm", "-f", &name]);
    let listed = listed.unwrap();
    assert!(listed
        .iter()
        .any(|c| c.name == name && c.engine == "remote"));

    // Another CA: the engine is not who it says, refused with why.
    let other = make_pki();
    let e = Engine::connect_to(&Endpoint::Tls {
        addr: format!("127.0.0.1:{}", front.port),
        certs: other.client.path().into(),
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains(&format!("127.0.0.1:{}", front.port)), "{e}");
    assert!(
        e.to_lowercase().contains("certificate") || e.to_lowercase().contains("issuer"),
        "{e}"
    );
    // DOCKER_TLS_VERIFY without the CA file: said with the path.
    let empty = tempfile::tempdir().unwrap();
    let err = EngineEnv {
        cert_path: Some(empty.path().into()),
        ..env.clone()
    }
    .candidates()
    .unwrap_err();
    assert!(
        err.contains("ca.pem") && err.starts_with("DOCKER_HOST"),
        "{err}"
    );
    front.stop();
}

fn context_dir(config: &Path, name: &str) -> (PathBuf, PathBuf) {
    use sha2::{Digest, Sha256};
    let id: String = Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (
        config.join("contexts/meta").join(&id),
        config.join("contexts/tls").join(&id).join("docker"),
    )
}

#[tokio::test]
async fn docker_contexts_name_the_engine_plain_and_over_tls() {
    let Some(socket) = local_socket().await else {
        return;
    };
    let pki = make_pki();
    let front = TlsFront::start(0, pki.server.clone(), socket.clone()).await;
    // A temporary ~/.docker as `docker context create` leaves it.
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".docker");
    let (meta, _) = context_dir(&config, "lab");
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("meta.json"),
        format!(
            r#"{{"Name":"lab","Metadata":{{"Description":"the lab"}},"Endpoints":{{"docker":{{"Host":"unix://{}","SkipTLSVerify":false}}}}}}"#,
            socket.display()
        ),
    )
    .unwrap();
    let (meta, tls) = context_dir(&config, "secure");
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::create_dir_all(&tls).unwrap();
    std::fs::write(
        meta.join("meta.json"),
        format!(
            r#"{{"Name":"secure","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"tcp://127.0.0.1:{}","SkipTLSVerify":false}}}}}}"#,
            front.port
        ),
    )
    .unwrap();
    for f in ["ca.pem", "cert.pem", "key.pem"] {
        std::fs::copy(pki.client.path().join(f), tls.join(f)).unwrap();
    }
    std::fs::write(config.join("config.json"), r#"{"currentContext":"lab"}"#).unwrap();
    let env = EngineEnv {
        config_dir: Some(config.clone()),
        ..Default::default()
    };
    // The current context, from config.json.
    let found = env.candidates().unwrap();
    assert_eq!(found, vec![Endpoint::Unix(socket.clone())]);
    let e = Engine::connect_to(&found[0]).await.unwrap();
    assert!(!e.version.is_empty());
    // DOCKER_CONTEXT=secure: TLS with the context's own files.
    let env = EngineEnv {
        context: Some("secure".into()),
        ..env
    };
    let found = env.candidates().unwrap();
    assert!(matches!(found[0], Endpoint::Tls { .. }), "{found:?}");
    let e = Engine::connect_to(&found[0]).await.unwrap();
    assert!(e.describe().contains(&front.port.to_string()));
    // An engine configured by context name in config.toml: the same resolution.
    let cfg: toban::config::services::ServicesConfig = toml::from_str(
        "[[engine]]\nname = \"lab\"\ncontext = \"lab\"\n[[engine]]\nname = \"gone\"\ncontext = \"nope\"\n",
    )
    .unwrap();
    assert!(cfg.validate().is_empty());
    let targets = toban::services::engines_in(&cfg, &env);
    assert_eq!(targets[0].1, Ok(Some(Endpoint::Unix(socket))));
    let why = targets[1].1.clone().unwrap_err();
    assert!(why.contains("context nope"), "{why}");
    front.stop();
}

#[tokio::test]
async fn the_tls_engine_going_away_is_shown_down_and_recovered_by_itself() {
    let Some(socket) = local_socket().await else {
        return;
    };
    let pki = make_pki();
    let front = TlsFront::start(0, pki.server.clone(), socket.clone()).await;
    let port = front.port;
    let endpoint = Endpoint::Tls {
        addr: format!("127.0.0.1:{port}"),
        certs: pki.client.path().into(),
    };
    let (tx, mut rx) = mpsc::channel(256);
    let cancel = CancellationToken::new();
    let _handles = watch(&[("remote", Some(endpoint))], quick(), &tx, &cancel);
    let mut con = console(&["remote"]);
    con.s.screen = (80, 24);
    let id = toban::services::engine_provider("remote");
    let fresh = |s: &State| engine_fresh(s, "remote");
    let down = |s: &State| engine_down(s, "remote");
    until(&mut rx, &mut con, "connected over TLS", |s| {
        fresh(s) && s.services.engines.iter().any(|(_, d)| d.is_some())
    })
    .await;
    front.stop();
    until(&mut rx, &mut con, "the engine down", down).await;
    let (_, h) = con.s.providers.iter().find(|(i, _)| *i == id).unwrap();
    let Freshness::Down { reason, .. } = h.freshness(con.s.now) else {
        unreachable!()
    };
    assert!(!reason.is_empty());
    // The tab says so, with the reason, and keys are still answered.
    con.keys("6");
    assert_eq!(con.s.tab, toban::tab::Tab::Services);
    let screen = con.screen(80, 24);
    assert!(screen.contains("remote: down"), "{screen}");
    con.keys("o");
    assert_eq!(con.s.services.sort.word(), "state");
    let front = TlsFront::start(port, pki.server.clone(), socket).await;
    until(&mut rx, &mut con, "reconnected", fresh).await;
    let screen = con.screen(80, 24);
    assert!(!screen.contains("remote: down"), "{screen}");
    front.stop();
    cancel.cancel();
}
