//! What an edit changed, for the audit log: every setting whose value differs between the
//! account as it was and as it is, as `path: before → after`. Never a secret: credentials are
//! named by the audit entry that rotates them, not here, and URLs lose any user-info and
//! query (`text::redact_url`).

use serde_json::Value;

use super::model::Account;
use crate::text::redact_url;

/// Settings that are not configuration or are audited on their own: the id, credentials
/// (`credentials_rotated`), status and mode (`status_changed`, `mode_switched`), history,
/// timestamps, the integrity verdict and the certificate pin (`certificate_*`).
const NOT_COMPARED: &[&str] = &[
    "id",
    "credentials",
    "status",
    "statusHistory",
    "mode",
    "createdAt",
    "updatedAt",
    "integrity",
    "tlsPin",
];

/// Longest value written for one side of a change.
const MAX_VALUE: usize = 160;

/// The changed settings between `before` and `after`, in a stable order.
pub fn changes(before: &Account, after: &Account) -> Vec<String> {
    let (Ok(Value::Object(b)), Ok(Value::Object(a))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, new) in &a {
        if NOT_COMPARED.contains(&key.as_str()) {
            continue;
        }
        walk(key, b.get(key).unwrap_or(&Value::Null), new, &mut out);
    }
    out.iter().map(FieldChange::line).collect()
}

/// How one setting differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ChangeKind {
    /// It had no value (none) and gets one.
    Added,
    Changed,
    /// It had a value and has none.
    Removed,
}

/// One setting that differs: its path, both values as text (URLs redacted, capped), and how.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct FieldChange {
    pub path: String,
    pub kind: ChangeKind,
    pub before: String,
    pub after: String,
}

impl FieldChange {
    /// `path: before → after`, as the audit log and the history say it.
    pub fn line(&self) -> String {
        format!("{}: {} → {}", self.path, self.before, self.after)
    }
}

/// The settings that differ between two configurations as JSON objects (e.g. exported
/// accounts), leaving out the keys `skip`, and how many compared settings are unchanged.
pub fn field_changes(before: &Value, after: &Value, skip: &[&str]) -> (Vec<FieldChange>, u32) {
    let empty = serde_json::Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut out = Vec::new();
    let mut unchanged = 0u32;
    for (key, new) in a {
        if skip.contains(&key.as_str()) {
            continue;
        }
        let old = b.get(key).unwrap_or(&Value::Null);
        if old == new {
            unchanged += 1;
        } else {
            walk(key, old, new, &mut out);
        }
    }
    (out, unchanged)
}

fn walk(path: &str, old: &Value, new: &Value, out: &mut Vec<FieldChange>) {
    if old == new {
        return;
    }
    if let (Value::Object(o), Value::Object(n)) = (old, new) {
        for (key, value) in n {
            walk(
                &format!("{path}.{key}"),
                o.get(key).unwrap_or(&Value::Null),
                value,
                out,
            );
        }
        return;
    }
    let kind = match (old.is_null(), new.is_null()) {
        (true, _) => ChangeKind::Added,
        (false, true) => ChangeKind::Removed,
        (false, false) => ChangeKind::Changed,
    };
    out.push(FieldChange {
        path: path.to_string(),
        kind,
        before: text(path, old),
        after: text(path, new),
    });
}

fn text(path: &str, v: &Value) -> String {
    let s = match v {
        Value::Null => "none".to_string(),
        Value::String(s) if path.ends_with("Url") => format!("{:?}", redact_url(s)),
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    crate::text::cap(&s, MAX_VALUE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::model::{BrokerKind, Environment};

    fn account() -> Account {
        Account {
            id: "a1".into(),
            name: "FX".into(),
            broker: BrokerKind::Oanda,
            environment: Environment::Practice,
            broker_account_id: Some("101-1".into()),
            rest_url: None,
            stream_url: None,
            credentials: Vec::new(),
            prop_firm: Default::default(),
            risk: Default::default(),
            instruments: vec!["EUR_USD".into()],
            timeframes: Vec::new(),
            trading_hours: None,
            weekend_trading: true,
            notifications: Default::default(),
            status: crate::accounts::model::AccountStatus::Active,
            status_history: Vec::new(),
            mode: crate::accounts::model::TradingMode::Paper,
            tls_pin: None,
            created_at: "t".into(),
            updated_at: "t".into(),
            integrity: None,
        }
    }

    #[test]
    fn names_each_changed_setting_with_both_values() {
        let before = account();
        let mut after = before.clone();
        after.name = "FX main".into();
        after.instruments.push("GBP_USD".into());
        after.rest_url = Some("https://user:pw@proxy.example.com/v3?token=s3cret".into());
        after.weekend_trading = false;
        after.updated_at = "later".into();
        after.mode = crate::accounts::model::TradingMode::Live;
        let c = changes(&before, &after);
        assert_eq!(
            c,
            vec![
                "instruments: [\"EUR_USD\"] → [\"EUR_USD\",\"GBP_USD\"]".to_string(),
                "name: \"FX\" → \"FX main\"".to_string(),
                "restUrl: none → \"https://proxy.example.com/v3?…\"".to_string(),
                "weekendTrading: true → false".to_string(),
            ]
        );
        assert!(c
            .iter()
            .all(|l| !l.contains("s3cret") && !l.contains("pw@")));
        assert!(changes(&before, &before.clone()).is_empty());
    }
}
