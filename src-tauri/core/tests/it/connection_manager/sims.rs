//! Simulators that can be killed and brought back on the same port, and the configs of
//! accounts on them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::ConnectorConfig;
use brokerdesk_core::connection::manager::{Channel, ConnectionManager};
use brokerdesk_core::connection::ConnState;
use brokerdesk_core::Secret;
use brokerdesk_sim::{alpaca, oanda, tradier, Faults, SimServer};

pub const OANDA_TOKEN: &str = "cm-oanda-token-5f1e2d3c4b5a69788796";
pub const ALPACA_KEY: &str = "PKCMKEY0011223344556";
pub const ALPACA_SECRET: &str = "cm-alpaca-secret-zyxwvutsrqponmlkjihgf";
pub const TRADIER_TOKEN: &str = "cm-tradier-token-a1b2c3d4e5f6a7b8c9d0";
pub const WRONG_TOKEN: &str = "cm-wrong-token-00ff00ff00ff00ff00ff";
pub const SECRETS: [&str; 5] = [
    OANDA_TOKEN,
    ALPACA_KEY,
    ALPACA_SECRET,
    TRADIER_TOKEN,
    WRONG_TOKEN,
];

pub const OANDA_ACCOUNTS: [&str; 4] = [
    "101-004-7654321-001",
    "101-004-7654321-002",
    "101-004-7654321-003",
    "101-004-7654321-004",
];
pub const TRADIER_ACCOUNTS: [&str; 3] = ["VA10000001", "VA10000002", "VA10000003"];

/// What each broker's accounts stream in these tests.
pub fn instruments(kind: Kind) -> Vec<String> {
    let symbol = match kind {
        Kind::Oanda => "EUR_USD",
        Kind::Alpaca => "AAPL",
        Kind::Tradier => "SPY",
    };
    vec![symbol.to_string()]
}

/// The OANDA simulator's heartbeat interval in these tests.
pub const HEARTBEAT: Duration = Duration::from_millis(100);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Oanda,
    Alpaca,
    Tradier,
}

enum State {
    Oanda(Arc<oanda::SimState>),
    Alpaca(alpaca::SimState),
    Tradier(tradier::SimState),
}

/// A simulator that can be stopped and restarted on its port.
pub struct Sim {
    pub kind: Kind,
    pub faults: Arc<Faults>,
    pub port: u16,
    state: State,
    pub server: Option<SimServer>,
}

impl Sim {
    pub async fn start(kind: Kind) -> Sim {
        let faults = Faults::new();
        let state = match kind {
            Kind::Oanda => State::Oanda(Arc::new(
                oanda::SimState::new(faults.clone(), OANDA_TOKEN, &OANDA_ACCOUNTS)
                    .with_intervals(Duration::from_millis(50), HEARTBEAT),
            )),
            Kind::Alpaca => {
                let s = alpaca::SimState::new(faults.clone(), ALPACA_KEY, ALPACA_SECRET);
                // Three accounts share one key here; Alpaca allows one stream per key.
                s.set_stream(alpaca::StreamSettings {
                    connection_limit: 10,
                    interval: Duration::from_millis(50),
                    ..alpaca::StreamSettings::default()
                });
                State::Alpaca(s)
            }
            Kind::Tradier => {
                let accounts: Vec<(&str, tradier::AccountType)> = TRADIER_ACCOUNTS
                    .iter()
                    .map(|a| (*a, tradier::AccountType::Margin))
                    .collect();
                State::Tradier(tradier::SimState::new(
                    faults.clone(),
                    TRADIER_TOKEN,
                    &accounts,
                ))
            }
        };
        let mut sim = Sim {
            kind,
            faults,
            port: 0,
            state,
            server: None,
        };
        let server = sim.serve(0).await.unwrap();
        sim.port = server.addr().port();
        sim.server = Some(server);
        sim
    }

    async fn serve(&self, port: u16) -> std::io::Result<SimServer> {
        let f = self.faults.clone();
        match &self.state {
            State::Oanda(s) => SimServer::start(oanda::router(s.clone()), f, port).await,
            State::Alpaca(s) => SimServer::start(alpaca::router(s.clone()), f, port).await,
            State::Tradier(s) => SimServer::start(tradier::router(s.clone()), f, port).await,
        }
    }

    pub async fn kill(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }

    /// Serves again on the same port (retrying while the OS still holds it).
    pub async fn revive(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.serve(self.port).await {
                Ok(s) => {
                    self.server = Some(s);
                    return;
                }
                Err(e) if Instant::now() < deadline => {
                    eprintln!("port {} not free yet: {e}", self.port);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot serve on port {} again: {e}", self.port),
            }
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The config of the sim's `i`-th account, with the right credentials or a wrong token.
    pub fn config(&self, i: usize, wrong: bool) -> ConnectorConfig {
        let url = self.url();
        let ws = format!("ws://127.0.0.1:{}", self.port);
        let (broker, account, rest, stream, key, secret) = match self.kind {
            Kind::Oanda => (
                BrokerKind::Oanda,
                Some(OANDA_ACCOUNTS[i]),
                url.clone(),
                url,
                OANDA_TOKEN,
                None,
            ),
            Kind::Alpaca => (
                BrokerKind::Alpaca,
                None,
                url,
                format!("{ws}/v2/iex"),
                ALPACA_KEY,
                Some(ALPACA_SECRET),
            ),
            Kind::Tradier => (
                BrokerKind::Tradier,
                Some(TRADIER_ACCOUNTS[i]),
                format!("{url}/v1"),
                format!("{ws}/v1/markets/events"),
                TRADIER_TOKEN,
                None,
            ),
        };
        let key = if wrong { WRONG_TOKEN } else { key };
        let mut cfg = ConnectorConfig::new(
            broker,
            Environment::Practice,
            account.map(str::to_string),
            Some(&rest),
            Some(&stream),
        )
        .unwrap()
        .with_credentials(Some(Secret::new(key)), secret.map(Secret::new));
        cfg.timeout = Duration::from_secs(5);
        cfg
    }
}

/// Polls `cond` until it holds, failing after `limit`. Returns the time it took.
pub async fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    loop {
        if cond() {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub fn is(m: &ConnectionManager, id: &str, ch: Channel, f: fn(&ConnState) -> bool) -> bool {
    m.state(id, ch).as_ref().is_some_and(f)
}

pub fn connected(s: &ConnState) -> bool {
    *s == ConnState::Connected
}

pub fn reconnecting(s: &ConnState) -> bool {
    matches!(s, ConnState::Reconnecting { .. })
}

/// Fails if any test credential appears in `text`.
pub fn assert_no_secret(text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "a credential leaked: {text}");
    }
}
