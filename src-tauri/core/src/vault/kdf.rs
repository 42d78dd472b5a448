//! Password → key-encryption key, with Argon2id.
//!
//! Parameters: m = 64 MiB, t = 3, p = 1 by default. OWASP's Password Storage Cheat Sheet
//! (current as of 2026) recommends Argon2id with at least m = 19 MiB, t = 2, p = 1 (or an
//! equivalent trade-off such as m = 46 MiB, t = 1); RFC 9106's second recommended option is
//! m = 64 MiB, t = 3. We use the stronger of the two, ~0.3 s on a 2-core laptop-class CPU.
//! The parameters are stored beside the salt, so they can be raised later without breaking
//! existing vaults.

use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use super::crypto::Key;

/// Argon2id parameters as stored with the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
}

impl KdfParams {
    /// The parameters new vaults use (see the module docs for why).
    pub const DEFAULT: KdfParams = KdfParams {
        m_kib: 64 * 1024,
        t: 3,
        p: 1,
    };
    /// OWASP's floor: stored parameters below this are refused as tampered/unsafe.
    pub const OWASP_MIN: KdfParams = KdfParams {
        m_kib: 19 * 1024,
        t: 2,
        p: 1,
    };

    /// The ceiling: stored parameters above it are refused too, or an edited profile could
    /// make unlocking allocate gigabytes or run for hours (`t = 4000000000`). At most 1 GiB,
    /// 16 passes, 8 lanes, and m·t at most 32 times the default's (a few seconds here).
    pub const MAX: KdfParams = KdfParams {
        m_kib: 1024 * 1024,
        t: 16,
        p: 8,
    };

    /// Returns true when these parameters meet OWASP's minimum (m·t at least the floor's) and
    /// stay under [`KdfParams::MAX`].
    pub fn meets_floor(&self) -> bool {
        let cost = u64::from(self.m_kib) * u64::from(self.t);
        let floor = u64::from(Self::OWASP_MIN.m_kib) * u64::from(Self::OWASP_MIN.t);
        let ceiling = 32 * u64::from(Self::DEFAULT.m_kib) * u64::from(Self::DEFAULT.t);
        self.m_kib >= Self::OWASP_MIN.m_kib
            && cost >= floor
            && cost <= ceiling
            && (1..=Self::MAX.p).contains(&self.p)
            && self.m_kib <= Self::MAX.m_kib
            && self.t <= Self::MAX.t
    }
}

/// Why a key could not be derived.
#[derive(Debug, thiserror::Error)]
pub enum KdfError {
    #[error("the stored key-derivation parameters are invalid or below the safe minimum")]
    BadParams,
    #[error("key derivation failed: {0}")]
    Failed(String),
}

/// Derives the 256-bit KEK from a password. CPU- and memory-heavy: call from a blocking task.
pub fn derive(password: &[u8], salt: &[u8], params: KdfParams) -> Result<Key, KdfError> {
    if !params.meets_floor() {
        return Err(KdfError::BadParams);
    }
    let p =
        Params::new(params.m_kib, params.t, params.p, Some(32)).map_err(|_| KdfError::BadParams)?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(password, salt, out.as_mut())
        .map_err(|e| KdfError::Failed(e.to_string()))?;
    Ok(Key::from_array(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_salted() {
        let p = KdfParams::OWASP_MIN;
        let a = derive(b"pw", b"0123456789abcdef", p).expect("derive");
        let b = derive(b"pw", b"0123456789abcdef", p).expect("derive");
        let c = derive(b"pw", b"fedcba9876543210", p).expect("derive");
        assert_eq!(a.as_bytes(), b.as_bytes());
        assert_ne!(a.as_bytes(), c.as_bytes());
    }

    #[test]
    fn refuses_weak_params() {
        let weak = KdfParams {
            m_kib: 1024,
            t: 1,
            p: 1,
        };
        assert!(matches!(
            derive(b"pw", b"0123456789abcdef", weak),
            Err(KdfError::BadParams)
        ));
        assert!(KdfParams::DEFAULT.meets_floor());
    }

    /// Regression: a stored `t = 4000000000` made unlocking hang; an edited `m` could ask
    /// for gigabytes. Both are refused before Argon2 runs.
    #[test]
    fn refuses_absurd_params_at_once() {
        for absurd in [
            KdfParams {
                t: 4_000_000_000,
                ..KdfParams::DEFAULT
            },
            KdfParams {
                m_kib: u32::MAX,
                ..KdfParams::DEFAULT
            },
            KdfParams {
                m_kib: 1024 * 1024,
                t: 16,
                p: 1,
            },
            KdfParams {
                p: 1000,
                ..KdfParams::DEFAULT
            },
        ] {
            assert!(
                matches!(
                    derive(b"pw", b"0123456789abcdef", absurd),
                    Err(KdfError::BadParams)
                ),
                "{absurd:?}"
            );
        }
        const { assert!(KdfParams::MAX.m_kib >= KdfParams::DEFAULT.m_kib) };
    }
}
