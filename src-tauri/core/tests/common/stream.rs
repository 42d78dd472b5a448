//! Reading a connector's `QuoteStream` in the tests: one reader and one set of event
//! accessors for every broker's stream tests, each broker's module passing its own limit and
//! its own secret check.

use std::time::Duration;

use brokerdesk_core::stream::{NoticeCode, QuoteStream, StreamEvent, Tick};

/// Reads `stream` until `done` holds for everything read so far (asked after each event),
/// `within` at most; every event read passes `check` (a broker's secret check) first.
/// Returns the events read, the last one being the one `done` was waiting for (the rest of
/// its batch is checked, then dropped). Fails if the stream ends or fails first.
pub async fn read_until(
    stream: &mut dyn QuoteStream,
    within: Duration,
    check: impl Fn(&StreamEvent),
    mut done: impl FnMut(&[StreamEvent]) -> bool,
) -> Vec<StreamEvent> {
    let deadline = tokio::time::Instant::now() + within;
    let (mut all, mut batch) = (Vec::new(), Vec::new());
    loop {
        batch.clear();
        let open = tokio::time::timeout_at(deadline, stream.read(&mut batch))
            .await
            .unwrap_or_else(|_| panic!("timed out after {within:?}; read last: {:?}", tail(&all)))
            .unwrap_or_else(|e| panic!("the stream failed: {e:?}"));
        assert!(open, "the stream closed; read last: {:?}", tail(&all));
        batch.iter().for_each(&check);
        for e in batch.drain(..) {
            all.push(e);
            if done(&all) {
                return all;
            }
        }
    }
}

/// [`read_until`] an event satisfies `hit`.
pub async fn read_until_event(
    stream: &mut dyn QuoteStream,
    within: Duration,
    check: impl Fn(&StreamEvent),
    mut hit: impl FnMut(&StreamEvent) -> bool,
) -> Vec<StreamEvent> {
    read_until(stream, within, check, |all| {
        all.last().is_some_and(&mut hit)
    })
    .await
}

/// [`read_until`] `n` ticks satisfying `want` arrived.
pub async fn read_ticks(
    stream: &mut dyn QuoteStream,
    within: Duration,
    check: impl Fn(&StreamEvent),
    n: usize,
    want: impl Fn(&Tick) -> bool,
) -> Vec<StreamEvent> {
    let mut seen = 0;
    read_until_event(stream, within, check, |e| {
        if matches!(e, StreamEvent::Tick(t) if want(t)) {
            seen += 1;
        }
        seen >= n
    })
    .await
}

/// The last few events of `events`, for a failure message.
pub fn tail(events: &[StreamEvent]) -> &[StreamEvent] {
    &events[events.len().saturating_sub(5)..]
}

/// The event as a tick for `instrument`.
pub fn tick_of<'a>(e: &'a StreamEvent, instrument: &str) -> Option<&'a Tick> {
    match e {
        StreamEvent::Tick(t) if t.instrument == instrument => Some(t),
        _ => None,
    }
}

/// The ticks for `instrument` among `events`, in order.
pub fn ticks_for<'a>(
    events: &'a [StreamEvent],
    instrument: &'a str,
) -> impl Iterator<Item = &'a Tick> {
    events.iter().filter_map(move |e| tick_of(e, instrument))
}

/// A notice as (instrument, code, the broker's own code, message).
pub type NoticeParts<'a> = (Option<&'a str>, NoticeCode, Option<&'a str>, &'a str);

/// The event as a notice's parts.
pub fn notice_of(e: &StreamEvent) -> Option<NoticeParts<'_>> {
    match e {
        StreamEvent::Notice {
            instrument,
            code,
            broker_code,
            message,
        } => Some((
            instrument.as_deref(),
            *code,
            broker_code.as_deref(),
            message.as_str(),
        )),
        _ => None,
    }
}

/// The notices among `events`, in order, as their parts.
pub fn notices(events: &[StreamEvent]) -> Vec<NoticeParts<'_>> {
    events.iter().filter_map(notice_of).collect()
}
