//! The app settings over the API.

use super::{api, Brokerdesk, DomainEvent};
use crate::audit::AuditEvent;
use crate::error::ApiError;
use crate::settings::{self, AppSettings};
use crate::store::StoreError;

impl Brokerdesk {
    /// Returns the app settings (readable while locked: the app needs auto-lock to run).
    pub async fn settings(&self) -> Result<AppSettings, ApiError> {
        settings::load(&self.store).await.map_err(api)
    }

    /// Saves the app settings.
    pub async fn settings_update(&self, new: AppSettings) -> Result<AppSettings, ApiError> {
        self.guard(|g| async move {
            let fields = new.validate();
            if !fields.is_empty() {
                return Err(ApiError::invalid(fields));
            }
            let old = settings::load(&self.store).await.map_err(api)?;
            let key = self.vault.unlocked().await.map_err(api)?;
            let mut tx = self.store.begin_write().await.map_err(api)?;
            settings::save(&mut tx, &new).await.map_err(api)?;
            // Recorded in the change's transaction, before → after.
            let changes = changes(&old, &new);
            crate::audit::append(
                &mut tx,
                Some(&key),
                self.audit.actor(),
                AuditEvent::SettingsChanged,
                None,
                &if changes.is_empty() {
                    format!(
                        "no setting changed ({}; at most {} price updates per instrument per second)",
                        auto_lock(&new),
                        new.price_updates_per_second
                    )
                } else {
                    changes.join("; ")
                },
            )
            .await
            .map_err(api)?;
            crate::history::record_settings(&mut tx, self.audit.actor(), &new, &changes)
                .await
                .map_err(api)?;
            tx.commit().await.map_err(|e| api(StoreError::from(e)))?;
            g.publish(DomainEvent::SettingsChanged);
            Ok(new)
        })
        .await
    }
}

fn auto_lock(s: &AppSettings) -> String {
    match s.auto_lock_minutes {
        Some(m) => format!("auto-lock after {m} idle minutes"),
        None => "auto-lock off".to_string(),
    }
}

/// What a settings change changed, before → after (empty: nothing).
fn changes(old: &AppSettings, new: &AppSettings) -> Vec<String> {
    let mut parts = Vec::new();
    if old.auto_lock_minutes != new.auto_lock_minutes {
        parts.push(format!("{} → {}", auto_lock(old), auto_lock(new)));
    }
    if old.price_updates_per_second != new.price_updates_per_second {
        parts.push(format!(
            "at most {} → {} price updates per instrument per second",
            old.price_updates_per_second, new.price_updates_per_second
        ));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settings_change_names_before_and_after() {
        let old = AppSettings {
            auto_lock_minutes: None,
            price_updates_per_second: 30,
        };
        let new = AppSettings {
            auto_lock_minutes: Some(15),
            price_updates_per_second: 10,
        };
        assert_eq!(
            changes(&old, &new),
            vec![
                "auto-lock off → auto-lock after 15 idle minutes".to_string(),
                "at most 30 → 10 price updates per instrument per second".to_string()
            ]
        );
        assert!(changes(&new, &new).is_empty());
    }
}
