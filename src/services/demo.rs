//! For `--demo`: a local HTTP endpoint that flaps (a minute good, then 20 s of 503) and a
//! self-signed certificate file that expires in five days, so the Services card has
//! something to show on a machine without a container engine.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Datelike, Utc};

/// A self-signed certificate for `names` valid between the two days: (cert PEM, key PEM).
pub fn self_signed(
    names: &[&str],
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> anyhow::Result<(String, String)> {
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())?;
    let day = |t: DateTime<Utc>| rcgen::date_time_ymd(t.year(), t.month() as u8, t.day() as u8);
    params.not_before = day(not_before);
    params.not_after = day(not_after);
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Serves `GET /health/ready` on 127.0.0.1 from a thread: 200 for 60 s, then 503 for 20 s,
/// round and round. Returns the URL.
pub fn flapping_endpoint() -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/health/ready", listener.local_addr()?);
    let started = Instant::now();
    std::thread::Builder::new()
        .name("demo-endpoint".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let up = started.elapsed().as_secs() % 80 < 60;
                let (status, body) = if up {
                    ("200 OK", "ok")
                } else {
                    ("503 Service Unavailable", "starting")
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        })?;
    Ok(url)
}

/// The demo's config section: the flapping check and the certificate near expiry.
pub fn demo_section(dir: &Path, now: DateTime<Utc>) -> anyhow::Result<String> {
    std::fs::create_dir_all(dir)?;
    let (cert, _key) = self_signed(
        &["demo.toban.invalid"],
        now - chrono::Duration::days(85),
        now + chrono::Duration::days(5),
    )?;
    let path: PathBuf = dir.join("cert.pem");
    std::fs::write(&path, cert)?;
    let url = flapping_endpoint()?;
    Ok(format!(
        "\n[services]\n\n[[services.check]]\nname = \"demo-api\"\nurl = {url:?}\ninterval = \"5s\"\ntimeout = \"2s\"\n\n\
         [[services.certificate]]\nname = \"demo-www\"\nfile = {:?}\n",
        path.display().to_string()
    ))
}
