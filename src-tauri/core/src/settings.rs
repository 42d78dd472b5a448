//! App settings kept in the profile (so the app and the CLI agree).

use chrono::Utc;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::FieldError;
use crate::store::{Store, StoreError};

/// User settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AppSettings {
    /// Lock the vault after this many minutes without user activity (1–1440); `null` = never.
    /// Only a vault with a master password can lock.
    pub auto_lock_minutes: Option<u32>,
}

impl AppSettings {
    /// Returns the problems with these settings.
    pub fn validate(&self) -> Vec<FieldError> {
        match self.auto_lock_minutes {
            Some(m) if !(1..=1440).contains(&m) => vec![FieldError::new(
                "autoLockMinutes",
                "out_of_range",
                "Auto-lock must be between 1 and 1440 minutes (or off).",
            )],
            _ => Vec::new(),
        }
    }
}

/// Reads the settings (defaults when never saved).
pub async fn load(store: &Store) -> Result<AppSettings, StoreError> {
    let v: Option<Option<i64>> =
        sqlx::query_scalar("SELECT auto_lock_minutes FROM app_settings WHERE id = 1")
            .fetch_optional(store.pool())
            .await?;
    Ok(AppSettings {
        auto_lock_minutes: v.flatten().and_then(|m| u32::try_from(m).ok()),
    })
}

/// Saves the settings inside the caller's transaction.
pub async fn save(conn: &mut sqlx::SqliteConnection, s: &AppSettings) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO app_settings (id, auto_lock_minutes, updated_at) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET auto_lock_minutes = ?1, updated_at = ?2",
    )
    .bind(s.auto_lock_minutes.map(i64::from))
    .bind(Utc::now().to_rfc3339())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
