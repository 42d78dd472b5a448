//! Live orders under order faults, for every broker against its simulator.
//!
//! - **Life cycle** (through the runtime, one test per broker): a market order fills, a
//!   resting limit order is changed (in place or replaced, as the broker does) and cancelled, an order the broker refuses is `rejected`; then the
//!   order POST is answered with a cut connection, a 500 after the broker booked it, or too
//!   slowly: each is `unknown`, found by its client order id and adopted (filled), and the
//!   simulator saw exactly one submission of it. A 500 before anything was booked ends in
//!   Needs review, never resent.
//! - **Restarts** (one test per broker): a runtime killed after the intent and its claim were
//!   committed but before the request left (nothing reached the broker) looks the order up
//!   at restart and puts it in Needs review, never sending it; one killed after the broker
//!   booked the order but before the answer finds and adopts it at restart. An intent that
//!   was never claimed is sent once at restart (young) or cancelled (stale); a change stored
//!   as a replacement but never sent is cancelled, never sent as a new order.
//! - **Soak** (one test per broker): orders that each draw a random fault (none, cut after
//!   accept, 500 after accept, 500 before accept, slow accept; seeded, one seed per broker),
//!   sent 16 at a time through the OMS with the connector itself (no circuit breaker: at four
//!   faults in five it would refuse most orders before they reach the broker, and this test
//!   is about the orders that do), looked up four at a time. Then: every order was submitted
//!   exactly once, no client id was booked twice, no order is left pending or unknown, and
//!   every local order matches the broker (booked → the broker's id, status and filled
//!   quantity; not booked → rejected or Needs review). The wall time, the fault counts and
//!   the local statuses are printed (`--nocapture`). IBKR draws twice per order (the order
//!   POST, then the confirmation reply that books it), so more of its orders get a 500
//!   before accept.
//!
//!   How many orders: 1,000 for OANDA and Alpaca (about 16 s each on the 2-core machine).
//!   Tradier, Tastytrade and IBKR have no lookup by client order id: each lookup (and
//!   Tradier's duplicate check before each order) reads the whole order list, so the run is
//!   quadratic in the orders at the broker. 1,000 orders took 63 s (Tradier), 119 s (IBKR)
//!   and 123 s (Tastytrade) alone on the 2-core machine (debug build; all passed), so they
//!   run [`SOAK_ORDERS_LISTING`] (500: 19–32 s each alone). Set `BROKERDESK_SOAK_ORDERS=1000`
//!   to run every broker's soak with that many.
//!
//! Times are shortened: the runtime's requests time out after [`TIMEOUT`] (the soak's order
//! requests after [`SOAK_TIMEOUT`]), a slow accept answers after [`SLOW`] ([`SOAK_SLOW`]),
//! and the OMS looks unknown orders up on [`LOOKUPS`] (through
//! `RuntimeOptions::lookup_after`), so a fault case takes a few seconds at most.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use brokerdesk_core::accounts::model::{AccountInput, BrokerKind, Environment};
use brokerdesk_core::brokers::{
    self, AccountSummary, Broker, BrokerAccountRef, BrokerError, OrderSide, OrderState, Position,
};
use brokerdesk_core::connection::manager::ManagerOptions;
use brokerdesk_core::runtime::{Runtime, RuntimeOptions};
use brokerdesk_core::store::Store;
use brokerdesk_core::trading::model::{Order, OrderStatus};
use brokerdesk_core::trading::{oms, store, OrderContext, OrderDraft, OrderIntent};
use brokerdesk_core::vault::keychain::NoKeychain;
use brokerdesk_core::{Brokerdesk, Secret};
use brokerdesk_sim::{Faults, OrderFault, RandomOrderFaults};
use chrono::Utc;

use crate::conformance::{self, Running};
use crate::trading::go_live;

/// The runtime's request timeout in these tests: short, yet long enough that no answer of a
/// loaded 2-core machine running the whole suite misses it by accident.
pub(crate) const TIMEOUT: Duration = Duration::from_millis(3_000);
/// How late a slow accept answers (longer than [`TIMEOUT`]).
const SLOW: Duration = Duration::from_millis(4_000);
/// The soak's timeout for sending orders: shorter, since each slow accept holds a sender that
/// long (an answer that misses it by accident is one more unknown order, looked up).
const SOAK_TIMEOUT: Duration = Duration::from_millis(1_000);
/// How late a slow accept answers in the soak.
const SOAK_SLOW: Duration = Duration::from_millis(1_600);
/// The OMS's lookup schedule in these tests.
const LOOKUPS: [Duration; 4] = [
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_millis(1_000),
];
/// Orders in the soak of a broker that looks orders up by client id.
const SOAK_ORDERS: usize = 1_000;
/// Orders in the soak of a broker whose lookup reads the whole order list (see the docs).
const SOAK_ORDERS_LISTING: usize = 500;
/// Orders in flight at once in the soak.
const SOAK_PARALLEL: usize = 16;
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// A broker's simulator (its row in the conformance suite's table) and what the tests trade
/// on it.
pub(crate) struct Sim {
    pub(crate) kind: BrokerKind,
    /// The simulator, its demo credentials and endpoints, and its switches.
    pub(crate) running: Running,
    pub(crate) symbol: &'static str,
    /// A quantity that fills at once.
    pub(crate) qty: &'static str,
    /// A buy limit far below the market (it rests).
    pub(crate) resting: &'static str,
    /// An order this broker refuses.
    refused: OrderDraft,
}

impl Sim {
    pub(crate) fn faults(&self) -> &Arc<Faults> {
        self.running.server.faults()
    }

    pub(crate) fn market(&self) -> OrderDraft {
        OrderDraft::market(self.symbol, OrderSide::Buy, self.qty)
    }

    pub(crate) fn limit(&self) -> OrderDraft {
        OrderDraft::limit(self.symbol, OrderSide::Buy, self.qty, self.resting)
    }

    /// How many submissions carried `client_id`.
    fn submissions(&self, client_id: &str) -> usize {
        let ids = self.faults().submitted_client_ids();
        ids.iter().filter(|c| c.as_str() == client_id).count()
    }

    /// How many orders the broker booked with `client_id`.
    fn bookings(&self, client_id: &str) -> usize {
        let ids = self.faults().booked_client_ids();
        ids.iter().filter(|c| c.as_str() == client_id).count()
    }

    /// Fails unless `client_id` was submitted once and booked once (`what` names the case).
    fn assert_booked_once(&self, client_id: &str, what: &str) {
        let (submitted, booked) = (self.submissions(client_id), self.bookings(client_id));
        assert_eq!(
            (submitted, booked),
            (1, 1),
            "{} {what}: submitted, booked",
            self.kind
        );
    }

    pub(crate) fn account_input(&self) -> AccountInput {
        let mut a = AccountInput::new(
            format!("{} live", self.kind),
            self.kind,
            Environment::Practice,
        );
        a.credentials.api_key = self.running.cfg.api_key.clone();
        a.credentials.api_secret = self.running.cfg.api_secret.clone();
        a.broker_account_id = self.running.cfg.account_id.clone();
        a.rest_url = Some(self.running.cfg.rest_url.clone());
        a.stream_url = Some(self.running.cfg.stream_url.clone());
        a
    }

    /// The broker's order with `client_id` (which it must have booked), looked up.
    pub(crate) async fn booked(&self, client_id: &str) -> OrderState {
        self.connector(TIMEOUT)
            .get_order_by_client_id(client_id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{}: {client_id} is not booked", self.kind))
    }

    /// The connector, without the circuit breaker, with this timeout.
    pub(crate) fn connector(&self, timeout: Duration) -> Arc<dyn Broker> {
        let mut cfg = self.running.cfg.clone();
        cfg.timeout = timeout;
        Arc::from(brokers::bare_connector(cfg).expect("a connector"))
    }
}

/// `kind`'s simulator, started from its conformance row, and what these tests trade on it.
pub(crate) async fn start(kind: BrokerKind) -> Sim {
    let entry = conformance::entry(kind);
    let (qty, resting, refused) = match kind {
        BrokerKind::Oanda => (
            "1000",
            "0.5",
            OrderDraft::market("NOPE_USD", OrderSide::Buy, "1000"),
        ),
        // More than the account can pay for: refused by the margin check.
        BrokerKind::Tastytrade => (
            "1",
            "1.00",
            OrderDraft::market("AAPL", OrderSide::Buy, "100000000"),
        ),
        // No such contract: refused before anything is sent.
        BrokerKind::Ibkr => (
            "1",
            "1.00",
            OrderDraft::market("NOPEX", OrderSide::Buy, "1"),
        ),
        _ => ("1", "1.00", OrderDraft::market("NOPE", OrderSide::Buy, "1")),
    };
    Sim {
        kind,
        running: (entry.start)().await,
        symbol: entry.orders.symbol,
        qty,
        resting,
        refused,
    }
}

pub(crate) fn options() -> RuntimeOptions {
    RuntimeOptions {
        auto_lock: false,
        risk_watch: false,
        manager: ManagerOptions {
            request_timeout: Some(TIMEOUT),
            ..ManagerOptions::default()
        },
        lookup_after: LOOKUPS.to_vec(),
        ..RuntimeOptions::default()
    }
}

/// A new profile (unlocked) and its runtime.
async fn runtime() -> (tempfile::TempDir, Arc<Runtime>) {
    let dir = tempfile::tempdir().unwrap();
    let bd = Arc::new(
        Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
            .await
            .unwrap(),
    );
    bd.init(Some(Secret::new(PASSWORD))).await.unwrap();
    (dir, Runtime::start(bd, options()).await)
}

/// The profile in `dir` opened again, unlocked, and a new runtime over it (a restart).
async fn restart(dir: &tempfile::TempDir) -> Arc<Runtime> {
    let bd = Arc::new(
        Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
            .await
            .unwrap(),
    );
    bd.unlock(Some(Secret::new(PASSWORD))).await.unwrap();
    Runtime::start(bd, options()).await
}

/// Waits until the order is in a state `done` accepts; returns it.
async fn wait_for(
    rt: &Runtime,
    account: &str,
    id: &str,
    what: &str,
    done: impl Fn(&Order) -> bool,
) -> Order {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let o = rt.order_show(account, id).await.unwrap().order;
        if done(&o) {
            return o;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still {} ({:?})",
            o.status,
            o.reason
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A new live order as the runtime commits it (pending, not sent).
fn intent_row(account_id: &str, draft: &OrderDraft) -> Order {
    let intent = OrderIntent::new(draft, &OrderContext::default()).unwrap();
    Order::pending(
        account_id,
        brokerdesk_core::accounts::model::TradingMode::Live,
        &intent,
        Utc::now(),
    )
}

async fn insert(store: &Store, order: &Order) {
    let mut tx = store.begin_write().await.unwrap();
    store::insert(&mut tx, order, "intent stored")
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// A broker whose order call never returns: the process is "killed" during it.
struct Hangs;

#[async_trait]
impl Broker for Hangs {
    fn kind(&self) -> BrokerKind {
        BrokerKind::Alpaca
    }
    async fn verify(&self) -> Result<AccountSummary, BrokerError> {
        Err(BrokerError::Unsupported("verify"))
    }
    async fn list_accounts(&self) -> Result<Vec<BrokerAccountRef>, BrokerError> {
        Ok(Vec::new())
    }
    async fn place_order(&self, _: &OrderIntent) -> Result<OrderState, BrokerError> {
        std::future::pending().await
    }
    async fn cancel_order(&self, _: &str) -> Result<(), BrokerError> {
        Ok(())
    }
    async fn get_order(&self, id: &str) -> Result<OrderState, BrokerError> {
        Err(BrokerError::NotFound(id.to_string()))
    }
    async fn get_order_by_client_id(&self, _: &str) -> Result<Option<OrderState>, BrokerError> {
        Ok(None)
    }
    async fn open_orders(&self) -> Result<Vec<OrderState>, BrokerError> {
        Ok(Vec::new())
    }
    async fn positions(&self) -> Result<Vec<Position>, BrokerError> {
        Ok(Vec::new())
    }
}

/// One test per broker, `name: call;` each (one test a broker, so that they run in parallel
/// and a failure names its broker).
macro_rules! per_broker {
    ($($name:ident: $call:expr;)+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $call.await;
            }
        )+
    };
}

// ---------------------------------------------------------------------------------------
// Life cycle and faults through the runtime.

/// Places a market order with `fault` on its order request: it comes back `unknown`, with no
/// broker id. Returns it, and the order once the OMS's lookups settled it.
async fn place_under(
    rt: &Arc<Runtime>,
    account: &str,
    sim: &Sim,
    fault: OrderFault,
) -> (Order, Order) {
    let what = format!("{} {fault:?}", sim.kind);
    sim.faults().set_order_fault(Some(fault));
    let o = rt.order_place(account, sim.market()).await.unwrap();
    sim.faults().set_order_fault(None);
    assert_eq!(o.status, OrderStatus::Unknown, "{what}: {o:?}");
    assert!(o.broker_order_id.is_none(), "{what}");
    let settled = wait_for(rt, account, &o.id, &what, |o| {
        o.status != OrderStatus::Unknown
    })
    .await;
    (o, settled)
}

/// `kind`'s simulator, a new profile and its runtime, and an account on the simulator,
/// live: the simulator, the profile's directory, the runtime and the account's id.
async fn live(kind: BrokerKind) -> (Sim, tempfile::TempDir, Arc<Runtime>, String) {
    let sim = start(kind).await;
    let (dir, rt) = runtime().await;
    let acct = rt.core().account_add(sim.account_input()).await.unwrap();
    go_live(&rt, &acct.id).await;
    (sim, dir, rt, acct.id)
}

async fn life_cycle(kind: BrokerKind) {
    let (sim, _dir, rt, id) = live(kind).await;
    let id = id.as_str();
    let f = sim.faults().clone();

    // Place and fill.
    let filled = rt.order_place(id, sim.market()).await.unwrap();
    assert_eq!(filled.status, OrderStatus::Filled, "{kind}: {filled:?}");
    assert!(filled.broker_order_id.is_some(), "{kind}");
    assert_eq!(filled.filled_qty, sim.market().quantity.parse().unwrap());
    assert_eq!(sim.bookings(&filled.client_order_id), 1, "{kind}");

    // A resting limit, changed (in place, or by a replacement, as the broker does), then
    // cancelled.
    let first = rt.order_place(id, sim.limit()).await.unwrap();
    assert_eq!(first.status, OrderStatus::Open, "{kind}: {first:?}");
    let new_price = (first.limit_price.unwrap() * rust_decimal_macros::dec!(0.9)).round_dp(2);
    let resting = rt
        .order_modify(
            id,
            &first.id,
            brokerdesk_core::trading::modify::OrderModify {
                quantity: None,
                price: Some(new_price.to_string()),
            },
        )
        .await
        .unwrap();
    assert_eq!(resting.status, OrderStatus::Open, "{kind}: {resting:?}");
    assert_eq!(resting.limit_price, Some(new_price), "{kind}: {resting:?}");
    let at_broker = sim
        .connector(TIMEOUT)
        .get_order(resting.broker_order_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(
        at_broker.terms.and_then(|t| t.limit_price),
        Some(new_price),
        "{kind}"
    );
    match brokerdesk_core::accounts::catalog::modify_style(kind) {
        brokers::ModifyStyle::Replace => {
            assert_ne!(resting.id, first.id, "{kind}: a replacement");
            let original = rt.order_show(id, &first.id).await.unwrap().order;
            assert_eq!(original.status, OrderStatus::Cancelled, "{kind}");
        }
        _ => {
            assert_eq!(resting.id, first.id, "{kind}: changed in place");
            // The broker makes a change and answers 500: `modify_unknown`, and the order
            // then shows the terms the broker has (read back, or its event stream).
            let again = (new_price * rust_decimal_macros::dec!(0.9)).round_dp(2);
            f.set_order_fault(Some(OrderFault::AcceptThen500));
            let e = rt
                .order_modify(
                    id,
                    &first.id,
                    brokerdesk_core::trading::modify::OrderModify {
                        quantity: None,
                        price: Some(again.to_string()),
                    },
                )
                .await
                .unwrap_err();
            f.set_order_fault(None);
            assert_eq!(
                e.code,
                brokerdesk_core::Code::ModifyUnknown,
                "{kind}: {e:?}"
            );
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                let o = rt.order_show(id, &first.id).await.unwrap().order;
                if o.limit_price == Some(again) {
                    break;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{kind}: the broker's new price never showed: {o:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    let cancelled = rt.order_cancel(id, &resting.id).await.unwrap();
    assert_eq!(
        cancelled.status,
        OrderStatus::Cancelled,
        "{kind}: {cancelled:?}"
    );
    let at_broker = sim.booked(&first.client_order_id).await;
    assert_eq!(
        at_broker.status,
        brokers::OrderStatus::Cancelled,
        "{kind}: {at_broker:?}"
    );

    // Refused by the broker: rejected, nothing booked.
    let refused = rt.order_place(id, sim.refused.clone()).await.unwrap();
    assert_eq!(refused.status, OrderStatus::Rejected, "{kind}: {refused:?}");
    assert_eq!(sim.bookings(&refused.client_order_id), 0, "{kind}");

    // Accepted, then the answer is lost: unknown, found by its client id, adopted.
    for fault in [
        OrderFault::AcceptThenCut,
        OrderFault::AcceptThen500,
        OrderFault::SlowAccept(SLOW),
    ] {
        let before = f.order_requests();
        let (o, adopted) = place_under(&rt, id, &sim, fault.clone()).await;
        assert_eq!(
            adopted.status,
            OrderStatus::Filled,
            "{kind} {fault:?}: {adopted:?}"
        );
        let state = sim.booked(&o.client_order_id).await;
        assert_eq!(
            adopted.broker_order_id.as_deref(),
            Some(state.broker_order_id.as_str()),
            "{kind} {fault:?}: adopted the broker's order"
        );
        sim.assert_booked_once(&o.client_order_id, &format!("{kind} {fault:?}"));
        assert_eq!(
            f.order_requests(),
            before + 1,
            "{kind} {fault:?}: never resent"
        );
    }

    // A 500 before anything was booked: unknown, not found, Needs review; never resent.
    let before = f.order_requests();
    let (o, review) = place_under(&rt, id, &sim, OrderFault::RefuseWith500).await;
    assert_eq!(
        review.status,
        OrderStatus::NeedsReview,
        "{kind}: {review:?}"
    );
    assert_eq!(sim.bookings(&o.client_order_id), 0, "{kind}");
    assert_eq!(f.order_requests(), before + 1, "{kind}: never resent");

    // No client id reached the broker twice. (An in-place change goes through the same
    // order gate and is noted under its order's own client id: not a second placement.)
    let in_place =
        brokerdesk_core::accounts::catalog::modify_style(kind) == brokers::ModifyStyle::InPlace;
    let all = f.submitted_client_ids();
    let first_seen = all.iter().filter(|c| **c == first.client_order_id).count();
    assert_eq!(first_seen, 1 + 2 * usize::from(in_place), "{kind}: {all:?}");
    let submitted: Vec<String> = all
        .into_iter()
        .filter(|c| !in_place || *c != first.client_order_id)
        .collect();
    let mut seen = std::collections::HashSet::new();
    assert!(
        submitted.iter().all(|c| seen.insert(c)),
        "{kind}: a client id was submitted twice: {submitted:?}"
    );
    rt.shutdown().await;
}

per_broker! {
    oanda_orders_fill_cancel_reject_and_survive_lost_answers: life_cycle(BrokerKind::Oanda);
    alpaca_orders_fill_cancel_reject_and_survive_lost_answers: life_cycle(BrokerKind::Alpaca);
    tradier_orders_fill_cancel_reject_and_survive_lost_answers: life_cycle(BrokerKind::Tradier);
    tastytrade_orders_fill_cancel_reject_and_survive_lost_answers: life_cycle(BrokerKind::Tastytrade);
    ibkr_orders_fill_cancel_reject_and_survive_lost_answers: life_cycle(BrokerKind::Ibkr);
}

// ---------------------------------------------------------------------------------------
// Killed runtimes.

async fn killed(kind: BrokerKind) {
    let (sim, dir, rt, id) = live(kind).await;
    let f = sim.faults().clone();
    let store_ = rt.core().store();

    // Killed between commit and send: the intent and its claim are committed, the request
    // never left (the call is dropped where the process died).
    let claimed = intent_row(&id, &sim.market());
    insert(&store_, &claimed).await;
    let hangs: Arc<dyn Broker> = Arc::new(Hangs);
    let cut_short = tokio::time::timeout(
        Duration::from_millis(300),
        oms::send(&store_, &hangs, claimed.clone(), &LOOKUPS),
    )
    .await;
    assert!(cut_short.is_err(), "{kind}: the send hangs");

    // Intents never claimed: a young one is sent at restart, a stale one is not.
    let young = intent_row(&id, &sim.market());
    insert(&store_, &young).await;
    let mut stale = intent_row(&id, &sim.market());
    stale.created_at = Utc::now() - chrono::Duration::minutes(5);
    insert(&store_, &stale).await;

    // Killed between storing a change and sending it, at a broker that replaces orders: the
    // replacement never left and is never sent late as a new order; the original still works.
    // (At an in-place broker nothing is stored before a change but a history note: the
    // read-back shows whatever the broker has.)
    let original = rt.order_place(&id, sim.limit()).await.unwrap();
    assert_eq!(original.status, OrderStatus::Open, "{kind}: {original:?}");
    let mut replacement = intent_row(&id, &sim.limit());
    replacement.replaces = Some(original.id.clone());
    insert(&store_, &replacement).await;

    // Killed between send and answer: the broker booked it, the answer never came back.
    f.set_order_fault(Some(OrderFault::SlowAccept(Duration::from_secs(10))));
    let booked_before = f.booked_client_ids().len();
    let place = tokio::spawn({
        let rt = rt.clone();
        let id = id.clone();
        let draft = sim.market();
        async move { rt.order_place(&id, draft).await }
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while f.booked_client_ids().len() == booked_before {
        assert!(
            Instant::now() < deadline,
            "{kind}: the order was never booked"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    place.abort();
    let _ = place.await;
    f.set_order_fault(None);
    let in_flight = f.booked_client_ids()[booked_before].clone();
    rt.shutdown().await;
    rt.core().close().await;
    drop(rt);
    let requests_before_restart = f.order_requests();

    let rt = restart(&dir).await;
    let orders = rt.orders_list(&id, false).await.unwrap();
    let by_client = |c: &str| {
        orders
            .iter()
            .find(|o| o.client_order_id == c)
            .unwrap_or_else(|| panic!("{kind}: no order {c}"))
            .id
            .clone()
    };
    let adopted = wait_for(&rt, &id, &by_client(&in_flight), "in flight", |o| {
        o.status.is_final()
    })
    .await;
    assert_eq!(adopted.status, OrderStatus::Filled, "{kind}: {adopted:?}");
    assert!(adopted.broker_order_id.is_some(), "{kind}");
    let lost = wait_for(&rt, &id, &claimed.id, "claimed", |o| {
        o.status == OrderStatus::NeedsReview
    })
    .await;
    assert!(lost.broker_order_id.is_none(), "{kind}: {lost:?}");
    let sent = wait_for(&rt, &id, &young.id, "young intent", |o| o.status.is_final()).await;
    assert_eq!(sent.status, OrderStatus::Filled, "{kind}: {sent:?}");
    let unsent = wait_for(&rt, &id, &replacement.id, "unsent change", |o| {
        o.status.is_final()
    })
    .await;
    assert_eq!(unsent.status, OrderStatus::Cancelled, "{kind}: {unsent:?}");
    assert!(
        unsent
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("never sent"),
        "{kind}: {unsent:?}"
    );
    assert!(
        !f.submitted_client_ids()
            .contains(&replacement.client_order_id),
        "{kind}: the change was sent"
    );
    let still = rt.order_show(&id, &original.id).await.unwrap().order;
    assert_eq!(still.status, OrderStatus::Open, "{kind}: {still:?}");
    let dropped = wait_for(&rt, &id, &stale.id, "stale intent", |o| o.status.is_final()).await;
    assert_eq!(
        dropped.status,
        OrderStatus::Cancelled,
        "{kind}: {dropped:?}"
    );

    // The broker saw: the in-flight order once, the young intent once, nothing else.
    sim.assert_booked_once(&in_flight, "in flight");
    assert_eq!(sim.submissions(&young.client_order_id), 1, "{kind}");
    assert_eq!(sim.submissions(&claimed.client_order_id), 0, "{kind}");
    assert_eq!(sim.submissions(&stale.client_order_id), 0, "{kind}");
    assert_eq!(
        f.order_requests(),
        requests_before_restart + 1,
        "{kind}: only the young intent was sent at restart"
    );
    rt.shutdown().await;
}

per_broker! {
    oanda_orders_survive_a_killed_runtime: killed(BrokerKind::Oanda);
    alpaca_orders_survive_a_killed_runtime: killed(BrokerKind::Alpaca);
    tradier_orders_survive_a_killed_runtime: killed(BrokerKind::Tradier);
    tastytrade_orders_survive_a_killed_runtime: killed(BrokerKind::Tastytrade);
    ibkr_orders_survive_a_killed_runtime: killed(BrokerKind::Ibkr);
}

// ---------------------------------------------------------------------------------------
// Soak: random faults, through the OMS.

/// The broker's view of an order, in the local statuses.
fn local_status(s: brokers::OrderStatus) -> OrderStatus {
    match s {
        brokers::OrderStatus::Pending | brokers::OrderStatus::Open => OrderStatus::Open,
        brokers::OrderStatus::PartiallyFilled => OrderStatus::PartiallyFilled,
        brokers::OrderStatus::Filled => OrderStatus::Filled,
        brokers::OrderStatus::Cancelled => OrderStatus::Cancelled,
        brokers::OrderStatus::Rejected => OrderStatus::Rejected,
    }
}

async fn soak(kind: BrokerKind, seed: u64, orders: usize) {
    let orders = std::env::var("BROKERDESK_SOAK_ORDERS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(orders);
    let sim = start(kind).await;
    (sim.running.fund)();
    let dir = tempfile::tempdir().unwrap();
    let bd = Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
        .await
        .unwrap();
    bd.init(Some(Secret::new(PASSWORD))).await.unwrap();
    let acct = bd.account_add(sim.account_input()).await.unwrap();
    let store_ = bd.store();
    let broker = sim.connector(SOAK_TIMEOUT);
    // Lookups get a generous timeout: on a loaded machine a list of a thousand orders can
    // take longer than [`SOAK_TIMEOUT`] to render, and a failed lookup counts as one not
    // found.
    let looker_broker = sim.connector(Duration::from_secs(10));
    let f = sim.faults().clone();
    f.set_order_fault(Some(OrderFault::Random(RandomOrderFaults::new(
        seed, SOAK_SLOW,
    ))));

    let t0 = Instant::now();
    // The lookups, as the runtime's order worker does them, four at a time (the brokers
    // without a lookup by client id scan their order lists, which grow to a thousand).
    let stop = tokio_util::sync::CancellationToken::new();
    let looker = tokio::spawn({
        let (store_, broker, stop) = (store_.clone(), looker_broker.clone(), stop.clone());
        async move {
            while !stop.is_cancelled() {
                let due = oms::due_lookups(&store_, Utc::now()).await.unwrap();
                for chunk in due.chunks(4) {
                    let mut set = tokio::task::JoinSet::new();
                    for o in chunk.iter().cloned() {
                        let (store_, broker) = (store_.clone(), broker.clone());
                        set.spawn(async move {
                            oms::look_up(&store_, &broker, o, &LOOKUPS).await.unwrap();
                        });
                    }
                    while let Some(r) = set.join_next().await {
                        r.unwrap();
                    }
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
    });
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..SOAK_PARALLEL {
        let (store_, broker, next) = (store_.clone(), broker.clone(), next.clone());
        let account = acct.id.clone();
        let (market, limit) = (sim.market(), sim.limit());
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n >= orders {
                    break;
                }
                // One in four rests (a limit far below the market), the others fill.
                let draft = if n % 4 == 3 { &limit } else { &market };
                let order = intent_row(&account, draft);
                insert(&store_, &order).await;
                oms::send(&store_, &broker, order, &LOOKUPS).await.unwrap();
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let sent_in = t0.elapsed();
    // Every unknown order settles within the lookup schedule.
    let deadline = Instant::now() + Duration::from_secs(60 + orders as u64 / 10);
    let all = loop {
        let mut conn = store_.pool().acquire().await.unwrap();
        let all = store::list(&mut conn, &acct.id, false, 100_000)
            .await
            .unwrap();
        drop(conn);
        let unsettled = all
            .iter()
            .filter(|o| matches!(o.status, OrderStatus::Pending | OrderStatus::Unknown))
            .count();
        if unsettled == 0 {
            break all;
        }
        assert!(
            Instant::now() < deadline,
            "{kind}: {unsettled} orders still pending or unknown"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    stop.cancel();
    looker.await.unwrap();
    let wall = t0.elapsed();
    f.set_order_fault(None);

    // Each order submitted exactly once, none booked twice.
    assert_eq!(all.len(), orders, "{kind}");
    let stats = f.order_stats();
    assert_eq!(
        stats.requests, orders as u64,
        "{kind}: every order was submitted once: {stats:?}"
    );
    let mut submitted: HashMap<String, usize> = HashMap::new();
    for c in f.submitted_client_ids() {
        *submitted.entry(c).or_default() += 1;
    }
    let mut booked: HashMap<String, usize> = HashMap::new();
    for c in f.booked_client_ids() {
        *booked.entry(c).or_default() += 1;
    }
    let dup_submitted = submitted.values().filter(|n| **n > 1).count();
    let dup_booked = booked.values().filter(|n| **n > 1).count();
    assert_eq!(dup_submitted, 0, "{kind}: client ids submitted twice");
    assert_eq!(dup_booked, 0, "{kind}: client ids booked twice");

    // Every local order matches the broker.
    let mut counts: HashMap<OrderStatus, usize> = HashMap::new();
    for o in &all {
        *counts.entry(o.status).or_default() += 1;
        if booked.contains_key(&o.client_order_id) {
            let broker_id = o
                .broker_order_id
                .as_deref()
                .unwrap_or_else(|| panic!("{kind}: booked but not adopted: {o:?}"));
            let state = looker_broker.get_order(broker_id).await.unwrap();
            assert_eq!(
                local_status(state.status),
                o.status,
                "{kind}: {o:?} vs {state:?}"
            );
            assert_eq!(state.filled_quantity, o.filled_qty, "{kind}: {o:?}");
        } else {
            assert!(
                matches!(o.status, OrderStatus::NeedsReview | OrderStatus::Rejected),
                "{kind}: not at the broker, yet {o:?}"
            );
            assert!(o.broker_order_id.is_none(), "{kind}: {o:?}");
        }
    }
    println!(
        "soak {kind}: {} orders in {:.1} s (sent in {:.1} s), {} submissions, {} booked, \
         duplicates: {dup_submitted} submitted / {dup_booked} booked; faults: {} cut after \
         accept, {} 500 after accept, {} 500 before accept, {} slow; local: {counts:?}",
        all.len(),
        wall.as_secs_f64(),
        sent_in.as_secs_f64(),
        stats.requests,
        booked.len(),
        stats.cut_after_accept,
        stats.error_after_accept,
        stats.error_before_accept,
        stats.slow_accept,
    );
    bd.close().await;
}

per_broker! {
    // One seed per broker.
    oanda_soak_of_orders_with_random_faults_has_no_duplicate:
        soak(BrokerKind::Oanda, 1, SOAK_ORDERS);
    alpaca_soak_of_orders_with_random_faults_has_no_duplicate:
        soak(BrokerKind::Alpaca, 2, SOAK_ORDERS);
    tradier_soak_of_orders_with_random_faults_has_no_duplicate:
        soak(BrokerKind::Tradier, 3, SOAK_ORDERS_LISTING);
    tastytrade_soak_of_orders_with_random_faults_has_no_duplicate:
        soak(BrokerKind::Tastytrade, 4, SOAK_ORDERS_LISTING);
    ibkr_soak_of_orders_with_random_faults_has_no_duplicate:
        soak(BrokerKind::Ibkr, 5, SOAK_ORDERS_LISTING);
}
