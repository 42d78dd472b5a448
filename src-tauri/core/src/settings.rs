//! App settings kept in the profile (so the app and the CLI agree).

use chrono::Utc;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{FieldCode, FieldError};
use crate::store::{Store, StoreError};

/// The default cap on UI price updates per instrument per second.
pub const DEFAULT_PRICE_UPDATES_PER_SECOND: u32 = 30;

fn default_price_rate() -> u32 {
    DEFAULT_PRICE_UPDATES_PER_SECOND
}

/// User settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AppSettings {
    /// Lock the vault after this many minutes without user activity (1–1440); `null` = never.
    /// Only a vault with a master password can lock.
    pub auto_lock_minutes: Option<u32>,
    /// At most this many price updates per instrument per second reach the UI (1–120; the
    /// latest price always wins).
    #[serde(default = "default_price_rate")]
    pub price_updates_per_second: u32,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            auto_lock_minutes: None,
            price_updates_per_second: DEFAULT_PRICE_UPDATES_PER_SECOND,
        }
    }
}

impl AppSettings {
    /// Returns the problems with these settings.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if let Some(m) = self.auto_lock_minutes {
            if !(1..=1440).contains(&m) {
                errs.push(FieldError::new(
                    "autoLockMinutes",
                    FieldCode::OutOfRange,
                    "Auto-lock must be between 1 and 1440 minutes (or off).",
                ));
            }
        }
        if !(1..=120).contains(&self.price_updates_per_second) {
            errs.push(FieldError::new(
                "priceUpdatesPerSecond",
                FieldCode::OutOfRange,
                "Price updates must be between 1 and 120 per second per instrument.",
            ));
        }
        errs
    }
}

/// Reads the settings (defaults when never saved).
pub async fn load(store: &Store) -> Result<AppSettings, StoreError> {
    let row: Option<(Option<i64>, i64)> = sqlx::query_as(
        "SELECT auto_lock_minutes, price_updates_per_second FROM app_settings WHERE id = 1",
    )
    .fetch_optional(store.pool())
    .await?;
    let Some((auto_lock, rate)) = row else {
        return Ok(AppSettings::default());
    };
    Ok(AppSettings {
        auto_lock_minutes: auto_lock.and_then(|m| u32::try_from(m).ok()),
        price_updates_per_second: u32::try_from(rate).unwrap_or(DEFAULT_PRICE_UPDATES_PER_SECOND),
    })
}

/// Saves the settings inside the caller's transaction.
pub async fn save(conn: &mut sqlx::SqliteConnection, s: &AppSettings) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO app_settings (id, auto_lock_minutes, price_updates_per_second, updated_at)
         VALUES (1, ?1, ?3, ?2)
         ON CONFLICT (id) DO UPDATE SET auto_lock_minutes = ?1, price_updates_per_second = ?3,
             updated_at = ?2",
    )
    .bind(s.auto_lock_minutes.map(i64::from))
    .bind(Utc::now().to_rfc3339())
    .bind(i64::from(s.price_updates_per_second))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
