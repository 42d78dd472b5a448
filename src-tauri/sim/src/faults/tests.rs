//! The order faults on the wire, read with a raw HTTP/1.1 client: a cut connection never
//! carries an answer, a 500 after accept or a slow answer still books the order, a 500
//! before accept books nothing, a refusal is never cut, and the random mode is seeded.

use std::time::{Duration, Instant};

use axum::handler::Handler;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{note_order, order_gate, Faults, OrderFault, RandomOrderFaults};
use crate::SimServer;

/// Books every order whose client id (the body) is not `bad`; refuses `bad` with a 422.
async fn start() -> SimServer {
    let faults = Faults::new();
    let gate = from_fn_with_state(faults.clone(), order_gate);
    let handler = |body: String| async move {
        let id = body.trim().to_string();
        if id == "bad" {
            let r: Response = (axum::http::StatusCode::UNPROCESSABLE_ENTITY, "no").into_response();
            return note_order(r, Some(&id), false);
        }
        note_order("booked".into_response(), Some(&id), true)
    };
    let router = Router::new().route("/orders", post(handler.layer(gate)));
    SimServer::start(router, faults, 0).await.unwrap()
}

/// Posts `id`; returns what came back before the connection closed (empty when nothing did)
/// and how long it took.
async fn place(s: &SimServer, id: &str) -> (String, Duration) {
    let t0 = Instant::now();
    let mut sock = TcpStream::connect(s.addr()).await.unwrap();
    let req = format!(
        "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{id}",
        id.len()
    );
    sock.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    // A cut connection ends with a reset: whatever arrived before it is the answer.
    let _ = sock.read_to_end(&mut out).await;
    (String::from_utf8_lossy(&out).into_owned(), t0.elapsed())
}

#[tokio::test]
async fn accepted_then_cut_books_the_order_and_sends_no_answer() {
    let s = start().await;
    s.faults().set_order_fault(Some(OrderFault::AcceptThenCut));
    let (answer, _) = place(&s, "c1").await;
    assert_eq!(answer, "", "a cut connection carries no answer");
    assert_eq!(s.faults().booked_client_ids(), ["c1"]);
    assert_eq!(s.faults().order_stats().cut_after_accept, 1);
    // A refusal is answered as it is: nothing was booked, so nothing is cut.
    let (answer, _) = place(&s, "bad").await;
    assert!(answer.starts_with("HTTP/1.1 422"), "{answer}");
    // The next connection is served as usual once the fault is cleared.
    s.faults().set_order_fault(None);
    let (answer, _) = place(&s, "c2").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(s.faults().order_requests(), 3);
    assert_eq!(s.faults().submitted_client_ids(), ["c1", "bad", "c2"]);
    assert_eq!(s.faults().booked_client_ids(), ["c1", "c2"]);
}

#[tokio::test]
async fn a_500_after_accept_books_and_a_500_before_accept_does_not() {
    let s = start().await;
    s.faults().set_order_fault(Some(OrderFault::AcceptThen500));
    let (answer, _) = place(&s, "after").await;
    assert!(answer.starts_with("HTTP/1.1 500"), "{answer}");
    s.faults().set_order_fault(Some(OrderFault::RefuseWith500));
    let (answer, _) = place(&s, "before").await;
    assert!(answer.starts_with("HTTP/1.1 500"), "{answer}");
    assert_eq!(s.faults().booked_client_ids(), ["after"]);
    // The request refused before the handler ran is counted, its id unknown.
    assert_eq!(s.faults().order_requests(), 2);
    assert_eq!(s.faults().submitted_client_ids(), ["after"]);
    let st = s.faults().order_stats();
    assert_eq!((st.error_after_accept, st.error_before_accept), (1, 1));
}

#[tokio::test]
async fn a_slow_accept_books_at_once_and_answers_late() {
    let s = start().await;
    s.faults()
        .set_order_fault(Some(OrderFault::SlowAccept(Duration::from_millis(300))));
    let faults = s.faults().clone();
    let late = tokio::spawn({
        let addr = s.addr();
        async move {
            let t0 = Instant::now();
            let mut sock = TcpStream::connect(addr).await.unwrap();
            sock.write_all(b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nslow")
                .await
                .unwrap();
            let mut out = String::new();
            sock.read_to_string(&mut out).await.unwrap();
            (out, t0.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        faults.booked_client_ids(),
        ["slow"],
        "booked before the answer"
    );
    let (answer, took) = late.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(took >= Duration::from_millis(300), "{took:?}");
}

#[tokio::test]
async fn random_faults_follow_the_seed() {
    let draw = |seed: u64| async move {
        let s = start().await;
        let mode = RandomOrderFaults::new(seed, Duration::from_millis(1));
        s.faults().set_order_fault(Some(OrderFault::Random(mode)));
        let mut answers = Vec::new();
        for i in 0..100 {
            let (a, _) = place(&s, &format!("o{i}")).await;
            answers.push(a.lines().next().unwrap_or("").to_string());
        }
        (answers, s.faults().order_stats())
    };
    let (a, stats) = draw(7).await;
    let (b, _) = draw(7).await;
    let (c, _) = draw(8).await;
    assert_eq!(a, b, "the same seed draws the same faults");
    assert_ne!(a, c, "another seed draws others");
    assert_eq!(stats.requests, 100);
    let faulted = stats.cut_after_accept
        + stats.error_after_accept
        + stats.error_before_accept
        + stats.slow_accept;
    // Four faults in five, each about a fifth.
    assert!((60..=95).contains(&faulted), "{stats:?}");
    for n in [
        stats.cut_after_accept,
        stats.error_after_accept,
        stats.error_before_accept,
        stats.slow_accept,
    ] {
        assert!((8..=35).contains(&n), "{stats:?}");
    }
}
