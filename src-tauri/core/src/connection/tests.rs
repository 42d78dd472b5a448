use std::sync::atomic::{AtomicU32, Ordering};

use tokio::sync::mpsc;

use super::*;
use crate::error::Code;

/// A link driven by the test: each connect takes the next scripted result; serving ends
/// when the test sends an error down `drops`.
struct FakeLink {
    connects: mpsc::UnboundedReceiver<Result<(), BrokerError>>,
    drops: mpsc::UnboundedReceiver<BrokerError>,
    attempts: Arc<AtomicU32>,
}

#[async_trait]
impl Link for FakeLink {
    async fn connect(&mut self) -> Result<(), BrokerError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        match self.connects.recv().await {
            Some(r) => r,
            None => std::future::pending().await,
        }
    }

    async fn serve(&mut self, cancel: &CancellationToken) -> Result<(), BrokerError> {
        tokio::select! {
            _ = cancel.cancelled() => Ok(()),
            e = self.drops.recv() => Err(e.unwrap_or_else(|| BrokerError::Network("closed".into()))),
        }
    }
}

struct Script {
    connects: mpsc::UnboundedSender<Result<(), BrokerError>>,
    drops: mpsc::UnboundedSender<BrokerError>,
    attempts: Arc<AtomicU32>,
}

fn fake() -> (FakeLink, Script) {
    let (ct, cr) = mpsc::unbounded_channel();
    let (dt, dr) = mpsc::unbounded_channel();
    let attempts = Arc::new(AtomicU32::new(0));
    (
        FakeLink {
            connects: cr,
            drops: dr,
            attempts: attempts.clone(),
        },
        Script {
            connects: ct,
            drops: dt,
            attempts,
        },
    )
}

async fn wait_for(
    rx: &mut watch::Receiver<ConnState>,
    pred: impl Fn(&ConnState) -> bool,
) -> ConnState {
    loop {
        if pred(&rx.borrow_and_update()) {
            return rx.borrow().clone();
        }
        rx.changed().await.expect("task alive");
    }
}

fn net() -> BrokerError {
    BrokerError::Network("connection reset".into())
}

#[tokio::test(start_paused = true)]
async fn connects_then_reconnects_immediately_then_with_backoff() {
    let (link, s) = fake();
    let h = spawn(
        link,
        Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(8),
        },
    );
    let mut rx = h.watch();
    s.connects.send(Ok(())).expect("send");
    wait_for(&mut rx, |st| *st == ConnState::Connected).await;

    // The link drops: first retry is immediate.
    s.drops.send(net()).expect("send");
    let st = wait_for(&mut rx, |st| matches!(st, ConnState::Reconnecting { .. })).await;
    assert!(
        matches!(
            st,
            ConnState::Reconnecting {
                attempt: 1,
                next_retry_ms: 0,
                ..
            }
        ),
        "{st:?}"
    );
    // It fails again: the second retry waits up to 1 s (jittered), the third up to 2 s.
    s.connects.send(Err(net())).expect("send");
    let st = wait_for(&mut rx, |st| {
        matches!(st, ConnState::Reconnecting { attempt: 2, .. })
    })
    .await;
    let ConnState::Reconnecting { next_retry_ms, .. } = st else {
        unreachable!()
    };
    assert!(next_retry_ms <= 1000);
    tokio::time::advance(Duration::from_millis(1001)).await;
    s.connects.send(Err(net())).expect("send");
    let st = wait_for(&mut rx, |st| {
        matches!(st, ConnState::Reconnecting { attempt: 3, .. })
    })
    .await;
    let ConnState::Reconnecting { next_retry_ms, .. } = st else {
        unreachable!()
    };
    assert!(next_retry_ms <= 2000);
    tokio::time::advance(Duration::from_millis(2001)).await;
    s.connects.send(Ok(())).expect("send");
    wait_for(&mut rx, |st| *st == ConnState::Connected).await;
    assert_eq!(s.attempts.load(Ordering::SeqCst), 4);

    let kinds: Vec<&'static str> = h
        .history()
        .iter()
        .map(|c| match c.state {
            ConnState::Disconnected => "disconnected",
            ConnState::Connecting => "connecting",
            ConnState::Connected => "connected",
            ConnState::Reconnecting { .. } => "reconnecting",
            ConnState::Failed { .. } => "failed",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "connecting",
            "connected",
            "reconnecting",
            "reconnecting",
            "reconnecting",
            "connected"
        ]
    );
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn auth_failures_stop_retrying_until_asked() {
    let (link, s) = fake();
    let h = spawn(link, Backoff::default());
    let mut rx = h.watch();
    s.connects
        .send(Err(BrokerError::Auth("Insufficient authorization".into())))
        .expect("send");
    let st = wait_for(&mut rx, |st| matches!(st, ConnState::Failed { .. })).await;
    assert!(
        matches!(&st, ConnState::Failed { code, .. } if *code == Code::BrokerAuth),
        "{st:?}"
    );
    tokio::time::advance(Duration::from_secs(600)).await;
    tokio::task::yield_now().await;
    assert_eq!(
        s.attempts.load(Ordering::SeqCst),
        1,
        "no retry on bad credentials"
    );
    // The user fixes the credentials and presses Reconnect.
    h.reconnect_now();
    s.connects.send(Ok(())).expect("send");
    wait_for(&mut rx, |st| *st == ConnState::Connected).await;
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn rate_limits_wait_at_least_retry_after() {
    let (link, s) = fake();
    let h = spawn(link, Backoff::default());
    let mut rx = h.watch();
    s.connects
        .send(Err(BrokerError::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
        }))
        .expect("send");
    let st = wait_for(&mut rx, |st| matches!(st, ConnState::Reconnecting { .. })).await;
    assert!(
        matches!(
            st,
            ConnState::Reconnecting {
                next_retry_ms: 7000,
                ..
            }
        ),
        "{st:?}"
    );
    tokio::time::advance(Duration::from_millis(6900)).await;
    tokio::task::yield_now().await;
    assert_eq!(s.attempts.load(Ordering::SeqCst), 1, "still waiting");
    tokio::time::advance(Duration::from_millis(200)).await;
    s.connects.send(Ok(())).expect("send");
    wait_for(&mut rx, |st| *st == ConnState::Connected).await;
    assert_eq!(s.attempts.load(Ordering::SeqCst), 2);
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn reconnect_now_skips_the_backoff_and_shutdown_disconnects() {
    let (link, s) = fake();
    let h = spawn(
        link,
        Backoff {
            base: Duration::from_secs(60),
            cap: Duration::from_secs(60),
        },
    );
    let mut rx = h.watch();
    s.connects.send(Err(net())).expect("send");
    s.connects.send(Err(net())).expect("send");
    wait_for(&mut rx, |st| {
        matches!(st, ConnState::Reconnecting { attempt: 2, .. })
    })
    .await;
    h.reconnect_now();
    s.connects.send(Ok(())).expect("send");
    wait_for(&mut rx, |st| *st == ConnState::Connected).await;
    let mut rx2 = h.watch();
    h.shutdown().await;
    assert_eq!(*rx2.borrow_and_update(), ConnState::Disconnected);
}

#[tokio::test(start_paused = true)]
async fn the_watchdog_declares_a_silent_link_dead_after_its_limit() {
    let silent = std::future::pending::<()>();
    let started = tokio::time::Instant::now();
    let err = within(Duration::from_secs(10), silent)
        .await
        .expect_err("dead");
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    assert!(err.retryable());
    assert!(err.to_string().contains("dead"), "{err}");
}
