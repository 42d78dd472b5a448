//! `stream ID SYMBOL...`: live prices as JSON lines on stdout (the CLI contract; `--text`
//! for aligned text), until --count lines, --seconds, Ctrl-C or a refusal. The feed reconnects and re-subscribes by itself; reconnects and
//! broker notices go to stderr. Lines carry each instrument's merged latest price (a
//! trade-only update still shows the last bid and ask); an instrument is printed once both
//! its bid and ask are known.

use brokerdesk_core::Code;
use std::collections::HashMap;
use std::io::{BufWriter, ErrorKind, Write};
use std::time::Duration;

use brokerdesk_core::connection::{Backoff, ConnState};
use brokerdesk_core::stream::book::merge;
use brokerdesk_core::stream::{NoticeCode, Tick};
use brokerdesk_core::{ApiError, Brokerdesk, Decimal};
use chrono::SecondsFormat;
use tokio::time::Instant;

use super::Ctx;
use crate::args::StreamArgs;
use crate::errors::error;

/// Ticks the printer may fall behind by before it only gets each instrument's latest.
const QUEUE: usize = 1 << 16;

/// Formats timestamps, remembering the last few: a frame's ticks share one receive time and
/// often one exchange time, and formatting is a good part of a line's cost.
#[derive(Default)]
struct Times(Vec<(chrono::DateTime<chrono::Utc>, std::rc::Rc<str>)>);

impl Times {
    fn get(&mut self, t: chrono::DateTime<chrono::Utc>) -> std::rc::Rc<str> {
        if let Some((_, s)) = self.0.iter().find(|(k, _)| *k == t) {
            return s.clone();
        }
        let s: std::rc::Rc<str> = t.to_rfc3339_opts(SecondsFormat::AutoSi, true).into();
        if self.0.len() == 8 {
            self.0.remove(0);
        }
        self.0.push((t, s.clone()));
        s
    }
}

/// Writes one JSON line by hand: prices and sizes are JSON numbers written with the decimal's
/// own digits (`1.08235`, never a float's rounding), straight into the buffer, with no
/// allocation per tick. Keys and order are the CLI's contract:
/// `{"instrument","bid","ask","last"?,"bidSize"?,"askSize"?,"lastSize"?,"time","receivedAt"}`.
fn write_json_line(
    out: &mut impl Write,
    t: &Tick,
    bid: Decimal,
    ask: Decimal,
    time: &str,
    received_at: &str,
) -> std::io::Result<()> {
    out.write_all(b"{\"instrument\":")?;
    serde_json::to_writer(&mut *out, t.instrument.as_str()).map_err(std::io::Error::other)?;
    // `Display` for a decimal is plain notation (no exponent): a valid JSON number.
    write!(out, ",\"bid\":{bid},\"ask\":{ask}")?;
    for (key, value) in [
        ("last", t.last),
        ("bidSize", t.bid_size),
        ("askSize", t.ask_size),
        ("lastSize", t.last_size),
    ] {
        if let Some(v) = value {
            write!(out, ",\"{key}\":{v}")?;
        }
    }
    // RFC 3339 timestamps hold nothing JSON would escape.
    writeln!(
        out,
        ",\"time\":\"{time}\",\"receivedAt\":\"{received_at}\"}}"
    )
}

fn write_tick(
    out: &mut impl Write,
    t: &Tick,
    json: bool,
    times: &mut Times,
) -> std::io::Result<bool> {
    let (Some(bid), Some(ask)) = (t.bid, t.ask) else {
        return Ok(false);
    };
    let time = times.get(t.exchange_time.unwrap_or(t.received_at));
    if json {
        let received_at = times.get(t.received_at);
        write_json_line(out, t, bid, ask, &time, &received_at)?;
    } else {
        let last = t.last.map(|l| format!("  last {l}")).unwrap_or_default();
        writeln!(
            out,
            "{time}  {:<12} bid {bid}  ask {ask}{last}",
            t.instrument
        )?;
    }
    Ok(true)
}

fn stderr_line(json: bool, kind: &str, value: serde_json::Value, text: String) {
    if json {
        eprintln!("{}", serde_json::json!({ kind: value }));
    } else {
        eprintln!("{text}");
    }
}

pub async fn stream(bd: &Brokerdesk, ctx: &mut Ctx, a: StreamArgs) -> Result<(), ApiError> {
    if a.count == Some(0) {
        return Ok(());
    }
    if let Some(s) = a.seconds {
        if !(s.is_finite() && s > 0.0) {
            return Err(error(Code::Usage, "--seconds must be a positive number"));
        }
    }
    ctx.unlock(bd).await?;
    let session = bd
        .stream_open(&a.id, &a.symbols, Backoff::default())
        .await?;
    let tap = session.feed.tap(QUEUE);
    let mut notices = session.notices;
    let mut state = session.connection.watch();
    let (mut seen_changes, _) = session.connection.changes_since(u64::MAX);
    let wanted = session.feed.instruments();
    let deadline = a
        .seconds
        .map(|s| Instant::now() + Duration::from_secs_f64(s.min(1e9)));
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut latest: HashMap<String, Tick> = HashMap::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut batch: Vec<Tick> = Vec::with_capacity(1024);
    let mut printed: u64 = 0;
    let mut times = Times::default();
    let limit = a.count.unwrap_or(u64::MAX);
    let json_lines = !a.text;
    // One Ctrl-C future for the whole run: a signal that lands while a batch is being
    // written is still seen.
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    let result: Result<(), ApiError> = loop {
        tokio::select! {
            biased;
            _ = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => break Ok(()),
            _ = &mut interrupted => break Ok(()),
            changed = state.changed() => {
                if changed.is_err() {
                    break Ok(());
                }
                state.borrow_and_update();
                // Every change since the last look, not only the latest state: a reconnect
                // that came and went while this loop was busy is still told.
                let (total, news) = session.connection.changes_since(seen_changes);
                seen_changes = total;
                let mut failed = None;
                for change in news {
                    match change.state {
                        ConnState::Failed { code, reason } => failed = Some(error(code, reason)),
                        ConnState::Reconnecting { attempt, next_retry_ms, last_error } => stderr_line(
                            ctx.json,
                            "reconnecting",
                            serde_json::json!({ "attempt": attempt, "nextRetryMs": next_retry_ms, "reason": last_error }),
                            format!("reconnecting (attempt {attempt}, next try in {next_retry_ms} ms): {last_error}"),
                        ),
                        _ => {}
                    }
                }
                if let Some(e) = failed {
                    break Err(e);
                }
            }
            n = notices.recv() => {
                let Ok(n) = n else { continue };
                stderr_line(
                    ctx.json,
                    "notice",
                    serde_json::to_value(&n).unwrap_or_default(),
                    format!("notice{}: {}", n.instrument.as_deref().map(|i| format!(" ({i})")).unwrap_or_default(), n.message),
                );
                if let Some(i) = n.instrument.filter(|i| wanted.contains(i)) {
                    if n.code == NoticeCode::UnknownInstrument && !unknown.contains(&i) {
                        unknown.push(i);
                    }
                    if unknown.len() == wanted.len() {
                        break Err(error(
                            Code::StreamUnknownInstrument,
                            format!("the broker offers none of the instruments asked for: {}", unknown.join(", ")),
                        ));
                    }
                }
            }
            more = tap.recv(&mut batch) => {
                if !more {
                    break Ok(());
                }
                let mut done = false;
                let mut failed = None;
                for t in batch.drain(..) {
                    if done {
                        continue;
                    }
                    let merged = match latest.get_mut(t.instrument.as_str()) {
                        Some(slot) => {
                            merge(slot, &t);
                            &*slot
                        }
                        None => latest.entry(t.instrument.clone()).or_insert(t),
                    };
                    match write_tick(&mut out, merged, json_lines, &mut times) {
                        Ok(true) => {
                            printed += 1;
                            done = printed >= limit;
                        }
                        Ok(false) => {}
                        Err(e) if e.kind() == ErrorKind::BrokenPipe => done = true,
                        Err(e) => {
                            failed = Some(e);
                            done = true;
                        }
                    }
                }
                if let Some(e) = failed {
                    break Err(error(Code::Io, format!("cannot write to stdout: {e}")));
                }
                match out.flush() {
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::BrokenPipe => break Ok(()),
                    Err(e) => break Err(error(Code::Io, format!("cannot write to stdout: {e}"))),
                }
                if done {
                    break Ok(());
                }
            }
        }
    };
    let _ = out.flush();
    drop(out);
    let dropped = tap.dropped();
    session.connection.shutdown().await;
    if dropped > 0 {
        stderr_line(
            ctx.json,
            "dropped",
            serde_json::json!({ "ticks": dropped }),
            format!("{dropped} intermediate ticks were skipped because stdout was slower than the feed (the latest of each instrument was kept)"),
        );
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<Decimal> {
        s.parse().ok()
    }

    #[test]
    fn json_lines_carry_the_decimals_exact_digits_as_numbers() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-01-05T15:00:00.123Z")
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default();
        let mut t = Tick::new("EUR_\"USD", at);
        (t.bid, t.ask, t.bid_size) = (d("1.08230"), d("1.082351"), d("1000000"));
        let mut out = Vec::new();
        let mut times = Times::default();
        assert!(matches!(
            write_tick(&mut out, &t, true, &mut times),
            Ok(true)
        ));
        let line = String::from_utf8(out).unwrap_or_default();
        assert_eq!(
            line,
            "{\"instrument\":\"EUR_\\\"USD\",\"bid\":1.08230,\"ask\":1.082351,\"bidSize\":1000000,\"time\":\"2026-01-05T15:00:00.123Z\",\"receivedAt\":\"2026-01-05T15:00:00.123Z\"}\n"
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        assert!(v["bid"].is_number() && v["bidSize"].is_number(), "{v}");
        // Without both sides there is no line.
        t.ask = None;
        let mut out = Vec::new();
        assert!(matches!(
            write_tick(&mut out, &t, true, &mut times),
            Ok(false)
        ));
        assert!(out.is_empty());
    }
}
