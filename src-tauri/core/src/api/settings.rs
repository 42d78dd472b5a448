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
            let mut tx = self.store.begin_write().await.map_err(api)?;
            settings::save(&mut tx, &new).await.map_err(api)?;
            tx.commit().await.map_err(|e| api(StoreError::from(e)))?;
            let detail = match new.auto_lock_minutes {
                Some(m) => format!("auto-lock after {m} idle minutes"),
                None => "auto-lock off".to_string(),
            };
            g.audit(
                AuditEvent::SettingsChanged,
                None,
                format!(
                    "{detail}; at most {} price updates per instrument per second",
                    new.price_updates_per_second
                ),
            );
            g.publish(DomainEvent::SettingsChanged);
            Ok(new)
        })
        .await
    }
}
