//! The order-event streams' (`Broker::open_order_events`) failure classes, against every
//! broker of [`BROKERS`]: refused credentials when opening (final `Auth`; the stream opens
//! once the broker takes them again), and a stream cut by the server (it ends cleanly or
//! retryably). What only one broker does (its own refusals, its session endings, its
//! liveness, its updates) stays in the `broker_*/events.rs` modules.

use brokerdesk_core::brokers::{BrokerError, OrderEventStream};

use crate::common::events::end_of;

use super::{assert_final_auth, refusing, start, BROKERS};

/// The stream `r` opened, or a failure naming the broker.
fn opened(
    b: impl std::fmt::Display,
    r: Result<Box<dyn OrderEventStream>, BrokerError>,
) -> Box<dyn OrderEventStream> {
    r.unwrap_or_else(|e| panic!("{b}: the order events do not open: {e:?}"))
}

#[tokio::test]
async fn refused_credentials_end_the_event_open_as_auth() {
    for entry in BROKERS {
        let b = entry.kind;
        let (sim, connector) = refusing(entry).await;
        let e = sim.err(b, connector.open_order_events().await.map(|_| ()));
        assert_final_auth(b, &e);
        sim.server.faults().set(None);
        opened(b, connector.open_order_events().await).close().await;

        if let Some((wrong, _)) = entry.wrong_connector(&sim) {
            let e = sim.err(b, wrong.open_order_events().await.map(|_| ()));
            assert_final_auth(b, &e);
        }
    }
}

#[tokio::test]
async fn a_cut_event_stream_ends_cleanly_or_retryably() {
    for entry in BROKERS {
        let b = entry.kind;
        let (sim, connector) = start(entry).await;
        let mut events = opened(b, connector.open_order_events().await);
        sim.server.faults().cut_streams();
        if let Some(e) = end_of(&mut *events).await {
            let e = sim.err(b, Err::<(), _>(e));
            assert!(e.retryable(), "{b}: a cut must not read as {e:?}");
        }
    }
}
