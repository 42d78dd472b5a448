//! No credential, token or session id ever reaches a log line: every log line of a busy
//! run, at the most verbose level the app allows (`BROKERDESK_LOG=trace`; crates that log
//! wire bytes are capped at info, see `logging::WIRE_CRATES`), is captured and searched
//! for the secrets. The run
//! connects accounts of five brokers' simulators with good and refused credentials, streams
//! prices, cuts streams, expires sessions and takes a simulator down, so the error paths log.
//! Its own process (a test binary of its own), because the log subscriber is global.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::ConnectorConfig;
use brokerdesk_core::connection::manager::{ConnectionManager, ManagerOptions};
use brokerdesk_core::connection::Backoff;
use brokerdesk_core::Secret;
use brokerdesk_sim::{alpaca, ibkr, oanda, tastytrade, tradier, Faults, SimServer};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn cfg(
    broker: BrokerKind,
    rest: &str,
    stream: &str,
    account: Option<&str>,
    key: Option<&str>,
    secret: Option<&str>,
) -> ConnectorConfig {
    let mut c = ConnectorConfig::new(
        broker,
        Environment::Practice,
        account.map(str::to_string),
        Some(rest),
        Some(stream),
    )
    .unwrap()
    .with_credentials(key.map(Secret::new), secret.map(Secret::new));
    c.stream_heartbeat = Some(Duration::from_millis(200));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_any_log_line() {
    let capture = Capture::default();
    let sink = capture.clone();
    // The most verbose logging a user can ask for, trying to reopen the wire crates too.
    use tracing_subscriber::util::SubscriberInitExt;
    brokerdesk_core::logging::subscriber(
        "trace,tungstenite::protocol=trace,hyper::proto=trace,reqwest=trace",
        move || sink.clone(),
    )
    .init();

    let wrong = "wrong-secret-token-0123456789abcdef";
    let mut secrets: Vec<String> = vec![wrong.to_string()];

    let f = Faults::new();
    let oanda_state = Arc::new(
        oanda::SimState::demo(f.clone())
            .with_intervals(Duration::from_millis(20), Duration::from_millis(100)),
    );
    let oanda_sim = SimServer::start(oanda::router(oanda_state), f, 0)
        .await
        .unwrap();
    secrets.push(oanda::DEMO_TOKEN.into());

    let f = Faults::new();
    let alpaca_state = alpaca::SimState::demo(f.clone());
    alpaca_state.set_stream(alpaca::StreamSettings {
        interval: Duration::from_millis(20),
        ..alpaca::StreamSettings::default()
    });
    let alpaca_sim = SimServer::start(alpaca::router(alpaca_state), f, 0)
        .await
        .unwrap();
    secrets.extend([
        alpaca::DEMO_KEY.to_string(),
        alpaca::DEMO_SECRET.to_string(),
    ]);

    let f = Faults::new();
    let tradier_state = tradier::SimState::demo(f.clone());
    let tradier_sim = SimServer::start(tradier::router(tradier_state), f, 0)
        .await
        .unwrap();
    secrets.push(tradier::DEMO_TOKEN.into());

    let f = Faults::new();
    let tasty_state = tastytrade::SimState::demo(f.clone());
    let tasty_sim = SimServer::start(tastytrade::router(tasty_state), f, 0)
        .await
        .unwrap();
    secrets.extend([
        tastytrade::DEMO_REFRESH_TOKEN.to_string(),
        tastytrade::DEMO_CLIENT_SECRET.to_string(),
    ]);

    let f = Faults::new();
    let ibkr_state = ibkr::SimState::demo(f.clone());
    let ibkr_sim = SimServer::start(ibkr::router(ibkr_state.clone()), f, 0)
        .await
        .unwrap();

    let options = ManagerOptions {
        backoff: Backoff {
            base: Duration::from_millis(20),
            cap: Duration::from_millis(200),
        },
        keepalive: Duration::from_millis(200),
        price_heartbeat: Some(Duration::from_millis(200)),
        keep_events: 100,
        request_timeout: None,
    };
    let m = ConnectionManager::new(options, None);
    let (o, a, t, tt, ib) = (
        oanda_sim.url(),
        alpaca_sim.url(),
        tradier_sim.url(),
        tasty_sim.url(),
        ibkr_sim.url(),
    );
    let accounts = [
        (
            "o1",
            cfg(
                BrokerKind::Oanda,
                &o,
                &o,
                Some(oanda::DEMO_ACCOUNTS[0]),
                Some(oanda::DEMO_TOKEN),
                None,
            ),
            vec!["EUR_USD"],
        ),
        (
            "o2",
            cfg(
                BrokerKind::Oanda,
                &o,
                &o,
                Some(oanda::DEMO_ACCOUNTS[0]),
                Some(wrong),
                None,
            ),
            vec!["EUR_USD"],
        ),
        (
            "a1",
            cfg(
                BrokerKind::Alpaca,
                &a,
                &format!("{}/v2/iex", alpaca_sim.ws_url()),
                None,
                Some(alpaca::DEMO_KEY),
                Some(alpaca::DEMO_SECRET),
            ),
            vec!["AAPL"],
        ),
        (
            "a2",
            cfg(
                BrokerKind::Alpaca,
                &a,
                &format!("{}/v2/iex", alpaca_sim.ws_url()),
                None,
                Some(wrong),
                Some(wrong),
            ),
            vec!["AAPL"],
        ),
        (
            "t1",
            cfg(
                BrokerKind::Tradier,
                &format!("{t}/v1"),
                &format!("{}/v1/markets/events", tradier_sim.ws_url()),
                Some(tradier::DEMO_ACCOUNT),
                Some(tradier::DEMO_TOKEN),
                None,
            ),
            vec!["SPY"],
        ),
        (
            "t2",
            cfg(
                BrokerKind::Tradier,
                &format!("{t}/v1"),
                &format!("{}/v1/markets/events", tradier_sim.ws_url()),
                Some(tradier::DEMO_ACCOUNT),
                Some(wrong),
                None,
            ),
            vec!["SPY"],
        ),
        (
            "tt1",
            cfg(
                BrokerKind::Tastytrade,
                &tt,
                "",
                None,
                Some(tastytrade::DEMO_REFRESH_TOKEN),
                Some(tastytrade::DEMO_CLIENT_SECRET),
            ),
            vec!["AAPL"],
        ),
        (
            "tt2",
            cfg(
                BrokerKind::Tastytrade,
                &tt,
                "",
                None,
                Some(wrong),
                Some(wrong),
            ),
            vec!["AAPL"],
        ),
        (
            "ib1",
            cfg(
                BrokerKind::Ibkr,
                &format!("{ib}/v1/api"),
                "",
                Some(ibkr::DEMO_ACCOUNT),
                None,
                None,
            ),
            vec!["AAPL"],
        ),
    ];
    for (id, c, instruments) in accounts {
        let list: Vec<String> = instruments.iter().map(|s| s.to_string()).collect();
        m.add_account(id, id, c, &list).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The error paths: streams cut, sessions expired, a simulator down for a while.
    for sim in [&oanda_sim, &alpaca_sim, &tradier_sim, &tasty_sim, &ibkr_sim] {
        sim.faults().cut_streams();
        sim.faults().expire_sessions();
    }
    alpaca_sim.faults().go_down_for(Duration::from_millis(600));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    m.reconnect_all();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let snapshot = serde_json::to_string(&m.snapshot()).unwrap();
    m.shutdown().await;

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let lines = logs.lines().count();
    assert!(
        lines > 100,
        "the run should have logged plenty: {lines} lines"
    );
    assert!(
        logs.contains("broker_auth") || logs.contains("refused"),
        "the refusals were logged"
    );
    for s in &secrets {
        let leaks: Vec<&str> = logs
            .lines()
            .filter(|l| l.contains(s.as_str()))
            .take(3)
            .collect();
        assert!(leaks.is_empty(), "a secret reached the logs: {leaks:#?}");
        assert!(
            !snapshot.contains(s.as_str()),
            "a secret reached the snapshot"
        );
    }
    let _ = ibkr_state;
}
