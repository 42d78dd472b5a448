//! The one API over the engine. The Tauri shell, the development server and the CLI are
//! thin adapters over [`Brokerdesk`]: every method returns the serializable [`ApiError`] on
//! failure, so every surface reports the same codes and messages.
//!
//! Split by capability: `vault`, `accounts`, `checks` (credentials checked with the broker),
//! `streams` (watchlists and feeds), `twofa`, `audit`, `settings`, `desktop` (starting at login). Every change goes through
//! one door, [`guard`]: unlocked or refused, the two-factor step-up for sensitive operations,
//! the audit entries and the domain events ([`events`]) on success. [`commands`] is the IPC
//! contract: the commands the UI may call, by name, with their argument and result types,
//! from which the TypeScript client is generated.

mod accounts;
mod audit;
pub mod backup;
mod certificates;
mod checks;
pub mod commands;
pub mod desktop;
pub mod events;
pub mod guard;
mod health;
mod history;
mod import;
mod portable;
mod settings;
mod streams;
mod twofa;
mod vault;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use checks::{CheckOutcome, SavedAccount};
pub use events::DomainEvent;
pub use streams::FeedSession;
use tokio::sync::broadcast;
pub use vault::VaultStatus;

use crate::accounts::Accounts;
use crate::audit::{Audit, AuditEvent};
use crate::error::{ApiError, ErrorCode};
use crate::store::Store;
use crate::twofa::TwoFactor;
use crate::vault::keychain::{KeyStore, NoKeychain, OsKeychain};
use crate::vault::{Vault, VaultProtection};

/// Setting this environment variable to `1` makes Brokerdesk behave as if no OS keychain
/// existed (a master password is then required).
pub const NO_KEYCHAIN_ENV: &str = "BROKERDESK_NO_KEYCHAIN";

/// Returns the keychain to use: the OS keychain unless `BROKERDESK_NO_KEYCHAIN=1`.
pub fn default_keystore() -> Arc<dyn KeyStore> {
    match std::env::var(NO_KEYCHAIN_ENV) {
        Ok(v) if v == "1" || v.eq_ignore_ascii_case("true") => Arc::new(NoKeychain),
        _ => Arc::new(OsKeychain),
    }
}

/// How many credential checks one account may make per minute.
pub const VERIFY_PER_MINUTE: i64 = 5;

/// An open Brokerdesk profile (one data directory).
pub struct Brokerdesk {
    data_dir: PathBuf,
    store: Store,
    vault: Arc<Vault>,
    accounts: Accounts,
    audit: Audit,
    twofa: TwoFactor,
    actor: String,
    keychain_error: std::sync::RwLock<Option<String>>,
    auto_unlock_error: std::sync::RwLock<Option<ApiError>>,
    drafts: checks::DraftLimiter,
    events: broadcast::Sender<DomainEvent>,
}

fn api<E: ErrorCode>(e: E) -> ApiError {
    e.to_api_error()
}

impl Brokerdesk {
    /// Opens the profile in `data_dir` (created if missing), runs migrations, and unlocks a
    /// keychain-protected vault. Audit entries name the actor `app`.
    pub async fn open(data_dir: &Path, keystore: Arc<dyn KeyStore>) -> Result<Self, ApiError> {
        Self::open_as(data_dir, keystore, "app").await
    }

    /// Like [`Brokerdesk::open`], with the actor the audit log records (`app`, `cli`).
    pub async fn open_as(
        data_dir: &Path,
        keystore: Arc<dyn KeyStore>,
        actor: &str,
    ) -> Result<Self, ApiError> {
        let store = Store::open(data_dir).await.map_err(api)?;
        let vault = Arc::new(Vault::new(store.clone(), keystore));
        let accounts = Accounts::new(store.clone(), vault.clone(), actor);
        let profile = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "default".to_string());
        let bd = Self {
            data_dir: data_dir.to_path_buf(),
            audit: Audit::new(store.clone(), vault.clone(), actor),
            twofa: TwoFactor::new(store.clone(), vault.clone(), actor, profile),
            store,
            vault,
            accounts,
            actor: actor.to_string(),
            keychain_error: std::sync::RwLock::new(None),
            auto_unlock_error: std::sync::RwLock::new(None),
            drafts: checks::DraftLimiter::default(),
            events: broadcast::channel(events::EVENT_BUFFER).0,
        };
        bd.refresh_keychain().await;
        let state = bd.vault.state().await.map_err(api)?;
        if state.protection == Some(VaultProtection::Keychain) {
            match bd.vault.unlock(None).await {
                Ok(()) => {
                    bd.audit
                        .record(AuditEvent::VaultUnlocked, None, "from the OS keychain")
                        .await
                }
                Err(e) => {
                    tracing::warn!(
                        code = %e.code(),
                        "could not unlock the vault from the OS keychain"
                    );
                    bd.audit
                        .record(AuditEvent::VaultUnlockFailed, None, e.code().as_str())
                        .await;
                    set(&bd.auto_unlock_error, Some(e.to_api_error()));
                }
            }
        }
        Ok(bd)
    }

    /// Replaces the two-factor clock (tests of skew, replay, lockout and expiry).
    pub fn with_twofa_clock(mut self, clock: crate::twofa::Clock) -> Self {
        self.twofa = self.twofa.with_clock(clock);
        self
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Returns who the audit log names for this process's changes (`app`, `cli`).
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Returns the profile's store (the connection manager persists its events there).
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// Closes the database cleanly (checkpointing the WAL).
    pub async fn close(&self) {
        self.store.close().await;
    }
}

fn set<T>(lock: &std::sync::RwLock<T>, v: T) {
    match lock.write() {
        Ok(mut g) => *g = v,
        Err(p) => *p.into_inner() = v,
    }
}

fn get<T: Clone>(lock: &std::sync::RwLock<T>) -> T {
    match lock.read() {
        Ok(g) => g.clone(),
        Err(p) => p.into_inner().clone(),
    }
}
