//! Orders in SQLite. Every change of an order is a compare-and-set on its `version`
//! ([`update`]): two processes (the app and the CLI) that both try to move the same order
//! see exactly one succeed, the other re-reads. Writes go through immediate transactions
//! ([`Store::begin_write`]), and the intent row is committed before anything is sent.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::model::{Fill, Order, OrderEvent, OrderKind, OrderStatus, Origin, Side, TimeInForce};
use crate::accounts::model::TradingMode;
use crate::store::StoreError;

/// Why a stored order could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum OrderStoreError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A row holds something this version cannot read (edited by hand, or damaged).
    #[error("order {id} is damaged in the database: {what}")]
    Damaged { id: String, what: String },
}

impl crate::error::ErrorCode for OrderStoreError {
    fn code(&self) -> crate::error::Code {
        match self {
            OrderStoreError::Store(e) => e.code(),
            OrderStoreError::Damaged { .. } => crate::error::Code::Storage,
        }
    }
}

impl From<sqlx::Error> for OrderStoreError {
    fn from(e: sqlx::Error) -> Self {
        OrderStoreError::Store(e.into())
    }
}

pub(crate) fn fmt_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn parse<T: FromStr>(id: &str, what: &str, v: &str) -> Result<T, OrderStoreError> {
    v.parse().map_err(|_| OrderStoreError::Damaged {
        id: id.to_string(),
        what: format!("{what} {v:?}"),
    })
}

fn opt<T: FromStr>(id: &str, what: &str, v: Option<String>) -> Result<Option<T>, OrderStoreError> {
    v.map(|v| parse(id, what, &v)).transpose()
}

fn time(id: &str, what: &str, v: &str) -> Result<DateTime<Utc>, OrderStoreError> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| OrderStoreError::Damaged {
            id: id.to_string(),
            what: format!("{what} {v:?}"),
        })
}

fn order_from(r: &SqliteRow) -> Result<Order, OrderStoreError> {
    let id: String = r.try_get("id")?;
    let s = |c: &str| -> Result<String, OrderStoreError> { Ok(r.try_get::<String, _>(c)?) };
    let o = |c: &str| -> Result<Option<String>, OrderStoreError> {
        Ok(r.try_get::<Option<String>, _>(c)?)
    };
    Ok(Order {
        account_id: s("account_id")?,
        client_order_id: s("client_order_id")?,
        broker_order_id: o("broker_order_id")?,
        mode: parse(&id, "mode", &s("mode")?)?,
        origin: parse::<Origin>(&id, "origin", &s("origin")?)?,
        symbol: s("symbol")?,
        side: parse::<Side>(&id, "side", &s("side")?)?,
        order_type: parse::<OrderKind>(&id, "type", &s("order_type")?)?,
        quantity: parse::<Decimal>(&id, "quantity", &s("quantity")?)?,
        limit_price: opt(&id, "limit price", o("limit_price")?)?,
        stop_price: opt(&id, "stop price", o("stop_price")?)?,
        time_in_force: parse::<TimeInForce>(&id, "time in force", &s("time_in_force")?)?,
        stop_loss: opt(&id, "stop-loss", o("stop_loss")?)?,
        take_profit: opt(&id, "take-profit", o("take_profit")?)?,
        parent_id: o("parent_id")?,
        replaces: o("replaces")?,
        status: parse::<OrderStatus>(&id, "status", &s("status")?)?,
        filled_qty: parse::<Decimal>(&id, "filled quantity", &s("filled_qty")?)?,
        avg_fill_price: opt(&id, "average fill price", o("avg_fill_price")?)?,
        reason: o("reason")?,
        broker_status: o("broker_status")?,
        sent_at: o("sent_at")?
            .map(|t| time(&id, "sent at", &t))
            .transpose()?,
        created_at: time(&id, "created at", &s("created_at")?)?,
        updated_at: time(&id, "updated at", &s("updated_at")?)?,
        version: r.try_get("version")?,
        id,
    })
}

fn dec(d: Option<Decimal>) -> Option<String> {
    d.map(|d| d.normalize().to_string())
}

/// Stores a new order (its intent) and its first event.
pub async fn insert(
    conn: &mut SqliteConnection,
    o: &Order,
    detail: &str,
) -> Result<(), OrderStoreError> {
    sqlx::query(
        "INSERT INTO orders (id, account_id, client_order_id, broker_order_id, mode, origin, symbol, \
         side, order_type, quantity, limit_price, stop_price, time_in_force, stop_loss, take_profit, \
         parent_id, replaces, status, filled_qty, avg_fill_price, reason, broker_status, version, \
         sent_at, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
    )
    .bind(&o.id)
    .bind(&o.account_id)
    .bind(&o.client_order_id)
    .bind(&o.broker_order_id)
    .bind(o.mode.as_str())
    .bind(o.origin.as_str())
    .bind(&o.symbol)
    .bind(o.side.as_str())
    .bind(o.order_type.as_str())
    .bind(o.quantity.normalize().to_string())
    .bind(dec(o.limit_price))
    .bind(dec(o.stop_price))
    .bind(o.time_in_force.as_str())
    .bind(dec(o.stop_loss))
    .bind(dec(o.take_profit))
    .bind(&o.parent_id)
    .bind(&o.replaces)
    .bind(o.status.as_str())
    .bind(o.filled_qty.normalize().to_string())
    .bind(dec(o.avg_fill_price))
    .bind(&o.reason)
    .bind(&o.broker_status)
    .bind(o.sent_at.map(fmt_time))
    .bind(fmt_time(o.created_at))
    .bind(fmt_time(o.updated_at))
    .execute(&mut *conn)
    .await?;
    event(conn, &o.id, o.status, detail, o.created_at).await
}

pub(crate) async fn event(
    conn: &mut SqliteConnection,
    order_id: &str,
    status: OrderStatus,
    detail: &str,
    at: DateTime<Utc>,
) -> Result<(), OrderStoreError> {
    sqlx::query("INSERT INTO order_events (order_id, at, status, detail) VALUES (?, ?, ?, ?)")
        .bind(order_id)
        .bind(fmt_time(at))
        .bind(status.as_str())
        .bind(detail)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Writes `next` over the stored order if it is still at `next.version` (compare-and-set),
/// incrementing the version and recording an event when the status changed. Returns false
/// (and writes nothing) when another writer got there first.
pub async fn update(
    conn: &mut SqliteConnection,
    next: &Order,
    detail: &str,
) -> Result<bool, OrderStoreError> {
    type Before = (
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        Option<String>,
    );
    let before: Option<Before> = sqlx::query_as(
        "SELECT status, quantity, limit_price, stop_price, filled_qty, avg_fill_price \
         FROM orders WHERE id = ? AND version = ?",
    )
    .bind(&next.id)
    .bind(next.version)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((before, quantity, limit, stop, filled, avg)) = before else {
        return Ok(false);
    };
    let changes = term_changes((&quantity, limit.as_deref(), stop.as_deref()), next);
    let done = sqlx::query(
        "UPDATE orders SET broker_order_id = ?, status = ?, filled_qty = ?, avg_fill_price = ?, \
         reason = ?, broker_status = ?, sent_at = ?, limit_price = ?, stop_price = ?, quantity = ?, \
         updated_at = ?, version = version + 1 WHERE id = ? AND version = ?",
    )
    .bind(&next.broker_order_id)
    .bind(next.status.as_str())
    .bind(next.filled_qty.normalize().to_string())
    .bind(dec(next.avg_fill_price))
    .bind(&next.reason)
    .bind(&next.broker_status)
    .bind(next.sent_at.map(fmt_time))
    .bind(dec(next.limit_price))
    .bind(dec(next.stop_price))
    .bind(next.quantity.normalize().to_string())
    .bind(fmt_time(next.updated_at))
    .bind(&next.id)
    .bind(next.version)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if done && before != next.status.as_str() {
        event(conn, &next.id, next.status, detail, next.updated_at).await?;
    }
    if done && next.mode == TradingMode::Live {
        let filled = parse::<Decimal>(&next.id, "filled quantity", &filled)?;
        let avg = opt(&next.id, "average fill price", avg)?;
        if let Some(fill) = derived_fill(filled, avg, next) {
            insert_fill(conn, &next.id, &next.account_id, &fill).await?;
        }
    }
    if done && !changes.is_empty() {
        let what = format!("{detail}: {}", changes.join(", "));
        event(conn, &next.id, next.status, &what, next.updated_at).await?;
    }
    Ok(done)
}

/// The execution a live order's broker reported between two reads: the growth of its
/// cumulative filled quantity, at the price that moves the average from `avg` to the new one.
/// Its id is the cumulative quantity it reaches (`cum-…`), so two processes recording the
/// same read never store it twice. `None` when nothing filled or the price is not known.
fn derived_fill(filled: Decimal, avg: Option<Decimal>, next: &Order) -> Option<Fill> {
    let qty = next.filled_qty - filled;
    if qty <= Decimal::ZERO {
        return None;
    }
    let new_avg = next.avg_fill_price?;
    let price = if filled.is_zero() {
        new_avg
    } else {
        let old_avg = avg?;
        ((new_avg * next.filled_qty - old_avg * filled) / qty).round_dp(10)
    };
    Some(Fill {
        fill_id: format!("cum-{}", next.filled_qty.normalize()),
        quantity: qty.normalize(),
        price: price.normalize(),
        fee: Decimal::ZERO,
        at: next.updated_at,
    })
}

/// What an update changes in an order's terms (`quantity 10 → 5`, `limit 1.1 → 1.2`), from
/// the stored text of each; empty when nothing did.
fn term_changes(
    (quantity, limit, stop): (&str, Option<&str>, Option<&str>),
    next: &Order,
) -> Vec<String> {
    let mut out = Vec::new();
    let new_qty = next.quantity.normalize().to_string();
    if quantity != new_qty {
        out.push(format!("quantity {quantity} → {new_qty}"));
    }
    for (name, old, new) in [
        ("limit", limit, dec(next.limit_price)),
        ("stop", stop, dec(next.stop_price)),
    ] {
        if old != new.as_deref() {
            let show = |v: Option<&str>| v.unwrap_or("none").to_string();
            out.push(format!("{name} {} → {}", show(old), show(new.as_deref())));
        }
    }
    out
}

/// Schedules the next lookup of an order whose outcome is unknown.
pub async fn schedule_lookup(
    conn: &mut SqliteConnection,
    order_id: &str,
    lookups: i64,
    next_at: Option<DateTime<Utc>>,
) -> Result<(), OrderStoreError> {
    sqlx::query("UPDATE orders SET lookups = ?, next_lookup_at = ? WHERE id = ?")
        .bind(lookups)
        .bind(next_at.map(fmt_time))
        .bind(order_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Returns `(lookups done, next lookup)` of an order.
pub async fn lookup_state(
    conn: &mut SqliteConnection,
    order_id: &str,
) -> Result<(i64, Option<DateTime<Utc>>), OrderStoreError> {
    let row = sqlx::query("SELECT lookups, next_lookup_at FROM orders WHERE id = ?")
        .bind(order_id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => {
            let next: Option<String> = r.try_get("next_lookup_at")?;
            Ok((
                r.try_get("lookups")?,
                next.map(|t| time(order_id, "next lookup", &t))
                    .transpose()?,
            ))
        }
        None => Ok((0, None)),
    }
}

/// Records a fill once (a fill id seen again is ignored); returns whether it was new.
pub async fn insert_fill(
    conn: &mut SqliteConnection,
    order_id: &str,
    account_id: &str,
    f: &Fill,
) -> Result<bool, OrderStoreError> {
    let n = sqlx::query(
        "INSERT OR IGNORE INTO fills (order_id, account_id, fill_id, quantity, price, fee, at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(order_id)
    .bind(account_id)
    .bind(&f.fill_id)
    .bind(f.quantity.normalize().to_string())
    .bind(f.price.normalize().to_string())
    .bind(f.fee.normalize().to_string())
    .bind(fmt_time(f.at))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// `SELECT * FROM orders` followed by `tail` (a static string, as sqlx wants).
macro_rules! select {
    ($tail:literal) => {
        concat!("SELECT * FROM orders ", $tail)
    };
}

/// Returns an order by id, or by client order id, or a unique id prefix (8+ characters),
/// within an account when one is given.
pub async fn find(
    conn: &mut SqliteConnection,
    account_id: Option<&str>,
    key: &str,
) -> Result<Vec<Order>, OrderStoreError> {
    // An exact id (ours, the client's, the broker's) wins over a prefix, which would also
    // match a bracket child's `{id}:sl`.
    let exact = sqlx::query(select!(
        "WHERE (id = ?1 OR client_order_id = ?1 OR broker_order_id = ?1) \
         AND (?2 IS NULL OR account_id = ?2) ORDER BY created_at LIMIT 3"
    ))
    .bind(key)
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?;
    if !exact.is_empty() {
        return exact.iter().map(order_from).collect();
    }
    let rows = sqlx::query(select!(
        "WHERE length(?1) >= 8 AND id LIKE ?1 || '%' AND (?2 IS NULL OR account_id = ?2) \
         ORDER BY created_at LIMIT 3"
    ))
    .bind(key)
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(order_from).collect()
}

/// The account's order the broker knows as `broker_id`, or that carries the client order id
/// the broker reports (any status: an order still being sent has no broker id yet).
pub async fn by_broker_ref(
    conn: &mut SqliteConnection,
    account_id: &str,
    broker_id: &str,
    client_id: Option<&str>,
) -> Result<Option<Order>, OrderStoreError> {
    let row = sqlx::query(select!(
        "WHERE account_id = ?1 AND (broker_order_id = ?2 OR (?3 IS NOT NULL AND client_order_id = ?3)) \
         ORDER BY created_at LIMIT 1"
    ))
    .bind(account_id)
    .bind(broker_id)
    .bind(client_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(order_from).transpose()
}

/// Whether any order (of any account) has this client order id.
pub async fn client_id_taken(
    conn: &mut SqliteConnection,
    client_id: &str,
) -> Result<bool, OrderStoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE client_order_id = ?")
        .bind(client_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

/// Returns one order by id.
pub async fn get(conn: &mut SqliteConnection, id: &str) -> Result<Option<Order>, OrderStoreError> {
    let row = sqlx::query(select!("WHERE id = ?"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(order_from).transpose()
}

/// Returns an account's orders, newest first: the working ones only with `working`.
pub async fn list(
    conn: &mut SqliteConnection,
    account_id: &str,
    working: bool,
    limit: i64,
) -> Result<Vec<Order>, OrderStoreError> {
    let rows = sqlx::query(select!(
        "WHERE account_id = ? AND (? = 0 OR status NOT IN ('filled', 'cancelled', 'rejected')) \
         ORDER BY created_at DESC, id DESC LIMIT ?"
    ))
    .bind(account_id)
    .bind(working)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(order_from).collect()
}

/// Returns every order in `status` (all accounts), oldest first.
pub async fn with_status(
    conn: &mut SqliteConnection,
    status: OrderStatus,
) -> Result<Vec<Order>, OrderStoreError> {
    let rows = sqlx::query(select!("WHERE status = ? ORDER BY created_at"))
        .bind(status.as_str())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(order_from).collect()
}

/// Returns an order's events, oldest first.
pub async fn events(
    conn: &mut SqliteConnection,
    order_id: &str,
) -> Result<Vec<OrderEvent>, OrderStoreError> {
    let rows =
        sqlx::query("SELECT at, status, detail FROM order_events WHERE order_id = ? ORDER BY id")
            .bind(order_id)
            .fetch_all(&mut *conn)
            .await?;
    rows.iter()
        .map(|r| {
            let at: String = r.try_get("at")?;
            let status: String = r.try_get("status")?;
            Ok(OrderEvent {
                at: time(order_id, "event time", &at)?,
                status: parse(order_id, "event status", &status)?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}

/// Returns an order's fills, oldest first.
pub async fn fills(
    conn: &mut SqliteConnection,
    order_id: &str,
) -> Result<Vec<Fill>, OrderStoreError> {
    let rows = sqlx::query(
        "SELECT fill_id, quantity, price, fee, at FROM fills WHERE order_id = ? ORDER BY at, id",
    )
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let (q, p, f, at): (String, String, String, String) = (
                r.try_get("quantity")?,
                r.try_get("price")?,
                r.try_get("fee")?,
                r.try_get("at")?,
            );
            Ok(Fill {
                fill_id: r.try_get("fill_id")?,
                quantity: parse(order_id, "fill quantity", &q)?,
                price: parse(order_id, "fill price", &p)?,
                fee: parse(order_id, "fee", &f)?,
                at: time(order_id, "fill time", &at)?,
            })
        })
        .collect()
}

/// Returns the mode an account's new orders go to.
pub async fn account_mode(
    conn: &mut SqliteConnection,
    account_id: &str,
) -> Result<Option<TradingMode>, OrderStoreError> {
    let m: Option<String> = sqlx::query_scalar("SELECT mode FROM accounts WHERE id = ?")
        .bind(account_id)
        .fetch_optional(&mut *conn)
        .await?;
    m.map(|m| parse(account_id, "mode", &m)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn live(filled: Decimal, avg: Option<Decimal>) -> Order {
        let draft = super::super::OrderDraft::market("AAPL", Side::Buy, "10");
        let intent = super::super::OrderIntent::check(&draft).expect("valid");
        let mut o = Order::pending("a", TradingMode::Live, &intent, Utc::now());
        o.filled_qty = filled;
        o.avg_fill_price = avg;
        o
    }

    #[test]
    fn a_fill_is_derived_from_the_growth_of_the_cumulative_fill() {
        // 4 at 100, then 10 at an average of 103: the 6 more filled at 105.
        let first = derived_fill(dec!(0), None, &live(dec!(4), Some(dec!(100)))).expect("fill");
        assert_eq!((first.quantity, first.price), (dec!(4), dec!(100)));
        assert_eq!(first.fill_id, "cum-4");
        let second =
            derived_fill(dec!(4), Some(dec!(100)), &live(dec!(10), Some(dec!(103)))).expect("fill");
        assert_eq!((second.quantity, second.price), (dec!(6), dec!(105)));
        assert_eq!(second.fill_id, "cum-10");
        // Nothing new, or no price: no fill.
        assert!(
            derived_fill(dec!(10), Some(dec!(103)), &live(dec!(10), Some(dec!(103)))).is_none()
        );
        assert!(derived_fill(dec!(0), None, &live(dec!(4), None)).is_none());
    }
}
