use rust_decimal_macros::dec;
use std::sync::Arc;

use super::model::*;
use super::*;
use crate::error::Code;
use crate::money::Decimal;
use crate::vault::keychain::MemoryKeyStore;

/// No audit entries (these tests check the accounts alone).
const NONE: Notes<'static> = &|_| Vec::new();

async fn setup() -> (tempfile::TempDir, Accounts, Arc<Vault>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).await.expect("store");
    let vault = Arc::new(Vault::new(store.clone(), Arc::new(MemoryKeyStore::new())));
    vault.init(None).await.expect("init");
    (dir, Accounts::new(store, vault.clone(), "test"), vault)
}

fn auth() -> Authorized {
    Authorized::for_tests(crate::api::guard::Sensitive::StoreCredentials)
}

fn alpaca(name: &str) -> AccountInput {
    let mut a = AccountInput::new(name, BrokerKind::Alpaca, Environment::Practice);
    a.credentials.api_key = Some(Secret::new("PKALPACAKEYID00001234"));
    a.credentials.api_secret = Some(Secret::new("alpaca-secret-key-abcdefghijklmnop5678"));
    a.instruments = vec!["AAPL".into(), "msft".into()];
    a.timeframes = vec![Timeframe::D1, Timeframe::M15];
    a.trading_hours = Some(TradingHours {
        start: "09:30".into(),
        end: "16:00".into(),
        timezone: "America/New_York".into(),
    });
    a.prop_firm.preset = PropFirmPreset::The5ers;
    a.risk.max_leverage = Some(dec!(4.0));
    a.risk.require_stop_loss = true;
    a.notifications.order_filled = false;
    a
}

#[tokio::test]
async fn add_get_list_round_trip_with_masked_secrets() {
    let (_dir, accts, _) = setup().await;
    let a = accts
        .add(alpaca("Alpaca paper"), Some(&auth()), NONE)
        .await
        .expect("add");
    assert_eq!(
        a.mode,
        TradingMode::Paper,
        "new accounts start in paper mode"
    );
    assert_eq!(a.status, AccountStatus::Active);
    assert_eq!(a.instruments, vec!["AAPL", "MSFT"]);
    assert_eq!(a.timeframes, vec![Timeframe::M15, Timeframe::D1]);
    assert_eq!(a.prop_firm.profit_target_pct, Some(dec!(8.0)));
    assert_eq!(a.risk.max_leverage, Some(dec!(4.0)));
    assert!(!a.notifications.order_filled);
    let masks: Vec<_> = a
        .credentials
        .iter()
        .map(|c| (c.field, c.masked.as_str()))
        .collect();
    assert_eq!(
        masks,
        vec![
            (CredentialField::ApiKey, "••••1234"),
            (CredentialField::ApiSecret, "••••5678")
        ]
    );
    assert_eq!(a.status_history.len(), 1);
    let json = serde_json::to_string(&a).expect("json");
    assert!(
        !json.contains("PKALPACAKEYID"),
        "no secret in the serialized account"
    );

    assert_eq!(accts.get("alpaca PAPER").await.expect("by name").id, a.id);
    assert_eq!(accts.get(&a.id[..8]).await.expect("by prefix").id, a.id);
    assert_eq!(accts.list().await.expect("list").len(), 1);
    let creds = accts.open_credentials(&a.id).await.expect("open");
    assert_eq!(
        creds.api_key.as_ref().map(|s| s.expose()),
        Some("PKALPACAKEYID00001234")
    );
}

#[tokio::test]
async fn duplicate_names_are_refused_case_insensitively() {
    let (_dir, accts, _) = setup().await;
    accts
        .add(alpaca("Main"), Some(&auth()), NONE)
        .await
        .expect("add");
    let e = accts
        .add(alpaca("MAIN"), Some(&auth()), NONE)
        .await
        .expect_err("dup");
    assert_eq!(e.code(), Code::DuplicateName);
    let mut bad = alpaca("main");
    bad.risk.max_leverage = Some(dec!(0.0));
    let e = accts
        .add(bad, Some(&auth()), NONE)
        .await
        .expect_err("dup + invalid");
    assert_eq!(e.code(), Code::Validation);
    let fields: Vec<_> = e.fields().into_iter().map(|f| f.field).collect();
    assert!(
        fields.contains(&"name".to_string()) && fields.contains(&"risk.maxLeverage".to_string()),
        "{fields:?}"
    );
    assert_eq!(accts.list().await.expect("list").len(), 1, "nothing stored");
}

#[tokio::test]
async fn update_keeps_credentials_records_status_history_and_replaces_lists() {
    let (_dir, accts, _) = setup().await;
    let a = accts
        .add(alpaca("Stocks"), Some(&auth()), NONE)
        .await
        .expect("add");
    let mut input = AccountInput::from_account(&a);
    input.name = "Stocks renamed".into();
    input.instruments = vec!["SPY".into()];
    input.status = AccountStatus::Suspended;
    input.status_reason = Some("daily loss hit".into());
    let b = accts
        .update(&a.id, input, Some(&auth()), NONE)
        .await
        .expect("update");
    assert_eq!(b.name, "Stocks renamed");
    assert_eq!(b.instruments, vec!["SPY"]);
    assert_eq!(b.credentials, a.credentials, "credentials kept");
    assert_eq!(b.status, AccountStatus::Suspended);
    assert_eq!(b.status_history.len(), 2);
    assert_eq!(
        b.status_history[1].reason.as_deref(),
        Some("daily loss hit")
    );

    let mut rotate = AccountInput::from_account(&b);
    rotate.credentials.api_key = Some(Secret::new("PKNEWKEY000000009999"));
    let c = accts
        .update(&b.id, rotate, Some(&auth()), NONE)
        .await
        .expect("new key");
    assert_eq!(c.credentials[0].masked, "••••9999");
    assert_eq!(c.credentials[1].masked, "••••5678");
}

#[tokio::test]
async fn remove_deletes_the_account_and_its_secrets() {
    let (dir, accts, _) = setup().await;
    let a = accts
        .add(alpaca("Gone"), Some(&auth()), NONE)
        .await
        .expect("add");
    accts.remove(&auth(), &a.id, NONE).await.expect("remove");
    assert_eq!(
        accts.get(&a.id).await.expect_err("gone").code(),
        Code::NotFound
    );
    let store = Store::open(dir.path()).await.expect("store");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM account_secrets")
        .fetch_one(store.pool())
        .await
        .expect("q");
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_damaged_secret_is_flagged_without_hiding_other_accounts() {
    let (dir, accts, _) = setup().await;
    let a = accts
        .add(alpaca("One"), Some(&auth()), NONE)
        .await
        .expect("add");
    let b = accts
        .add(alpaca("Two"), Some(&auth()), NONE)
        .await
        .expect("add");
    let store = Store::open(dir.path()).await.expect("store");
    sqlx::query("UPDATE account_secrets SET sealed = (SELECT sealed FROM account_secrets WHERE account_id = ?1 AND field = 'api_key') WHERE account_id = ?2 AND field = 'api_key'")
        .bind(&a.id)
        .bind(&b.id)
        .execute(store.pool())
        .await
        .expect("move");
    let list = accts.list().await.expect("list still works");
    let two = list.iter().find(|x| x.id == b.id).expect("two");
    assert_eq!(two.credentials[0].masked, "unreadable");
    assert_eq!(
        two.credentials[0].error.as_ref().map(|e| e.code),
        Some(Code::CiphertextMisbound)
    );
    assert_eq!(
        accts
            .open_credentials(&b.id)
            .await
            .expect_err("strict")
            .code(),
        Code::CiphertextMisbound
    );
}

#[tokio::test]
async fn locked_vault_refuses_account_operations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).await.expect("store");
    let vault = Arc::new(Vault::new(
        store.clone(),
        Arc::new(crate::vault::keychain::NoKeychain),
    ));
    vault
        .init(Some(&Secret::new("correct horse battery")))
        .await
        .expect("init");
    let accts = Accounts::new(store, vault.clone(), "test");
    accts
        .add(alpaca("x"), Some(&auth()), NONE)
        .await
        .expect("add");
    vault.lock().await.expect("lock");
    assert_eq!(accts.list().await.expect_err("locked").code(), Code::Locked);
    assert_eq!(
        accts
            .add(alpaca("y"), Some(&auth()), NONE)
            .await
            .expect_err("locked")
            .code(),
        Code::Locked
    );
}

#[tokio::test]
async fn decimal_limits_are_stored_and_read_back_exactly() {
    let (_dir, accts, _) = setup().await;
    let mut input = alpaca("Exact");
    input.prop_firm.preset = PropFirmPreset::Custom;
    input.prop_firm.max_daily_loss_pct = Some(dec!(4.85));
    input.prop_firm.max_total_loss_pct = Some(dec!(9.999999999999999999));
    input.prop_firm.profit_target_pct = Some(dec!(0.1));
    input.risk.max_position_size_pct = Some(dec!(2.50));
    input.risk.max_qty = Some(dec!(123456.000001));
    input.risk.max_leverage = Some(dec!(30));
    input.risk.max_correlation = Some(dec!(0.3));
    let added = accts.add(input, Some(&auth()), NONE).await.expect("add");
    let read = accts.get(&added.id).await.expect("get");
    let p = &read.prop_firm;
    assert_eq!(p.max_daily_loss_pct, Some(dec!(4.85)));
    // 19 significant digits: more than an f64 holds.
    assert_eq!(
        p.max_total_loss_pct.map(|d| d.to_string()).as_deref(),
        Some("9.999999999999999999")
    );
    assert_eq!(p.profit_target_pct, Some(dec!(0.1)));
    let r = &read.risk;
    // The scale as typed survives too.
    assert_eq!(
        r.max_position_size_pct.map(|d| d.to_string()).as_deref(),
        Some("2.50")
    );
    assert_eq!(r.max_qty, Some(dec!(123456.000001)));
    assert_eq!(r.max_leverage, Some(dec!(30)));
    assert_eq!(r.max_correlation, Some(dec!(0.3)));
    // Stored as TEXT, the decimal's own digits.
    let stored: (String, String) =
        sqlx::query_as("SELECT typeof(max_correlation), max_total_loss_pct FROM accounts")
            .fetch_one(accts.store.pool())
            .await
            .expect("q");
    assert_eq!(stored, ("text".into(), "9.999999999999999999".into()));
    // And over IPC as strings.
    let ipc = serde_json::to_value(&read).expect("json");
    assert_eq!(ipc["risk"]["maxCorrelation"], "0.3");
    assert_eq!(ipc["propFirm"]["maxTotalLossPct"], "9.999999999999999999");
}

#[tokio::test]
async fn an_old_profiles_real_limits_migrate_to_the_exact_decimals_typed() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The schema before decimals (migration 6): limits were REAL columns.
    let old = Store::open_at_version(dir.path(), 6)
        .await
        .expect("open v6");
    sqlx::query(
        "INSERT INTO accounts (id, name, broker, environment, prop_firm, max_daily_loss_pct,
            max_total_loss_pct, profit_target_pct, max_position_size_pct, max_qty, max_leverage,
            max_correlation, created_at, updated_at)
         VALUES ('a1', 'Old FX', 'paper', 'practice', 'custom', ?, ?, ?, ?, ?, ?, ?, 'then', 'then')",
    )
    // What the old version bound: f64s parsed from what the user typed.
    .bind(4.8f64)
    .bind(None::<f64>)
    .bind(0.1f64 + 0.2f64)
    .bind(33.333333333333336f64)
    .bind(1e9f64)
    .bind(30.0f64)
    .bind(0.00001f64)
    .execute(old.pool())
    .await
    .expect("insert");
    sqlx::query(
        "INSERT INTO accounts (id, name, broker, environment, created_at, updated_at)
         VALUES ('a2', 'No limits', 'paper', 'practice', 'then', 'then')",
    )
    .execute(old.pool())
    .await
    .expect("insert");
    old.close().await;

    let store = Store::open(dir.path()).await.expect("migrate");
    let mut conn = store.pool().acquire().await.expect("conn");
    let loaded = repo::load(&mut conn, None).await.expect("load");
    let by_id = |id: &str| {
        loaded
            .iter()
            .find(|a| a.account.id == id)
            .map(|a| a.account.clone())
            .expect("account")
    };
    let a = by_id("a1");
    let text = |d: Option<Decimal>| d.map(|d| d.to_string());
    assert_eq!(text(a.prop_firm.max_daily_loss_pct).as_deref(), Some("4.8"));
    assert_eq!(a.prop_firm.max_total_loss_pct, None);
    // 0.1 + 0.2 in binary is 0.30000000000000004; 15 digits give back the 0.3 meant.
    assert_eq!(text(a.prop_firm.profit_target_pct).as_deref(), Some("0.3"));
    assert_eq!(
        text(a.risk.max_position_size_pct).as_deref(),
        Some("33.3333333333333")
    );
    assert_eq!(text(a.risk.max_qty).as_deref(), Some("1000000000"));
    assert_eq!(text(a.risk.max_leverage).as_deref(), Some("30"));
    assert_eq!(a.risk.max_correlation, Some(dec!(0.00001)));
    let b = by_id("a2");
    assert_eq!(b.risk, RiskLimits::default());
    assert_eq!(b.prop_firm.max_daily_loss_pct, None);
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT typeof(max_leverage) FROM accounts WHERE max_leverage IS NOT NULL",
    )
    .fetch_all(store.pool())
    .await
    .expect("q");
    assert_eq!(kinds, ["text"]);
    // The migrated account saves again (as TEXT) and reads back the same.
    drop(conn);
    let vault = Arc::new(Vault::new(store.clone(), Arc::new(MemoryKeyStore::new())));
    vault.init(None).await.expect("init");
    let accts = Accounts::new(store, vault, "test");
    let mut input = AccountInput::from_account(&a);
    input.name = "Old FX edited".into();
    let edited = accts.update("a1", input, None, NONE).await.expect("update");
    assert_eq!(edited.risk, a.risk);
    assert_eq!(edited.prop_firm, a.prop_firm);
}
