//! The backup file.
//!
//! ```text
//! BROKERDESK-BACKUP 1\n          the magic line
//! {header, one line of JSON}\n    readable without the passphrase (`backup list`)
//! nonce ‖ ciphertext ‖ tag        PassKey::seal(aad = both lines, payload)
//! ```
//!
//! The payload is `u32 big-endian manifest length ‖ manifest JSON ‖ the database`. The
//! manifest names the profile (vault id, how its key is kept, the key generation), the
//! database's SHA-256, and — only for a profile whose key lives in the OS keychain — the data
//! key itself, so the backup can be restored on a machine whose keychain never held it. The
//! header is authenticated with the payload: editing the date or the key spec breaks the seal.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::BackupError;
use crate::seal::{KeySpec, PassKey, SealError};

/// The first line of every backup file.
pub const MAGIC: &[u8] = b"BROKERDESK-BACKUP 1\n";
/// The format version in the header.
pub const FORMAT: u32 = 1;
/// The longest header line accepted.
const MAX_HEADER: usize = 16 * 1024;
/// The largest backup file read (a profile is a few megabytes; this is a guard against
/// reading a hostile file into memory, not a limit anyone meets).
pub const MAX_FILE: u64 = 2 * 1024 * 1024 * 1024;

/// Who made a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum BackupTrigger {
    /// By hand (`backup create`, Back up now).
    Manual,
    /// The daily schedule (these are the ones retention prunes).
    Scheduled,
}

impl BackupTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupTrigger::Manual => "manual",
            BackupTrigger::Scheduled => "scheduled",
        }
    }
}

/// The readable first part of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Header {
    pub format: u32,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub app_version: String,
    /// The profile's schema (highest migration) when it was taken.
    pub schema_version: i64,
    pub trigger: BackupTrigger,
    /// How to derive the backup key from the passphrase.
    pub key: KeySpec,
}

/// The sealed description of what the backup holds.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    pub vault_id: String,
    /// `keychain` or `password`.
    pub protection: String,
    pub key_generation: u32,
    /// Base64; only for keychain protection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_key: Option<String>,
    /// Hex SHA-256 of the database bytes.
    pub db_sha256: String,
    pub db_bytes: u64,
}

impl std::fmt::Debug for Manifest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manifest")
            .field("vault_id", &self.vault_id)
            .field("protection", &self.protection)
            .field("key_generation", &self.key_generation)
            .field("data_key", &self.data_key.as_ref().map(|_| "••••"))
            .finish()
    }
}

impl Manifest {
    /// The data key carried for a keychain-protected profile.
    pub fn data_key(&self) -> Result<Option<Zeroizing<Vec<u8>>>, BackupError> {
        self.data_key
            .as_ref()
            .map(|k| {
                B64.decode(k)
                    .map(Zeroizing::new)
                    .map_err(|_| BackupError::Damaged("its data key is not base64".to_string()))
            })
            .transpose()
    }
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds a whole backup file.
pub fn write(
    key: &PassKey,
    header: &Header,
    manifest: &Manifest,
    db: &[u8],
) -> Result<Vec<u8>, BackupError> {
    let mut aad = MAGIC.to_vec();
    let line = serde_json::to_vec(header)
        .map_err(|e| BackupError::Failed(format!("could not write the header: {e}")))?;
    aad.extend_from_slice(&line);
    aad.push(b'\n');
    let m = Zeroizing::new(
        serde_json::to_vec(manifest)
            .map_err(|e| BackupError::Failed(format!("could not write the manifest: {e}")))?,
    );
    let mlen = u32::try_from(m.len())
        .map_err(|_| BackupError::Failed("the manifest is too large".to_string()))?;
    let mut payload = Zeroizing::new(Vec::with_capacity(4 + m.len() + db.len()));
    payload.extend_from_slice(&mlen.to_be_bytes());
    payload.extend_from_slice(&m);
    payload.extend_from_slice(db);
    let sealed = key.seal(&aad, &payload).map_err(BackupError::from)?;
    let mut out = aad;
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Splits a file into its header (parsed) and the rest; checks nothing sealed.
pub fn read_header(bytes: &[u8]) -> Result<(Header, usize), BackupError> {
    if !bytes.starts_with(MAGIC) {
        return Err(BackupError::NotABackup);
    }
    let rest = &bytes[MAGIC.len()..];
    let end = rest
        .iter()
        .take(MAX_HEADER)
        .position(|b| *b == b'\n')
        .ok_or_else(|| BackupError::Damaged("its header is cut off or too long".to_string()))?;
    let header: Header = serde_json::from_slice(&rest[..end])
        .map_err(|e| BackupError::Damaged(format!("its header cannot be read ({e})")))?;
    if header.format > FORMAT {
        return Err(BackupError::NewerFormat(header.format));
    }
    Ok((header, MAGIC.len() + end + 1))
}

/// Opens a whole file with a key already checked against its header: the manifest and the
/// database bytes, their hash checked.
pub fn open(
    key: &PassKey,
    bytes: &[u8],
) -> Result<(Header, Manifest, Zeroizing<Vec<u8>>), BackupError> {
    let (header, body_at) = read_header(bytes)?;
    let (aad, sealed) = bytes.split_at(body_at);
    let payload = key.unseal(aad, sealed).map_err(BackupError::from)?;
    let Some((len, rest)) = payload.split_first_chunk::<4>() else {
        return Err(BackupError::Damaged("its payload is empty".to_string()));
    };
    let mlen = usize::try_from(u32::from_be_bytes(*len)).unwrap_or(usize::MAX);
    if mlen > rest.len() {
        return Err(BackupError::Damaged("its manifest is cut off".to_string()));
    }
    let (m, db) = rest.split_at(mlen);
    let manifest: Manifest = serde_json::from_slice(m)
        .map_err(|e| BackupError::Damaged(format!("its manifest cannot be read ({e})")))?;
    if sha256_hex(db) != manifest.db_sha256 || db.len() as u64 != manifest.db_bytes {
        return Err(BackupError::Damaged(
            "its database does not match the manifest's checksum".to_string(),
        ));
    }
    Ok((header, manifest, Zeroizing::new(db.to_vec())))
}

impl From<SealError> for BackupError {
    fn from(e: SealError) -> Self {
        match e {
            SealError::WrongPassphrase => BackupError::WrongPassphrase,
            SealError::Damaged(m) => BackupError::Damaged(m),
            SealError::TooShort | SealError::TooLong => BackupError::WeakPassphrase(e.to_string()),
            SealError::Random | SealError::Kdf(_) => BackupError::Failed(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn sample() -> (PassKey, Vec<u8>) {
        let key = PassKey::create(&Secret::new("backup passphrase 1")).expect("key");
        let header = Header {
            format: FORMAT,
            created_at: "2026-12-07T10:00:00Z".to_string(),
            app_version: "0.1.0".to_string(),
            schema_version: 17,
            trigger: BackupTrigger::Manual,
            key: key.spec(),
        };
        let db = b"SQLite format 3\0 pretend".to_vec();
        let manifest = Manifest {
            vault_id: "v".to_string(),
            protection: "password".to_string(),
            key_generation: 1,
            data_key: None,
            db_sha256: sha256_hex(&db),
            db_bytes: db.len() as u64,
        };
        let file = write(&key, &header, &manifest, &db).expect("write");
        (key, file)
    }

    #[test]
    fn a_backup_opens_and_every_edit_or_cut_is_refused() {
        let (key, file) = sample();
        let (h, m, db) = open(&key, &file).expect("open");
        assert_eq!(h.schema_version, 17);
        assert_eq!(m.vault_id, "v");
        assert_eq!(db.as_slice(), b"SQLite format 3\0 pretend");
        assert!(!file.windows(6).any(|w| w == b"SQLite"));

        // The date in the readable header is authenticated too.
        let at = file
            .windows(10)
            .position(|w| w == b"2026-12-07")
            .expect("date in header");
        let mut edited = file.clone();
        edited[at + 3] = b'7';
        assert!(matches!(open(&key, &edited), Err(BackupError::Damaged(_))));
        for cut in [10, MAGIC.len() + 5, file.len() / 2, file.len() - 1] {
            assert!(open(&key, &file[..cut]).is_err(), "cut at {cut}");
        }
        assert!(matches!(
            read_header(b"PK\x03\x04 a zip file"),
            Err(BackupError::NotABackup)
        ));
    }
}
