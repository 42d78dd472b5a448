//! Where the data-encryption key lives when no master password is set: the OS keychain
//! (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows).
//!
//! The calls are synchronous (D-Bus on Linux), so callers run them on a blocking thread.
//! [`MemoryKeyStore`] serves tests; [`NoKeychain`] is what a user gets with
//! `BROKERDESK_NO_KEYCHAIN=1`, and behaves like a machine without a keychain.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use zeroize::Zeroizing;

const SERVICE: &str = "dev.brokerdesk.vault";

/// A keychain failure. The message never contains key material.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum KeychainError {
    #[error("no OS keychain is reachable: {0}")]
    Unavailable(String),
    #[error("the OS keychain refused the operation: {0}")]
    Failed(String),
}

/// A place that stores named secrets for this user.
pub trait KeyStore: Send + Sync + 'static {
    /// Returns `Ok(())` when the keychain can be used right now.
    fn probe(&self) -> Result<(), KeychainError>;
    /// Returns the secret stored under `name`, or `None` if there is none.
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeychainError>;
    /// Stores (or replaces) the secret under `name`.
    fn set(&self, name: &str, secret: &[u8]) -> Result<(), KeychainError>;
    /// Deletes the secret under `name`; deleting a missing entry is not an error.
    fn delete(&self, name: &str) -> Result<(), KeychainError>;
}

/// The real OS keychain through the `keyring` crate.
#[derive(Debug, Default)]
pub struct OsKeychain;

impl OsKeychain {
    fn entry(name: &str) -> Result<keyring::Entry, KeychainError> {
        keyring::Entry::new(SERVICE, name).map_err(map_err)
    }
}

fn map_err(e: keyring::Error) -> KeychainError {
    match e {
        keyring::Error::PlatformFailure(inner) | keyring::Error::NoStorageAccess(inner) => {
            KeychainError::Unavailable(first_line(&inner.to_string()))
        }
        other => KeychainError::Failed(first_line(&other.to_string())),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(200).collect()
}

impl KeyStore for OsKeychain {
    fn probe(&self) -> Result<(), KeychainError> {
        match Self::entry("probe")?.get_password() {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(e)),
        }
    }

    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeychainError> {
        match Self::entry(name)?.get_password() {
            Ok(s) => {
                let s = Zeroizing::new(s);
                let bytes = B64.decode(s.as_bytes()).map_err(|_| {
                    KeychainError::Failed("the stored key is not valid base64".into())
                })?;
                Ok(Some(Zeroizing::new(bytes)))
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    }

    fn set(&self, name: &str, secret: &[u8]) -> Result<(), KeychainError> {
        // Stored as base64 text: Secret Service items created as text are readable by the
        // usual tools (seahorse, secret-tool) for backup and inspection by the user.
        let encoded = Zeroizing::new(B64.encode(secret));
        Self::entry(name)?.set_password(&encoded).map_err(map_err)
    }

    fn delete(&self, name: &str) -> Result<(), KeychainError> {
        match Self::entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(e)),
        }
    }
}

/// A keychain that is never reachable (the user opted out, or tests of the headless path).
#[derive(Debug, Default)]
pub struct NoKeychain;

impl KeyStore for NoKeychain {
    fn probe(&self) -> Result<(), KeychainError> {
        Err(KeychainError::Unavailable(
            "the OS keychain is disabled (BROKERDESK_NO_KEYCHAIN)".into(),
        ))
    }
    fn get(&self, _: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeychainError> {
        self.probe().map(|_| None)
    }
    fn set(&self, _: &str, _: &[u8]) -> Result<(), KeychainError> {
        self.probe()
    }
    fn delete(&self, _: &str) -> Result<(), KeychainError> {
        self.probe()
    }
}

/// An in-process keychain for tests. Clones share the same entries.
#[derive(Debug, Default, Clone)]
pub struct MemoryKeyStore {
    entries: std::sync::Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl MemoryKeyStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the names of the stored entries (for tests).
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .entries
            .lock()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Returns an independent store holding a copy of the current entries (tests: what a
    /// thief who read the keychain at this moment would have).
    pub fn clone_entries(&self) -> Self {
        let copy = self.entries.lock().map(|m| m.clone()).unwrap_or_default();
        Self {
            entries: std::sync::Arc::new(Mutex::new(copy)),
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Vec<u8>>>, KeychainError> {
        self.entries
            .lock()
            .map_err(|_| KeychainError::Failed("poisoned".into()))
    }
}

impl KeyStore for MemoryKeyStore {
    fn probe(&self) -> Result<(), KeychainError> {
        Ok(())
    }
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, KeychainError> {
        Ok(self.lock()?.get(name).cloned().map(Zeroizing::new))
    }
    fn set(&self, name: &str, secret: &[u8]) -> Result<(), KeychainError> {
        self.lock()?.insert(name.to_string(), secret.to_vec());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), KeychainError> {
        self.lock()?.remove(name);
        Ok(())
    }
}

/// Returns the keychain entry name of a vault's key at a given generation. A rotation writes
/// the next generation's entry before committing, so a crash never leaves the vault without
/// a readable key.
pub fn entry_name(vault_id: &str, generation: u32) -> String {
    format!("{vault_id}/dek/{generation}")
}
