//! SQL for accounts. Plain runtime queries (no compile-time `DATABASE_URL` needed); the
//! schema lives in `migrations/0002_accounts.sql`, its limits as decimal TEXT since
//! `0008_decimal_limits.sql`.

use std::collections::HashMap;

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqliteConnection};

use crate::money::{self, Decimal};

use super::model::{
    Account, AccountInput, AccountStatus, CertificatePin, CredentialField, NotificationSettings,
    PropFirmPreset, PropFirmRules, RiskLimits, StatusChange, Timeframe, TradingHours,
};

/// An account as stored: its configuration (with `credentials` still empty) and its
/// secrets, still sealed.
pub struct StoredAccount {
    pub account: Account,
    pub secrets: Vec<(CredentialField, Vec<u8>)>,
    /// The tag of its security state (`vault::integrity`); `None` before the first unlock
    /// after the upgrade.
    pub state_tag: Option<Vec<u8>>,
}

fn parse<T: std::str::FromStr<Err = String>>(row: &SqliteRow, col: &str) -> Result<T, sqlx::Error> {
    let s: String = row.try_get(col)?;
    s.parse().map_err(|e: String| sqlx::Error::Decode(e.into()))
}

/// Reads a decimal stored as TEXT (see `migrations/0008_decimal_limits.sql`).
fn decimal(row: &SqliteRow, col: &str) -> Result<Option<Decimal>, sqlx::Error> {
    let text: Option<String> = row.try_get(col)?;
    text.map(|t| money::from_stored(&t).map_err(|e| sqlx::Error::Decode(Box::new(e))))
        .transpose()
}

/// The TEXT a decimal is stored as.
fn text(d: Option<Decimal>) -> Option<String> {
    d.map(|d| d.to_string())
}

fn from_row(row: &SqliteRow) -> Result<Account, sqlx::Error> {
    let hours = match (
        row.try_get::<Option<String>, _>("trading_hours_start")?,
        row.try_get::<Option<String>, _>("trading_hours_end")?,
        row.try_get::<Option<String>, _>("trading_hours_tz")?,
    ) {
        (Some(start), Some(end), Some(timezone)) => Some(TradingHours {
            start,
            end,
            timezone,
        }),
        _ => None,
    };
    let max_open: Option<i64> = row.try_get("max_open_positions")?;
    Ok(Account {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        broker: parse(row, "broker")?,
        environment: parse(row, "environment")?,
        broker_account_id: row.try_get("broker_account_id")?,
        rest_url: row.try_get("rest_url")?,
        stream_url: row.try_get("stream_url")?,
        credentials: Vec::new(),
        prop_firm: PropFirmRules {
            preset: parse::<PropFirmPreset>(row, "prop_firm")?,
            max_daily_loss_pct: decimal(row, "max_daily_loss_pct")?,
            max_total_loss_pct: decimal(row, "max_total_loss_pct")?,
            profit_target_pct: decimal(row, "profit_target_pct")?,
            initial_balance: decimal(row, "initial_balance")?,
            daily_base: parse(row, "daily_base")?,
            reset_time: row.try_get("reset_time")?,
            reset_timezone: row.try_get("reset_timezone")?,
            max_loss_mode: parse(row, "max_loss_mode")?,
            daily_breach: parse(row, "daily_breach")?,
            safety_buffer_pct: decimal(row, "safety_buffer_pct")?,
            close_on_breach: row.try_get("close_on_breach")?,
            warn_levels: row
                .try_get::<String, _>("warn_levels")?
                .split(',')
                .filter_map(|l| l.trim().parse().ok())
                .collect(),
        },
        risk: RiskLimits {
            max_position_size_pct: decimal(row, "max_position_size_pct")?,
            max_open_positions: max_open.and_then(|v| u32::try_from(v).ok()),
            max_qty: decimal(row, "max_qty")?,
            max_leverage: decimal(row, "max_leverage")?,
            require_stop_loss: row.try_get("require_stop_loss")?,
            max_correlation: decimal(row, "max_correlation")?,
            max_risk_per_trade_pct: decimal(row, "max_risk_per_trade_pct")?,
            allowed_instruments: row
                .try_get::<String, _>("allowed_instruments")?
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        },
        instruments: Vec::new(),
        timeframes: Vec::new(),
        trading_hours: hours,
        weekend_trading: row.try_get("weekend_trading")?,
        notifications: NotificationSettings {
            connection_lost: row.try_get("notify_connection_lost")?,
            connection_restored: row.try_get("notify_connection_restored")?,
            auth_failure: row.try_get("notify_auth_failure")?,
            order_filled: row.try_get("notify_order_filled")?,
            risk_breach: row.try_get("notify_risk_breach")?,
        },
        status: parse(row, "status")?,
        status_history: Vec::new(),
        mode: parse(row, "mode")?,
        tls_pin: match (
            row.try_get::<Option<String>, _>("tls_pin_sha256")?,
            row.try_get::<Option<String>, _>("tls_pin_origin")?,
        ) {
            (Some(sha256), Some(origin)) => Some(CertificatePin {
                sha256,
                origin,
                pinned_at: row
                    .try_get::<Option<String>, _>("tls_pinned_at")?
                    .unwrap_or_default(),
                refused_sha256: row.try_get("tls_refused_sha256")?,
            }),
            _ => None,
        },
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        integrity: None,
    })
}

/// Loads accounts (all, or the one with `only_id`) with their lists, history and sealed
/// secrets, in five queries whatever the number of accounts.
pub async fn load(
    conn: &mut SqliteConnection,
    only_id: Option<&str>,
) -> Result<Vec<StoredAccount>, sqlx::Error> {
    let filter = if only_id.is_some() {
        " WHERE account_id = ?1"
    } else {
        ""
    };
    let acct_filter = if only_id.is_some() {
        " WHERE id = ?1"
    } else {
        ""
    };
    let q = |sql: String| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(id) = only_id {
            q = q.bind(id.to_string());
        }
        q
    };
    let rows = q(format!(
        "SELECT * FROM accounts{acct_filter} ORDER BY name COLLATE NOCASE, id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut accounts = rows
        .iter()
        .map(|r| {
            Ok(StoredAccount {
                account: from_row(r)?,
                secrets: Vec::new(),
                state_tag: r.try_get("state_tag")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let index: HashMap<String, usize> = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.account.id.clone(), i))
        .collect();

    for r in q(format!(
        "SELECT account_id, symbol FROM account_instruments{filter} ORDER BY account_id, position"
    ))
    .fetch_all(&mut *conn)
    .await?
    {
        if let Some(&i) = index.get(&r.try_get::<String, _>("account_id")?) {
            accounts[i].account.instruments.push(r.try_get("symbol")?);
        }
    }
    for r in q(format!(
        "SELECT account_id, timeframe FROM account_timeframes{filter}"
    ))
    .fetch_all(&mut *conn)
    .await?
    {
        if let Some(&i) = index.get(&r.try_get::<String, _>("account_id")?) {
            accounts[i].account.timeframes.push(parse(&r, "timeframe")?);
        }
    }
    for a in &mut accounts {
        a.account
            .timeframes
            .sort_by_key(|t| Timeframe::ALL.iter().position(|x| x == t));
    }
    for r in q(format!("SELECT account_id, status, reason, changed_at FROM account_status_history{filter} ORDER BY id")).fetch_all(&mut *conn).await? {
        if let Some(&i) = index.get(&r.try_get::<String, _>("account_id")?) {
            accounts[i].account.status_history.push(StatusChange {
                status: parse(&r, "status")?,
                reason: r.try_get("reason")?,
                changed_at: r.try_get("changed_at")?,
            });
        }
    }
    for r in q(format!(
        "SELECT account_id, field, sealed FROM account_secrets{filter} ORDER BY account_id, field"
    ))
    .fetch_all(&mut *conn)
    .await?
    {
        if let Some(&i) = index.get(&r.try_get::<String, _>("account_id")?) {
            accounts[i]
                .secrets
                .push((parse(&r, "field")?, r.try_get("sealed")?));
        }
    }
    Ok(accounts)
}

/// Returns the ids whose id starts with `prefix` or whose name equals `name` (case-insensitive).
pub async fn resolve(conn: &mut SqliteConnection, key: &str) -> Result<Vec<String>, sqlx::Error> {
    let exact: Vec<String> =
        sqlx::query_scalar("SELECT id FROM accounts WHERE id = ?1 OR name = ?1 COLLATE NOCASE")
            .bind(key)
            .fetch_all(&mut *conn)
            .await?;
    if !exact.is_empty() || key.len() < 4 {
        return Ok(exact);
    }
    let escaped = key
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    sqlx::query_scalar("SELECT id FROM accounts WHERE id LIKE ?1 || '%' ESCAPE '\\'")
        .bind(escaped)
        .fetch_all(&mut *conn)
        .await
}

/// Returns true if another account already uses `name` (case-insensitive).
pub async fn name_taken(
    conn: &mut SqliteConnection,
    name: &str,
    except_id: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM accounts WHERE name = ?1 COLLATE NOCASE AND id IS NOT ?2",
    )
    .bind(name)
    .bind(except_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}

/// Inserts or replaces the configuration columns and lists of an account.
pub async fn upsert(
    conn: &mut SqliteConnection,
    id: &str,
    input: &AccountInput,
    now: &str,
    is_new: bool,
) -> Result<(), sqlx::Error> {
    let sql = if is_new {
        "INSERT INTO accounts (name, broker, environment, broker_account_id, rest_url, stream_url, prop_firm,
            max_daily_loss_pct, max_total_loss_pct, profit_target_pct, max_position_size_pct, max_open_positions,
            max_qty, max_leverage, require_stop_loss, max_correlation, trading_hours_start, trading_hours_end,
            trading_hours_tz, weekend_trading, notify_connection_lost, notify_connection_restored,
            notify_auth_failure, notify_order_filled, notify_risk_breach, status, updated_at, id,
            initial_balance, daily_base, reset_time, reset_timezone, max_loss_mode, daily_breach,
            safety_buffer_pct, close_on_breach, warn_levels, max_risk_per_trade_pct, allowed_instruments,
            created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28,
            ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?27)"
    } else {
        "UPDATE accounts SET name = ?1, broker = ?2, environment = ?3, broker_account_id = ?4, rest_url = ?5,
            stream_url = ?6, prop_firm = ?7, max_daily_loss_pct = ?8, max_total_loss_pct = ?9, profit_target_pct = ?10,
            max_position_size_pct = ?11, max_open_positions = ?12, max_qty = ?13, max_leverage = ?14,
            require_stop_loss = ?15, max_correlation = ?16, trading_hours_start = ?17, trading_hours_end = ?18,
            trading_hours_tz = ?19, weekend_trading = ?20, notify_connection_lost = ?21,
            notify_connection_restored = ?22, notify_auth_failure = ?23, notify_order_filled = ?24,
            notify_risk_breach = ?25, status = ?26, updated_at = ?27, initial_balance = ?29,
            daily_base = ?30, reset_time = ?31, reset_timezone = ?32, max_loss_mode = ?33,
            daily_breach = ?34, safety_buffer_pct = ?35, close_on_breach = ?36, warn_levels = ?37,
            max_risk_per_trade_pct = ?38, allowed_instruments = ?39
         WHERE id = ?28"
    };
    let h = input.trading_hours.as_ref();
    sqlx::query(sql)
        .bind(&input.name)
        .bind(input.broker.as_str())
        .bind(input.environment.as_str())
        .bind(&input.broker_account_id)
        .bind(&input.rest_url)
        .bind(&input.stream_url)
        .bind(input.prop_firm.preset.as_str())
        .bind(text(input.prop_firm.max_daily_loss_pct))
        .bind(text(input.prop_firm.max_total_loss_pct))
        .bind(text(input.prop_firm.profit_target_pct))
        .bind(text(input.risk.max_position_size_pct))
        .bind(input.risk.max_open_positions.map(i64::from))
        .bind(text(input.risk.max_qty))
        .bind(text(input.risk.max_leverage))
        .bind(input.risk.require_stop_loss)
        .bind(text(input.risk.max_correlation))
        .bind(h.map(|h| h.start.clone()))
        .bind(h.map(|h| h.end.clone()))
        .bind(h.map(|h| h.timezone.clone()))
        .bind(input.weekend_trading)
        .bind(input.notifications.connection_lost)
        .bind(input.notifications.connection_restored)
        .bind(input.notifications.auth_failure)
        .bind(input.notifications.order_filled)
        .bind(input.notifications.risk_breach)
        .bind(input.status.as_str())
        .bind(now)
        .bind(id)
        .bind(text(input.prop_firm.initial_balance))
        .bind(input.prop_firm.daily_base.as_str())
        .bind(&input.prop_firm.reset_time)
        .bind(&input.prop_firm.reset_timezone)
        .bind(input.prop_firm.max_loss_mode.as_str())
        .bind(input.prop_firm.daily_breach.as_str())
        .bind(text(input.prop_firm.safety_buffer_pct))
        .bind(input.prop_firm.close_on_breach)
        .bind(
            input
                .prop_firm
                .warn_levels
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(","),
        )
        .bind(text(input.risk.max_risk_per_trade_pct))
        .bind(input.risk.allowed_instruments.join(","))
        .execute(&mut *conn)
        .await?;

    sqlx::query("DELETE FROM account_instruments WHERE account_id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for (pos, sym) in input.instruments.iter().enumerate() {
        sqlx::query(
            "INSERT INTO account_instruments (account_id, position, symbol) VALUES (?, ?, ?)",
        )
        .bind(id)
        .bind(i64::try_from(pos).unwrap_or(i64::MAX))
        .bind(sym)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("DELETE FROM account_timeframes WHERE account_id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for tf in &input.timeframes {
        sqlx::query("INSERT INTO account_timeframes (account_id, timeframe) VALUES (?, ?)")
            .bind(id)
            .bind(tf.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Records a status change.
pub async fn push_status(
    conn: &mut SqliteConnection,
    id: &str,
    status: AccountStatus,
    reason: Option<&str>,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO account_status_history (account_id, status, reason, changed_at) VALUES (?, ?, ?, ?)")
        .bind(id)
        .bind(status.as_str())
        .bind(reason)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Stores (or replaces) one sealed secret.
pub async fn put_secret(
    conn: &mut SqliteConnection,
    id: &str,
    field: CredentialField,
    sealed: &[u8],
    generation: u32,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO account_secrets (account_id, field, sealed, key_generation, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (account_id, field) DO UPDATE SET sealed = excluded.sealed,
            key_generation = excluded.key_generation, updated_at = excluded.updated_at",
    )
    .bind(id)
    .bind(field.as_str())
    .bind(sealed)
    .bind(i64::from(generation))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes an account (its lists, history and secrets go by cascade). Returns rows deleted.
pub async fn delete(conn: &mut SqliteConnection, id: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM accounts WHERE id = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

/// Pins `sha256` for `origin` if the account has no pin for that origin yet (first use).
/// Returns whether it did.
pub async fn pin_first_use(
    conn: &mut SqliteConnection,
    id: &str,
    origin: &str,
    sha256: &str,
    now: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE accounts SET tls_pin_sha256 = ?3, tls_pin_origin = ?2, tls_pinned_at = ?4,
            tls_refused_sha256 = NULL
         WHERE id = ?1 AND (tls_pin_sha256 IS NULL OR tls_pin_origin IS NOT ?2)",
    )
    .bind(id)
    .bind(origin)
    .bind(sha256)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Pins `sha256` for `origin`, replacing any pin (trusted by hand).
pub async fn pin_trusted(
    conn: &mut SqliteConnection,
    id: &str,
    origin: &str,
    sha256: &str,
    now: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE accounts SET tls_pin_sha256 = ?3, tls_pin_origin = ?2, tls_pinned_at = ?4,
            tls_refused_sha256 = NULL
         WHERE id = ?1",
    )
    .bind(id)
    .bind(origin)
    .bind(sha256)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// Records that the gateway at `origin` presented `refused` instead of the pin `pinned`
/// (only while that is still the pin). Returns whether anything changed.
pub async fn pin_refused(
    conn: &mut SqliteConnection,
    id: &str,
    origin: &str,
    pinned: &str,
    refused: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE accounts SET tls_refused_sha256 = ?4
         WHERE id = ?1 AND tls_pin_origin = ?2 AND tls_pin_sha256 = ?3
            AND tls_refused_sha256 IS NOT ?4",
    )
    .bind(id)
    .bind(origin)
    .bind(pinned)
    .bind(refused)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub type Tx = sqlx::Transaction<'static, Sqlite>;
