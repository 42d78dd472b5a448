//! Alpaca's own failure cases: configuration errors, a rate limit whose delay comes from
//! `X-Ratelimit-Reset`, pasted credentials. The failure classes every broker shares (401,
//! 429, 5xx, garbage, timeouts, down, bare 404) are in `conformance/`.

use brokerdesk_core::brokers::alpaca::Alpaca;
use brokerdesk_core::brokers::{Broker, BrokerError};
use brokerdesk_core::Secret;

use super::{config, connector, err, sim, KEY, SECRET};

#[tokio::test]
async fn missing_credentials_or_another_account_are_config_errors() {
    let (server, _state) = sim().await;
    let no_secret = config(&server, KEY, SECRET).with_credentials(Some(Secret::new(KEY)), None);
    assert!(matches!(
        err(Alpaca::new(no_secret)),
        BrokerError::Config(_)
    ));
    let blank_key = config(&server, "  ", SECRET);
    assert!(matches!(
        err(Alpaca::new(blank_key)),
        BrokerError::Config(_)
    ));
    let newline = config(&server, "PK\nINJECTED", SECRET);
    assert!(matches!(err(Alpaca::new(newline)), BrokerError::Config(_)));

    let mut other = config(&server, KEY, SECRET);
    other.account_id = Some("PA9999999999".into());
    let e = err(Alpaca::new(other).unwrap().verify().await);
    assert!(
        matches!(&e, BrokerError::Config(m) if m.contains("0042") && m.contains("9999")),
        "{e:?}"
    );
}

#[tokio::test]
async fn enforced_rate_limit_takes_its_delay_from_the_reset_header() {
    let (server, state) = sim().await;
    let alpaca = connector(&server);
    state.set_rate_limit(2, true);
    alpaca.verify().await.unwrap();
    alpaca.verify().await.unwrap();
    match err(alpaca.verify().await) {
        BrokerError::RateLimited {
            retry_after: Some(d),
        } => assert!((1..=60).contains(&d.as_secs())),
        e => panic!("expected RateLimited with a delay, got {e:?}"),
    }
    assert_eq!(alpaca.rate_limit().map(|r| r.remaining), Some(0));
}

#[tokio::test]
async fn pasted_credentials_with_surrounding_whitespace_work() {
    let (server, _state) = sim().await;
    let cfg = config(&server, &format!(" {KEY}\n"), &format!("{SECRET}\r\n"));
    Alpaca::new(cfg).unwrap().verify().await.unwrap();
}
