//! Sealing with a passphrase: what leaves the machine encrypted (backups, and credentials in
//! an export made `--with-credentials`).
//!
//! - **Key**: Argon2id over the passphrase with a random 16-byte salt, m = 64 MiB, t = 3,
//!   p = 1 (the vault's own parameters, see [`crate::vault::kdf`]). The parameters and the
//!   salt travel with the sealed data; parameters below OWASP's floor or above the vault's
//!   ceiling are refused before Argon2 runs, so a hostile file cannot make opening it
//!   allocate gigabytes.
//! - **Key check**: the first 16 bytes of HMAC-SHA-256(key, `brokerdesk/passkey/kcv/v1`)
//!   travel too, so a wrong passphrase is refused ([`SealError::WrongPassphrase`]) before
//!   anything is decrypted, and told apart from damaged data ([`SealError::Damaged`]).
//! - **Cipher**: XChaCha20-Poly1305 with a random 24-byte nonce; the caller's associated data
//!   (for a backup, its whole plaintext header) is authenticated with it.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::secret::Secret;
use crate::vault::crypto::Key;
use crate::vault::kdf::{self, KdfParams};

const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const KCV_LEN: usize = 16;
const KCV_LABEL: &[u8] = b"brokerdesk/passkey/kcv/v1";
/// The shortest passphrase accepted for sealing.
pub const MIN_PASSPHRASE_CHARS: usize = 10;
/// The longest passphrase accepted.
pub const MAX_PASSPHRASE_CHARS: usize = 1024;

/// Why sealed data could not be opened or made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("wrong passphrase")]
    WrongPassphrase,
    #[error("the sealed data is damaged or was edited: {0}")]
    Damaged(String),
    #[error("the passphrase must be at least {MIN_PASSPHRASE_CHARS} characters")]
    TooShort,
    #[error("the passphrase must be at most {MAX_PASSPHRASE_CHARS} characters")]
    TooLong,
    #[error("the operating system's random number generator failed")]
    Random,
    #[error("key derivation failed: {0}")]
    Kdf(String),
}

impl From<kdf::KdfError> for SealError {
    fn from(e: kdf::KdfError) -> Self {
        match e {
            kdf::KdfError::BadParams => SealError::Damaged(
                "its key-derivation parameters are out of the accepted range".to_string(),
            ),
            kdf::KdfError::Failed(m) => SealError::Kdf(m),
        }
    }
}

/// Checks a new passphrase's length (its strength is the user's: it is shown with a recovery
/// warning where it is set).
pub fn check_new_passphrase(p: &Secret) -> Result<(), SealError> {
    let n = p.char_len();
    if n < MIN_PASSPHRASE_CHARS {
        return Err(SealError::TooShort);
    }
    if n > MAX_PASSPHRASE_CHARS {
        return Err(SealError::TooLong);
    }
    Ok(())
}

/// How the key was derived, as it travels (JSON, base64 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeySpec {
    /// Always `argon2id`.
    pub kdf: String,
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
    /// Base64, 16 bytes.
    pub salt: String,
    /// Base64, 16 bytes: the key check value.
    pub kcv: String,
}

/// A key derived from a passphrase, with what is needed to derive it again.
#[derive(Clone)]
pub struct PassKey {
    key: Key,
    salt: [u8; SALT_LEN],
    params: KdfParams,
}

impl std::fmt::Debug for PassKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PassKey(••••)")
    }
}

impl PassKey {
    /// Derives a new key from a passphrase with a fresh salt (CPU- and memory-heavy: about
    /// a third of a second; call from a blocking task).
    pub fn create(passphrase: &Secret) -> Result<Self, SealError> {
        check_new_passphrase(passphrase)?;
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).map_err(|_| SealError::Random)?;
        let params = KdfParams::DEFAULT;
        let key = kdf::derive(passphrase.expose().as_bytes(), &salt, params)?;
        Ok(Self { key, salt, params })
    }

    /// Derives the key a [`KeySpec`] describes and checks it against the spec's key check
    /// value: [`SealError::WrongPassphrase`] when it does not match.
    pub fn open(passphrase: &Secret, spec: &KeySpec) -> Result<Self, SealError> {
        let (salt, params, kcv) = parse_spec(spec)?;
        let key = kdf::derive(passphrase.expose().as_bytes(), &salt, params)?;
        let me = Self { key, salt, params };
        if !me.kcv_matches(&kcv) {
            return Err(SealError::WrongPassphrase);
        }
        Ok(me)
    }

    /// Rebuilds a key kept (sealed) on this machine: the 32 key bytes and their spec.
    pub fn from_parts(key_bytes: &[u8], spec: &KeySpec) -> Result<Self, SealError> {
        let (salt, params, kcv) = parse_spec(spec)?;
        let key = Key::from_slice(key_bytes)
            .ok_or_else(|| SealError::Damaged("the kept key is not 32 bytes".to_string()))?;
        let me = Self { key, salt, params };
        if !me.kcv_matches(&kcv) {
            return Err(SealError::Damaged(
                "the kept key does not match its key check value".to_string(),
            ));
        }
        Ok(me)
    }

    /// The key's bytes (to seal them under the vault's data key; never to show).
    pub fn key_bytes(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    /// Whether this key is the one a spec describes (same salt and parameters and check
    /// value), without deriving anything.
    pub fn matches(&self, spec: &KeySpec) -> bool {
        self.spec() == *spec
    }

    /// What travels with sealed data so the key can be derived again.
    pub fn spec(&self) -> KeySpec {
        KeySpec {
            kdf: "argon2id".to_string(),
            m_kib: self.params.m_kib,
            t: self.params.t,
            p: self.params.p,
            salt: B64.encode(self.salt),
            kcv: B64.encode(self.kcv()),
        }
    }

    fn kcv(&self) -> [u8; KCV_LEN] {
        let mut out = [0u8; KCV_LEN];
        // HMAC takes keys of any length, so this never fails; were it to, the all-zero value
        // is refused by `kcv_matches`.
        if let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_bytes()) {
            mac.update(KCV_LABEL);
            out.copy_from_slice(&mac.finalize().into_bytes()[..KCV_LEN]);
        }
        out
    }

    fn kcv_matches(&self, expected: &[u8; KCV_LEN]) -> bool {
        let mine = self.kcv();
        mine != [0u8; KCV_LEN] && bool::from(mine.ct_eq(expected))
    }

    /// Encrypts `plaintext`, authenticating `aad` with it; returns nonce ‖ ciphertext+tag.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| SealError::Random)?;
        let cipher = XChaCha20Poly1305::new(&(*self.key.as_bytes()).into());
        let xnonce: XNonce = nonce.into();
        let ct = cipher
            .encrypt(
                &xnonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| SealError::Damaged("the data is too large to seal".to_string()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts what [`PassKey::seal`] made with the same `aad`.
    pub fn unseal(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        if sealed.len() < NONCE_LEN + 16 {
            return Err(SealError::Damaged("it is truncated".to_string()));
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce
            .try_into()
            .map_err(|_| SealError::Damaged("it is truncated".to_string()))?;
        let cipher = XChaCha20Poly1305::new(&(*self.key.as_bytes()).into());
        let xnonce: XNonce = nonce.into();
        cipher
            .decrypt(&xnonce, Payload { msg: ct, aad })
            .map(Zeroizing::new)
            .map_err(|_| {
                SealError::Damaged(
                    "its contents do not match their seal (truncated, edited or corrupted)"
                        .to_string(),
                )
            })
    }
}

fn parse_spec(spec: &KeySpec) -> Result<([u8; SALT_LEN], KdfParams, [u8; KCV_LEN]), SealError> {
    if spec.kdf != "argon2id" {
        return Err(SealError::Damaged(format!(
            "unknown key derivation {:?}",
            spec.kdf
        )));
    }
    let salt: [u8; SALT_LEN] = B64
        .decode(&spec.salt)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| SealError::Damaged("its salt is not 16 bytes of base64".to_string()))?;
    let kcv: [u8; KCV_LEN] = B64
        .decode(&spec.kcv)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            SealError::Damaged("its key check value is not 16 bytes of base64".to_string())
        })?;
    let params = KdfParams {
        m_kib: spec.m_kib,
        t: spec.t,
        p: spec.p,
    };
    if !params.meets_floor() {
        return Err(kdf::KdfError::BadParams.into());
    }
    Ok((salt, params, kcv))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(s: &str) -> Secret {
        Secret::new(s)
    }

    #[test]
    fn seals_and_opens_and_tells_a_wrong_passphrase_from_damage() {
        let k = PassKey::create(&pass("correct horse battery")).expect("create");
        let sealed = k.seal(b"header", b"the profile").expect("seal");
        assert!(!sealed.windows(11).any(|w| w == b"the profile"));
        let again = PassKey::open(&pass("correct horse battery"), &k.spec()).expect("open");
        assert_eq!(
            again.unseal(b"header", &sealed).expect("unseal").as_slice(),
            b"the profile"
        );
        assert_eq!(
            PassKey::open(&pass("wrong horse battery"), &k.spec()).map(|_| ()),
            Err(SealError::WrongPassphrase)
        );
        // Another header, a flipped byte, a cut: damaged, never garbage.
        assert!(matches!(
            again.unseal(b"headex", &sealed),
            Err(SealError::Damaged(_))
        ));
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(matches!(
            again.unseal(b"header", &flipped),
            Err(SealError::Damaged(_))
        ));
        assert!(matches!(
            again.unseal(b"header", &sealed[..30]),
            Err(SealError::Damaged(_))
        ));
    }

    #[test]
    fn refuses_short_passphrases_and_hostile_parameters() {
        assert_eq!(
            PassKey::create(&pass("short")).map(|_| ()),
            Err(SealError::TooShort)
        );
        let k = PassKey::create(&pass("a long enough one")).expect("create");
        let mut spec = k.spec();
        spec.t = 4_000_000_000;
        assert!(matches!(
            PassKey::open(&pass("a long enough one"), &spec),
            Err(SealError::Damaged(_))
        ));
        let mut spec = k.spec();
        spec.salt = "!!".to_string();
        assert!(matches!(
            PassKey::open(&pass("a long enough one"), &spec),
            Err(SealError::Damaged(_))
        ));
        let kept = PassKey::from_parts(k.key_bytes(), &k.spec()).expect("kept");
        assert!(kept.matches(&k.spec()));
        assert!(PassKey::from_parts(&[0u8; 32], &k.spec()).is_err());
    }
}
