//! The stream failure classes, against every broker of [`BROKERS`]: refused credentials
//! when opening, a stream cut by the server (ends retryably; a new one resumes), a half-open
//! link (found by the stream's silence limit), and a server that is down.

use std::time::{Duration, Instant};

use brokerdesk_core::accounts::model::BrokerKind;
use brokerdesk_core::brokers::BrokerError;
use brokerdesk_core::stream::{QuoteStream, StreamEvent};

use crate::common;

use super::{assert_final_auth, refusing, start, Connector, Entry, Running, BROKERS};

/// Reads until a tick for `instrument` arrives (3 s at most).
async fn a_tick(b: BrokerKind, stream: &mut dyn QuoteStream, instrument: &str) {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut out = Vec::new();
    loop {
        out.clear();
        let more = tokio::time::timeout_at(deadline.into(), stream.read(&mut out))
            .await
            .unwrap_or_else(|_| panic!("{b}: no {instrument} tick within 3 s"))
            .unwrap_or_else(|e| panic!("{b}: stream error {e:?}"));
        assert!(more, "{b}: the stream ended");
        if out
            .iter()
            .any(|e| matches!(e, StreamEvent::Tick(t) if t.instrument == instrument))
        {
            return;
        }
    }
}

/// Opens a stream of the entry's instrument and reads until a first tick for it.
async fn open_ticking(entry: &Entry, connector: &dyn Connector) -> Box<dyn QuoteStream> {
    let instruments = [entry.instrument.to_string()];
    let mut stream = connector
        .open_quote_stream(&instruments)
        .await
        .unwrap_or_else(|e| panic!("{}: {e:?}", entry.kind));
    a_tick(entry.kind, stream.as_mut(), entry.instrument).await;
    stream
}

/// The error of an open that must fail, checked for secrets.
fn open_err(
    sim: &Running,
    b: BrokerKind,
    r: Result<Box<dyn QuoteStream>, BrokerError>,
) -> BrokerError {
    sim.err(b, r.map(|_| ()))
}

/// `entry`'s simulator, a connector, the entry's instrument, and a stream of it that has
/// delivered a first tick.
async fn ticking(
    entry: &Entry,
) -> (
    Running,
    Box<dyn Connector>,
    [String; 1],
    Box<dyn QuoteStream>,
) {
    let (sim, connector) = start(entry).await;
    let stream = open_ticking(entry, connector.as_ref()).await;
    (sim, connector, [entry.instrument.to_string()], stream)
}

/// Reads past what was in flight until the stream ends, cleanly or with an error that must
/// be retryable (3 s at most: `what` names the event in the failure).
async fn read_to_the_end(sim: &Running, b: BrokerKind, stream: &mut dyn QuoteStream, what: &str) {
    if let Some(e) = common::read_to_the_end(stream, &format!("{b}: {what}")).await {
        let e = sim.err(b, Err::<(), _>(e));
        assert!(e.retryable(), "{b}: {what} must not read as {e:?}");
    }
}

#[tokio::test]
async fn refused_credentials_end_the_open_as_auth() {
    for entry in BROKERS {
        let b = entry.kind;
        let (sim, connector) = refusing(entry).await;
        let instruments = [entry.instrument.to_string()];
        let e = open_err(&sim, b, connector.open_quote_stream(&instruments).await);
        assert_final_auth(b, &e);
        sim.server.faults().set(None);
        open_ticking(entry, connector.as_ref()).await;

        if let Some((wrong, _)) = entry.wrong_connector(&sim) {
            let e = open_err(&sim, b, wrong.open_quote_stream(&instruments).await);
            assert_final_auth(b, &e);
        }
    }
}

#[tokio::test]
async fn a_cut_stream_ends_retryably_and_a_new_one_resumes() {
    for entry in BROKERS {
        let b = entry.kind;
        let (sim, connector, _instruments, mut stream) = ticking(entry).await;
        sim.server.faults().cut_streams();
        read_to_the_end(&sim, b, stream.as_mut(), "the cut").await;
        // What the owner does: open again with the same instruments.
        open_ticking(entry, connector.as_ref()).await;
    }
}

#[tokio::test]
async fn a_half_open_link_is_found_by_the_silence_limit() {
    for entry in BROKERS {
        let b = entry.kind;
        let (sim, _connector, instruments, mut stream) = ticking(entry).await;
        let limit = stream.silence_limit();
        assert!(limit <= Duration::from_millis(400), "{b}: {limit:?}");
        // A healthy link says something within the limit, even idle without a subscription
        // (a heartbeat, a keepalive, a pong).
        stream.unsubscribe(&instruments).await.unwrap();
        let mut out = Vec::new();
        let healthy = Instant::now();
        while healthy.elapsed() < 2 * limit {
            tokio::time::timeout(limit, stream.read(&mut out))
                .await
                .unwrap_or_else(|_| panic!("{b}: a healthy link went silent"))
                .unwrap_or_else(|e| panic!("{b}: stream error {e:?}"));
        }
        stream.subscribe(&instruments).await.unwrap();
        sim.server.faults().set_half_open(true);
        // What was in flight drains; then a whole silence limit passes with nothing, and
        // the socket stays open (no end, no error): only the limit can tell.
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            assert!(Instant::now() < deadline, "{b}: never went silent");
            out.clear();
            match tokio::time::timeout(limit, stream.read(&mut out)).await {
                Err(_silent) => break,
                Ok(r) => assert!(r.unwrap(), "{b}: closed instead of going silent"),
            }
        }
        // read() was cancelled mid-wait; the stream still works once the link recovers.
        sim.server.faults().set_half_open(false);
        a_tick(b, stream.as_mut(), entry.instrument).await;
    }
}

#[tokio::test]
async fn a_server_that_is_down_refuses_new_streams_retryably() {
    for entry in BROKERS {
        let b = entry.kind;
        let (sim, connector, instruments, mut stream) = ticking(entry).await;
        sim.server.faults().go_down_for(Duration::from_millis(400));
        // Going down cuts the open stream.
        read_to_the_end(&sim, b, stream.as_mut(), "going down").await;
        let e = open_err(&sim, b, connector.open_quote_stream(&instruments).await);
        assert!(
            matches!(e, BrokerError::Unavailable { status: 503, .. }),
            "{b}: {e:?}"
        );
        assert!(e.retryable(), "{b}: {e:?}");
        tokio::time::sleep(Duration::from_millis(450)).await;
        open_ticking(entry, connector.as_ref()).await;
    }
}
