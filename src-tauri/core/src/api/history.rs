//! Configuration history over the API (`crate::history`): list, show, roll back.

use super::{api, Brokerdesk};
use crate::error::{ApiError, Code};
use crate::history::{self, ConfigVersion, Rollback, Subject};
use crate::portable::ExportedAccount;
use crate::settings::AppSettings;

/// At most this many versions are listed.
pub const HISTORY_LIMIT: u32 = 500;

impl Brokerdesk {
    /// The versions of one account (by name or id; a removed account by its id), of the app
    /// settings (`settings`), or of everything (`None`), newest first.
    pub async fn config_history(&self, of: Option<&str>) -> Result<Vec<ConfigVersion>, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        let id = match of.map(str::trim) {
            None | Some("") => None,
            Some(history::SETTINGS) => Some(history::SETTINGS.to_string()),
            Some(key) => Some(match self.accounts_get_id(key).await {
                Ok(id) => id,
                Err(e) if e.code == Code::NotFound => key.to_string(),
                Err(e) => return Err(e),
            }),
        };
        let subject = match id.as_deref() {
            None => Subject::Everything,
            Some(history::SETTINGS) => Subject::Settings,
            Some(id) => Subject::Account(id),
        };
        let mut conn = self
            .store
            .pool()
            .acquire()
            .await
            .map_err(|e| api(crate::store::StoreError::from(e)))?;
        history::list(&mut conn, subject, HISTORY_LIMIT)
            .await
            .map_err(api)
    }

    /// One version, whole.
    pub async fn config_show(&self, version: i64) -> Result<ConfigVersion, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        let mut conn = self
            .store
            .pool()
            .acquire()
            .await
            .map_err(|e| api(crate::store::StoreError::from(e)))?;
        history::get(&mut conn, version)
            .await
            .map_err(api)?
            .ok_or_else(|| ApiError::new(Code::NotFound, format!("there is no version {version}")))
    }

    /// Applies version `version` again as a new edit — of its account (which keeps its
    /// status, mode and stored credentials; the edit asks for the step-ups any edit would,
    /// e.g. when it loosens a rule or moves the endpoints) or of the app settings. Returns
    /// what it did and the subject's newest version afterwards.
    pub async fn config_rollback(&self, version: i64) -> Result<Rollback, ApiError> {
        let v = self.config_show(version).await?;
        let subject_key = v
            .account_id
            .clone()
            .unwrap_or_else(|| history::SETTINGS.to_string());
        let newest = |list: Vec<ConfigVersion>| list.into_iter().next();
        let before = newest(self.config_history(Some(&subject_key)).await?).map(|n| n.version);
        let unreadable = |e: serde_json::Error| {
            ApiError::new(
                Code::Validation,
                format!("version {version} cannot be read back ({e}); it was not applied"),
            )
        };
        match &v.account_id {
            None => {
                let settings: AppSettings =
                    serde_json::from_value(v.config.clone()).map_err(unreadable)?;
                self.settings_update(settings).await?;
            }
            Some(id) => {
                let exported: ExportedAccount =
                    serde_json::from_value(v.config.clone()).map_err(unreadable)?;
                let (id, subject) = (id.clone(), v.subject.clone());
                self.guard(|g| async move {
                    let current = self.accounts.get(&id).await.map_err(|e| {
                        let e = api(e);
                        if e.code == Code::NotFound {
                            ApiError::new(
                                Code::NotFound,
                                format!("{subject} was removed: its versions can be read but not applied"),
                            )
                        } else {
                            e
                        }
                    })?;
                    let mut input = exported.into_input();
                    // Configuration only: the account's state stays as it is.
                    input.status = current.status;
                    input.status_reason = None;
                    self.update_in(&g, &current, input).await
                })
                .await?;
            }
        }
        let now = newest(self.config_history(Some(&subject_key)).await?).unwrap_or(v);
        Ok(Rollback {
            applied: version,
            changed: Some(now.version) != before,
            now,
        })
    }

    /// An account's id from its name, id or id prefix.
    async fn accounts_get_id(&self, key: &str) -> Result<String, ApiError> {
        Ok(self.accounts.get(key).await.map_err(api)?.id)
    }
}
