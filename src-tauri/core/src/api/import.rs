//! Importing a configuration file over the API (`crate::import`): the preview (what would
//! change, per account and field; changes nothing) and applying it — all or nothing in one
//! transaction, after a snapshot of what it replaces, audited, with the step-ups it needs.

use super::guard::Sensitive;
use super::{api, Brokerdesk, DomainEvent};
use crate::accounts::model::Account;
use crate::accounts::validate::Context;
use crate::accounts::Change;
use crate::audit::AuditEvent;
use crate::error::{ApiError, ErrorCode};
use crate::history;
use crate::import::{
    self, AccountAction, Checked, ImportError, ImportPreview, OnConflict, Plan, Write,
};
use crate::portable::SEALED;
use crate::secret::Secret;
use crate::store::StoreError;

impl Brokerdesk {
    /// What importing `bytes` (a configuration export, JSON or YAML) would do, changing
    /// nothing. `passphrase` opens the file's sealed credentials (a wrong one is refused);
    /// without it they are listed, unopened.
    pub async fn config_import_preview(
        &self,
        bytes: &[u8],
        passphrase: Option<Secret>,
        on_conflict: Option<OnConflict>,
    ) -> Result<ImportPreview, ApiError> {
        self.vault.unlocked().await.map_err(api)?;
        let checked = import::check_bytes(bytes).map_err(|e| e.to_api_error())?;
        Ok(self
            .import_plan(checked, passphrase, on_conflict)
            .await?
            .preview)
    }

    /// Imports `bytes`: refused (nothing changed) when the file is not valid, when names
    /// conflict and `on_conflict` is `None`, when sealed credentials come without their
    /// passphrase, or without the step-up that importing credentials or loosening a rule
    /// needs. Otherwise one transaction: a snapshot version of each account and of the
    /// settings it replaces, the new and replaced accounts (in paper mode; credentials
    /// unverified), the settings, their versions (actor `import`) and audit entries.
    pub async fn config_import_apply(
        &self,
        bytes: &[u8],
        passphrase: Option<Secret>,
        on_conflict: Option<OnConflict>,
    ) -> Result<ImportPreview, ApiError> {
        let checked = import::check_bytes(bytes).map_err(|e| e.to_api_error())?;
        let brings_credentials = checked
            .doc
            .accounts
            .iter()
            .any(|a| a.credentials.values().any(|m| m == SEALED));
        if brings_credentials && passphrase.is_none() {
            return Err(ImportError::PassphraseRequired.to_api_error());
        }
        self.guard(|g| async move {
            let Plan {
                mut preview,
                writes,
                settings,
            } = self.import_plan(checked, passphrase, on_conflict).await?;
            if !preview.conflicts.is_empty() {
                return Err(ImportError::Conflict(preview.conflicts.clone()).to_api_error());
            }
            // The step-ups, all asked before anything is written.
            let with_credentials = |input: &crate::accounts::model::AccountInput| {
                input.credentials.api_key.is_some() || input.credentials.api_secret.is_some()
            };
            let store_auth = if writes.iter().any(|w| match w {
                Write::Add { input } | Write::Replace { input, .. } => with_credentials(input),
            }) {
                Some(g.step_up(Sensitive::StoreCredentials).await?)
            } else {
                None
            };
            if preview.accounts.iter().any(|p| !p.loosens.is_empty()) {
                g.step_up(Sensitive::LoosenRisk).await?;
            }
            let move_auth = if writes.iter().any(|w| match w {
                Write::Replace { current, input } => {
                    !with_credentials(input) && moves_credentials(input, current)
                }
                Write::Add { .. } => false,
            }) {
                Some(g.step_up(Sensitive::MoveCredentials).await?)
            } else {
                None
            };

            let key = g.key().clone();
            let mut tx = self.store.begin_write().await.map_err(api)?;
            key.check_generation(&mut tx).await.map_err(api)?;
            // The snapshot: what the import replaces is a version to roll back to.
            for w in &writes {
                if let Write::Replace { current, .. } = w {
                    history::snapshot_account(&mut tx, current)
                        .await
                        .map_err(api)?;
                }
            }
            let old_settings = self.settings().await?;
            if settings.is_some() {
                history::snapshot_settings(&mut tx, &old_settings)
                    .await
                    .map_err(api)?;
            }
            let mut ids = Vec::new();
            let (mut added, mut replaced) = (0usize, 0usize);
            for w in writes {
                match w {
                    Write::Add { input } => {
                        let creds = with_credentials(&input);
                        let notes = move |a: &Account| {
                            let mut n = vec![(
                                AuditEvent::AccountCreated,
                                format!("{} ({} {}), imported", a.name, a.broker, a.environment),
                            )];
                            if creds {
                                n.push((
                                    AuditEvent::CredentialsStored,
                                    format!("{}: imported, unverified", fields(a)),
                                ));
                            }
                            n
                        };
                        let change = Change {
                            auth: if creds { store_auth.as_ref() } else { None },
                            notes: &notes,
                            history_actor: history::IMPORT,
                            import: true,
                        };
                        let id = self
                            .accounts
                            .add_tx(&mut tx, &key, input, &Context::Import, change)
                            .await
                            .map_err(api)?;
                        ids.push(id);
                        added += 1;
                    }
                    Write::Replace { current, input } => {
                        let creds = with_credentials(&input);
                        let loosened = preview
                            .accounts
                            .iter()
                            .find(|p| p.existing_id.as_deref() == Some(current.id.as_str()))
                            .map(|p| p.loosens.clone())
                            .unwrap_or_default();
                        let before = (*current).clone();
                        let notes = move |a: &Account| {
                            let changed = crate::accounts::diff::changes(&before, a);
                            let mut n = vec![(
                                AuditEvent::AccountEdited,
                                format!("{}: replaced by an import: {}", a.name, if changed.is_empty() { "no setting changed".to_string() } else { changed.join("; ") }),
                            )];
                            if !loosened.is_empty() {
                                n.push((
                                    AuditEvent::AccountEdited,
                                    format!("{}: protection loosened ({})", a.name, loosened.join(", ")),
                                ));
                            }
                            if before.mode != a.mode {
                                n.push((
                                    AuditEvent::ModeSwitched,
                                    format!("{}: {} → {} (imported)", a.name, before.mode, a.mode),
                                ));
                            }
                            if creds {
                                n.push((
                                    AuditEvent::CredentialsRotated,
                                    format!("{}: imported, unverified", fields(a)),
                                ));
                            }
                            n
                        };
                        self.accounts
                            .to_paper_tx(&mut tx, &current.id)
                            .await
                            .map_err(api)?;
                        let change = Change {
                            auth: if creds {
                                store_auth.as_ref()
                            } else {
                                move_auth.as_ref()
                            },
                            notes: &notes,
                            history_actor: history::IMPORT,
                            import: true,
                        };
                        let id = self
                            .accounts
                            .update_tx(&mut tx, &key, &current.id, input, change)
                            .await
                            .map_err(api)?;
                        ids.push(id);
                        replaced += 1;
                    }
                }
            }
            if let Some(new) = &settings {
                crate::settings::save(&mut tx, new).await.map_err(api)?;
                let lines: Vec<String> = preview
                    .settings
                    .changes
                    .iter()
                    .map(crate::accounts::diff::FieldChange::line)
                    .collect();
                crate::audit::append(
                    &mut tx,
                    Some(&key),
                    self.audit.actor(),
                    AuditEvent::SettingsChanged,
                    None,
                    &format!("imported: {}", lines.join("; ")),
                )
                .await
                .map_err(api)?;
                history::record_settings(&mut tx, history::IMPORT, new, &lines)
                    .await
                    .map_err(api)?;
            }
            let count = |a: AccountAction| preview.accounts.iter().filter(|p| p.action == a).count();
            crate::audit::append(
                &mut tx,
                Some(&key),
                self.audit.actor(),
                AuditEvent::ConfigImported,
                None,
                &format!(
                    "import of export #{} of profile {}: {added} account(s) added ({} renamed), {replaced} replaced, {} skipped, {} unchanged; settings {}; {}",
                    preview.serial,
                    crate::text::cap(&preview.lineage, 64),
                    count(AccountAction::Rename),
                    count(AccountAction::Skip),
                    count(AccountAction::Unchanged),
                    if settings.is_some() { "changed" } else { "unchanged" },
                    if store_auth.is_some() { "with credentials (unverified)" } else { "no credentials" },
                ),
            )
            .await
            .map_err(api)?;
            tx.commit().await.map_err(|e| api(StoreError::from(e)))?;
            for id in ids {
                g.publish(DomainEvent::AccountChanged { account_id: id });
            }
            if settings.is_some() {
                g.publish(DomainEvent::SettingsChanged);
            }
            preview.applied = true;
            Ok(preview)
        })
        .await
    }

    /// Opens the sealed credentials (when a passphrase is given) and plans against the
    /// profile as it is.
    async fn import_plan(
        &self,
        checked: Checked,
        passphrase: Option<Secret>,
        on_conflict: Option<OnConflict>,
    ) -> Result<Plan, ApiError> {
        let opened = match (&checked.doc.credentials, passphrase) {
            (None, _) => Some(import::Opened::new()),
            (Some(_), None) => None,
            (Some(_), Some(p)) => {
                let doc = checked.doc.clone();
                let opened = tokio::task::spawn_blocking(move || import::open_sealed(&doc, &p))
                    .await
                    .map_err(|e| {
                        ApiError::new(
                            crate::error::Code::Internal,
                            format!("opening the credentials stopped: {e}"),
                        )
                    })?
                    .map_err(|e| e.to_api_error())?;
                Some(opened)
            }
        };
        let existing = self.accounts_list().await?;
        let settings = self.settings().await?;
        let mut plan = import::plan(&checked, &existing, &settings, opened.as_ref(), on_conflict)
            .map_err(|e| e.to_api_error())?;
        for w in &plan.writes {
            if let Write::Replace { current, input } = w {
                let new =
                    input.credentials.api_key.is_some() || input.credentials.api_secret.is_some();
                if !new && moves_credentials(input, current) {
                    plan.preview.step_up.push(format!(
                        "it points {}'s stored credentials at other endpoints",
                        current.name
                    ));
                }
            }
        }
        Ok(plan)
    }
}

/// Whether replacing `current` with `input` sends its stored credentials elsewhere.
fn moves_credentials(input: &crate::accounts::model::AccountInput, current: &Account) -> bool {
    super::checks::endpoints_moved(input, current) && super::checks::guards_a_session(current)
}

fn fields(a: &Account) -> String {
    let names: Vec<&str> = a.credentials.iter().map(|c| c.field.as_str()).collect();
    format!("fields: {}", names.join(", "))
}
