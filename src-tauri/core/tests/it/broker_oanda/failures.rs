//! OANDA's own failure cases: an account the token does not reach, and configuration
//! mistakes caught before any call. The failure classes every broker shares (401, 429, 5xx,
//! garbage, timeouts, down) are in `conformance/`.

use brokerdesk_core::accounts::model::{BrokerKind, Environment};
use brokerdesk_core::brokers::oanda::Oanda;
use brokerdesk_core::brokers::{Broker, BrokerError, ConnectorConfig};
use brokerdesk_sim::oanda::DEMO_TOKEN;

use super::{config, sim, ACCOUNT};

#[tokio::test]
async fn an_unknown_account_is_not_found() {
    let sim = sim().await;
    let oanda = Oanda::new(config(&sim, Some("101-004-1234567-999"), DEMO_TOKEN)).unwrap();
    let e = oanda.verify().await.unwrap_err();
    assert!(matches!(e, BrokerError::NotFound(_)), "{e:?}");
}

#[test]
fn configuration_mistakes_fail_before_any_call() {
    let url = "http://127.0.0.1:9";
    let mut cfg = super::config_at(url, Some(ACCOUNT), DEMO_TOKEN);
    cfg.api_key = None;
    assert!(matches!(Oanda::new(cfg), Err(BrokerError::Config(_))));
    let blank = super::config_at(url, Some(ACCOUNT), "   ");
    assert!(matches!(Oanda::new(blank), Err(BrokerError::Config(_))));
    // A config is refused on an endpoint outside the policy (whatever the database says),
    // and the connector refuses one that slipped past.
    let refused = ConnectorConfig::new(
        BrokerKind::Oanda,
        Environment::Practice,
        Some(ACCOUNT.into()),
        Some("ftp://example.com"),
        None,
    );
    assert!(
        matches!(refused, Err(BrokerError::Config(_))),
        "{refused:?}"
    );
    for plain in ["http://10.0.0.5/v3", "http://evil.example"] {
        let refused = ConnectorConfig::new(
            BrokerKind::Oanda,
            Environment::Practice,
            Some(ACCOUNT.into()),
            Some(plain),
            None,
        );
        assert!(
            matches!(&refused, Err(BrokerError::Config(m)) if m.contains("only for this machine")),
            "{refused:?}"
        );
    }
    let mut bad_url = super::config_at(url, Some(ACCOUNT), DEMO_TOKEN);
    bad_url.rest_url = "ftp://example.com".into();
    assert!(matches!(Oanda::new(bad_url), Err(BrokerError::Config(_))));
    let newline = super::config_at(url, Some(ACCOUNT), "tok\nen-0123456789");
    let e = Oanda::new(newline).unwrap_err();
    assert!(
        matches!(e, BrokerError::Config(_)) && !e.to_string().contains("tok\nen"),
        "{e:?}"
    );
}
