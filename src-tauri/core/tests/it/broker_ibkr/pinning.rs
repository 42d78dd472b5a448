//! The gateway's certificate pin against the simulator over HTTPS with a self-signed
//! certificate made at start (`brokers/pin.rs`): the first connection pins it (connector and
//! API), the same certificate connects again (REST and WebSocket, one pin), a gateway
//! restarted with a new certificate is refused with `certificate_changed` before anything is
//! sent (the simulator sees no request), trusting the new fingerprint through the API makes
//! it work again (the app's runtime too: it reconnects with the trusted pin), a WebSocket
//! elsewhere gets no exception, and a redirect to another host or port is not followed.

use std::sync::Arc;
use std::time::Duration;

use crate::common::audited;
use brokerdesk_core::accounts::model::{AccountInput, BrokerKind, Environment};
use brokerdesk_core::audit::AuditEvent;
use brokerdesk_core::brokers::ibkr::{Ibkr, StreamOptions};
use brokerdesk_core::brokers::pin::{Fingerprint, TlsPin};
use brokerdesk_core::brokers::{Broker, BrokerError, ConnectorConfig};
use brokerdesk_core::connection::manager::Channel;
use brokerdesk_core::connection::ConnState;
use brokerdesk_core::runtime::Runtime;
use brokerdesk_core::stream::{QuoteStream, StreamEvent};
use brokerdesk_core::vault::keychain::MemoryKeyStore;
use brokerdesk_core::{Brokerdesk, Code};
use brokerdesk_sim::ibkr::{router, Settings, SimState};
use brokerdesk_sim::{Faults, SimCert, SimServer};

use super::ACCOUNT;

/// A gateway simulator over HTTPS with `cert` on a free port, serving `state`. A restart
/// with a new certificate is [`SimServer::replace_certificate`]: the same port, which a
/// stopped server would give up for another test to take.
async fn tls_sim(state: &SimState, cert: &SimCert) -> SimServer {
    SimServer::start_tls(router(state.clone()), state.faults().clone(), 0, cert)
        .await
        .unwrap()
}

fn gateway_state() -> SimState {
    let state = SimState::new(Faults::new(), ACCOUNT);
    state.set_settings(Settings {
        heartbeat: Duration::from_millis(50),
        data_interval: Duration::from_millis(20),
        ..Settings::default()
    });
    state
}

fn rest(server: &SimServer) -> String {
    format!("{}/v1/api", server.url())
}

/// A connector to `server` (stream URL derived from the REST URL) starting with `pin`.
fn connector(server: &SimServer, pin: Option<Arc<TlsPin>>) -> Ibkr {
    let mut cfg = ConnectorConfig::new(
        BrokerKind::Ibkr,
        Environment::Practice,
        Some(ACCOUNT.to_string()),
        Some(&rest(server)),
        None,
    )
    .unwrap();
    cfg.tls_pin = pin;
    Ibkr::new(cfg).unwrap().with_stream_options(StreamOptions {
        ping_every: Duration::from_millis(150),
        tic_every: Duration::from_millis(100),
        handshake_timeout: Duration::from_secs(2),
    })
}

fn pin_for(server: &SimServer, cert: &SimCert) -> Arc<TlsPin> {
    let url = url::Url::parse(&rest(server)).unwrap();
    TlsPin::for_url(&url, Some(fp(cert))).unwrap()
}

fn fp(cert: &SimCert) -> Fingerprint {
    cert.fingerprint().parse().unwrap()
}

/// Reads until a tick arrives (the stream is live and verified end to end).
async fn first_tick(stream: &mut dyn QuoteStream) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let mut batch = Vec::new();
        let more = tokio::time::timeout_at(deadline, stream.read(&mut batch))
            .await
            .expect("no tick within 5 s")
            .unwrap();
        assert!(more, "the stream ended");
        if batch.iter().any(|e| matches!(e, StreamEvent::Tick(_))) {
            return;
        }
    }
}

fn requests(server: &SimServer) -> u64 {
    server.faults().requests()
}

/// Waits (up to a second: the server counts after the client gave up) until the server saw
/// at least `n` failed TLS handshakes.
async fn assert_failed_handshakes(server: &SimServer, n: u64) {
    let failed = || {
        server
            .tls_stats()
            .unwrap()
            .failed
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    while failed() < n && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        failed() >= n,
        "{} failed handshakes, expected {n}",
        failed()
    );
}

#[tokio::test]
async fn the_first_certificate_is_pinned_and_a_new_one_is_refused_before_anything_is_sent() {
    let state = gateway_state();
    let first = SimCert::generate().unwrap();
    let server = tls_sim(&state, &first).await;
    let port = server.addr().port();

    // No pin yet: the first certificate is pinned, REST and WebSocket share it.
    let ibkr = connector(&server, None);
    ibkr.verify().await.unwrap();
    let pin = ibkr.tls_pin().expect("a pinned gateway").clone();
    let s = pin.state();
    assert_eq!(
        (s.pinned, s.learned, s.refused),
        (Some(fp(&first)), true, None)
    );
    assert_eq!(pin.origin(), format!("127.0.0.1:{port}"));
    assert!(
        ibkr.stream_url().starts_with("wss://"),
        "{}",
        ibkr.stream_url()
    );
    let mut stream = ibkr.open_stream(&["AAPL".to_string()]).await.unwrap();
    first_tick(&mut stream).await;
    stream.close().await;

    // Reconnecting with the stored pin works (new connections, new handshakes).
    let again = connector(&server, Some(pin_for(&server, &first)));
    again.verify().await.unwrap();
    assert!(
        !again.tls_pin().unwrap().state().learned,
        "nothing new learned"
    );
    let mut stream = again.open_stream(&["MSFT".to_string()]).await.unwrap();
    first_tick(&mut stream).await;
    stream.close().await;

    // The gateway comes back on the same port with a new certificate.
    let second = SimCert::generate().unwrap();
    assert_ne!(first.fingerprint(), second.fingerprint());
    server.replace_certificate(&second).unwrap();
    let before = requests(&server);
    let pinned = connector(&server, Some(pin_for(&server, &first)));
    let e = pinned.verify().await.unwrap_err();
    match &e {
        BrokerError::CertificateChanged {
            origin,
            pinned,
            presented,
        } => {
            assert_eq!(origin, &format!("127.0.0.1:{port}"));
            assert_eq!(pinned, &first.fingerprint());
            assert_eq!(presented, &second.fingerprint());
        }
        other => panic!("expected certificate_changed, got {other:?}"),
    }
    assert!(!e.retryable());
    let text = e.to_string();
    assert!(text.contains(&first.fingerprint()) && text.contains(&second.fingerprint()));
    assert!(text.contains("trust-certificate"), "{text}");
    assert_eq!(
        pinned
            .open_stream(&["AAPL".into()])
            .await
            .unwrap_err()
            .to_string(),
        text
    );
    // Nothing reached the gateway: no request at all, so no cookie either.
    assert_eq!(
        requests(&server),
        before,
        "a request reached the new certificate"
    );
    assert_failed_handshakes(&server, 2).await;
    assert_eq!(pinned.tls_pin().unwrap().state().refused, Some(fp(&second)));

    // Trusting the new one (here: starting with it pinned) works again, stream included.
    let trusted = connector(&server, Some(pin_for(&server, &second)));
    trusted.verify().await.unwrap();
    let mut stream = trusted.open_stream(&["AAPL".to_string()]).await.unwrap();
    first_tick(&mut stream).await;
    stream.close().await;
}

/// The WebSocket trusts the pinned certificate only at the gateway's own host and port: a
/// `wss://` stream elsewhere on this machine is verified by the trust store like any host
/// (a self-signed certificate there is refused), and gets no exception for being local.
#[tokio::test]
async fn a_websocket_elsewhere_on_this_machine_gets_no_exception() {
    let state = gateway_state();
    let cert = SimCert::generate().unwrap();
    let gateway = tls_sim(&state, &cert).await;
    let other = tls_sim(&gateway_state(), &SimCert::generate().unwrap()).await;
    let mut cfg = ConnectorConfig::new(
        BrokerKind::Ibkr,
        Environment::Practice,
        Some(ACCOUNT.to_string()),
        Some(&rest(&gateway)),
        Some(&format!("{}/v1/api/ws", other.ws_url())),
    )
    .unwrap();
    cfg.tls_pin = Some(pin_for(&gateway, &cert));
    let ibkr = Ibkr::new(cfg).unwrap();
    ibkr.verify().await.unwrap();
    let e = ibkr.open_stream(&["AAPL".into()]).await.unwrap_err();
    assert!(matches!(e, BrokerError::Network(_)), "{e:?}");
    assert_eq!(
        requests(&other),
        0,
        "the upgrade (and its cookie) reached it"
    );
}

#[tokio::test]
async fn a_redirect_to_another_host_or_port_is_not_followed() {
    let state = gateway_state();
    let cert = SimCert::generate().unwrap();
    let gateway = tls_sim(&state, &cert).await;
    let elsewhere_state = gateway_state();
    // The same certificate elsewhere: a client that followed would even pass the pin.
    let elsewhere = tls_sim(&elsewhere_state, &cert).await;
    let plain = SimServer::start(router(gateway_state()), Faults::new(), 0)
        .await
        .unwrap();
    let ibkr = connector(&gateway, None);
    ibkr.verify().await.unwrap();
    for target in [
        elsewhere.url(),
        plain.url(),
        "https://localhost:9".to_string(),
    ] {
        state.set_redirect(Some(&target));
        let e = ibkr.verify().await.unwrap_err();
        assert!(
            matches!(e, BrokerError::Rejected { status: 307, .. }),
            "{target}: {e:?}"
        );
    }
    assert_eq!(requests(&elsewhere), 0);
    assert_eq!(requests(&plain), 0);
}

/// A gateway simulator serving HTTPS with a fresh self-signed certificate, and an IBKR
/// account's input pointing at it.
async fn ib_on_a_tls_gateway() -> (SimCert, SimServer, AccountInput) {
    let state = gateway_state();
    let cert = SimCert::generate().unwrap();
    let server = tls_sim(&state, &cert).await;
    let mut input = AccountInput::new("IB", BrokerKind::Ibkr, Environment::Practice);
    input.broker_account_id = Some(ACCOUNT.into());
    input.rest_url = Some(rest(&server));
    (cert, server, input)
}

async fn profile() -> (tempfile::TempDir, Brokerdesk) {
    let dir = tempfile::tempdir().unwrap();
    let bd = Brokerdesk::open(dir.path(), Arc::new(MemoryKeyStore::new()))
        .await
        .unwrap();
    bd.init(None).await.unwrap();
    (dir, bd)
}

/// Through the API: `account verify` pins on first use (stored with the account, audited),
/// refuses a new certificate with `certificate_changed` naming both fingerprints (recorded,
/// audited, nothing sent), and `account_trust_certificate` makes it work again.
#[tokio::test]
async fn the_api_pins_on_first_use_and_trusts_a_new_certificate_explicitly() {
    let (_dir, bd) = profile().await;
    let (first, server, input) = ib_on_a_tls_gateway().await;
    let port = server.addr().port();
    let account = bd.account_add(input).await.unwrap();
    assert_eq!(account.tls_pin, None);

    bd.account_verify(&account.id).await.unwrap();
    let pin = bd.account_get(&account.id).await.unwrap().tls_pin.unwrap();
    assert_eq!(pin.sha256, first.fingerprint());
    assert_eq!(pin.origin, format!("127.0.0.1:{port}"));
    assert_eq!(pin.refused_sha256, None);
    assert_eq!(audited(&bd, AuditEvent::CertificatePinned).await.len(), 1);
    // The next check connects with the stored pin.
    bd.account_verify(&account.id).await.unwrap();
    assert_eq!(audited(&bd, AuditEvent::CertificatePinned).await.len(), 1);

    let second = SimCert::generate().unwrap();
    server.replace_certificate(&second).unwrap();
    let before = requests(&server);
    let e = bd.account_verify(&account.id).await.unwrap_err();
    assert_eq!(e.code, Code::CertificateChanged, "{e}");
    assert!(e.message.contains(&first.fingerprint()), "{e}");
    assert!(e.message.contains(&second.fingerprint()), "{e}");
    assert_eq!(
        requests(&server),
        before,
        "a request reached the new certificate"
    );
    assert_failed_handshakes(&server, 1).await;
    let pin = bd.account_get(&account.id).await.unwrap().tls_pin.unwrap();
    assert_eq!(
        pin.sha256,
        first.fingerprint(),
        "the pin stays until trusted"
    );
    assert_eq!(
        pin.refused_sha256.as_deref(),
        Some(second.fingerprint().as_str())
    );
    assert_eq!(audited(&bd, AuditEvent::CertificateRefused).await.len(), 1);

    // A fingerprint that is not one is refused as input.
    let bad = bd
        .account_trust_certificate(&account.id, "AA:BB")
        .await
        .unwrap_err();
    assert_eq!(bad.code, Code::Validation, "{bad}");
    // Trusting the new certificate (in any accepted spelling).
    let spelled = format!("SHA-256 {}", second.fingerprint().to_ascii_lowercase());
    let trusted = bd
        .account_trust_certificate(&account.id, &spelled)
        .await
        .unwrap();
    let pin = trusted.tls_pin.unwrap();
    assert_eq!(pin.sha256, second.fingerprint());
    assert_eq!(pin.refused_sha256, None);
    let audit = audited(&bd, AuditEvent::CertificateTrusted).await;
    assert_eq!(audit.len(), 1);
    assert!(audit[0].contains(&second.fingerprint()) && audit[0].contains(&first.fingerprint()));
    let summary = bd.account_verify(&account.id).await.unwrap();
    assert_eq!(summary.account_id, ACCOUNT);
    assert!(requests(&server) > before);

    // An account whose gateway is not pinned has nothing to trust.
    let mut plain = AccountInput::new("IB plain", BrokerKind::Ibkr, Environment::Practice);
    plain.broker_account_id = Some(ACCOUNT.into());
    plain.rest_url = Some("http://127.0.0.1:9/v1/api".into());
    let plain = bd.account_add(plain).await.unwrap();
    let e = bd
        .account_trust_certificate(&plain.id, &second.fingerprint())
        .await
        .unwrap_err();
    assert_eq!(e.code, Code::BrokerUnsupported, "{e}");
    bd.close().await;
}

/// The order channel's state of an account in the running app.
fn order_state(rt: &Runtime, account_id: &str) -> Option<ConnState> {
    rt.connections()
        .into_iter()
        .find(|c| c.account_id == account_id)?
        .channels
        .into_iter()
        .find(|c| c.channel == Channel::Order)
        .map(|c| c.state)
}

async fn wait_until(what: &str, mut f: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !f().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The app's own connection: the first connect pins the gateway's certificate (stored with
/// the account), a gateway back with a new certificate fails the connection with
/// `certificate_changed` (recorded, nothing sent), and trusting the new certificate makes the
/// runtime reconnect with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apps_connection_pins_on_first_connect_and_reconnects_once_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(
        Brokerdesk::open(dir.path(), Arc::new(MemoryKeyStore::new()))
            .await
            .unwrap(),
    );
    app.init(None).await.unwrap();
    let options = crate::runtime::fast_options(Duration::from_millis(100));
    let rt = Runtime::start(app.clone(), options).await;
    let (first, server, input) = ib_on_a_tls_gateway().await;
    let id = app.account_add(input).await.unwrap().id;

    wait_until("connected and pinned", async || {
        let pinned = app.account_get(&id).await.unwrap().tls_pin;
        order_state(&rt, &id) == Some(ConnState::Connected)
            && pinned.is_some_and(|p| p.sha256 == first.fingerprint())
    })
    .await;

    let second = SimCert::generate().unwrap();
    server.replace_certificate(&second).unwrap();
    let before = requests(&server);
    rt.reconnect(&id).unwrap();
    wait_until("refused with certificate_changed", async || {
        matches!(
            order_state(&rt, &id),
            Some(ConnState::Failed {
                code: Code::CertificateChanged,
                ..
            })
        )
    })
    .await;
    wait_until("the refused certificate recorded", async || {
        let pin = app.account_get(&id).await.unwrap().tls_pin.unwrap();
        pin.refused_sha256.as_deref() == Some(second.fingerprint().as_str())
    })
    .await;
    assert_eq!(
        requests(&server),
        before,
        "a request reached the new certificate"
    );

    app.account_trust_certificate(&id, &second.fingerprint())
        .await
        .unwrap();
    wait_until("reconnected with the trusted certificate", async || {
        order_state(&rt, &id) == Some(ConnState::Connected)
    })
    .await;
    assert!(requests(&server) > before);
    rt.shutdown().await;
    app.close().await;
}
