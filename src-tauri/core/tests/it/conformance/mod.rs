//! The connector conformance suite: every failure class the connection manager branches on,
//! run against every broker's connector and simulator. A broker is one row of [`BROKERS`]
//! (how to start its simulator with demo credentials, build its connector with short stream
//! intervals, which secrets must never show, what an expired session does); adding a row
//! gets a new broker every test below. Each test loops over the table and names the broker
//! in its failure message.
//!
//! Classes (in `rest.rs` and `stream.rs`): refused credentials (401, never retried), 429 with
//! `Retry-After`, 5xx, a garbage body, an answer slower than the timeout, a server that is
//! down or gone, a bare 404 from a wrong REST URL, an expired session, a cut stream, a
//! half-open stream (found by the stream's silence limit), and no secret in any error's
//! `Display`/`Debug` nor in the connector's `Debug`. Broker-specific behaviour (each broker's
//! own refusals, its session recoveries, its wire details) stays in the `broker_*` modules.

mod rest;
mod stream;

use std::time::Duration;

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::alpaca::{Alpaca, AlpacaStreamOptions};
use brokerdesk_core::brokers::ibkr::{Ibkr, StreamOptions};
use brokerdesk_core::brokers::oanda::Oanda;
use brokerdesk_core::brokers::tastytrade::{DxLinkOptions, Tastytrade};
use brokerdesk_core::brokers::tradier::Tradier;
use brokerdesk_core::brokers::{Broker, BrokerError, ConnectorConfig};
use brokerdesk_core::Secret;
use brokerdesk_sim::{alpaca, ibkr, oanda, tastytrade, tradier, Faults, SimServer};
use futures_util::future::BoxFuture;

/// A connector the suite can call and print.
pub trait Connector: Broker + std::fmt::Debug {}
impl<T: Broker + std::fmt::Debug> Connector for T {}

/// What an expired session (the simulator's `expire_sessions` switch) does.
pub enum Session {
    /// The broker has no session: its credentials are the session.
    None,
    /// The connector renews it by itself and the call succeeds.
    Renewed,
    /// The call fails with this auth error, never retried, until the user logs in again.
    Reported(Says),
}

/// What an error message must say.
#[derive(Clone, Copy, Debug)]
pub enum Says {
    Exactly(&'static str),
    Containing(&'static str),
}

impl Says {
    pub fn matches(self, message: &str) -> bool {
        match self {
            Says::Exactly(want) => message == want,
            Says::Containing(part) => message.contains(part),
        }
    }
}

/// Edits a config in place (wrong credentials, a wrong URL).
pub type Edit = fn(&mut ConnectorConfig);

/// One broker of the suite.
pub struct Entry {
    pub kind: BrokerKind,
    /// Starts the simulator (fast streams) with its demo credentials.
    pub start: fn() -> BoxFuture<'static, Running>,
    /// Builds the connector for a config, with short stream intervals.
    pub connect: fn(ConnectorConfig) -> Box<dyn Connector>,
    /// The message of the simulator's refusal of the demo credentials (`RefuseAuth`).
    pub refused: Says,
    /// Replaces the credentials with wrong ones, and the broker's message for them.
    pub wrong_credentials: Option<(Edit, Says)>,
    /// Points the config at a wrong REST URL (every call 404s without the broker's error
    /// body), for brokers whose connector tells that apart from "no such order".
    pub wrong_rest_url: Option<Edit>,
    pub session: Session,
    /// An instrument the simulator streams.
    pub instrument: &'static str,
}

/// A running simulator and what the suite needs to test against it.
pub struct Running {
    pub server: SimServer,
    /// The demo credentials, endpoints on the simulator, a 10 s timeout.
    pub cfg: ConnectorConfig,
    /// Every credential, token and session id the simulator knows now.
    secrets: Box<dyn Fn() -> Vec<String> + Send + Sync>,
    /// The user logs in again (after an expired session).
    log_in_again: Box<dyn Fn() + Send + Sync>,
}

impl Running {
    fn new(server: SimServer, cfg: ConnectorConfig) -> Self {
        Self {
            server,
            cfg,
            secrets: Box::new(Vec::new),
            log_in_again: Box::new(|| {}),
        }
    }

    fn secrets(mut self, f: impl Fn() -> Vec<String> + Send + Sync + 'static) -> Self {
        self.secrets = Box::new(f);
        self
    }

    fn log_in_again(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.log_in_again = Box::new(f);
        self
    }

    /// Fails if a secret shows in `text`.
    pub fn assert_clean_text(&self, broker: BrokerKind, text: &str) {
        for s in (self.secrets)() {
            assert!(
                s.is_empty() || !text.contains(&s),
                "{broker}: secret leaked: {text}"
            );
        }
    }

    /// The error of `r`, checked for every secret in `Display` and `Debug`.
    pub fn err<T>(&self, broker: BrokerKind, r: Result<T, BrokerError>) -> BrokerError {
        let Err(e) = r else {
            panic!("{broker}: expected an error")
        };
        self.assert_clean_text(broker, &format!("{e} {e:?}"));
        e
    }
}

/// Every broker. A new connector adds its row here.
pub const BROKERS: &[Entry] = &[
    Entry {
        kind: BrokerKind::Oanda,
        start: || Box::pin(start_oanda()),
        connect: |cfg| Box::new(Oanda::new(cfg).expect("an OANDA connector")),
        refused: Says::Exactly("Insufficient authorization to perform request."),
        wrong_credentials: Some((
            |cfg| cfg.api_key = Some(Secret::new("wrong-oanda-token-fedcba9876543210")),
            Says::Exactly("Insufficient authorization to perform request."),
        )),
        // OANDA's connector reads any 404 as "not found" (no bare-404 guard yet).
        wrong_rest_url: None,
        session: Session::None,
        instrument: "EUR_USD",
    },
    Entry {
        kind: BrokerKind::Alpaca,
        start: || Box::pin(start_alpaca()),
        connect: |cfg| {
            let options = AlpacaStreamOptions {
                connect_timeout: Duration::from_secs(3),
                ping_every: Duration::from_millis(150),
                ..AlpacaStreamOptions::default()
            };
            let alpaca = Alpaca::new(cfg).expect("an Alpaca connector");
            Box::new(alpaca.with_stream_options(options))
        },
        refused: Says::Exactly("unauthorized."),
        wrong_credentials: Some((
            |cfg| cfg.api_secret = Some(Secret::new("not-the-secret")),
            Says::Exactly("unauthorized."),
        )),
        wrong_rest_url: Some(|cfg| cfg.rest_url = format!("{}/wrong-prefix", cfg.rest_url)),
        session: Session::None,
        instrument: "AAPL",
    },
    Entry {
        kind: BrokerKind::Tradier,
        start: || Box::pin(start_tradier()),
        connect: |cfg| {
            let tradier = Tradier::new(cfg).expect("a Tradier connector");
            Box::new(tradier.with_stream_ping(Duration::from_millis(150)))
        },
        refused: Says::Exactly("Invalid Access Token"),
        wrong_credentials: Some((
            |cfg| cfg.api_key = Some(Secret::new("not-the-token")),
            Says::Exactly("Invalid Access Token"),
        )),
        // Without `/v1`.
        wrong_rest_url: Some(|cfg| {
            cfg.rest_url = cfg.rest_url.trim_end_matches("/v1").to_string();
        }),
        session: Session::Reported(Says::Exactly("Access Token expired")),
        instrument: "SPY",
    },
    Entry {
        kind: BrokerKind::Tastytrade,
        start: || Box::pin(start_tastytrade()),
        connect: |cfg| {
            let options = DxLinkOptions {
                keepalive_timeout: Duration::from_millis(400),
                connect_timeout: Duration::from_secs(3),
                ..DxLinkOptions::default()
            };
            let tt = Tastytrade::new(cfg).expect("a Tastytrade connector");
            Box::new(tt.with_stream_options(options))
        },
        refused: Says::Exactly("Unauthorized"),
        wrong_credentials: Some((
            |cfg| cfg.api_secret = Some(Secret::new("not-the-secret")),
            Says::Containing("invalid_grant"),
        )),
        wrong_rest_url: Some(|cfg| cfg.rest_url = format!("{}/wrong-prefix", cfg.rest_url)),
        session: Session::Renewed,
        instrument: "AAPL",
    },
    Entry {
        kind: BrokerKind::Ibkr,
        start: || Box::pin(start_ibkr()),
        connect: |cfg| {
            let options = StreamOptions {
                ping_every: Duration::from_millis(150),
                tic_every: Duration::from_millis(100),
                handshake_timeout: Duration::from_secs(2),
            };
            let ibkr = Ibkr::new(cfg).expect("an IBKR connector");
            Box::new(ibkr.with_stream_options(options))
        },
        refused: Says::Containing("Client Portal gateway"),
        // Gateway mode stores no credentials: the login is at the gateway.
        wrong_credentials: None,
        // Without `/v1/api`.
        wrong_rest_url: Some(|cfg| {
            cfg.rest_url = cfg.rest_url.trim_end_matches("/v1/api").to_string();
        }),
        session: Session::Reported(Says::Containing("Client Portal gateway")),
        instrument: "AAPL",
    },
];

fn config(kind: BrokerKind, rest: &str, stream: &str) -> ConnectorConfig {
    ConnectorConfig::new(kind, Environment::Practice, None, Some(rest), Some(stream))
        .expect("a config")
}

/// Serves a simulator's router on a free port.
macro_rules! serve {
    ($router:expr, $faults:expr) => {
        SimServer::start($router, $faults, 0)
            .await
            .expect("the simulator starts")
    };
}

async fn start_oanda() -> Running {
    let faults = Faults::new();
    let state = oanda::SimState::demo(faults.clone())
        .with_intervals(Duration::from_millis(50), Duration::from_millis(100));
    let server = serve!(oanda::router(state), faults);
    let mut cfg = config(BrokerKind::Oanda, &server.url(), &server.url());
    cfg.account_id = Some(oanda::DEMO_ACCOUNTS[0].into());
    cfg.api_key = Some(Secret::new(oanda::DEMO_TOKEN));
    cfg.stream_heartbeat = Some(Duration::from_millis(150));
    Running::new(server, cfg).secrets(|| vec![oanda::DEMO_TOKEN.into(), "wrong-oanda-token".into()])
}

async fn start_alpaca() -> Running {
    let faults = Faults::new();
    let state = alpaca::SimState::demo(faults.clone());
    state.set_stream(alpaca::StreamSettings {
        batch: 4,
        interval: Duration::from_millis(10),
        ..alpaca::StreamSettings::default()
    });
    let server = serve!(alpaca::router(state), faults);
    let stream = format!("{}/v2/iex", server.ws_url());
    let cfg = config(BrokerKind::Alpaca, &server.url(), &stream).with_credentials(
        Some(Secret::new(alpaca::DEMO_KEY)),
        Some(Secret::new(alpaca::DEMO_SECRET)),
    );
    Running::new(server, cfg).secrets(|| {
        let wrong = "not-the-secret".to_string();
        vec![alpaca::DEMO_KEY.into(), alpaca::DEMO_SECRET.into(), wrong]
    })
}

async fn start_tradier() -> Running {
    let faults = Faults::new();
    let state = tradier::SimState::demo(faults.clone());
    state.set_stream(tradier::StreamSettings {
        interval: Duration::from_millis(15),
        ..tradier::StreamSettings::default()
    });
    let server = serve!(tradier::router(state.clone()), faults);
    let rest = format!("{}/v1", server.url());
    let stream = format!("{}/v1/markets/events", server.ws_url());
    let mut cfg = config(BrokerKind::Tradier, &rest, &stream)
        .with_credentials(Some(Secret::new(tradier::DEMO_TOKEN)), None);
    cfg.account_id = Some(tradier::DEMO_ACCOUNT.into());
    let ids = state.clone();
    Running::new(server, cfg)
        .secrets(move || {
            let mut all = ids.stream_session_ids();
            all.extend([tradier::DEMO_TOKEN.into(), "not-the-token".into()]);
            all
        })
        .log_in_again(move || state.renew_token())
}

async fn start_tastytrade() -> Running {
    let faults = Faults::new();
    let state = tastytrade::SimState::demo(faults.clone());
    state.set_dxlink(tastytrade::DxLinkSettings {
        interval: Duration::from_millis(20),
        keepalive_timeout: Duration::from_secs(2),
        keepalive_interval: Duration::from_millis(100),
        ..tastytrade::DxLinkSettings::default()
    });
    let server = serve!(tastytrade::router(state), faults);
    let cfg = config(BrokerKind::Tastytrade, &server.url(), &server.ws_url()).with_credentials(
        Some(Secret::new(tastytrade::DEMO_REFRESH_TOKEN)),
        Some(Secret::new(tastytrade::DEMO_CLIENT_SECRET)),
    );
    Running::new(server, cfg).secrets(|| {
        // Access tokens start `tt-access-`, quote tokens `dxlink-`.
        [
            tastytrade::DEMO_REFRESH_TOKEN,
            tastytrade::DEMO_CLIENT_SECRET,
            "not-the-secret",
            "tt-access-",
            "dxlink-",
        ]
        .map(String::from)
        .to_vec()
    })
}

async fn start_ibkr() -> Running {
    let faults = Faults::new();
    let state = ibkr::SimState::new(faults.clone(), ibkr::DEMO_ACCOUNT);
    state.set_settings(ibkr::Settings {
        heartbeat: Duration::from_millis(50),
        data_interval: Duration::from_millis(20),
        ..ibkr::Settings::default()
    });
    let server = serve!(ibkr::router(state.clone()), faults);
    let rest = format!("{}/v1/api", server.url());
    let ws = format!("{}/v1/api/ws", server.ws_url());
    let mut cfg = config(BrokerKind::Ibkr, &rest, &ws);
    cfg.account_id = Some(ibkr::DEMO_ACCOUNT.into());
    let sessions = state.clone();
    Running::new(server, cfg)
        .secrets(move || sessions.session().into_iter().collect())
        .log_in_again(move || state.login())
}

/// Starts `entry`'s simulator and returns it with a connector built from its demo config.
pub async fn start(entry: &Entry) -> (Running, Box<dyn Connector>) {
    let running = (entry.start)().await;
    let connector = (entry.connect)(running.cfg.clone());
    (running, connector)
}
