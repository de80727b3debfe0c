//! HTTP checks and certificates against real local servers: a server that answers 200, then
//! 503, then hangs (the check times out), a redirect to another host that is not followed,
//! and certificates made here with rcgen with known dates, read from a file and from a TLS
//! listener with SNI. Three failures in a row raise the check's local alarm in the console.

mod common;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use toban::config::services::{CertConfig, CheckConfig, ServicesConfig};
use toban::health::Severity;
use toban::services::checks::CheckPoller;
use toban::services::{ServicesMsg, ServicesState};
use toban::state::Msg;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const OK: u8 = 0;
const UNAVAILABLE: u8 = 1;
const HANG: u8 = 2;
const REDIRECT: u8 = 3;

/// A local HTTP server whose answer is `mode`: 200 "ready", 503, no answer at all, or a 302
/// to another host.
async fn server(mode: Arc<AtomicU8>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let mode = mode.load(Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf).await;
                let reply = match mode {
                    OK => "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nready".to_string(),
                    UNAVAILABLE => "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_string(),
                    REDIRECT => "HTTP/1.1 302 Found\r\nlocation: http://example.invalid/health\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_string(),
                    _ => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        return;
                    }
                };
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/health/ready")
}

fn check(url: &str) -> CheckConfig {
    CheckConfig {
        name: "api".into(),
        url: url.into(),
        body_contains: Some("ready".into()),
        timeout: Duration::from_millis(800),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_check_sees_200_then_503_then_a_hang_and_alarms_at_the_third_failure() {
    let mode = Arc::new(AtomicU8::new(OK));
    let url = server(mode.clone()).await;
    let cfg = check(&url);
    let p = CheckPoller::new(cfg.clone()).unwrap();

    let mut con = common::console::Console::new(Vec::new());
    let sc = ServicesConfig {
        checks: vec![cfg],
        ..Default::default()
    };
    con.s.services = ServicesState::new(&sc, Vec::new());

    let ok = p.probe().await;
    assert!(ok.ok, "{ok:?}");
    assert_eq!(ok.status, Some(200));
    assert!(ok.latency_ms < 800);
    con.msg(Msg::Services(ServicesMsg::Check(ok)));

    mode.store(UNAVAILABLE, Ordering::SeqCst);
    let bad = p.probe().await;
    assert!(!bad.ok);
    assert_eq!(bad.status, Some(503));
    assert_eq!(bad.error.as_deref(), Some("status 503, expected 200"));
    con.msg(Msg::Services(ServicesMsg::Check(bad.clone())));
    con.msg(Msg::Services(ServicesMsg::Check(bad)));
    assert!(
        !con.s.alarms.active.contains_key("services.check:api"),
        "two failures are not yet an alarm"
    );

    mode.store(HANG, Ordering::SeqCst);
    let started = std::time::Instant::now();
    let hung = p.probe().await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the timeout holds"
    );
    assert!(!hung.ok);
    assert_eq!(hung.status, None);
    assert_eq!(hung.error.as_deref(), Some("no answer within 800ms"));
    con.msg(Msg::Services(ServicesMsg::Check(hung)));
    let a = con
        .s
        .alarms
        .active
        .get("services.check:api")
        .expect("three failures in a row raise the alarm");
    assert_eq!(a.severity, Severity::Critical);
    assert!(
        a.message
            .contains("failed 3 times in a row: no answer within 800ms"),
        "{}",
        a.message
    );

    // Back to good: the alarm clears, the outage is closed.
    mode.store(OK, Ordering::SeqCst);
    con.msg(Msg::Services(ServicesMsg::Check(p.probe().await)));
    assert!(!con.s.alarms.active.contains_key("services.check:api"));
    let c = &con.s.services.checks[0];
    assert_eq!(c.outages.len(), 1);
    assert!(c.outages[0].end.is_some());
    assert_eq!(c.latencies.len(), 5);
}

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed() {
    let mode = Arc::new(AtomicU8::new(REDIRECT));
    let url = server(mode).await;
    let o = CheckPoller::new(check(&url)).unwrap().probe().await;
    assert!(!o.ok);
    assert_eq!(o.status, Some(302));
    assert_eq!(o.error.as_deref(), Some("status 302, expected 200"));
}

fn certs_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[tokio::test]
async fn certificate_files_show_days_left_and_alarm_at_30_and_7_days() {
    let dir = certs_dir();
    let now = Utc::now();
    let mut cfgs = Vec::new();
    for (name, days) in [("fine", 90), ("soon", 20), ("urgent", 5), ("gone", -3)] {
        let (pem, _) = toban::services::demo::self_signed(
            &["www.example.test"],
            now - chrono::Duration::days(200),
            now + chrono::Duration::days(days),
        )
        .unwrap();
        let path = dir.path().join(format!("{name}.pem"));
        std::fs::write(&path, pem).unwrap();
        cfgs.push(CertConfig {
            name: name.into(),
            file: Some(path),
            ..Default::default()
        });
    }
    cfgs.push(CertConfig {
        name: "missing".into(),
        file: Some(dir.path().join("nope.pem")),
        ..Default::default()
    });
    let infos: Vec<_> =
        futures::future::join_all(cfgs.iter().map(toban::services::certs::check)).await;
    let days: Vec<Option<i64>> = infos.iter().map(|c| c.days_left(now)).collect();
    // rcgen writes whole days (midnight UTC), so a day less may show.
    for (got, want) in days.iter().zip([90i64, 20, 5, -3]) {
        let got = got.expect("a date");
        assert!(got == want || got == want - 1, "{got} vs {want}");
    }
    assert_eq!(days[4], None);
    assert!(infos[4].error.as_deref().unwrap().contains("nope.pem"));
    assert!(infos[0].subject.contains("rcgen"), "{}", infos[0].subject);

    let mut con = common::console::Console::new(Vec::new());
    con.s.now = now;
    con.msg(Msg::Services(ServicesMsg::Certs(infos)));
    let sev = |k: &str| con.s.alarms.active.get(k).map(|a| a.severity);
    assert_eq!(sev("services.cert:fine"), None);
    assert_eq!(sev("services.cert:soon"), Some(Severity::Warning));
    assert_eq!(sev("services.cert:urgent"), Some(Severity::Critical));
    assert_eq!(sev("services.cert:gone"), Some(Severity::Critical));
    assert_eq!(sev("services.cert:missing"), Some(Severity::Warning));
}

/// A TLS listener serving a certificate for `name` that expires in `days`.
async fn tls_server(name: &str, days: i64) -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let now = Utc::now();
    let (cert, key) = toban::services::demo::self_signed(
        &[name],
        now - chrono::Duration::days(10),
        now + chrono::Duration::days(days),
    )
    .unwrap();
    let cert = CertificateDer::from_pem_slice(cert.as_bytes()).unwrap();
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
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
    port
}

#[tokio::test]
async fn a_tls_handshake_with_sni_reads_the_servers_certificate_even_self_signed() {
    let port = tls_server("localhost", 6).await;
    let info = toban::services::certs::check(&CertConfig {
        name: "www".into(),
        host: Some(format!("localhost:{port}")),
        ..Default::default()
    })
    .await;
    assert_eq!(info.error, None);
    let d = info.days_left(Utc::now()).unwrap();
    assert!(d == 6 || d == 5, "{d}");
    assert_eq!(info.source, format!("localhost:{port}"));
    // Nothing listens here: an error with the address, not a panic.
    let closed = toban::services::certs::check(&CertConfig {
        name: "none".into(),
        host: Some("127.0.0.1:1".into()),
        ..Default::default()
    })
    .await;
    assert!(closed.not_after.is_none());
    assert!(closed.error.is_some());
}
