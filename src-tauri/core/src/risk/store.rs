//! `risk_state` rows (see `migrations/0011_risk.sql`).

use chrono::{DateTime, Utc};
use sqlx::{Row, SqliteConnection};

use super::budget::LossState;
use crate::money::{self, Decimal};
use crate::store::StoreError;

fn dec(row: &sqlx::sqlite::SqliteRow, col: &str) -> Result<Decimal, StoreError> {
    let t: String = row.try_get(col).map_err(StoreError::from)?;
    money::from_stored(&t).map_err(|e| StoreError::from(sqlx::Error::Decode(Box::new(e))))
}

/// The stored state of an account, if its losses were ever tracked.
pub async fn load(
    conn: &mut SqliteConnection,
    account_id: &str,
) -> Result<Option<LossState>, StoreError> {
    let Some(row) = sqlx::query("SELECT * FROM risk_state WHERE account_id = ?")
        .bind(account_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let day_start: String = row.try_get("day_start")?;
    let day_start = DateTime::parse_from_rfc3339(&day_start)
        .map_err(|e| StoreError::from(sqlx::Error::Decode(Box::new(e))))?
        .with_timezone(&Utc);
    let floor: Option<String> = row.try_get("total_floor")?;
    let warned: String = row.try_get("warned")?;
    Ok(Some(LossState {
        initial_balance: dec(&row, "initial_balance")?,
        day_start,
        day_start_balance: dec(&row, "day_start_balance")?,
        day_start_equity: dec(&row, "day_start_equity")?,
        highest_eod_balance: dec(&row, "highest_eod_balance")?,
        total_floor: floor
            .map(|f| {
                money::from_stored(&f)
                    .map_err(|e| StoreError::from(sqlx::Error::Decode(Box::new(e))))
            })
            .transpose()?,
        warned: warned
            .split(',')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect(),
    }))
}

/// Writes an account's state.
pub async fn save(
    conn: &mut SqliteConnection,
    account_id: &str,
    s: &LossState,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO risk_state (account_id, initial_balance, day_start, day_start_balance, day_start_equity,
            highest_eod_balance, total_floor, warned, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(account_id) DO UPDATE SET initial_balance = excluded.initial_balance,
            day_start = excluded.day_start, day_start_balance = excluded.day_start_balance,
            day_start_equity = excluded.day_start_equity, highest_eod_balance = excluded.highest_eod_balance,
            total_floor = excluded.total_floor, warned = excluded.warned, updated_at = excluded.updated_at",
    )
    .bind(account_id)
    .bind(s.initial_balance.to_string())
    .bind(s.day_start.to_rfc3339())
    .bind(s.day_start_balance.to_string())
    .bind(s.day_start_equity.to_string())
    .bind(s.highest_eod_balance.to_string())
    .bind(s.total_floor.map(|f| f.to_string()))
    .bind(s.warned.join(","))
    .bind(Utc::now().to_rfc3339())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
