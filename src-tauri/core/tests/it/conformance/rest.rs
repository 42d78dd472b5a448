//! The REST failure classes, against every broker of [`BROKERS`].

use std::time::{Duration, Instant};

use brokerdesk_core::accounts::model::BrokerKind;
use brokerdesk_core::brokers::BrokerError;
use brokerdesk_sim::Fault;

use super::{verified, Session, BROKERS};

#[tokio::test]
async fn refused_credentials_are_auth_errors_never_retried() {
    for entry in BROKERS {
        let b = entry.kind;
        let (sim, connector) = verified(entry).await;
        sim.server.faults().set(Some(Fault::RefuseAuth));
        let before = sim.server.faults().requests();
        let e = sim.err(b, connector.positions().await);
        assert!(
            matches!(&e, BrokerError::Auth(m) if entry.refused.matches(m)),
            "{b}: {e:?}"
        );
        assert!(!e.retryable(), "{b}");
        // One request: an auth refusal is never retried (nor "refreshed" into a second try).
        assert_eq!(sim.server.faults().requests() - before, 1, "{b}: retried");
        let e = sim.err(b, connector.verify().await);
        assert!(matches!(e, BrokerError::Auth(_)), "{b}: {e:?}");
        sim.server.faults().set(None);
        connector
            .verify()
            .await
            .expect("works again once the fault clears");

        if let Some((wrong, message)) = entry.wrong_connector(&sim) {
            for e in [
                sim.err(b, wrong.verify().await),
                sim.err(b, wrong.positions().await),
            ] {
                assert!(
                    matches!(&e, BrokerError::Auth(m) if message.matches(m)),
                    "{b}: {e:?}"
                );
                assert!(!e.retryable(), "{b}");
            }
            sim.assert_clean_text(b, &format!("{wrong:?}"));
        }
    }
}

/// For every broker: starts its simulator, checks that the demo credentials work, sets
/// `fault`, and hands `check` the errors of the positions, the open orders and verify, each
/// checked for secrets.
async fn under_fault(fault: Fault, check: impl Fn(BrokerKind, &BrokerError)) {
    for entry in BROKERS {
        let b = entry.kind;
        let (sim, connector) = verified(entry).await;
        sim.server.faults().set(Some(fault.clone()));
        for e in [
            sim.err(b, connector.positions().await),
            sim.err(b, connector.open_orders().await),
            sim.err(b, connector.verify().await),
        ] {
            check(b, &e);
        }
    }
}

#[tokio::test]
async fn a_429_is_rate_limited_with_its_retry_after() {
    let seven = BrokerError::RateLimited {
        retry_after: Some(Duration::from_secs(7)),
    };
    under_fault(
        Fault::RateLimit {
            retry_after_secs: 7,
        },
        |b, e| {
            assert_eq!(e, &seven, "{b}");
            assert!(e.retryable(), "{b}");
        },
    )
    .await;
}

#[tokio::test]
async fn a_5xx_is_unavailable_and_retryable() {
    for status in [500, 502] {
        under_fault(Fault::ServerError(status), |b, e| {
            assert!(
                matches!(e, BrokerError::Unavailable { status: s, .. } if *s == status),
                "{b}: {e:?}"
            );
            assert!(e.retryable(), "{b}");
        })
        .await;
    }
}

#[tokio::test]
async fn a_garbage_body_is_a_protocol_error() {
    under_fault(Fault::Garbage, |b, e| {
        assert!(matches!(e, BrokerError::Protocol(_)), "{b}: {e:?}");
        assert!(!e.retryable(), "{b}");
    })
    .await;
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_a_timeout() {
    for entry in BROKERS {
        let b = entry.kind;
        let mut sim = (entry.start)().await;
        sim.cfg.timeout = Duration::from_millis(200);
        let connector = (entry.connect)(sim.cfg.clone());
        connector.verify().await.expect("the demo credentials work");
        sim.server.faults().set_delay(Duration::from_secs(2));
        let started = Instant::now();
        let e = sim.err(b, connector.verify().await);
        assert_eq!(e, BrokerError::Timeout(Duration::from_millis(200)), "{b}");
        assert!(
            started.elapsed() < Duration::from_millis(1_500),
            "{b}: gave up at the timeout"
        );
        assert!(e.retryable(), "{b}");
    }
}

#[tokio::test]
async fn a_server_that_is_down_or_gone_is_retryable() {
    for entry in BROKERS {
        let b = entry.kind;
        let (sim, connector) = verified(entry).await;
        sim.server.faults().go_down_for(Duration::from_secs(30));
        let e = sim.err(b, connector.verify().await);
        assert!(
            matches!(e, BrokerError::Unavailable { status: 503, .. }),
            "{b}: {e:?}"
        );
        assert!(e.retryable(), "{b}");

        // Gone altogether: the connection is refused.
        let secrets = (sim.secrets)();
        sim.server.shutdown().await;
        let e = connector.verify().await.expect_err("nothing answers");
        for s in secrets.iter().filter(|s| !s.is_empty()) {
            assert!(
                !format!("{e} {e:?}").contains(s),
                "{b}: secret leaked: {e:?}"
            );
        }
        assert!(matches!(e, BrokerError::Network(_)), "{b}: {e:?}");
        assert!(e.retryable(), "{b}");
    }
}

#[tokio::test]
async fn a_bare_404_is_a_protocol_error_not_a_missing_order() {
    // With a wrong REST URL every call 404s without the broker's error body. Reading that
    // as "no such order" would let a caller place the order again.
    for entry in BROKERS {
        let b = entry.kind;
        let Some(wrong_url) = entry.wrong_rest_url else {
            continue;
        };
        let mut sim = (entry.start)().await;
        wrong_url(&mut sim.cfg);
        let connector = (entry.connect)(sim.cfg.clone());
        for e in [
            sim.err(b, connector.get_order_by_client_id("coid-1").await),
            sim.err(b, connector.get_order("123").await),
            sim.err(b, connector.verify().await),
        ] {
            assert!(matches!(e, BrokerError::Protocol(_)), "{b}: {e:?}");
        }
    }
}

#[tokio::test]
async fn an_expired_session_is_renewed_or_reported() {
    for entry in BROKERS {
        let b = entry.kind;
        let (sim, connector) = verified(entry).await;
        sim.server.faults().expire_sessions();
        match entry.session {
            Session::None | Session::Renewed => {
                connector.positions().await.expect("no session to lose");
                connector.verify().await.expect("no session to lose");
            }
            Session::Reported(message) => {
                let e = sim.err(b, connector.verify().await);
                assert!(
                    matches!(&e, BrokerError::Auth(m) if message.matches(m)),
                    "{b}: {e:?}"
                );
                assert!(!e.retryable(), "{b}");
                (sim.log_in_again)();
                connector.verify().await.expect("works after a new login");
            }
        }
    }
}

#[tokio::test]
async fn the_connector_debug_shows_no_secret() {
    for entry in BROKERS {
        let b = entry.kind;
        let (sim, connector) = verified(entry).await;
        let text = format!("{connector:?}");
        sim.assert_clean_text(b, &text);
        assert!(text.contains("127.0.0.1"), "{b}: {text}");
    }
}
