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
//!
//! Instrument search (in `search.rs`) runs the same way, with what each broker's simulator
//! lists as data in the row's [`Search`].
//!
//! The REST calls on the success path (in `orders.rs`) run the same way: verify and the
//! account list, a market order filled and its position, a resting limit order cancelled,
//! with what each broker answers (its account, its status words, its refusals) as data in
//! the row's [`Orders`]. The order fault tests (`orders_faults.rs`) start their simulators
//! from this table too. Changing a working order (in `modify.rs`) runs the same way, with
//! what each broker does on modify as data in that module's own table.

mod events;
mod modify;
mod orders;
mod rest;
mod search;
mod stream;

use std::time::Duration;

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::alpaca::{Alpaca, AlpacaStreamOptions};
use brokerdesk_core::brokers::ibkr::{Ibkr, StreamOptions};
use brokerdesk_core::brokers::oanda::Oanda;
use brokerdesk_core::brokers::tastytrade::{DxLinkOptions, Tastytrade};
use brokerdesk_core::brokers::tradier::Tradier;
use brokerdesk_core::brokers::{Broker, BrokerError, ConnectorConfig, OrderStatus};
use brokerdesk_core::{Decimal, Secret};
use brokerdesk_sim::{alpaca, ibkr, oanda, tastytrade, tradier, Fault, Faults, SimServer};
use futures_util::future::BoxFuture;
use rust_decimal_macros::dec;

use crate::common::sim_price;

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
    /// What the order tests (`orders.rs`) expect of this broker.
    pub orders: Orders,
    /// What the search tests (`search.rs`) expect of this broker.
    pub search: Search,
}

/// What a broker's instrument search finds on its simulator.
pub struct Search {
    /// Queries and what each must find; the first one is also asked with refused
    /// credentials.
    pub finds: &'static [Find],
    /// Queries that find nothing.
    pub nothing: &'static [&'static str],
}

/// A query and what it must find.
pub struct Find {
    pub query: &'static str,
    pub symbols: Symbols,
    /// Hits checked further, as (index, name, kind); `None` for not checked.
    pub hits: &'static [(usize, Option<&'static str>, Option<&'static str>)],
}

/// The symbols a query must find.
#[derive(Clone, Copy, Debug)]
pub enum Symbols {
    /// These, in this order, and no others.
    Exactly(&'static [&'static str]),
    /// This one first.
    First(&'static str),
    /// At least this many.
    AtLeast(usize),
    /// Some but at most `at_most`, the first `leading` of them starting with `prefix`.
    Capped {
        at_most: usize,
        prefix: &'static str,
        leading: usize,
    },
}

/// A broker's account and orders on its simulator, as the order tests expect them.
pub struct Orders {
    /// The account the demo config selects, as `verify` reads it.
    pub account: Account,
    /// Every account the demo credentials reach, as (id, label), in the broker's order.
    pub accounts: &'static [(&'static str, Option<&'static str>)],
    /// The instrument the order tests trade.
    pub symbol: &'static str,
    /// Where buys fill when the simulator moves the price by itself ([`Running::set_price`]
    /// is `None`); with a price set, buys fill at the ask and sells at the bid.
    pub fills_within: Option<(Decimal, Decimal)>,
    /// The resting limit order: its quantity and a buy price far below the market.
    pub resting: (Decimal, Decimal),
    /// How much buying power the resting buy holds while it rests.
    pub holds: Decimal,
    /// `broker_status` of a filled, a resting and a cancelled order.
    pub filled: &'static str,
    pub open: &'static str,
    pub cancelled: &'static str,
    /// The shape of the broker's order ids.
    pub ids: Ids,
    /// Whether `get_order` reads the client order id back (IBKR's status endpoint has none;
    /// the lookup by client id and the open orders do).
    pub get_order_has_client_id: bool,
    /// How far a position's average price may be from the fill price, `None` for not at all
    /// (Tradier's is a cost divided by a quantity).
    pub avg_price_within: Option<Decimal>,
    /// Whether a fill is paid from the balance (not so on margin, as at OANDA).
    pub pays_from_balance: bool,
    /// Whether positions carry their unrealized P/L.
    pub unrealized_pl: bool,
    /// An order id the broker never issued.
    pub missing_id: &'static str,
    /// An id that would change the request path, refused as not found.
    pub path_id: Option<&'static str>,
    /// Whether an error is the broker's refusal to cancel an order that is final (cancelled,
    /// or filled: the status given).
    pub cancel_final: fn(&BrokerError, OrderStatus) -> bool,
}

/// What `verify` reads of the selected account.
pub struct Account {
    pub id: &'static str,
    pub last4: &'static str,
    pub kind: &'static str,
    pub currency: &'static str,
    /// Balance, equity and buying power.
    pub money: (Decimal, Decimal, Decimal),
}

/// The shape of a broker's order ids.
#[derive(Clone, Copy, Debug)]
pub enum Ids {
    /// A UUID (Alpaca).
    Uuid,
    /// A decimal number.
    Number,
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
    /// Sets an instrument's price; `None` where the simulator moves its prices by itself.
    pub set_price: Option<SetPrice>,
    /// Gives the account plenty of cash (for the order soak in `orders_faults.rs`).
    pub fund: Box<dyn Fn() + Send + Sync>,
    /// Fills an open order (by client order id) at its limit, as a fill racing a cancel;
    /// `None` where the simulator cannot.
    pub fill_open: Option<FillOpen>,
}

/// Fills an open order by its client order id; false when there is none.
pub type FillOpen = Box<dyn Fn(&str) -> bool + Send + Sync>;

/// Sets an instrument's price and returns the simulator's (bid, ask) around it.
pub type SetPrice = Box<dyn Fn(&str, f64) -> (Decimal, Decimal) + Send + Sync>;

impl Running {
    fn new(server: SimServer, cfg: ConnectorConfig) -> Self {
        Self {
            server,
            cfg,
            secrets: Box::new(Vec::new),
            log_in_again: Box::new(|| {}),
            set_price: None,
            fund: Box::new(|| {}),
            fill_open: None,
        }
    }

    fn fund(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.fund = Box::new(f);
        self
    }

    fn set_price(
        mut self,
        f: impl Fn(&str, f64) -> (Decimal, Decimal) + Send + Sync + 'static,
    ) -> Self {
        self.set_price = Some(Box::new(f));
        self
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
        orders: Orders {
            account: Account {
                id: oanda::DEMO_ACCOUNTS[0],
                last4: "-001",
                kind: "margin",
                currency: "USD",
                // Buying power: the free margin at 50:1.
                money: (dec!(100_000.0), dec!(100_000.0), dec!(5_000_000.0)),
            },
            accounts: &[
                (oanda::DEMO_ACCOUNTS[0], None),
                (oanda::DEMO_ACCOUNTS[1], None),
            ],
            symbol: "EUR_USD",
            fills_within: Some((dec!(1.0), dec!(1.2))),
            resting: (dec!(1000.0), dec!(0.5)),
            holds: dec!(0.0),
            filled: "FILLED",
            open: "PENDING",
            cancelled: "CANCELLED",
            ids: Ids::Number,
            get_order_has_client_id: true,
            avg_price_within: None,
            pays_from_balance: false,
            unrealized_pl: true,
            missing_id: "999999",
            // Sent escaped: the simulator refuses it as a bad order specifier (a 400).
            path_id: None,
            // A final order is no pending one.
            cancel_final: |e, _| matches!(e, BrokerError::NotFound(_)),
        },
        search: Search {
            finds: &[
                Find {
                    query: "eur",
                    symbols: Symbols::First("EUR_USD"),
                    hits: &[(0, Some("EUR/USD"), Some("currency"))],
                },
                Find {
                    query: "USD",
                    symbols: Symbols::AtLeast(5),
                    hits: &[],
                },
            ],
            nothing: &["zzz"],
        },
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
        orders: Orders {
            account: Account {
                id: "PA3SIM000042",
                last4: "0042",
                kind: "cash",
                currency: "USD",
                money: (dec!(100_000.0), dec!(100_000.0), dec!(100_000.0)),
            },
            accounts: &[("PA3SIM000042", Some("Alpaca paper"))],
            symbol: "AAPL",
            fills_within: None,
            // Fractional shares.
            resting: (dec!(2.5), dec!(150.0)),
            // 2.5 × 150.
            holds: dec!(375.0),
            filled: "filled",
            open: "new",
            cancelled: "canceled",
            ids: Ids::Uuid,
            get_order_has_client_id: true,
            avg_price_within: None,
            pays_from_balance: true,
            unrealized_pl: true,
            missing_id: "00000000-0000-4000-8000-000000000000",
            path_id: Some("../account"),
            // "not cancelable".
            cancel_final: |e, _| matches!(e, BrokerError::Rejected { status: 422, code, .. } if code == "42210000"),
        },
        search: Search {
            finds: &[
                // Symbol prefixes first, then names.
                Find {
                    query: "aa",
                    symbols: Symbols::Exactly(&["AAL", "AAP", "AAPL"]),
                    hits: &[(2, Some("Apple Inc. Common Stock"), Some("equity"))],
                },
                // The exact symbol first.
                Find {
                    query: " AAPL ",
                    symbols: Symbols::First("AAPL"),
                    hits: &[],
                },
                Find {
                    query: "alphabet",
                    symbols: Symbols::Exactly(&["GOOG", "GOOGL"]),
                    hits: &[],
                },
                // At most 20.
                Find {
                    query: "a",
                    symbols: Symbols::Capped {
                        at_most: 20,
                        prefix: "A",
                        leading: 5,
                    },
                    hits: &[],
                },
            ],
            // Inactive and crypto assets are not offered; nothing matches nothing.
            nothing: &["TWTR", "BTC", "  "],
        },
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
        orders: Orders {
            account: Account {
                id: tradier::DEMO_ACCOUNT,
                last4: "0042",
                kind: "margin",
                currency: "USD",
                money: (dec!(100_000.0), dec!(100_000.0), dec!(200_000.0)),
            },
            accounts: &[(tradier::DEMO_ACCOUNT, Some("Tradier margin"))],
            symbol: "AAPL",
            fills_within: None,
            resting: (dec!(3.0), dec!(150.0)),
            // 3 × 150, twice: a margin account's buying power is twice its cash.
            holds: dec!(900.0),
            filled: "filled",
            open: "open",
            cancelled: "canceled",
            ids: Ids::Number,
            get_order_has_client_id: true,
            avg_price_within: Some(dec!(0.000000001)),
            pays_from_balance: true,
            unrealized_pl: false,
            missing_id: "999999999",
            path_id: Some("../balances"),
            // "order already in finalized state: canceled" (or "filled").
            cancel_final: |e, status| {
                let state = match status {
                    OrderStatus::Cancelled => "finalized state: canceled",
                    _ => "finalized state: filled",
                };
                matches!(e, BrokerError::Rejected { code, message, .. }
                    if code == "order_finalized" && message.contains(state))
            },
        },
        search: Search {
            finds: &[
                // Lookup (symbols) first, then names ("SPDR…" contains "sp"), without
                // duplicates.
                Find {
                    query: "sp",
                    symbols: Symbols::Exactly(&["SPY", "SPX"]),
                    hits: &[
                        (0, Some("SPDR S&P 500 ETF Trust"), Some("etf")),
                        (1, None, Some("index")),
                    ],
                },
                // One result each: objects rather than arrays.
                Find {
                    query: " apple ",
                    symbols: Symbols::Exactly(&["AAPL"]),
                    hits: &[(0, None, Some("equity"))],
                },
                Find {
                    query: "msft",
                    symbols: Symbols::Exactly(&["MSFT"]),
                    hits: &[],
                },
            ],
            // None: `null`.
            nothing: &["zzzz", "  "],
        },
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
        orders: Orders {
            account: Account {
                id: tastytrade::DEMO_ACCOUNT,
                last4: "0001",
                kind: "Individual margin",
                currency: "USD",
                money: (dec!(100_000.0), dec!(100_000.0), dec!(100_000.0)),
            },
            accounts: &[(tastytrade::DEMO_ACCOUNT, Some("Individual"))],
            symbol: "AAPL",
            fills_within: None,
            resting: (dec!(3.0), dec!(150.0)),
            // 3 × 150.
            holds: dec!(450.0),
            filled: "Filled",
            open: "Live",
            cancelled: "Cancelled",
            ids: Ids::Number,
            get_order_has_client_id: true,
            avg_price_within: None,
            pays_from_balance: true,
            unrealized_pl: true,
            missing_id: "999999",
            path_id: Some("../positions"),
            cancel_final: |e, _| {
                matches!(e, BrokerError::Rejected { status: 422, code, .. }
                    if code == "validation_error")
            },
        },
        search: Search {
            finds: &[
                Find {
                    query: "aap",
                    symbols: Symbols::First("AAPL"),
                    hits: &[(0, Some("Apple Inc. - Common Stock"), None)],
                },
                // Descriptions match too.
                Find {
                    query: "Tesla",
                    symbols: Symbols::Exactly(&["TSLA"]),
                    hits: &[],
                },
                // A slash stays inside the one path segment.
                Find {
                    query: "/ES",
                    symbols: Symbols::First("/ES"),
                    hits: &[],
                },
            ],
            nothing: &["zzzzzz", "  "],
        },
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
        orders: Orders {
            account: Account {
                id: ibkr::DEMO_ACCOUNT,
                last4: "4567",
                kind: "DEMO",
                currency: "USD",
                money: (dec!(100_000.0), dec!(100_000.0), dec!(400_000.0)),
            },
            accounts: &[(ibkr::DEMO_ACCOUNT, Some("Brokerdesk Sim"))],
            symbol: "AAPL",
            fills_within: None,
            resting: (dec!(3.0), dec!(150.0)),
            holds: dec!(0.0),
            filled: "Filled",
            open: "Submitted",
            cancelled: "Cancelled",
            ids: Ids::Number,
            get_order_has_client_id: false,
            avg_price_within: None,
            pays_from_balance: true,
            unrealized_pl: true,
            missing_id: "999",
            path_id: Some("../tickle"),
            cancel_final: |e, _| {
                matches!(e, BrokerError::Rejected { message, .. }
                    if message.contains("cannot be cancelled"))
            },
        },
        search: Search {
            finds: &[
                // The secdef search's results.
                Find {
                    query: "aapl",
                    symbols: Symbols::Exactly(&["AAPL"]),
                    hits: &[(0, Some("APPLE INC"), Some("equity"))],
                },
                Find {
                    query: "A",
                    symbols: Symbols::Exactly(&["AAPL", "AMD"]),
                    hits: &[],
                },
            ],
            nothing: &["ZZZZ", "  "],
        },
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
    let state = std::sync::Arc::new(
        oanda::SimState::demo(faults.clone())
            .with_intervals(Duration::from_millis(50), Duration::from_millis(100)),
    );
    let server = serve!(oanda::router(state.clone()), faults);
    let mut cfg = config(BrokerKind::Oanda, &server.url(), &server.url());
    cfg.account_id = Some(oanda::DEMO_ACCOUNTS[0].into());
    cfg.api_key = Some(Secret::new(oanda::DEMO_TOKEN));
    cfg.stream_heartbeat = Some(Duration::from_millis(150));
    Running::new(server, cfg)
        .secrets(|| vec![oanda::DEMO_TOKEN.into(), "wrong-oanda-token".into()])
        .fund(move || {
            state.set_balance(oanda::DEMO_ACCOUNTS[0], 1e9);
        })
}

async fn start_alpaca() -> Running {
    let faults = Faults::new();
    let state = alpaca::SimState::demo(faults.clone());
    state.set_stream(alpaca::StreamSettings {
        batch: 4,
        interval: Duration::from_millis(10),
        ..alpaca::StreamSettings::default()
    });
    let server = serve!(alpaca::router(state.clone()), faults);
    let stream = format!("{}/v2/iex", server.ws_url());
    let cfg = config(BrokerKind::Alpaca, &server.url(), &stream).with_credentials(
        Some(Secret::new(alpaca::DEMO_KEY)),
        Some(Secret::new(alpaca::DEMO_SECRET)),
    );
    let funded = state.clone();
    let filler = state.clone();
    let mut running = Running::new(server, cfg)
        .secrets(|| {
            let wrong = "not-the-secret".to_string();
            vec![alpaca::DEMO_KEY.into(), alpaca::DEMO_SECRET.into(), wrong]
        })
        .fund(move || funded.set_cash(1e9))
        .set_price(move |symbol, price| {
            state.set_price(symbol, price);
            let q = state.quote(symbol).expect("a listed symbol");
            (sim_price(q.bid), sim_price(q.ask))
        });
    running.fill_open = Some(Box::new(move |client_id| filler.fill_open(client_id)));
    running
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
    let (ids, renew, funded) = (state.clone(), state.clone(), state.clone());
    Running::new(server, cfg)
        .secrets(move || {
            let mut all = ids.stream_session_ids();
            all.extend([tradier::DEMO_TOKEN.into(), "not-the-token".into()]);
            all
        })
        .log_in_again(move || renew.renew_token())
        .fund(move || funded.set_cash(tradier::DEMO_ACCOUNT, 1e9))
        .set_price(move |symbol, price| {
            state.set_price(symbol, price);
            let q = state.quote(symbol).expect("a listed symbol");
            (sim_price(q.bid), sim_price(q.ask))
        })
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
    let server = serve!(tastytrade::router(state.clone()), faults);
    let cfg = config(BrokerKind::Tastytrade, &server.url(), &server.ws_url()).with_credentials(
        Some(Secret::new(tastytrade::DEMO_REFRESH_TOKEN)),
        Some(Secret::new(tastytrade::DEMO_CLIENT_SECRET)),
    );
    let funded = state.clone();
    Running::new(server, cfg)
        .fund(move || {
            funded.set_cash(tastytrade::DEMO_ACCOUNT, 1e9);
        })
        .secrets(|| {
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
        .set_price(move |symbol, price| {
            state.set_price(symbol, price);
            let (bid, ask) = state.quote(symbol);
            (sim_price(bid), sim_price(ask))
        })
}

async fn start_ibkr() -> Running {
    let faults = Faults::new();
    // The default confirmation question stays on: an order is booked by the reply.
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
    let (sessions, login) = (state.clone(), state.clone());
    Running::new(server, cfg)
        .secrets(move || sessions.session().into_iter().collect())
        .log_in_again(move || login.login())
        // The gateway fills at the price itself.
        .set_price(move |symbol, price| {
            state.set_price(symbol, price);
            (sim_price(price), sim_price(price))
        })
}

impl Entry {
    /// A connector with the row's wrong credentials in `running`'s config, and the broker's
    /// message for them; `None` where the broker stores no credentials.
    pub fn wrong_connector(&self, running: &Running) -> Option<(Box<dyn Connector>, Says)> {
        let (wrong, message) = self.wrong_credentials?;
        let mut cfg = running.cfg.clone();
        wrong(&mut cfg);
        Some(((self.connect)(cfg), message))
    }
}

/// The row of `kind`.
pub fn entry(kind: BrokerKind) -> &'static Entry {
    BROKERS
        .iter()
        .find(|e| e.kind == kind)
        .unwrap_or_else(|| panic!("{kind} has no row"))
}

/// Starts `entry`'s simulator and returns it with a connector built from its demo config.
pub async fn start(entry: &Entry) -> (Running, Box<dyn Connector>) {
    let running = (entry.start)().await;
    let connector = (entry.connect)(running.cfg.clone());
    (running, connector)
}

/// [`start`], then checks that the demo credentials work.
pub async fn verified(entry: &Entry) -> (Running, Box<dyn Connector>) {
    let (running, connector) = start(entry).await;
    connector
        .verify()
        .await
        .unwrap_or_else(|e| panic!("{}: the demo credentials fail: {e:?}", entry.kind));
    (running, connector)
}

/// [`start`] with the simulator refusing every credential (`RefuseAuth`) from then on.
pub async fn refusing(entry: &Entry) -> (Running, Box<dyn Connector>) {
    let (running, connector) = start(entry).await;
    running.server.faults().set(Some(Fault::RefuseAuth));
    (running, connector)
}

/// Fails unless `e` is an auth error, which is final (never retried).
pub fn assert_final_auth(b: BrokerKind, e: &BrokerError) {
    assert!(matches!(e, BrokerError::Auth(_)), "{b}: {e:?}");
    assert!(!e.retryable(), "{b}");
}
