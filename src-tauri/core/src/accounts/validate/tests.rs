use super::*;
use crate::accounts::model::{CredentialsInput, RiskLimits, Timeframe};
use rust_decimal_macros::dec;

fn oanda() -> AccountInput {
    let mut a = AccountInput::new("FX main", BrokerKind::Oanda, Environment::Practice);
    a.credentials = CredentialsInput {
        api_key: Some(Secret::new("0123456789abcdef-0123456789abcdef")),
        api_secret: None,
    };
    a
}

fn codes(r: Result<(), Vec<FieldError>>) -> Vec<(String, FieldCode)> {
    r.err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.field, e.code))
        .collect()
}

fn has(errs: &[(String, FieldCode)], field: &str, code: FieldCode) -> bool {
    errs.iter().any(|(f, c)| f == field && *c == code)
}

#[test]
fn a_complete_input_is_valid_and_normalised() {
    let mut a = oanda();
    a.name = "  FX main  ".into();
    a.instruments = vec![
        "eur_usd".into(),
        " EUR_USD".into(),
        "usd_jpy".into(),
        "".into(),
    ];
    a.timeframes = vec![Timeframe::H1, Timeframe::M5, Timeframe::H1];
    a.trading_hours = Some(TradingHours {
        start: "08:00".into(),
        end: "17:30".into(),
        timezone: "Europe/London".into(),
    });
    a.rest_url = Some("  ".into());
    validate(&mut a, &Context::Create).expect("valid");
    assert_eq!(a.name, "FX main");
    assert_eq!(a.instruments, vec!["EUR_USD", "USD_JPY"]);
    assert_eq!(a.timeframes, vec![Timeframe::M5, Timeframe::H1]);
    assert_eq!(a.rest_url, None);
}

#[test]
fn every_problem_is_reported_with_its_field() {
    let mut a = oanda();
    a.name = "".into();
    a.credentials.api_key = Some(Secret::new(" padded"));
    a.credentials.api_secret = Some(Secret::new("not-used"));
    a.rest_url = Some("http://broker.example.com".into());
    a.stream_url = Some("ftp://x".into());
    a.broker_account_id = Some("bad id!".into());
    a.prop_firm.max_daily_loss_pct = Some(dec!(150.0));
    a.risk = RiskLimits {
        max_leverage: Some(dec!(0.5)),
        max_correlation: Some(dec!(1.5)),
        max_open_positions: Some(0),
        max_qty: Some(dec!(-1.0)),
        max_position_size_pct: Some(dec!(0.0)),
        require_stop_loss: true,
        max_risk_per_trade_pct: Some(dec!(101)),
        allowed_instruments: vec![" ".into()],
    };
    a.prop_firm.reset_time = "24:00".into();
    a.prop_firm.reset_timezone = "Nowhere/Else".into();
    a.prop_firm.initial_balance = Some(dec!(-5));
    a.prop_firm.safety_buffer_pct = Some(dec!(20));
    a.prop_firm.warn_levels = vec![0, 50];
    a.instruments = vec!["EUR USD".into()];
    a.trading_hours = Some(TradingHours {
        start: "25:00".into(),
        end: "9:00".into(),
        timezone: "Mars/Olympus".into(),
    });
    let errs = codes(validate(&mut a, &Context::Create));
    for (f, c) in [
        ("name", FieldCode::Required),
        ("credentials.apiKey", FieldCode::Whitespace),
        ("credentials.apiSecret", FieldCode::NotApplicable),
        ("restUrl", FieldCode::Invalid),
        ("streamUrl", FieldCode::Invalid),
        ("brokerAccountId", FieldCode::Invalid),
        ("propFirm.maxDailyLossPct", FieldCode::OutOfRange),
        ("risk.maxLeverage", FieldCode::OutOfRange),
        ("risk.maxCorrelation", FieldCode::OutOfRange),
        ("risk.maxOpenPositions", FieldCode::OutOfRange),
        ("risk.maxQty", FieldCode::OutOfRange),
        ("risk.maxPositionSizePct", FieldCode::OutOfRange),
        ("instruments[0]", FieldCode::Invalid),
        ("tradingHours.start", FieldCode::Invalid),
        ("tradingHours.end", FieldCode::Invalid),
        ("tradingHours.timezone", FieldCode::Invalid),
        ("risk.maxRiskPerTradePct", FieldCode::OutOfRange),
        ("risk.allowedInstruments", FieldCode::Invalid),
        ("propFirm.resetTime", FieldCode::Invalid),
        ("propFirm.resetTimezone", FieldCode::Invalid),
        ("propFirm.initialBalance", FieldCode::OutOfRange),
        ("propFirm.safetyBufferPct", FieldCode::OutOfRange),
        ("propFirm.warnLevels", FieldCode::OutOfRange),
    ] {
        assert!(has(&errs, f, c), "missing {f}/{c:?} in {errs:?}");
    }
}

#[test]
fn required_credentials_per_broker() {
    let mut a = AccountInput::new("Stocks", BrokerKind::Alpaca, Environment::Practice);
    a.credentials.api_key = Some(Secret::new("PKTESTKEY1234567890"));
    let errs = codes(validate(&mut a, &Context::Create));
    assert_eq!(
        errs,
        vec![("credentials.apiSecret".to_string(), FieldCode::Required)]
    );

    let mut t = AccountInput::new("Tradier", BrokerKind::Tradier, Environment::Live);
    t.credentials.api_key = Some(Secret::new("tradier-token-123"));
    assert!(has(
        &codes(validate(&mut t, &Context::Create)),
        "brokerAccountId",
        FieldCode::Required
    ));

    let mut p = AccountInput::new("Paper", BrokerKind::Paper, Environment::Practice);
    validate(&mut p, &Context::Create).expect("paper needs nothing");
    let mut pl = AccountInput::new("Paper live", BrokerKind::Paper, Environment::Live);
    assert!(has(
        &codes(validate(&mut pl, &Context::Create)),
        "environment",
        FieldCode::Unsupported
    ));

    let mut ib = AccountInput::new("IB", BrokerKind::Ibkr, Environment::Practice);
    ib.broker_account_id = Some("DU1234567".into());
    ib.rest_url = Some("https://localhost:5000/v1/api".into());
    validate(&mut ib, &Context::Create).expect("ibkr gateway needs no secret");
}

#[test]
fn update_keeps_stored_credentials_unless_the_environment_changes() {
    let stored = [CredentialField::ApiKey];
    let mut a = oanda();
    a.credentials.api_key = None;
    let ctx = Context::Update {
        broker: BrokerKind::Oanda,
        environment: Environment::Practice,
        stored: &stored,
        import: false,
    };
    validate(&mut a, &ctx).expect("kept");

    let mut live = a.clone();
    live.environment = Environment::Live;
    assert!(has(
        &codes(validate(&mut live, &ctx)),
        "credentials.apiKey",
        FieldCode::Required
    ));

    let mut other = a.clone();
    other.broker = BrokerKind::Alpaca;
    assert!(has(
        &codes(validate(&mut other, &ctx)),
        "broker",
        FieldCode::Immutable
    ));
}

#[test]
fn an_import_may_leave_required_credentials_missing_but_never_for_another_environment() {
    let mut a = oanda();
    a.credentials.api_key = None;
    assert!(has(
        &codes(validate(&mut a.clone(), &Context::Create)),
        "credentials.apiKey",
        FieldCode::Required
    ));
    validate(&mut a.clone(), &Context::Import).expect("a new imported account without them");
    let none: [CredentialField; 0] = [];
    let replace = Context::Update {
        broker: BrokerKind::Oanda,
        environment: Environment::Practice,
        stored: &none,
        import: true,
    };
    validate(&mut a.clone(), &replace).expect("replaced, none stored: still none");
    // Stored credentials of another environment are never kept for the new one.
    let stored = [CredentialField::ApiKey];
    let moved = Context::Update {
        broker: BrokerKind::Oanda,
        environment: Environment::Live,
        stored: &stored,
        import: true,
    };
    assert!(has(
        &codes(validate(&mut a, &moved)),
        "credentials.apiKey",
        FieldCode::Required
    ));
    // A value given is still checked.
    let mut bad = oanda();
    bad.credentials.api_key = Some(Secret::new(" leading-space-0123456789abcdef"));
    assert!(validate(&mut bad, &Context::Import).is_err());
}

#[test]
fn urls_plain_text_only_to_loopback() {
    assert!(check_url("http://127.0.0.1:8080", &["http", "https"]).is_ok());
    assert!(check_url("http://localhost:8080/v3", &["http", "https"]).is_ok());
    assert!(check_url("ws://[::1]:9000/ws", &["ws", "wss"]).is_ok());
    assert!(check_url("https://api-fxpractice.oanda.com", &["http", "https"]).is_ok());
    assert!(check_url("http://10.0.0.5", &["http", "https"]).is_err());
    assert!(check_url("https://user:pw@host.example", &["https"]).is_err());
    assert!(check_url("https://host.example/?token=x", &["https"]).is_err());
    assert!(check_url("not a url", &["https"]).is_err());
}

#[test]
fn presets_fill_and_adjusted_presets_become_custom() {
    let mut a = oanda();
    a.prop_firm.preset = PropFirmPreset::Ftmo;
    validate(&mut a, &Context::Create).expect("valid");
    assert_eq!(
        (
            a.prop_firm.max_daily_loss_pct,
            a.prop_firm.max_total_loss_pct,
            a.prop_firm.profit_target_pct
        ),
        (Some(dec!(5.0)), Some(dec!(10.0)), Some(dec!(10.0)))
    );

    let mut b = oanda();
    b.prop_firm.preset = PropFirmPreset::Ftmo;
    b.prop_firm.max_daily_loss_pct = Some(dec!(4.0));
    b.prop_firm.max_total_loss_pct = Some(dec!(10.0));
    b.prop_firm.profit_target_pct = Some(dec!(10.0));
    validate(&mut b, &Context::Create).expect("valid");
    assert_eq!(b.prop_firm.preset, PropFirmPreset::Custom);

    let mut c = oanda();
    c.prop_firm.max_daily_loss_pct = Some(dec!(12.0));
    c.prop_firm.max_total_loss_pct = Some(dec!(10.0));
    assert!(has(
        &codes(validate(&mut c, &Context::Create)),
        "propFirm.maxDailyLossPct",
        FieldCode::Inconsistent
    ));
}

#[test]
fn hhmm_parsing() {
    assert_eq!(parse_hhmm("00:00"), Some(0));
    assert_eq!(parse_hhmm("23:59"), Some(23 * 60 + 59));
    for bad in ["24:00", "9:00", "12:60", "ab:cd", "1200", ""] {
        assert_eq!(parse_hhmm(bad), None, "{bad}");
    }
}

#[test]
fn labels_read_as_words_inside_messages_acronyms_kept() {
    assert_eq!(in_sentence("Account number"), "account number");
    assert_eq!(in_sentence("API access token"), "API access token");
    assert_eq!(in_sentence("v20 account ID"), "v20 account ID");
    let mut a = oanda();
    a.credentials.api_key = Some(Secret::new("has a space"));
    let errs = validate(&mut a, &Context::Create).expect_err("invalid");
    let msg = &errs
        .iter()
        .find(|e| e.field == "credentials.apiKey")
        .expect("key error")
        .message;
    assert_eq!(
        msg,
        "The API access token cannot contain spaces or control characters."
    );
}

#[test]
fn a_preset_sent_with_its_numbers_and_no_clock_keeps_the_firms_clock() {
    // An older client sends FTMO's numbers and the default clock: still FTMO, on Prague time.
    let mut a = AccountInput::new("Old client", BrokerKind::Paper, Environment::Practice);
    a.prop_firm.preset = PropFirmPreset::Ftmo;
    a.prop_firm.max_daily_loss_pct = Some(dec!(5));
    a.prop_firm.max_total_loss_pct = Some(dec!(10));
    a.prop_firm.profit_target_pct = Some(dec!(10));
    assert!(validate(&mut a, &Context::Create).is_ok());
    assert_eq!(a.prop_firm.preset, PropFirmPreset::Ftmo);
    assert_eq!(a.prop_firm.reset_timezone, "Europe/Prague");
    // Another clock is a custom rule set.
    a.prop_firm.reset_timezone = "America/New_York".into();
    assert!(validate(&mut a, &Context::Create).is_ok());
    assert_eq!(a.prop_firm.preset, PropFirmPreset::Custom);
}
