//! Endpoints that try to get more than they should, answered by raw sockets on 127.0.0.1:
//! a redirect towards another host must not carry a credential there, a system proxy must
//! never see a loopback endpoint's traffic, and an answer too large is refused without
//! being buffered whole.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::sync::{Arc, Mutex};

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::{self, BrokerError, ConnectorConfig};
use brokerdesk_core::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server that records every request it gets and answers each with `answer(n)`.
struct Raw {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Raw {
    async fn start(answer: impl Fn(usize) -> Vec<u8> + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (log, answer) = (seen.clone(), Arc::new(answer));
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    break;
                };
                let (log, answer) = (log.clone(), answer.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut got = Vec::new();
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                    // A body, if any, arrives with or right after the head: read what is there.
                    if let Ok(Ok(n)) = tokio::time::timeout(
                        std::time::Duration::from_millis(50),
                        sock.read(&mut buf),
                    )
                    .await
                    {
                        got.extend_from_slice(&buf[..n]);
                    }
                    let n = {
                        let mut l = log.lock().unwrap();
                        l.push(String::from_utf8_lossy(&got).into_owned());
                        l.len()
                    };
                    let _ = sock.write_all(&answer(n)).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Self { url, seen }
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn redirect_to(target: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}/stolen\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

/// A broker with stored secrets: kind, environment, account id, key, secret.
type Case = (
    BrokerKind,
    Environment,
    Option<&'static str>,
    &'static str,
    Option<&'static str>,
);

/// Every broker with stored secrets, with the credentials it sends.
fn brokers_with_secrets() -> Vec<Case> {
    vec![
        (
            BrokerKind::Oanda,
            Environment::Practice,
            Some("101-004-1234567-001"),
            "oanda-token-SECRET-0123456789",
            None,
        ),
        (
            BrokerKind::Alpaca,
            Environment::Practice,
            None,
            "PKSECRETKEYID0123456",
            Some("alpaca-SECRET-key-0123456789abcdef"),
        ),
        (
            BrokerKind::Tradier,
            Environment::Practice,
            Some("VA00000042"),
            "tradier-token-SECRET-0123456789",
            None,
        ),
        (
            BrokerKind::Tastytrade,
            Environment::Practice,
            None,
            "tt-refresh-SECRET-0123456789",
            Some("tt-client-SECRET-0123456789"),
        ),
    ]
}

#[tokio::test]
async fn a_redirect_never_carries_a_credential_to_another_host() {
    for (kind, env, account, key, secret) in brokers_with_secrets() {
        let trap = Raw::start(|_| b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".to_vec()).await;
        let target = trap.url.clone();
        let redirector = Raw::start(move |_| redirect_to(&target)).await;
        let cfg = ConnectorConfig::new(
            kind,
            env,
            account.map(str::to_string),
            Some(&redirector.url),
            Some(&redirector.url),
        )
        .unwrap()
        .with_credentials(Some(Secret::new(key)), secret.map(Secret::new));
        let err = brokers::connector(cfg).unwrap().verify().await.unwrap_err();
        assert!(
            !redirector.requests().is_empty(),
            "{kind}: the endpoint was never asked"
        );
        assert!(
            trap.requests().is_empty(),
            "{kind} followed the redirect to another host: {:?}",
            trap.requests()
        );
        assert!(!matches!(err, BrokerError::Auth(_)), "{kind}: {err}");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("SECRET"), "{kind}: {text}");
    }
}

#[tokio::test]
async fn a_system_proxy_never_sees_a_loopback_endpoint() {
    let proxy =
        Raw::start(|_| b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n".to_vec()).await;
    let endpoint = Raw::start(|_| {
        let body = r#"{"account":{"id":"101-004-1234567-001","currency":"USD","balance":"100000.0000","NAV":"100000.0000","marginAvailable":"100000.0000"}}"#;
        format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
    })
    .await;
    // The variables reqwest reads when it builds a client; this test binary's other tests
    // only talk to loopback endpoints, which must not use them either.
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        std::env::set_var(var, &proxy.url);
    }
    let cfg = ConnectorConfig::new(
        BrokerKind::Oanda,
        Environment::Practice,
        Some("101-004-1234567-001".into()),
        Some(&endpoint.url),
        Some(&endpoint.url),
    )
    .unwrap()
    .with_credentials(Some(Secret::new("oanda-token-SECRET-0123456789")), None);
    let _ = brokers::connector(cfg).unwrap().verify().await;
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        std::env::remove_var(var);
    }
    assert!(
        proxy.requests().is_empty(),
        "the proxy saw: {:?}",
        proxy.requests()
    );
    assert!(!endpoint.requests().is_empty());
    assert!(endpoint.requests()[0].contains("Bearer oanda-token-SECRET"));
}

#[tokio::test]
async fn an_answer_too_large_is_a_protocol_error() {
    // 20 MiB announced (and streamed) by a hostile endpoint.
    let huge = Raw::start(|_| {
        let mut r = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20971520\r\n\r\n".to_vec();
        r.extend(std::iter::repeat_n(b' ', 2 * 1024 * 1024));
        r
    })
    .await;
    let chunked = Raw::start(|_| {
        let mut r = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        let chunk = vec![b' '; 1024 * 1024];
        for _ in 0..12 {
            r.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
            r.extend(&chunk);
            r.extend(b"\r\n");
        }
        r.extend(b"0\r\n\r\n");
        r
    })
    .await;
    for server in [&huge, &chunked] {
        let cfg = ConnectorConfig::new(
            BrokerKind::Oanda,
            Environment::Practice,
            Some("101-004-1234567-001".into()),
            Some(&server.url),
            Some(&server.url),
        )
        .unwrap()
        .with_credentials(Some(Secret::new("oanda-token-0123456789abcdef")), None);
        let err = brokers::connector(cfg).unwrap().verify().await.unwrap_err();
        assert!(
            matches!(&err, BrokerError::Protocol(m) if m.contains("larger than")),
            "{err:?}"
        );
    }
}
