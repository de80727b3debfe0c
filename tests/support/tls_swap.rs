//! A TLS listener for the renew-certificate tests, behaving like nginx: it serves
//! `<dir>/cert.pem` + `<dir>/key.pem` to clients asking for `name` (SNI) and another,
//! long-lived certificate to anyone else, and reads the files again only when
//! `<dir>/reloaded` changes — a renewal on disk is not served until the server is reloaded.
//! `renew.sh` (argv: the certificate name, ignored) puts `next-cert.pem` in place.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivateKeyDer;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// A certificate for `name` expiring `days` from now (whole days: rcgen writes dates).
pub fn make(name: &str, days: i64) -> (String, String, DateTime<Utc>) {
    let now = Utc::now();
    let (cert, key) = toban::services::demo::self_signed(
        &[name],
        now - Duration::days(30),
        now + Duration::days(days),
    )
    .unwrap();
    let not_after = toban::tls_cert::parse_der(
        &rustls::pki_types::CertificateDer::from_pem_slice(cert.as_bytes()).unwrap(),
    )
    .unwrap()
    .not_after;
    (cert, key, not_after)
}

fn certified(cert: &str, key: &str) -> Arc<CertifiedKey> {
    let certs = vec![rustls::pki_types::CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let signer = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key).unwrap();
    Arc::new(CertifiedKey::new(certs, signer))
}

#[derive(Debug)]
struct Swap {
    dir: PathBuf,
    name: String,
    other: Arc<CertifiedKey>,
    /// (the `reloaded` marker's mtime when loaded, the key)
    current: Mutex<(Option<std::time::SystemTime>, Arc<CertifiedKey>)>,
}

impl ResolvesServerCert for Swap {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        if hello.server_name() != Some(self.name.as_str()) {
            return Some(self.other.clone());
        }
        let marker = std::fs::metadata(self.dir.join("reloaded"))
            .and_then(|m| m.modified())
            .ok();
        let mut cur = self.current.lock().unwrap();
        if cur.0 != marker {
            let cert = std::fs::read_to_string(self.dir.join("cert.pem")).ok()?;
            let key = std::fs::read_to_string(self.dir.join("key.pem")).ok()?;
            *cur = (marker, certified(&cert, &key));
        }
        Some(cur.1.clone())
    }
}

pub struct Server {
    pub port: u16,
    pub dir: PathBuf,
    pub served_before: DateTime<Utc>,
    pub next: DateTime<Utc>,
    pub other: DateTime<Utc>,
}

impl Server {
    /// Serves a 10-day certificate for `name` (a 400-day one to other names); the renewal
    /// waiting in `next-cert.pem` lasts 90 days.
    pub fn start(dir: &Path, name: &str) -> Server {
        let (cert, key, served_before) = make(name, 10);
        let (next_cert, next_key, next) = make(name, 90);
        let (ocert, okey, other) = make("other.example.test", 400);
        std::fs::write(dir.join("cert.pem"), &cert).unwrap();
        std::fs::write(dir.join("key.pem"), &key).unwrap();
        std::fs::write(dir.join("next-cert.pem"), next_cert).unwrap();
        std::fs::write(dir.join("next-key.pem"), next_key).unwrap();
        let renew = dir.join("renew.sh");
        std::fs::write(
            &renew,
            "#!/bin/sh\n# the renewal: the next certificate in place ($1, the name, unused)\n\
             d=$(dirname \"$0\")\ncp \"$d/next-cert.pem\" \"$d/cert.pem\"\n\
             cp \"$d/next-key.pem\" \"$d/key.pem\"\necho renewed \"$1\"\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&renew, std::fs::Permissions::from_mode(0o755)).unwrap();
        let resolver = Swap {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            other: certified(&ocert, &okey),
            current: Mutex::new((None, certified(&cert, &key))),
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(resolver));
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        // Its own thread and runtime: usable from plain and async tests alike; it lives as
        // long as the test process.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                use tokio::io::AsyncReadExt;
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(l.local_addr().unwrap().port()).unwrap();
                while let Ok((s, _)) = l.accept().await {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        if let Ok(mut tls) = acceptor.accept(s).await {
                            let mut b = [0u8; 16];
                            let _ = tls.read(&mut b).await;
                        }
                    });
                }
            });
        });
        let port = rx.recv().unwrap();
        Server {
            port,
            dir: dir.to_path_buf(),
            served_before,
            next,
            other,
        }
    }

    pub fn renew_cmd(&self) -> String {
        self.dir.join("renew.sh").to_string_lossy().into_owned()
    }

    /// The reload command: `touch <dir>/reloaded` (argv).
    pub fn reload_cmd(&self) -> String {
        format!("touch {}", self.dir.join("reloaded").display())
    }
}
