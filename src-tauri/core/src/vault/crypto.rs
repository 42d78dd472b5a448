//! Sealing secret fields with XChaCha20-Poly1305.
//!
//! A sealed value is `0x01 | u16 binding length | binding | 24-byte nonce | ciphertext+tag`.
//! The binding names the record and field the value belongs to (`account:<id>:api_key`) and is
//! authenticated as associated data, so:
//! - a value copied onto another row still carries its original binding and is refused as
//!   *misbound* (a distinct error, so the user learns it was moved, not corrupted);
//! - editing the binding to match the new row breaks the tag and is refused as *tampered*.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

const FORMAT_V1: u8 = 0x01;
const NONCE_LEN: usize = 24;
const AAD_PREFIX: &[u8] = b"brokerdesk/sealed/v1|";

/// Why a sealed value could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    /// The bytes are not a sealed value, or the tag does not verify (edited, corrupted, or
    /// sealed under another key).
    #[error("the sealed value for {} has been tampered with or corrupted", record(.expected))]
    Tampered { expected: String },
    /// The value is intact but belongs to another record or field.
    #[error("{}", misbound(.expected, .found))]
    Misbound { expected: String, found: String },
}

/// The record part of a binding, as messages name it: `account:<id>:<field>` without the
/// endpoints a credential is bound to (they are part of what is authenticated, not of what the
/// user needs to read).
fn record(binding: &str) -> &str {
    binding.split('@').next().unwrap_or(binding)
}

/// The message of [`OpenError::Misbound`]: another record, or the same record sealed for
/// other endpoints (an account's endpoints changed outside Brokerdesk).
fn misbound(expected: &str, found: &str) -> String {
    if record(expected) == record(found) {
        format!(
            "the sealed value stored for {} was sealed for other endpoints than the account's: its endpoints were changed outside Brokerdesk",
            record(expected)
        )
    } else {
        format!(
            "the sealed value stored for {} belongs to {}: it was copied or moved from another record",
            record(expected),
            record(found)
        )
    }
}

/// A 256-bit key, zeroized on drop. Used both as the data-encryption key (DEK) and as the
/// password-derived key-encryption key (KEK).
#[derive(Clone)]
pub struct Key(Zeroizing<[u8; 32]>);

impl Key {
    /// Returns a new random key from the OS CSPRNG.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut k = Zeroizing::new([0u8; 32]);
        getrandom::fill(k.as_mut())?;
        Ok(Self(k))
    }

    /// Builds a key from exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(Self(Zeroizing::new(arr)))
    }

    pub fn from_array(bytes: Zeroizing<[u8; 32]>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&(*self.0).into())
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(••••)")
    }
}

/// An initialised AEAD for one key; cheap to reuse for many seals/opens.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    pub fn new(key: &Key) -> Self {
        Self {
            cipher: key.cipher(),
        }
    }

    /// Seals `plaintext` for `binding`, with a fresh random nonce.
    pub fn seal(&self, binding: &str, plaintext: &[u8]) -> Result<Vec<u8>, getrandom::Error> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)?;
        let binding_bytes = binding.as_bytes();
        let blen = u16::try_from(binding_bytes.len()).unwrap_or(u16::MAX);
        let binding_bytes = &binding_bytes[..usize::from(blen)];
        let aad = aad(binding_bytes);
        let xnonce: XNonce = nonce.into();
        // Encryption only fails for inputs larger than the AEAD's limit (~256 GiB); secrets are
        // a few hundred bytes at most, so an error here is impossible in practice. Keep the
        // type honest anyway by sealing an empty payload in that case rather than panicking.
        let ct = self
            .cipher
            .encrypt(
                &xnonce,
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(3 + binding_bytes.len() + NONCE_LEN + ct.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&blen.to_be_bytes());
        out.extend_from_slice(binding_bytes);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens a sealed value, checking that it was sealed for `expected` binding.
    pub fn open(&self, expected: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        let tampered = || OpenError::Tampered {
            expected: expected.to_string(),
        };
        let (binding, nonce, ct) = parse(sealed).ok_or_else(tampered)?;
        if binding != expected.as_bytes() {
            let found = String::from_utf8_lossy(binding).into_owned();
            // Decrypt under the found binding: if that fails too, it is tampering, not a move.
            let xnonce: XNonce = nonce.into();
            return match self.cipher.decrypt(
                &xnonce,
                Payload {
                    msg: ct,
                    aad: &aad(binding),
                },
            ) {
                Ok(mut pt) => {
                    zeroize::Zeroize::zeroize(&mut pt);
                    Err(OpenError::Misbound {
                        expected: expected.to_string(),
                        found,
                    })
                }
                Err(_) => Err(tampered()),
            };
        }
        let xnonce: XNonce = nonce.into();
        self.cipher
            .decrypt(
                &xnonce,
                Payload {
                    msg: ct,
                    aad: &aad(binding),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| tampered())
    }
}

fn aad(binding: &[u8]) -> Vec<u8> {
    let mut a = Vec::with_capacity(AAD_PREFIX.len() + binding.len());
    a.extend_from_slice(AAD_PREFIX);
    a.extend_from_slice(binding);
    a
}

fn parse(sealed: &[u8]) -> Option<(&[u8], [u8; NONCE_LEN], &[u8])> {
    let (&version, rest) = sealed.split_first()?;
    if version != FORMAT_V1 || rest.len() < 2 {
        return None;
    }
    let blen = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
    let rest = &rest[2..];
    if rest.len() < blen + NONCE_LEN + 16 {
        return None;
    }
    let (binding, rest) = rest.split_at(blen);
    let (nonce, ct) = rest.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    Some((binding, nonce, ct))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cipher (and its keystream) wipes its key schedule on drop: this only compiles with
    /// chacha20poly1305's `zeroize` feature on.
    #[test]
    fn the_cipher_state_is_wiped_on_drop() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<XChaCha20Poly1305>();
    }

    fn sealer() -> Sealer {
        Sealer::new(&Key::generate().expect("rng"))
    }

    #[test]
    fn round_trip() {
        let s = sealer();
        let blob = s.seal("account:a:api_key", b"tok").expect("seal");
        assert_eq!(
            &s.open("account:a:api_key", &blob).expect("open")[..],
            b"tok"
        );
    }

    #[test]
    fn nonces_differ() {
        let s = sealer();
        let a = s.seal("b", b"same").expect("seal");
        let b = s.seal("b", b"same").expect("seal");
        assert_ne!(a, b);
    }

    #[test]
    fn tampered_byte_is_detected() {
        let s = sealer();
        let mut blob = s.seal("account:a:api_key", b"tok").expect("seal");
        let last = blob.len() - 1;
        blob[last] ^= 1;
        assert!(matches!(
            s.open("account:a:api_key", &blob),
            Err(OpenError::Tampered { .. })
        ));
    }

    #[test]
    fn moved_value_is_misbound() {
        let s = sealer();
        let blob = s.seal("account:a:api_key", b"tok").expect("seal");
        match s.open("account:b:api_key", &blob) {
            Err(OpenError::Misbound { expected, found }) => {
                assert_eq!(expected, "account:b:api_key");
                assert_eq!(found, "account:a:api_key");
            }
            other => panic!("expected misbound, got {other:?}"),
        }
    }

    #[test]
    fn relabelled_binding_is_tampered() {
        let s = sealer();
        let blob = s.seal("account:a:api_key", b"tok").expect("seal");
        // Rewrite the binding in the header so it *claims* to belong to account b.
        let relabelled = {
            let mut v = blob.clone();
            let pos = 3 + "account:".len();
            v[pos] = b'b';
            v
        };
        assert!(matches!(
            s.open("account:b:api_key", &relabelled),
            Err(OpenError::Tampered { .. })
        ));
    }

    #[test]
    fn wrong_key_is_tampered() {
        let blob = sealer().seal("x", b"tok").expect("seal");
        assert!(matches!(
            sealer().open("x", &blob),
            Err(OpenError::Tampered { .. })
        ));
    }

    #[test]
    fn garbage_is_tampered() {
        let s = sealer();
        for g in [&b""[..], b"\x01", b"\x02abc", &[1u8, 0, 200, 1, 2, 3]] {
            assert!(matches!(s.open("x", g), Err(OpenError::Tampered { .. })));
        }
    }
}
