//! Wait-until checks against real sockets and files: ready once the thing appears, not
//! before; timeout with the last reason; cancel.

use std::time::{Duration, Instant};

use toban::runbook::exec::{wait_until, WaitCheck};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// An HTTP server on loopback answering `503` for the first `failures` requests, then
/// `200`. Returns its base URL.
async fn flaky_http(failures: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut served = 0usize;
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = [0u8; 2048];
            let _ = sock.read(&mut buf).await;
            let status = if served < failures {
                "503 Service Unavailable"
            } else {
                "200 OK"
            };
            served += 1;
            let body = "ok";
            let resp = format!(
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    format!("http://{addr}")
}

fn short() -> Duration {
    Duration::from_millis(100)
}

#[tokio::test]
async fn http_waits_through_failures_until_the_expected_status() {
    let base = flaky_http(3).await;
    let check = WaitCheck::Http {
        url: format!("{base}/health/ready"),
        expect_status: Some(200),
    };
    let out = wait_until(
        &check,
        Duration::from_secs(10),
        short(),
        &CancellationToken::new(),
    )
    .await;
    assert!(out.ready, "{out:?}");
    assert_eq!(out.attempts, 4);
    assert_eq!(out.last_error, None);
    assert!(check.describe().contains("/health/ready"));
}

#[tokio::test]
async fn http_times_out_with_the_last_status() {
    let base = flaky_http(usize::MAX).await;
    let check = WaitCheck::Http {
        url: format!("{base}/health/ready?token=s3cret"),
        expect_status: None,
    };
    let started = Instant::now();
    let out = wait_until(
        &check,
        Duration::from_millis(700),
        Duration::from_millis(200),
        &CancellationToken::new(),
    )
    .await;
    assert!(!out.ready);
    assert!(!out.cancelled);
    assert!(out.attempts >= 2, "{out:?}");
    assert_eq!(out.last_error.as_deref(), Some("HTTP 503"));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!check.describe().contains("s3cret"));
}

#[tokio::test]
async fn tcp_is_ready_once_something_listens() {
    // Reserve a port, free it, and open it again later.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let opener = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let l = tokio::net::TcpListener::bind(addr).await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(l);
    });
    let out = wait_until(
        &WaitCheck::Tcp {
            addr: addr.to_string(),
        },
        Duration::from_secs(10),
        short(),
        &CancellationToken::new(),
    )
    .await;
    assert!(out.ready, "{out:?}");
    assert!(out.attempts > 1);
    assert!(out.elapsed >= Duration::from_millis(500), "{out:?}");
    opener.abort();
}

#[tokio::test]
async fn file_exists_waits_for_the_file_and_cancel_stops_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("done.flag");
    let p = path.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        std::fs::write(p, "").unwrap();
    });
    let check = WaitCheck::FileExists { path: path.clone() };
    let out = wait_until(
        &check,
        Duration::from_secs(10),
        short(),
        &CancellationToken::new(),
    )
    .await;
    assert!(out.ready, "{out:?}");
    assert!(out.elapsed >= Duration::from_millis(400));

    let never = WaitCheck::FileExists {
        path: dir.path().join("never"),
    };
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.cancel();
    });
    let started = Instant::now();
    let out = wait_until(&never, Duration::from_secs(60), short(), &cancel).await;
    assert!(out.cancelled && !out.ready, "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(out
        .last_error
        .as_deref()
        .unwrap_or("")
        .contains("does not exist yet"));
}
