//! `account_verify` checks stored credentials against the broker (here the OANDA simulator),
//! records the attempt, audits refused credentials, and limits checks per account.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use brokerdesk_core::Code;
use std::sync::Arc;

use brokerdesk_core::accounts::model::{AccountInput, BrokerKind, Environment};
use brokerdesk_core::audit::{AuditEvent, AuditFilter};
use brokerdesk_core::vault::keychain::MemoryKeyStore;
use brokerdesk_core::{Brokerdesk, Decimal, Secret};
use brokerdesk_sim::{oanda, Faults, SimServer};

const TOKEN: &str = "sim-oanda-token-0123456789abcdef";

async fn setup() -> (tempfile::TempDir, Brokerdesk, SimServer) {
    let dir = tempfile::tempdir().unwrap();
    let bd = Brokerdesk::open(dir.path(), Arc::new(MemoryKeyStore::new()))
        .await
        .unwrap();
    bd.init(None).await.unwrap();
    let faults = Faults::new();
    let sim = SimServer::start(
        oanda::router(oanda::SimState::demo(faults.clone())),
        faults,
        0,
    )
    .await
    .unwrap();
    (dir, bd, sim)
}

fn account(name: &str, token: &str, sim: &SimServer) -> AccountInput {
    let mut a = AccountInput::new(name, BrokerKind::Oanda, Environment::Practice);
    a.credentials.api_key = Some(Secret::new(token));
    a.broker_account_id = Some("101-004-1234567-001".into());
    a.rest_url = Some(sim.url());
    a.stream_url = Some(sim.url());
    a
}

#[tokio::test]
async fn verify_reports_the_account_and_audits_refusals() {
    let (_dir, bd, sim) = setup().await;
    let good = bd.account_add(account("Good", TOKEN, &sim)).await.unwrap();
    let summary = bd.account_verify(&good.id).await.unwrap();
    assert_eq!(summary.account_id, "101-004-1234567-001");
    assert_eq!(summary.account_last4, "-001");
    assert!(summary.balance > Decimal::ZERO && summary.equity > Decimal::ZERO);

    let bad = bd
        .account_add(account("Bad", "wrong-token-0123456789", &sim))
        .await
        .unwrap();
    let err = bd.account_verify(&bad.id).await.unwrap_err();
    assert_eq!(err.code, Code::BrokerAuth, "{err}");
    assert!(!err.message.contains("wrong-token"), "{err}");
    let audit = bd
        .audit_list(&AuditFilter {
            events: vec![AuditEvent::ConnectionAuthFailed],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].account_id.as_deref(), Some(bad.id.as_str()));

    // A broker that is down is reported as such (and retrying may help).
    sim.faults()
        .set(Some(brokerdesk_sim::Fault::ServerError(503)));
    assert_eq!(
        bd.account_verify(&good.id).await.unwrap_err().code,
        Code::BrokerUnavailable
    );
}

#[tokio::test]
async fn checks_are_rate_limited_per_account() {
    let (_dir, bd, sim) = setup().await;
    let a = bd.account_add(account("A", TOKEN, &sim)).await.unwrap();
    let b = bd.account_add(account("B", TOKEN, &sim)).await.unwrap();
    for _ in 0..5 {
        bd.account_verify(&a.id).await.unwrap();
    }
    let requests = sim.faults().requests();
    let err = bd.account_verify(&a.id).await.unwrap_err();
    assert_eq!(err.code, Code::VerifyRateLimited);
    assert_eq!(
        sim.faults().requests(),
        requests,
        "a limited check never reaches the broker"
    );
    bd.account_verify(&b.id)
        .await
        .expect("other accounts are not limited");
}

#[tokio::test]
async fn brokers_without_a_connector_say_so() {
    let (_dir, bd, _sim) = setup().await;
    let paper = bd
        .account_add(AccountInput::new(
            "Paper",
            BrokerKind::Paper,
            Environment::Practice,
        ))
        .await
        .unwrap();
    assert_eq!(
        bd.account_verify(&paper.id).await.unwrap_err().code,
        Code::BrokerUnsupported
    );
}

/// A stored key that no longer opens (edited in the file, copied from another profile) is
/// flagged on its account, keeps none of the other accounts from connecting, and is replaced
/// by entering it again: the broker check does not try to open the field being replaced.
#[tokio::test]
async fn a_tampered_stored_key_is_replaced_by_entering_it_again() {
    let (_dir, bd, sim) = setup().await;
    let good = bd.account_add(account("Good", TOKEN, &sim)).await.unwrap();
    let hurt = bd.account_add(account("Hurt", TOKEN, &sim)).await.unwrap();
    sqlx::query(
        "UPDATE account_secrets SET sealed = zeroblob(length(sealed)) WHERE account_id = ?",
    )
    .bind(&hurt.id)
    .execute(bd.store().pool())
    .await
    .unwrap();

    let listed = bd.accounts_list().await.unwrap();
    let flagged = |id: &str| {
        listed.iter().find(|a| a.id == id).unwrap().credentials[0]
            .error
            .is_some()
    };
    assert!(flagged(&hurt.id) && !flagged(&good.id));
    let connectable: Vec<String> = bd
        .connection_configs()
        .await
        .unwrap()
        .into_iter()
        .map(|(a, _)| a.id)
        .collect();
    assert_eq!(
        connectable,
        vec![good.id.clone()],
        "the others still connect"
    );

    let saved = bd
        .account_update_checked(&hurt.id, account("Hurt", TOKEN, &sim), true)
        .await
        .expect("a new key replaces the unreadable one, checked with the broker");
    assert!(matches!(
        saved.check,
        brokerdesk_core::api::CheckOutcome::Verified { .. }
    ));
    let again = bd.account_get(&hurt.id).await.unwrap();
    assert!(again.credentials[0].error.is_none());
    assert_eq!(again.credentials[0].masked, "••••cdef");
}
