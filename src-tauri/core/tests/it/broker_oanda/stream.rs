//! The pricing stream: prices and heartbeats from the simulator, a cut stream ending, a
//! half-open one going silent (what the heartbeat watchdog must catch), errors before the
//! stream starts, and a hand-written chunked server that splits lines across chunks and
//! sends junk.

use rust_decimal_macros::dec;
use std::time::Duration;

use brokerdesk_core::brokers::oanda::{Oanda, StreamLine};
use brokerdesk_core::brokers::BrokerError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::timeout;

use super::{assert_clean, config, config_at, connector, sim, ACCOUNT, WRONG_TOKEN};

fn pairs() -> Vec<String> {
    vec!["EUR_USD".into(), "USD_JPY".into()]
}

#[tokio::test]
async fn the_stream_sends_a_snapshot_then_prices_and_heartbeats() {
    let sim = sim().await;
    let mut stream = connector(&sim).pricing_stream(&pairs()).await.unwrap();
    let (mut prices, mut heartbeats, mut seen) = (0, 0, Vec::new());
    while heartbeats < 2 || prices < 4 {
        match timeout(Duration::from_secs(2), stream.next())
            .await
            .expect("a line in time")
            .unwrap()
        {
            Some(StreamLine::Price(p)) => {
                prices += 1;
                assert!(p.tradeable && p.bid().unwrap() < p.ask().unwrap(), "{p:?}");
                assert_eq!(
                    p.time.len(),
                    "2016-10-27T08:38:43.094548890Z".len(),
                    "nanoseconds: {}",
                    p.time
                );
                seen.push(p.instrument);
            }
            Some(StreamLine::Heartbeat { time }) => {
                heartbeats += 1;
                assert!(time.ends_with('Z'), "{time}");
            }
            None => panic!("the stream ended"),
        }
    }
    assert_eq!(
        &seen[..2],
        ["EUR_USD", "USD_JPY"],
        "the snapshot comes first"
    );
}

#[tokio::test]
async fn a_cut_stream_ends_with_an_error_or_eof() {
    let sim = sim().await;
    let mut stream = connector(&sim).pricing_stream(&pairs()).await.unwrap();
    assert!(stream.next().await.unwrap().is_some());
    sim.server.faults().cut_streams();
    let end = timeout(Duration::from_secs(2), async {
        loop {
            match stream.next().await {
                Ok(Some(_)) => continue, // lines already in flight
                other => return other,
            }
        }
    })
    .await
    .expect("the stream ends promptly");
    match end {
        Ok(None) => {}
        Err(e) => {
            assert!(matches!(e, BrokerError::Network(_)), "{e:?}");
            assert!(e.retryable());
        }
        Ok(Some(_)) => unreachable!(),
    }
    assert!(matches!(stream.next().await, Ok(None)), "stays ended");
}

#[tokio::test]
async fn errors_arrive_before_the_stream_starts() {
    let sim = sim().await;
    let bad = connector(&sim)
        .pricing_stream(&["EUR_XYZ".to_string()])
        .await
        .unwrap_err();
    assert!(
        matches!(&bad, BrokerError::Rejected { status: 400, message, .. } if message == "Invalid value specified for 'instruments'"),
        "{bad:?}"
    );
    let oanda = Oanda::new(config(&sim, Some(ACCOUNT), WRONG_TOKEN)).unwrap();
    let auth = oanda.pricing_stream(&pairs()).await.unwrap_err();
    assert!(matches!(auth, BrokerError::Auth(_)), "{auth:?}");
    assert_clean(&auth);
}

/// Serves one chunked answer whose chunks split lines anywhere, with junk between them.
async fn chunked_server(chunks: Vec<Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 1024];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut buf).await.unwrap();
            assert!(n > 0, "request ended early");
            req.extend_from_slice(&buf[..n]);
        }
        let head = String::from_utf8_lossy(&req).to_string();
        assert!(
            head.starts_with(&format!(
                "GET /v3/accounts/{ACCOUNT}/pricing/stream?instruments=EUR_USD&snapshot=true "
            )),
            "{head}"
        );
        sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n").await.unwrap();
        for c in chunks {
            sock.write_all(format!("{:x}\r\n", c.len()).as_bytes())
                .await
                .unwrap();
            sock.write_all(&c).await.unwrap();
            sock.write_all(b"\r\n").await.unwrap();
            sock.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        sock.write_all(b"0\r\n\r\n").await.unwrap();
    });
    url
}

#[tokio::test]
async fn lines_split_across_chunks_are_reassembled_and_junk_is_skipped() {
    let price = recorded!("oanda/stream_price_eur_usd.json").as_bytes();
    let junk = [
        b"this is not json\n".to_vec(),
        vec![b'x'; 70 * 1024],
        b"\n".to_vec(),
    ]
    .concat();
    let mut text = price.to_vec();
    text.extend_from_slice(
        b"\n{\"type\":\"HEARTBEAT\",\"time\":\"2026-01-02T03:04:10.000000000Z\"}\n",
    );
    // The junk (a malformed line, then one longer than any line may be) in 4 KiB chunks,
    // the good lines in chunks of 7 bytes: every line is split, some mid-escape.
    let mut chunks: Vec<Vec<u8>> = junk.chunks(4096).map(<[u8]>::to_vec).collect();
    chunks.extend(text.chunks(7).map(<[u8]>::to_vec));
    let url = chunked_server(chunks).await;
    let oanda = Oanda::new(config_at(&url, Some(ACCOUNT), super::DEMO_TOKEN)).unwrap();
    let mut stream = oanda
        .pricing_stream(&["EUR_USD".to_string()])
        .await
        .unwrap();
    let first = timeout(Duration::from_secs(5), stream.next())
        .await
        .unwrap()
        .unwrap();
    match first {
        Some(StreamLine::Price(p)) => {
            assert_eq!(
                (p.instrument.as_str(), p.bid(), p.ask()),
                ("EUR_USD", Some(dec!(1.08501)), Some(dec!(1.08515)))
            );
        }
        other => panic!("expected the price, got {other:?}"),
    }
    let second = timeout(Duration::from_secs(5), stream.next())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(second, Some(StreamLine::Heartbeat { .. })),
        "{second:?}"
    );
    let end = timeout(Duration::from_secs(5), stream.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(end, None, "a clean end of body is EOF");
}
