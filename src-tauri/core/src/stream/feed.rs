//! An account's price feed: the subscriptions the user wants, the [`QuoteBook`], the
//! consumers attached to it, and the [`PriceLink`] that the connection supervisor keeps
//! up. One reader task (the link's) reads the socket, parses, updates the book and hands
//! each frame's ticks to every consumer without waiting for any of them; the consumers
//! ([`Tap`], [`Coalescer`]) are bounded and keep the latest price when they fall behind.
//!
//! Subscriptions live in a `watch` channel: changing them while connected sends the
//! broker a subscribe/unsubscribe; after a reconnect the link opens the stream with the
//! current set, so nothing is lost across drops.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use serde::Serialize;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::book::{Coalescer, QuoteBook, Tap, TickSink};
use super::{NoticeCode, QuoteStream, StreamEvent, Tick};
use crate::brokers::{Broker, BrokerError};
use crate::connection::links::LinkMetrics;
use crate::connection::{within, Link};

/// How long opening a stream may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(15);

/// A broker message about the feed that did not end it (an unknown instrument, a limit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct FeedNotice {
    pub account_id: String,
    pub instrument: Option<String>,
    pub code: NoticeCode,
    /// The broker's own code, when it has one (for support).
    pub broker_code: Option<String>,
    pub message: String,
    /// RFC 3339, UTC.
    pub at: String,
}

/// A batch of coalesced prices of one account, as the UI receives them.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PriceUpdate {
    pub account_id: String,
    pub ticks: Vec<Tick>,
}

/// Counters of a feed since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct FeedStats {
    #[ts(type = "number")]
    pub frames: u64,
    #[ts(type = "number")]
    pub ticks: u64,
    #[ts(type = "number")]
    pub notices: u64,
}

/// An account's price feed (share it behind an `Arc`).
pub struct Feed {
    account_id: String,
    book: QuoteBook,
    sinks: Mutex<Vec<Weak<dyn TickSink>>>,
    desired: watch::Sender<Vec<String>>,
    notices: broadcast::Sender<FeedNotice>,
    frames: AtomicU64,
    ticks: AtomicU64,
    notice_count: AtomicU64,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("account_id", &self.account_id)
            .field("instruments", &*self.desired.borrow())
            .finish_non_exhaustive()
    }
}

impl Feed {
    pub fn new(account_id: impl Into<String>, instruments: &[String]) -> Arc<Self> {
        let (notices, _) = broadcast::channel(256);
        Arc::new(Self {
            account_id: account_id.into(),
            book: QuoteBook::new(),
            sinks: Mutex::new(Vec::new()),
            desired: watch::Sender::new(dedup(instruments)),
            notices,
            frames: AtomicU64::new(0),
            ticks: AtomicU64::new(0),
            notice_count: AtomicU64::new(0),
        })
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The instruments the user wants streamed.
    pub fn instruments(&self) -> Vec<String> {
        self.desired.borrow().clone()
    }

    /// Changes the subscriptions; the link applies them (now if connected, else at the
    /// next connect). Instruments dropped leave the book.
    pub fn set_instruments(&self, instruments: &[String]) {
        let list = dedup(instruments);
        self.book.retain(&list);
        self.desired.send_if_modified(|cur| {
            if *cur == list {
                false
            } else {
                *cur = list;
                true
            }
        });
    }

    /// The latest price of every instrument.
    pub fn book(&self) -> &QuoteBook {
        &self.book
    }

    pub fn stats(&self) -> FeedStats {
        FeedStats {
            frames: self.frames.load(Ordering::Relaxed),
            ticks: self.ticks.load(Ordering::Relaxed),
            notices: self.notice_count.load(Ordering::Relaxed),
        }
    }

    /// Every tick in order through a queue of `capacity` (the CLI); drop it to detach.
    pub fn tap(&self, capacity: usize) -> Arc<Tap> {
        let tap = Arc::new(Tap::new(capacity));
        self.attach(tap.clone());
        tap
    }

    /// The latest price per instrument at most `max_per_second` times a second (the UI);
    /// drop it to detach.
    pub fn coalesced(&self, max_per_second: u32) -> Arc<Coalescer> {
        let c = Arc::new(Coalescer::new(max_per_second));
        self.attach(c.clone());
        c
    }

    fn attach(&self, sink: Arc<dyn TickSink>) {
        let mut sinks = self.sinks.lock().unwrap_or_else(|e| e.into_inner());
        sinks.retain(|s| s.strong_count() > 0);
        sinks.push(Arc::downgrade(&sink));
    }

    /// Broker notices from now on.
    pub fn notices(&self) -> broadcast::Receiver<FeedNotice> {
        self.notices.subscribe()
    }

    /// Takes one frame's ticks: into the book, then to every consumer.
    pub fn publish(&self, ticks: &[Tick]) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        if ticks.is_empty() {
            return;
        }
        // Ticks of an instrument just removed may still be in flight: drop them, so it
        // does not come back as a frozen row.
        let kept: Option<Vec<Tick>> = {
            let wanted = self.desired.borrow();
            ticks
                .iter()
                .any(|t| !wanted.contains(&t.instrument))
                .then(|| {
                    ticks
                        .iter()
                        .filter(|t| wanted.contains(&t.instrument))
                        .cloned()
                        .collect()
                })
        };
        match kept {
            None => self.publish_wanted(ticks),
            Some(kept) if !kept.is_empty() => self.publish_wanted(&kept),
            Some(_) => {}
        }
    }

    fn publish_wanted(&self, ticks: &[Tick]) {
        self.ticks.fetch_add(ticks.len() as u64, Ordering::Relaxed);
        self.book.apply(ticks);
        let sinks: Vec<Arc<dyn TickSink>> = {
            let sinks = self.sinks.lock().unwrap_or_else(|e| e.into_inner());
            sinks.iter().filter_map(Weak::upgrade).collect()
        };
        for s in sinks {
            s.push(ticks);
        }
    }

    /// Records a broker notice: logged, counted and broadcast.
    pub fn notice(
        &self,
        instrument: Option<String>,
        code: NoticeCode,
        broker_code: Option<String>,
        message: String,
    ) {
        tracing::warn!(account = %self.account_id, instrument = ?instrument, ?code, broker_code = ?broker_code, %message, "price stream notice");
        self.notice_count.fetch_add(1, Ordering::Relaxed);
        let _ = self.notices.send(FeedNotice {
            account_id: self.account_id.clone(),
            instrument,
            code,
            broker_code,
            message,
            at: Utc::now().to_rfc3339(),
        });
    }

    /// Tells every consumer the feed has ended.
    pub fn close(&self) {
        let sinks = self.sinks.lock().unwrap_or_else(|e| e.into_inner());
        for s in sinks.iter().filter_map(Weak::upgrade) {
            s.close();
        }
    }

    fn watch(&self) -> watch::Receiver<Vec<String>> {
        self.desired.subscribe()
    }
}

fn dedup(instruments: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(instruments.len());
    for i in instruments {
        let i = i.trim();
        if !i.is_empty() && !out.iter().any(|o| o == i) {
            out.push(i.to_string());
        }
    }
    out
}

/// An account's price stream as a supervised [`Link`]: connecting opens the stream with
/// the feed's current subscriptions; serving reads frames into the feed, applies
/// subscription changes, and fails when the stream is silent for its silence limit.
pub struct PriceLink {
    broker: Arc<dyn Broker>,
    feed: Arc<Feed>,
    desired: watch::Receiver<Vec<String>>,
    stream: Option<Box<dyn QuoteStream>>,
    current: Vec<String>,
    metrics: Arc<LinkMetrics>,
    events: Vec<StreamEvent>,
    ticks: Vec<Tick>,
}

impl PriceLink {
    pub fn new(broker: Arc<dyn Broker>, feed: Arc<Feed>, metrics: Arc<LinkMetrics>) -> Self {
        let desired = feed.watch();
        Self {
            broker,
            feed,
            desired,
            stream: None,
            current: Vec::new(),
            metrics,
            events: Vec::with_capacity(256),
            ticks: Vec::with_capacity(256),
        }
    }

    fn handle_events(&mut self) {
        let mut heartbeat = false;
        for ev in self.events.drain(..) {
            match ev {
                StreamEvent::Tick(t) => self.ticks.push(t),
                StreamEvent::Heartbeat => heartbeat = true,
                StreamEvent::Notice {
                    instrument,
                    code,
                    broker_code,
                    message,
                } => self.feed.notice(instrument, code, broker_code, message),
            }
        }
        self.metrics.message(heartbeat);
        self.feed.publish(&self.ticks);
        self.ticks.clear();
    }

    async fn apply_subscriptions(&mut self) -> Result<(), BrokerError> {
        let want = self.desired.borrow_and_update().clone();
        let Some(stream) = self.stream.as_mut() else {
            return Ok(());
        };
        let add: Vec<String> = want
            .iter()
            .filter(|i| !self.current.contains(i))
            .cloned()
            .collect();
        let remove: Vec<String> = self
            .current
            .iter()
            .filter(|i| !want.contains(i))
            .cloned()
            .collect();
        if !remove.is_empty() {
            within(OPEN_TIMEOUT, stream.unsubscribe(&remove)).await??;
        }
        if !add.is_empty() {
            within(OPEN_TIMEOUT, stream.subscribe(&add)).await??;
        }
        self.current = want;
        Ok(())
    }
}

#[async_trait]
impl Link for PriceLink {
    async fn connect(&mut self) -> Result<(), BrokerError> {
        if let Some(mut old) = self.stream.take() {
            old.close().await;
        }
        let want = self.desired.borrow_and_update().clone();
        let stream = within(OPEN_TIMEOUT, self.broker.open_quote_stream(&want)).await??;
        self.stream = Some(stream);
        self.current = want;
        Ok(())
    }

    async fn serve(&mut self, cancel: &CancellationToken) -> Result<(), BrokerError> {
        let result = loop {
            let Some(stream) = self.stream.as_mut() else {
                break Err(BrokerError::Network("the price stream is not open".into()));
            };
            let limit = stream.silence_limit();
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break Ok(()),
                changed = self.desired.changed() => {
                    if changed.is_err() {
                        break Ok(());
                    }
                    if let Err(e) = self.apply_subscriptions().await {
                        break Err(e);
                    }
                }
                r = within(limit, stream.read(&mut self.events)) => match r {
                    Ok(Ok(true)) => self.handle_events(),
                    Ok(Ok(false)) => {
                        // Events of the last frame still count.
                        self.handle_events();
                        break Err(BrokerError::Network("the price stream ended".into()));
                    }
                    Ok(Err(e)) | Err(e) => break Err(e),
                },
            }
        };
        if let Some(mut s) = self.stream.take() {
            s.close().await;
        }
        result
    }
}

impl Drop for PriceLink {
    fn drop(&mut self) {
        self.feed.close();
    }
}
