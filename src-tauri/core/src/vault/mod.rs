//! The vault: the data-encryption key (DEK) that seals every secret field, and how it is kept.
//!
//! - **Keychain protection** (no master password): the DEK lives in the OS keychain under
//!   `dev.brokerdesk.vault / <vault id>/dek/<generation>`; the app unlocks itself at start.
//! - **Password protection**: the DEK is sealed under a key derived from the master password
//!   with Argon2id ([`kdf`]) and stored in the database; the keychain holds no copy, so the
//!   vault really is locked until the password is typed. Where no keychain is reachable this
//!   is the only choice: there is never a plaintext fallback.
//!
//! Every secret is sealed with XChaCha20-Poly1305 and bound to its record and field
//! ([`crypto`]). A `key_check` value sealed under the DEK lets us tell a wrong key (wrong
//! password, stale keychain entry) from tampered data. Rotation re-seals every secret in one
//! `IMMEDIATE` transaction; other processes notice the new generation and refuse to write
//! with the old key ([`VaultError::VaultChanged`]).

pub mod crypto;
pub mod integrity;
pub mod kdf;
pub mod keychain;

use std::sync::{Arc, RwLock};

use chrono::Utc;
use sqlx::{Row, Sqlite, Transaction};
use zeroize::Zeroizing;

use self::crypto::{Key, OpenError, Sealer};
use self::kdf::{KdfError, KdfParams};
use self::keychain::{entry_name, KeyStore, KeychainError};
use crate::error::{Code, ErrorCode};
use crate::secret::Secret;
use crate::store::{Store, StoreError};

const SALT_LEN: usize = 16;
/// NIST SP 800-63B asks for at least 8 characters and a generous maximum.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// How the DEK is protected at rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum VaultProtection {
    Keychain,
    Password,
}

impl VaultProtection {
    /// Returns the stable string form (`keychain` or `password`).
    pub fn as_str(self) -> &'static str {
        match self {
            VaultProtection::Keychain => "keychain",
            VaultProtection::Password => "password",
        }
    }
}

/// A vault failure.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("no vault exists in this data directory yet; run `brokerdesk init` or open the app to create one")]
    NotInitialized,
    #[error("a vault already exists in this data directory")]
    AlreadyInitialized,
    #[error("the vault is locked; unlock it with the master password")]
    Locked,
    #[error("wrong master password")]
    WrongPassword,
    #[error("the master password is required for this vault")]
    PasswordMissing,
    #[error("weak master password: {0}")]
    WeakPassword(String),
    #[error("a master password is required: {0}")]
    PasswordRequired(String),
    #[error("the vault has no master password, so it cannot be locked; set one in Security first")]
    NoMasterPassword,
    #[error("the OS keychain has no Brokerdesk key for this vault (it may have been deleted, or this data directory was copied from another user or machine)")]
    KeychainKeyMissing,
    #[error("the key in the OS keychain does not open this vault (it belongs to another vault or generation)")]
    KeychainKeyMismatch,
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    #[error(transparent)]
    Open(#[from] OpenError),
    /// A stored secret cannot be opened, so the key cannot change without losing it: the
    /// operation stops before anything is written, naming what to fix.
    #[error(
        "the data key was not changed: {what} cannot be read ({source}); {fix}, then try again"
    )]
    Unreadable {
        what: String,
        fix: &'static str,
        source: OpenError,
    },
    #[error("the vault key was rotated or re-protected by another Brokerdesk process; unlock again to continue")]
    VaultChanged,
    #[error("the vault record is damaged: {0}")]
    Damaged(String),
    /// Security state (mode, status, endpoints, rules, two-factor settings) whose tag does
    /// not verify: it was changed outside Brokerdesk.
    #[error("{0}")]
    StateTampered(String),
    #[error(transparent)]
    Kdf(#[from] KdfError),
    #[error("the operating system's random number generator failed")]
    Random,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for VaultError {
    fn from(e: sqlx::Error) -> Self {
        VaultError::Store(e.into())
    }
}

impl From<getrandom::Error> for VaultError {
    fn from(_: getrandom::Error) -> Self {
        VaultError::Random
    }
}

impl ErrorCode for VaultError {
    fn code(&self) -> Code {
        match self {
            VaultError::NotInitialized => Code::NotInitialized,
            VaultError::AlreadyInitialized => Code::AlreadyInitialized,
            VaultError::Locked => Code::Locked,
            VaultError::WrongPassword => Code::WrongPassword,
            VaultError::PasswordMissing => Code::PasswordMissing,
            VaultError::WeakPassword(_) => Code::WeakPassword,
            VaultError::PasswordRequired(_) => Code::PasswordRequired,
            VaultError::NoMasterPassword => Code::NoMasterPassword,
            VaultError::KeychainKeyMissing => Code::KeychainKeyMissing,
            VaultError::KeychainKeyMismatch => Code::KeychainKeyMismatch,
            VaultError::Keychain(KeychainError::Unavailable(_)) => Code::KeychainUnavailable,
            VaultError::Keychain(KeychainError::Failed(_)) => Code::KeychainFailed,
            VaultError::Open(OpenError::Tampered { .. }) => Code::CiphertextTampered,
            VaultError::Open(OpenError::Misbound { .. }) => Code::CiphertextMisbound,
            VaultError::Unreadable {
                source: OpenError::Tampered { .. },
                ..
            } => Code::CiphertextTampered,
            VaultError::Unreadable {
                source: OpenError::Misbound { .. },
                ..
            } => Code::CiphertextMisbound,
            VaultError::VaultChanged => Code::VaultChanged,
            VaultError::Damaged(_) => Code::VaultDamaged,
            VaultError::StateTampered(_) => Code::StateTampered,
            VaultError::Kdf(_) => Code::KdfFailed,
            VaultError::Random => Code::RandomFailed,
            VaultError::Store(e) => e.code(),
        }
    }
}

/// The binding of the two-factor TOTP secret.
pub const TWOFA_SECRET_BINDING: &str = "twofa:totp_secret";

pub use self::integrity::{account_secret_binding, CredentialScope};

fn key_check_binding(vault_id: &str) -> String {
    format!("vault:{vault_id}:key_check")
}

fn wrapped_key_binding(vault_id: &str) -> String {
    format!("vault:{vault_id}:dek")
}

/// The unlocked key material. Dropping the last reference zeroizes it.
pub struct Unlocked {
    generation: u32,
    dek: Key,
    sealer: Sealer,
    /// The password-derived key, kept while unlocked so rotation can re-wrap the new DEK
    /// without asking for the password again. `None` under keychain protection.
    kek: Option<Key>,
}

impl Unlocked {
    fn new(generation: u32, dek: Key, kek: Option<Key>) -> Self {
        let sealer = Sealer::new(&dek);
        Self {
            generation,
            dek,
            sealer,
            kek,
        }
    }

    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The data key's bytes: only for a backup of a keychain-protected profile, which must
    /// carry the key (sealed under the backup key) to be restored on another machine.
    pub(crate) fn data_key_bytes(&self) -> &[u8; 32] {
        self.dek.as_bytes()
    }

    /// Seals a secret for a binding.
    pub fn seal(&self, binding: &str, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        Ok(self.sealer.seal(binding, plaintext)?)
    }

    /// Opens a sealed binary secret (e.g. the TOTP key), checking its binding.
    pub fn open_bytes(
        &self,
        binding: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        Ok(self.sealer.open(binding, sealed)?)
    }

    /// Opens a sealed secret, checking its binding.
    pub fn open(&self, binding: &str, sealed: &[u8]) -> Result<Secret, VaultError> {
        let pt = self.sealer.open(binding, sealed)?;
        let s = std::str::from_utf8(&pt)
            .map_err(|_| VaultError::Damaged("a sealed secret is not UTF-8".into()))?;
        Ok(Secret::new(s))
    }

    /// Fails with [`VaultError::VaultChanged`] unless the stored key generation is still ours.
    /// Call inside every write transaction that seals secrets.
    pub async fn check_generation(
        &self,
        tx: &mut Transaction<'_, Sqlite>,
    ) -> Result<(), VaultError> {
        let stored: Option<i64> =
            sqlx::query_scalar("SELECT key_generation FROM vault WHERE id = 1")
                .fetch_optional(&mut **tx)
                .await?;
        match stored {
            Some(g) if g == i64::from(self.generation) => Ok(()),
            Some(_) => Err(VaultError::VaultChanged),
            None => Err(VaultError::NotInitialized),
        }
    }
}

/// The vault's row as stored.
struct VaultRow {
    vault_id: String,
    protection: VaultProtection,
    generation: u32,
    kdf: Option<(Vec<u8>, KdfParams)>,
    wrapped_key: Option<Vec<u8>>,
    key_check: Vec<u8>,
}

/// What the vault looks like right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultState {
    pub initialized: bool,
    pub locked: bool,
    pub protection: Option<VaultProtection>,
    pub key_generation: u32,
}

/// The vault over a store and a keychain.
pub struct Vault {
    store: Store,
    keystore: Arc<dyn KeyStore>,
    unlocked: RwLock<Option<Arc<Unlocked>>>,
    /// Serialises this process's vault-changing operations (init, rotate, password change).
    ops: tokio::sync::Mutex<()>,
}

impl Vault {
    pub fn new(store: Store, keystore: Arc<dyn KeyStore>) -> Self {
        Self {
            store,
            keystore,
            unlocked: RwLock::new(None),
            ops: tokio::sync::Mutex::new(()),
        }
    }

    /// Returns `Ok(())` if the OS keychain is usable, else why not.
    pub async fn keychain_probe(&self) -> Result<(), KeychainError> {
        let ks = self.keystore.clone();
        tokio::task::spawn_blocking(move || ks.probe())
            .await
            .unwrap_or_else(|e| Err(KeychainError::Failed(e.to_string())))
    }

    /// Returns the unlocked key, or [`VaultError::Locked`] / [`VaultError::NotInitialized`].
    pub async fn unlocked(&self) -> Result<Arc<Unlocked>, VaultError> {
        if let Some(u) = self.current() {
            return Ok(u);
        }
        match self.load_row().await? {
            None => Err(VaultError::NotInitialized),
            Some(_) => Err(VaultError::Locked),
        }
    }

    /// Returns whether the key is in memory (no database read).
    pub fn is_unlocked(&self) -> bool {
        self.current().is_some()
    }

    fn current(&self) -> Option<Arc<Unlocked>> {
        self.unlocked.read().map(|g| g.clone()).unwrap_or(None)
    }

    fn set_current(&self, u: Option<Arc<Unlocked>>) {
        match self.unlocked.write() {
            Ok(mut g) => *g = u,
            Err(poisoned) => *poisoned.into_inner() = u,
        }
    }

    /// Returns the vault's state.
    pub async fn state(&self) -> Result<VaultState, VaultError> {
        let row = self.load_row().await?;
        let current = self.current();
        Ok(match row {
            None => VaultState {
                initialized: false,
                locked: true,
                protection: None,
                key_generation: 0,
            },
            Some(r) => VaultState {
                initialized: true,
                // Another process may have rotated the key since we unlocked: then we are
                // effectively locked (our key no longer matches).
                locked: current
                    .as_ref()
                    .is_none_or(|u| u.generation != r.generation),
                protection: Some(r.protection),
                key_generation: r.generation,
            },
        })
    }

    async fn load_row(&self) -> Result<Option<VaultRow>, VaultError> {
        let row = sqlx::query(
            "SELECT vault_id, protection, key_generation, kdf_salt, kdf_m_kib, kdf_t, kdf_p, wrapped_key, key_check
             FROM vault WHERE id = 1",
        )
        .fetch_optional(self.store.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let protection = match row.try_get::<String, _>("protection")?.as_str() {
            "keychain" => VaultProtection::Keychain,
            "password" => VaultProtection::Password,
            other => return Err(VaultError::Damaged(format!("unknown protection {other:?}"))),
        };
        let generation = u32::try_from(row.try_get::<i64, _>("key_generation")?)
            .map_err(|_| VaultError::Damaged("key generation out of range".into()))?;
        let salt: Option<Vec<u8>> = row.try_get("kdf_salt")?;
        let kdf = match salt {
            Some(salt) => {
                let get = |c: &str| -> Result<u32, VaultError> {
                    let v: Option<i64> = row.try_get(c)?;
                    v.and_then(|v| u32::try_from(v).ok())
                        .ok_or_else(|| VaultError::Damaged(format!("{c} missing or out of range")))
                };
                Some((
                    salt,
                    KdfParams {
                        m_kib: get("kdf_m_kib")?,
                        t: get("kdf_t")?,
                        p: get("kdf_p")?,
                    },
                ))
            }
            None => None,
        };
        Ok(Some(VaultRow {
            vault_id: row.try_get("vault_id")?,
            protection,
            generation,
            kdf,
            wrapped_key: row.try_get("wrapped_key")?,
            key_check: row.try_get("key_check")?,
        }))
    }

    /// Creates the vault. With `password`, protection is the master password; without, the
    /// DEK goes to the OS keychain, which must then be reachable.
    pub async fn init(&self, password: Option<&Secret>) -> Result<(), VaultError> {
        let _ops = self.ops.lock().await;
        if self.load_row().await?.is_some() {
            return Err(VaultError::AlreadyInitialized);
        }
        if password.is_none() {
            if let Err(e) = self.keychain_probe().await {
                return Err(VaultError::PasswordRequired(e.to_string()));
            }
        }
        if let Some(p) = password {
            check_password_strength(p)?;
        }
        let vault_id = uuid::Uuid::new_v4().to_string();
        let dek = Key::generate()?;
        let generation = 1u32;
        let key_check =
            Sealer::new(&dek).seal(&key_check_binding(&vault_id), integrity::KEY_CHECK_V2)?;
        let now = Utc::now().to_rfc3339();

        let (protection, kdf_row, kek) = match password {
            Some(p) => {
                let (salt, params, kek) = derive_new(p).await?;
                let wrapped =
                    Sealer::new(&kek).seal(&wrapped_key_binding(&vault_id), dek.as_bytes())?;
                (
                    VaultProtection::Password,
                    Some((salt, params, wrapped)),
                    Some(kek),
                )
            }
            None => {
                self.keychain_set(&entry_name(&vault_id, generation), dek.as_bytes())
                    .await?;
                (VaultProtection::Keychain, None, None)
            }
        };

        let mut tx = self.store.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO vault (id, vault_id, protection, key_generation, kdf_salt, kdf_m_kib, kdf_t, kdf_p,
                                wrapped_key, key_check, created_at, updated_at)
             VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&vault_id)
        .bind(protection.as_str())
        .bind(i64::from(generation))
        .bind(kdf_row.as_ref().map(|k| k.0.clone()))
        .bind(kdf_row.as_ref().map(|k| i64::from(k.1.m_kib)))
        .bind(kdf_row.as_ref().map(|k| i64::from(k.1.t)))
        .bind(kdf_row.as_ref().map(|k| i64::from(k.1.p)))
        .bind(kdf_row.as_ref().map(|k| k.2.clone()))
        .bind(&key_check)
        .bind(&now)
        .bind(&now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            // Another process created the vault between our check and our write.
            drop(tx);
            if protection == VaultProtection::Keychain {
                let _ = self
                    .keychain_delete(&entry_name(&vault_id, generation))
                    .await;
            }
            return Err(VaultError::AlreadyInitialized);
        }
        let unlocked = Unlocked::new(generation, dek, kek);
        // "No two-factor" is security state too: tagged, so deleting a later 2FA row shows.
        integrity::retag_twofa(&mut tx, &unlocked).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.set_current(Some(Arc::new(unlocked)));
        tracing::info!(protection = protection.as_str(), "vault created");
        Ok(())
    }

    /// Unlocks the vault: with the master password under password protection, or from the
    /// OS keychain (pass `None`) under keychain protection.
    pub async fn unlock(&self, password: Option<&Secret>) -> Result<(), VaultError> {
        // Not in the middle of this process's own rotation or password change.
        let _ops = self.ops.lock().await;
        let row = self.load_row().await?.ok_or(VaultError::NotInitialized)?;
        let (dek, kek) = match row.protection {
            VaultProtection::Password => {
                let password = password.ok_or(VaultError::PasswordMissing)?;
                let (salt, params) = row
                    .kdf
                    .clone()
                    .ok_or_else(|| VaultError::Damaged("no KDF salt".into()))?;
                let kek = derive_blocking(password, salt, params).await?;
                let wrapped = row
                    .wrapped_key
                    .as_deref()
                    .ok_or_else(|| VaultError::Damaged("no wrapped key".into()))?;
                let dek_bytes = Sealer::new(&kek)
                    .open(&wrapped_key_binding(&row.vault_id), wrapped)
                    .map_err(|e| match e {
                        OpenError::Tampered { .. } => VaultError::WrongPassword,
                        misbound => VaultError::Open(misbound),
                    })?;
                let dek = Key::from_slice(&dek_bytes).ok_or_else(|| {
                    VaultError::Damaged("wrapped key has the wrong length".into())
                })?;
                (dek, Some(kek))
            }
            VaultProtection::Keychain => {
                let bytes = self
                    .keychain_get(&entry_name(&row.vault_id, row.generation))
                    .await?
                    .ok_or(VaultError::KeychainKeyMissing)?;
                let dek = Key::from_slice(&bytes).ok_or(VaultError::KeychainKeyMismatch)?;
                (dek, None)
            }
        };
        let check = match Sealer::new(&dek).open(&key_check_binding(&row.vault_id), &row.key_check)
        {
            Ok(check) => check,
            Err(OpenError::Tampered { .. }) if row.protection == VaultProtection::Keychain => {
                return Err(VaultError::KeychainKeyMismatch)
            }
            Err(e) => return Err(VaultError::Open(e)),
        };
        let unlocked = Unlocked::new(row.generation, dek, kek);
        let upgraded = if check.as_slice() == integrity::KEY_CHECK_V1 {
            self.upgrade_v1(&row, &unlocked).await?
        } else if check.as_slice() == integrity::KEY_CHECK_V2 {
            false
        } else {
            return Err(VaultError::Damaged("unknown key check".into()));
        };
        self.set_current(Some(Arc::new(unlocked)));
        if upgraded {
            // A new data key right after the upgrade: the v1 key check (and the key that
            // opened it) cannot be put back to make the upgrade run again over edited state.
            if let Err(e) = self.rotate_inner().await {
                tracing::warn!(code = %e.code(), "the data key could not be replaced after the upgrade");
            }
        }
        tracing::info!(protection = row.protection.as_str(), "vault unlocked");
        Ok(())
    }

    /// Upgrades a v1 vault at its first unlock (see [`integrity`]), in one transaction.
    /// Returns whether it upgraded (false: another process did it meanwhile).
    async fn upgrade_v1(&self, row: &VaultRow, key: &Unlocked) -> Result<bool, VaultError> {
        let mut tx = self.store.begin_write().await?;
        let generation: Option<i64> =
            sqlx::query_scalar("SELECT key_generation FROM vault WHERE id = 1")
                .fetch_optional(&mut *tx)
                .await?;
        if generation != Some(i64::from(row.generation)) {
            return Err(VaultError::VaultChanged);
        }
        let still_v1: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT key_check FROM vault WHERE id = 1")
                .fetch_optional(&mut *tx)
                .await?;
        if still_v1.as_deref() != Some(row.key_check.as_slice()) {
            // Another process upgraded it meanwhile.
            return Ok(false);
        }
        integrity::upgrade_v1(&mut tx, key).await?;
        let check = key.seal(&key_check_binding(&row.vault_id), integrity::KEY_CHECK_V2)?;
        sqlx::query("UPDATE vault SET key_check = ? WHERE id = 1")
            .bind(check)
            .execute(&mut *tx)
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(
            "vault upgraded: credentials bound to their endpoints, security state tagged"
        );
        Ok(true)
    }

    /// Forgets the key. Only meaningful with a master password (a keychain-protected vault
    /// would unlock itself again).
    pub async fn lock(&self) -> Result<(), VaultError> {
        let row = self.load_row().await?.ok_or(VaultError::NotInitialized)?;
        if row.protection == VaultProtection::Keychain {
            return Err(VaultError::NoMasterPassword);
        }
        self.set_current(None);
        tracing::info!("vault locked");
        Ok(())
    }

    /// Sets or changes the master password. `current` is required when one is already set.
    /// Moving from keychain to password protection removes the key from the keychain.
    pub async fn change_password(
        &self,
        _auth: &crate::api::guard::Authorized,
        current: Option<&Secret>,
        new: &Secret,
    ) -> Result<(), VaultError> {
        let _ops = self.ops.lock().await;
        check_password_strength(new)?;
        let row = self.load_row().await?.ok_or(VaultError::NotInitialized)?;
        let unlocked = self.unlocked().await?;
        if unlocked.generation != row.generation {
            return Err(VaultError::VaultChanged);
        }
        if row.protection == VaultProtection::Password {
            let current = current.ok_or(VaultError::PasswordMissing)?;
            let (salt, params) = row
                .kdf
                .clone()
                .ok_or_else(|| VaultError::Damaged("no KDF salt".into()))?;
            let kek = derive_blocking(current, salt, params).await?;
            let wrapped = row
                .wrapped_key
                .as_deref()
                .ok_or_else(|| VaultError::Damaged("no wrapped key".into()))?;
            Sealer::new(&kek)
                .open(&wrapped_key_binding(&row.vault_id), wrapped)
                .map_err(|_| VaultError::WrongPassword)?;
        }
        let (salt, params, kek) = derive_new(new).await?;
        let wrapped =
            Sealer::new(&kek).seal(&wrapped_key_binding(&row.vault_id), unlocked.dek.as_bytes())?;
        let mut tx = self.store.begin_write().await?;
        unlocked.check_generation(&mut tx).await?;
        sqlx::query(
            "UPDATE vault SET protection = 'password', kdf_salt = ?, kdf_m_kib = ?, kdf_t = ?, kdf_p = ?,
                    wrapped_key = ?, updated_at = ? WHERE id = 1",
        )
        .bind(&salt)
        .bind(i64::from(params.m_kib))
        .bind(i64::from(params.t))
        .bind(i64::from(params.p))
        .bind(&wrapped)
        .bind(Utc::now().to_rfc3339())
        .execute(&mut *tx)
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        if row.protection == VaultProtection::Keychain {
            if let Err(e) = self
                .keychain_delete(&entry_name(&row.vault_id, row.generation))
                .await
            {
                tracing::warn!(error = %e, "could not remove the old key from the OS keychain");
            }
        }
        let next = Unlocked::new(row.generation, unlocked.dek.clone(), Some(kek));
        self.set_current(Some(Arc::new(next)));
        tracing::info!("master password changed");
        Ok(())
    }

    /// Opens every stored secret (and the 2FA secret) without changing anything: the check
    /// a key change runs before it starts, so one unreadable value stops it with that value's
    /// account and field named instead of half-way through.
    pub async fn check_all_readable(&self) -> Result<(), VaultError> {
        let unlocked = self.unlocked().await?;
        let mut conn = self.store.acquire().await?;
        read_all_sealed(&mut conn, &unlocked).await.map(|_| ())
    }

    /// Replaces the DEK with a new random key and re-seals every secret, in one transaction.
    /// Returns the new key generation.
    pub async fn rotate_key(&self) -> Result<u32, VaultError> {
        let _ops = self.ops.lock().await;
        self.rotate_inner().await
    }

    /// [`Vault::rotate_key`], for a caller holding `ops`.
    async fn rotate_inner(&self) -> Result<u32, VaultError> {
        let old = self.unlocked().await?;
        let row = self.load_row().await?.ok_or(VaultError::NotInitialized)?;
        if old.generation != row.generation {
            return Err(VaultError::VaultChanged);
        }
        let new_gen = old.generation + 1;
        let new_dek = Key::generate()?;
        let next = Unlocked::new(new_gen, new_dek.clone(), old.kek.clone());
        let key_check = next.seal(&key_check_binding(&row.vault_id), integrity::KEY_CHECK_V2)?;
        let wrapped = match (&row.protection, &old.kek) {
            (VaultProtection::Password, Some(kek)) => Some(
                Sealer::new(kek).seal(&wrapped_key_binding(&row.vault_id), new_dek.as_bytes())?,
            ),
            (VaultProtection::Password, None) => return Err(VaultError::Locked),
            (VaultProtection::Keychain, _) => None,
        };
        // Write the next generation's keychain entry before the commit: if we crash in
        // between, the database still names the old generation, whose entry still exists.
        let new_entry = entry_name(&row.vault_id, new_gen);
        if row.protection == VaultProtection::Keychain {
            self.keychain_set(&new_entry, new_dek.as_bytes()).await?;
        }
        let result = self
            .reseal_all(&old, &next, &key_check, wrapped.as_deref())
            .await;
        if let Err(e) = result {
            if row.protection == VaultProtection::Keychain {
                let _ = self.keychain_delete(&new_entry).await;
            }
            return Err(e);
        }
        if row.protection == VaultProtection::Keychain {
            if let Err(e) = self
                .keychain_delete(&entry_name(&row.vault_id, old.generation))
                .await
            {
                tracing::warn!(error = %e, "could not remove the previous key from the OS keychain");
            }
        }
        self.set_current(Some(Arc::new(next)));
        tracing::info!(generation = new_gen, "vault key rotated");
        Ok(new_gen)
    }

    async fn reseal_all(
        &self,
        old: &Unlocked,
        next: &Unlocked,
        key_check: &[u8],
        wrapped: Option<&[u8]>,
    ) -> Result<(), VaultError> {
        let mut tx = self.store.begin_write().await?;
        old.check_generation(&mut tx).await?;
        let before = integrity::verified(&mut tx, old).await?;
        let (secrets, twofa) = read_all_sealed(&mut tx, old).await?;
        let now = Utc::now().to_rfc3339();
        for (account_id, field, binding, secret) in secrets {
            let resealed = next.seal(&binding, secret.expose().as_bytes())?;
            sqlx::query(
                "UPDATE account_secrets SET sealed = ?, key_generation = ?, updated_at = ?
                 WHERE account_id = ? AND field = ?",
            )
            .bind(&resealed)
            .bind(i64::from(next.generation))
            .bind(&now)
            .bind(&account_id)
            .bind(&field)
            .execute(&mut *tx)
            .await?;
        }
        // The two-factor secret is sealed too.
        if let Some(secret) = twofa {
            let resealed = next.seal(TWOFA_SECRET_BINDING, &secret)?;
            sqlx::query("UPDATE twofa SET secret_sealed = ? WHERE id = 1")
                .bind(&resealed)
                .execute(&mut *tx)
                .await?;
        }
        // Before the re-tag: the sealed audit key is part of the tagged vault state.
        crate::audit::reseal_key(&mut tx, old, next).await?;
        crate::backup::reseal_key(&mut tx, old, next).await?;
        integrity::retag_all(&mut tx, &before, next).await?;
        sqlx::query("UPDATE vault SET key_generation = ?, key_check = ?, wrapped_key = COALESCE(?, wrapped_key), updated_at = ? WHERE id = 1")
            .bind(i64::from(next.generation))
            .bind(key_check)
            .bind(wrapped)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    async fn keychain_get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        let (ks, name) = (self.keystore.clone(), name.to_string());
        Ok(tokio::task::spawn_blocking(move || ks.get(&name))
            .await
            .map_err(|e| KeychainError::Failed(e.to_string()))??)
    }

    async fn keychain_set(&self, name: &str, secret: &[u8]) -> Result<(), VaultError> {
        let (ks, name, secret) = (
            self.keystore.clone(),
            name.to_string(),
            Zeroizing::new(secret.to_vec()),
        );
        Ok(tokio::task::spawn_blocking(move || ks.set(&name, &secret))
            .await
            .map_err(|e| KeychainError::Failed(e.to_string()))??)
    }

    async fn keychain_delete(&self, name: &str) -> Result<(), VaultError> {
        let (ks, name) = (self.keystore.clone(), name.to_string());
        Ok(tokio::task::spawn_blocking(move || ks.delete(&name))
            .await
            .map_err(|e| KeychainError::Failed(e.to_string()))??)
    }
}

/// A stored account secret, opened: (account id, field, binding, value).
type OpenedSecret = (String, String, String, Secret);

/// Opens every account secret and the 2FA secret with `key`; the first that does not open
/// is [`VaultError::Unreadable`], naming the account (by name and id) and the field.
async fn read_all_sealed(
    conn: &mut sqlx::SqliteConnection,
    key: &Unlocked,
) -> Result<(Vec<OpenedSecret>, Option<Zeroizing<Vec<u8>>>), VaultError> {
    let stored = integrity::stored_secrets(&mut *conn).await?;
    let mut secrets = Vec::with_capacity(stored.len());
    for integrity::StoredSecret {
        account_id,
        field,
        sealed,
        name,
        binding,
    } in stored
    {
        match key.open(&binding, &sealed) {
            Ok(secret) => secrets.push((account_id, field, binding, secret)),
            Err(VaultError::Open(source)) => {
                let account = format!(
                    "account \"{}\" ({account_id})",
                    crate::text::cap(&name, 100)
                );
                return Err(VaultError::Unreadable {
                    what: format!("the stored {field} of {account}"),
                    fix: "enter that account's credentials again (edit the account) or remove the account",
                    source,
                });
            }
            Err(e) => return Err(e),
        }
    }
    let twofa: Option<Vec<u8>> = sqlx::query_scalar("SELECT secret_sealed FROM twofa WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await?;
    let twofa =
        match twofa {
            None => None,
            Some(sealed) => match key.open_bytes(TWOFA_SECRET_BINDING, &sealed) {
                Ok(secret) => Some(secret),
                Err(VaultError::Open(source)) => return Err(VaultError::Unreadable {
                    what: "the two-factor secret".into(),
                    fix:
                        "turn two-factor authentication off with a backup code and set it up again",
                    source,
                }),
                Err(e) => return Err(e),
            },
        };
    Ok((secrets, twofa))
}

/// The lowest zxcvbn score (0–4) a master password must reach. 3 is zxcvbn's "safely
/// unguessable" band (about 10^8 guesses or more, against a hash as slow as Argon2id at
/// 64 MiB); 4 is "very unguessable".
pub const MIN_PASSWORD_SCORE: u8 = 3;

/// Words an attacker of this profile would try first; zxcvbn counts a password built on
/// them as easy.
const PASSWORD_CONTEXT: [&str; 4] = ["brokerdesk", "broker", "desk", "trading"];

/// How guessable a master password is, as the policy that [`check_password_strength`]
/// enforces sees it (the app's meter shows this, so the meter and the refusal agree).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PasswordStrength {
    /// 0 (guessed at once) to 4 (very hard to guess), zxcvbn's scale.
    pub score: u8,
    /// Whether the policy accepts it.
    pub acceptable: bool,
    /// Why it is refused, in one sentence; `None` when acceptable.
    pub reason: Option<String>,
    /// How to make it stronger (zxcvbn's suggestions).
    pub suggestions: Vec<String>,
}

/// Rates a master password: length 8 to 1024 characters, not only whitespace, and a zxcvbn
/// score of at least [`MIN_PASSWORD_SCORE`].
pub fn password_strength(p: &Secret) -> PasswordStrength {
    let refuse = |score: u8, reason: String, suggestions: Vec<String>| PasswordStrength {
        score,
        acceptable: false,
        reason: Some(reason),
        suggestions,
    };
    let n = p.char_len();
    if n < MIN_PASSWORD_CHARS {
        return refuse(
            0,
            format!("use at least {MIN_PASSWORD_CHARS} characters"),
            Vec::new(),
        );
    }
    if n > MAX_PASSWORD_CHARS {
        return refuse(
            4,
            format!("use at most {MAX_PASSWORD_CHARS} characters"),
            Vec::new(),
        );
    }
    if p.expose().trim().is_empty() {
        return refuse(0, "the password cannot be only spaces".into(), Vec::new());
    }
    // zxcvbn's matching is quadratic in the length; beyond 100 characters the rest adds
    // strength it would not see anyway.
    let head: String = p.expose().chars().take(100).collect();
    let rated = zxcvbn::zxcvbn(&head, &PASSWORD_CONTEXT);
    let score = u8::from(rated.score());
    let suggestions: Vec<String> = rated
        .feedback()
        .map(|f| f.suggestions().iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    if score >= MIN_PASSWORD_SCORE {
        return PasswordStrength {
            score,
            acceptable: true,
            reason: None,
            suggestions,
        };
    }
    let why = rated
        .feedback()
        .and_then(|f| f.warning())
        .map(|w| w.to_string().trim_end_matches('.').to_lowercase())
        .unwrap_or_else(|| "it would be guessed too quickly".into());
    refuse(
        score,
        format!("{why}: add another word or two that are not a common phrase"),
        suggestions,
    )
}

/// Enforces the master password policy of [`password_strength`].
pub fn check_password_strength(p: &Secret) -> Result<(), VaultError> {
    match password_strength(p) {
        PasswordStrength {
            acceptable: false,
            reason: Some(reason),
            ..
        } => Err(VaultError::WeakPassword(reason)),
        _ => Ok(()),
    }
}

async fn derive_new(password: &Secret) -> Result<(Vec<u8>, KdfParams, Key), VaultError> {
    let mut salt = vec![0u8; SALT_LEN];
    getrandom::fill(&mut salt)?;
    let params = KdfParams::DEFAULT;
    let kek = derive_blocking(password, salt.clone(), params).await?;
    Ok((salt, params, kek))
}

async fn derive_blocking(
    password: &Secret,
    salt: Vec<u8>,
    params: KdfParams,
) -> Result<Key, VaultError> {
    let pw = Zeroizing::new(password.expose().as_bytes().to_vec());
    tokio::task::spawn_blocking(move || kdf::derive(&pw, &salt, params))
        .await
        .map_err(|e| VaultError::Kdf(KdfError::Failed(e.to_string())))?
        .map_err(VaultError::from)
}

#[cfg(test)]
mod tests;
