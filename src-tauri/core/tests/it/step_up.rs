//! Step-up is enforced in the core, not only in the UI: with two-factor on, every sensitive
//! change is refused without a verification in the last 15 minutes, changes nothing when
//! refused, and is audited when done. Codes come from an independent RFC 6238 implementation.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code: a failed expectation is the test failing

use brokerdesk_core::Code;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use crate::common::{base32_decode, phone_code_at as phone_code};
use brokerdesk_core::accounts::model::{
    AccountInput, AccountStatus, BrokerKind, Environment, TradingMode,
};
use brokerdesk_core::audit::{AuditEvent, AuditFilter};
use brokerdesk_core::vault::keychain::NoKeychain;
use brokerdesk_core::{Brokerdesk, Secret};
use chrono::{TimeZone, Utc};

const PASSWORD: &str = "correct horse battery staple";

fn oanda(name: &str, token: &str) -> AccountInput {
    let mut a = AccountInput::new(name, BrokerKind::Oanda, Environment::Practice);
    a.credentials.api_key = Some(Secret::new(token));
    a
}

#[tokio::test]
async fn sensitive_changes_need_a_fresh_code() {
    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicI64::new(1_900_000_000));
    let n2 = now.clone();
    let bd = Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
        .await
        .unwrap()
        .with_twofa_clock(Arc::new(move || {
            Utc.timestamp_opt(n2.load(Ordering::SeqCst), 0).unwrap()
        }));
    bd.init(Some(Secret::new(PASSWORD))).await.unwrap();
    let paper = bd
        .account_add(AccountInput::new(
            "Paper",
            BrokerKind::Paper,
            Environment::Practice,
        ))
        .await
        .unwrap();
    let fx = bd
        .account_add(oanda("FX", "token-before-2fa-0123456789"))
        .await
        .unwrap();

    // Turn 2FA on, then let the step-up window from enabling expire.
    let setup = bd.twofa_setup().await.unwrap();
    let secret = base32_decode(&setup.secret);
    let t = || now.load(Ordering::SeqCst);
    let backup = bd.twofa_enable(&phone_code(&secret, t())).await.unwrap();
    now.fetch_add(16 * 60, Ordering::SeqCst);

    let refused = |e: brokerdesk_core::ApiError| assert_eq!(e.code, Code::StepUpRequired, "{e}");
    // Storing credentials on a new account.
    refused(
        bd.account_add(oanda("FX 2", "token-refused-0123456789"))
            .await
            .unwrap_err(),
    );
    // Rotating credentials.
    let mut rotate = AccountInput::from_account(&fx);
    rotate.credentials.api_key = Some(Secret::new("token-rotated-0123456789"));
    refused(bd.account_update(&fx.id, rotate.clone()).await.unwrap_err());
    // Deleting an account.
    refused(bd.account_remove(&paper.id).await.unwrap_err());
    // Changing the master password.
    refused(
        bd.change_password(
            Some(Secret::new(PASSWORD)),
            Secret::new("another long password"),
        )
        .await
        .unwrap_err(),
    );
    // Switching to live.
    refused(
        bd.account_set_mode(&fx.id, TradingMode::Live)
            .await
            .unwrap_err(),
    );
    // Regenerating backup codes, disabling 2FA. (Purging credentials is an emergency action
    // that needs no code: `emergency_actions_need_no_code_even_during_a_lockout`.)
    refused(bd.twofa_regenerate_backup_codes().await.unwrap_err());
    refused(bd.twofa_disable().await.unwrap_err());

    // Nothing changed.
    let list = bd.accounts_list().await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list.iter().find(|a| a.id == fx.id).unwrap().credentials,
        fx.credentials
    );
    // A change without credentials is not sensitive.
    let mut rename = AccountInput::from_account(&paper);
    rename.name = "Paper renamed".into();
    bd.account_update(&paper.id, rename).await.unwrap();

    // One verification opens the window for all of them (in this process).
    bd.twofa_verify(&phone_code(&secret, t())).await.unwrap();
    bd.account_update(&fx.id, rotate).await.unwrap();
    // With a fresh step-up, live is still refused until a connection is verified.
    assert_eq!(
        bd.account_set_mode(&fx.id, TradingMode::Live)
            .await
            .unwrap_err()
            .code,
        Code::LiveNeedsVerifiedConnection
    );
    assert_eq!(
        bd.account_set_mode(&fx.id, TradingMode::Paper)
            .await
            .unwrap()
            .mode,
        TradingMode::Paper
    );
    bd.account_remove(&paper.id).await.unwrap();
    let report = bd.credentials_purge().await.unwrap();
    assert_eq!((report.accounts, report.credentials_deleted), (1, 1));
    let list = bd.accounts_list().await.unwrap();
    assert!(list[0].credentials.is_empty());

    // The window closes after 15 minutes; a backup code reopens it.
    now.fetch_add(15 * 60 + 1, Ordering::SeqCst);
    refused(bd.twofa_disable().await.unwrap_err());
    bd.twofa_verify(&backup.codes[0]).await.unwrap();
    bd.twofa_status()
        .await
        .unwrap()
        .step_up_until
        .expect("window open");
    // Locking revokes the window.
    bd.lock().await.unwrap();
    bd.unlock(Some(Secret::new(PASSWORD))).await.unwrap();
    refused(bd.twofa_disable().await.unwrap_err());
    bd.twofa_verify(&backup.codes[2]).await.unwrap();
    bd.twofa_disable().await.unwrap();
    assert!(!bd.twofa_status().await.unwrap().enabled);

    // The audit log holds it all, chained, with no secret in it.
    let entries = bd.audit_list(&AuditFilter::default()).await.unwrap();
    let events: Vec<AuditEvent> = entries.iter().map(|e| e.event).collect();
    for e in [
        AuditEvent::VaultCreated,
        AuditEvent::AccountCreated,
        AuditEvent::CredentialsStored,
        AuditEvent::TwofaSetupStarted,
        AuditEvent::TwofaEnabled,
        AuditEvent::TwofaVerified,
        AuditEvent::CredentialsRotated,
        AuditEvent::AccountRemoved,
        AuditEvent::CredentialsPurged,
        AuditEvent::BackupCodeUsed,
        AuditEvent::TwofaDisabled,
    ] {
        assert!(events.contains(&e), "missing {e:?} in {events:?}");
    }
    assert!(bd.audit_verify().await.unwrap().ok);
    let json = serde_json::to_string(&entries).unwrap();
    for s in [
        "token-before-2fa",
        "token-rotated",
        PASSWORD,
        &setup.secret,
        &backup.codes[0],
    ] {
        assert!(!json.contains(s), "the audit log must not contain {s}");
    }
    bd.close().await;
    let db = std::fs::read(dir.path().join("brokerdesk.db")).unwrap();
    for s in [
        "token-before-2fa",
        "token-rotated",
        PASSWORD,
        &setup.secret,
        &backup.codes[1],
    ] {
        assert!(
            !db.windows(s.len()).any(|w| w == s.as_bytes()),
            "the database must not contain {s}"
        );
    }
}

#[tokio::test]
async fn failed_unlocks_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let bd = Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
        .await
        .unwrap();
    bd.init(Some(Secret::new(PASSWORD))).await.unwrap();
    bd.lock().await.unwrap();
    assert_eq!(
        bd.unlock(Some(Secret::new("wrong password!")))
            .await
            .unwrap_err()
            .code,
        Code::WrongPassword
    );
    bd.unlock(Some(Secret::new(PASSWORD))).await.unwrap();
    let events: Vec<AuditEvent> = bd
        .audit_list(&AuditFilter::default())
        .await
        .unwrap()
        .iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(
        events,
        vec![
            AuditEvent::VaultUnlocked,
            AuditEvent::VaultUnlockFailed,
            AuditEvent::VaultLocked,
            AuditEvent::VaultCreated
        ]
    );
    // While locked, the audit log is not readable.
    bd.lock().await.unwrap();
    assert_eq!(
        bd.audit_list(&AuditFilter::default())
            .await
            .unwrap_err()
            .code,
        Code::Locked
    );
}

/// Every operation the guard knows as sensitive ([`Sensitive::ALL`]) is refused without a
/// fresh code and changes nothing. The match has no wildcard: a new sensitive operation does
/// not compile here until it is tried.
#[tokio::test]
async fn every_sensitive_operation_is_guarded() {
    use brokerdesk_core::api::guard::Sensitive;

    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicI64::new(1_900_000_000));
    let n2 = now.clone();
    let bd = Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
        .await
        .unwrap()
        .with_twofa_clock(Arc::new(move || {
            Utc.timestamp_opt(n2.load(Ordering::SeqCst), 0).unwrap()
        }));
    bd.init(Some(Secret::new(PASSWORD))).await.unwrap();
    // Suspended, with a quantity limit: reactivating it and dropping the limit are sensitive.
    let mut fx_input = oanda("FX", "token-before-2fa-0123456789");
    fx_input.risk.max_qty = Some(brokerdesk_core::Decimal::TEN);
    fx_input.status = AccountStatus::Suspended;
    let fx = bd.account_add(fx_input).await.unwrap();
    // An IBKR gateway on this machine over https: its certificate is pinned.
    let mut ib = AccountInput::new("IB", BrokerKind::Ibkr, Environment::Practice);
    ib.broker_account_id = Some("DU1234567".into());
    ib.rest_url = Some("https://localhost:5000/v1/api".into());
    let ib = bd.account_add(ib).await.unwrap();
    let setup = bd.twofa_setup().await.unwrap();
    let secret = base32_decode(&setup.secret);
    bd.twofa_enable(&phone_code(&secret, now.load(Ordering::SeqCst)))
        .await
        .unwrap();
    now.fetch_add(16 * 60, Ordering::SeqCst);
    let audit_before = bd.audit_list(&AuditFilter::default()).await.unwrap().len();

    for op in Sensitive::ALL {
        if op.is_emergency() {
            // Tried in `emergency_actions_need_no_code_even_during_a_lockout`.
            continue;
        }
        let result = match op {
            Sensitive::StoreCredentials => bd
                .account_add(oanda("FX 2", "token-refused-0123456789"))
                .await
                .map(drop),
            Sensitive::MoveCredentials => {
                let mut moved = AccountInput::from_account(&fx);
                moved.rest_url = Some("https://elsewhere.example.com".into());
                bd.account_update(&fx.id, moved).await.map(drop)
            }
            Sensitive::RemoveAccount => bd.account_remove(&fx.id).await.map(drop),
            Sensitive::SwitchToLive => bd
                .account_set_mode(&fx.id, TradingMode::Live)
                .await
                .map(drop),
            Sensitive::ChangePassword => bd
                .change_password(
                    Some(Secret::new(PASSWORD)),
                    Secret::new("another long password"),
                )
                .await
                .map(drop),
            Sensitive::PurgeCredentials => bd.credentials_purge().await.map(drop),
            Sensitive::DisableTwofa => bd.twofa_disable().await.map(drop),
            Sensitive::RegenerateBackupCodes => bd.twofa_regenerate_backup_codes().await.map(drop),
            Sensitive::LoosenRisk => {
                let mut looser = AccountInput::from_account(&fx);
                looser.risk.max_qty = None;
                bd.account_update(&fx.id, looser).await.map(drop)
            }
            Sensitive::ReactivateAccount => bd
                .account_set_status(&fx.id, AccountStatus::Active, None)
                .await
                .map(drop),
            Sensitive::TrustCertificate => bd
                .account_trust_certificate(&ib.id, &"AB:".repeat(32)[..95])
                .await
                .map(drop),
            Sensitive::SetBackupPassphrase => bd
                .backup_set_passphrase(Secret::new("a backup passphrase"))
                .await
                .map(drop),
            Sensitive::ExportCredentials => bd
                .config_export_with_credentials(&[], Secret::new("a long export passphrase"))
                .await
                .map(drop),
        };
        let err = result.expect_err(&format!("{op:?} went through without a code"));
        assert_eq!(err.code, Code::StepUpRequired, "{op:?}: {err}");
    }

    // Nothing changed: the account, its credentials, 2FA, and no audit entry but failures.
    let list = bd.accounts_list().await.unwrap();
    assert_eq!(list.len(), 2);
    let fx_now = list.iter().find(|a| a.id == fx.id).unwrap();
    assert_eq!(fx_now.credentials, fx.credentials);
    assert_eq!(fx_now.rest_url, fx.rest_url);
    assert_eq!(fx_now.mode, TradingMode::Paper);
    let ib_now = list.iter().find(|a| a.id == ib.id).unwrap();
    assert_eq!(
        ib_now.tls_pin, None,
        "a certificate was trusted without a code"
    );
    assert!(bd.twofa_status().await.unwrap().enabled);
    assert!(!bd.backup_status().await.unwrap().passphrase_set);
    let audit_after = bd.audit_list(&AuditFilter::default()).await.unwrap();
    assert_eq!(
        audit_after.len(),
        audit_before,
        "a refused change was audited as done"
    );
    bd.close().await;
}

/// A lockout caused on purpose (wrong codes) blocks every sensitive change, but not the
/// emergency actions: the kill switch and the credential purge need no code at all.
#[tokio::test]
async fn emergency_actions_need_no_code_even_during_a_lockout() {
    use brokerdesk_core::api::guard::Sensitive;

    let dir = tempfile::tempdir().unwrap();
    let bd = Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
        .await
        .unwrap();
    bd.init(Some(Secret::new(PASSWORD))).await.unwrap();
    let fx = bd
        .account_add(oanda("FX", "token-emergency-0123456789"))
        .await
        .unwrap();
    let setup = bd.twofa_setup().await.unwrap();
    let secret = base32_decode(&setup.secret);
    bd.twofa_enable(&phone_code(&secret, Utc::now().timestamp()))
        .await
        .unwrap();
    bd.lock().await.unwrap();
    bd.ensure_unlocked(Some(Secret::new(PASSWORD)))
        .await
        .unwrap();
    let mut last = None;
    for _ in 0..5 {
        last = bd.twofa_verify("000000").await.err();
    }
    assert_eq!(last.map(|e| e.code), Some(Code::TwofaLockedOut));
    assert_eq!(
        bd.account_remove(&fx.id).await.unwrap_err().code,
        Code::StepUpRequired
    );
    assert!(Sensitive::ALL.iter().filter(|o| o.is_emergency()).count() == 1);
    let report = bd
        .credentials_purge()
        .await
        .expect("the purge needs no code");
    assert_eq!(report.credentials_deleted, 1);
    assert!(bd.accounts_list().await.unwrap()[0].credentials.is_empty());
    // (The kill switch is not a sensitive operation at all: `risk::kill_switch_*` runs it with
    // 2FA on and no code.)
    bd.close().await;
}

/// An IBKR account stores no secret (the session lives at the gateway), yet pointing it at
/// another gateway redirects a logged-in session: that needs the step-up too.
#[tokio::test]
async fn moving_an_ibkr_gateway_needs_a_fresh_code() {
    let dir = tempfile::tempdir().unwrap();
    let now = Arc::new(AtomicI64::new(1_900_000_000));
    let n2 = now.clone();
    let bd = Brokerdesk::open(dir.path(), Arc::new(NoKeychain))
        .await
        .unwrap()
        .with_twofa_clock(Arc::new(move || {
            Utc.timestamp_opt(n2.load(Ordering::SeqCst), 0).unwrap()
        }));
    bd.init(Some(Secret::new(PASSWORD))).await.unwrap();
    let mut ib = AccountInput::new("IB", BrokerKind::Ibkr, Environment::Practice);
    ib.broker_account_id = Some("DU1234567".into());
    ib.rest_url = Some("https://localhost:5000/v1/api".into());
    let ib = bd.account_add(ib).await.unwrap();
    let setup = bd.twofa_setup().await.unwrap();
    let secret = base32_decode(&setup.secret);
    bd.twofa_enable(&phone_code(&secret, now.load(Ordering::SeqCst)))
        .await
        .unwrap();
    now.fetch_add(16 * 60, Ordering::SeqCst);

    let mut moved = AccountInput::from_account(&ib);
    moved.rest_url = Some("https://gateway.example.com/v1/api".into());
    let e = bd.account_update(&ib.id, moved.clone()).await.unwrap_err();
    assert_eq!(e.code, Code::StepUpRequired, "{e}");
    assert_eq!(bd.account_get(&ib.id).await.unwrap().rest_url, ib.rest_url);
    // A change that moves nothing is not sensitive.
    let mut renamed = AccountInput::from_account(&ib);
    renamed.name = "IB main".into();
    bd.account_update(&ib.id, renamed).await.unwrap();
    bd.twofa_verify(&phone_code(&secret, now.load(Ordering::SeqCst)))
        .await
        .unwrap();
    moved.name = "IB main".into();
    bd.account_update(&ib.id, moved).await.unwrap();
    bd.close().await;
}
