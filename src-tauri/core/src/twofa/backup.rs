//! Backup codes: 10 single-use codes of 10 characters (about 50 bits each) from an alphabet
//! without look-alikes, shown once and stored only as salted Argon2id hashes (OWASP's minimum
//! parameters: each check costs a few tens of milliseconds, which makes guessing offline
//! expensive without slowing a user down).

use argon2::{Algorithm, Argon2, Params, Version};
use sqlx::{Row, SqliteConnection};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::TwofaError;
use crate::store::StoreError;
use crate::vault::VaultError;

pub const COUNT: usize = 10;
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
const HALF: usize = 5;

/// Returns 10 fresh codes like `k7m2p-x9qrt`.
pub fn generate() -> Vec<String> {
    (0..COUNT)
        .map(|_| {
            let mut raw = [0u8; HALF * 2];
            // The OS RNG failing is not recoverable; an all-zero buffer would still yield codes,
            // but they would be guessable, so fall back to a fresh attempt per byte.
            while getrandom::fill(&mut raw).is_err() {}
            let chars: String = raw
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
                .collect();
            format!("{}-{}", &chars[..HALF], &chars[HALF..])
        })
        .collect()
}

/// Normalises user input: lower case, no spaces or dashes.
fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Returns true if `code` has a backup code's shape (so a mistyped TOTP is not hashed 10 times).
pub fn looks_like(code: &str) -> bool {
    let n = normalise(code);
    n.len() == HALF * 2 && n.bytes().all(|b| ALPHABET.contains(&b))
}

fn hash(code: &str, salt: &[u8]) -> Result<Vec<u8>, TwofaError> {
    let params =
        Params::new(19 * 1024, 2, 1, Some(32)).map_err(|e| TwofaError::Qr(e.to_string()))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(normalise(code).as_bytes(), salt, out.as_mut())
        .map_err(|e| TwofaError::Vault(VaultError::Damaged(e.to_string())))?;
    Ok(out.to_vec())
}

/// Hashes every code with its own salt, off the async runtime.
pub async fn hash_all(codes: &[String]) -> Result<Vec<(Vec<u8>, Vec<u8>)>, TwofaError> {
    let codes = codes.to_vec();
    tokio::task::spawn_blocking(move || {
        codes
            .iter()
            .map(|c| {
                let mut salt = vec![0u8; 16];
                getrandom::fill(&mut salt).map_err(|_| TwofaError::Vault(VaultError::Random))?;
                Ok((salt.clone(), hash(c, &salt)?))
            })
            .collect()
    })
    .await
    .map_err(|e| TwofaError::Vault(VaultError::Damaged(e.to_string())))?
}

/// Replaces all backup codes with new hashed ones.
pub async fn replace(
    conn: &mut SqliteConnection,
    hashed: &[(Vec<u8>, Vec<u8>)],
    now: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM twofa_backup_codes")
        .execute(&mut *conn)
        .await?;
    for (salt, h) in hashed {
        sqlx::query("INSERT INTO twofa_backup_codes (salt, hash, created_at) VALUES (?, ?, ?)")
            .bind(salt)
            .bind(h)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Marks the matching unused code as used. Returns false if none matches.
pub async fn consume(
    conn: &mut SqliteConnection,
    code: &str,
    now: &str,
) -> Result<bool, TwofaError> {
    let rows = sqlx::query("SELECT id, salt, hash FROM twofa_backup_codes WHERE used_at IS NULL")
        .fetch_all(&mut *conn)
        .await?;
    let candidates: Vec<(i64, Vec<u8>, Vec<u8>)> = rows
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("salt")?, r.try_get("hash")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let code = code.to_string();
    let matched = tokio::task::spawn_blocking(move || -> Result<Option<i64>, TwofaError> {
        let mut found = None;
        for (id, salt, stored) in &candidates {
            let h = hash(&code, salt)?;
            if bool::from(h.ct_eq(stored)) {
                found = Some(*id);
            }
        }
        Ok(found)
    })
    .await
    .map_err(|e| TwofaError::Vault(VaultError::Damaged(e.to_string())))??;
    match matched {
        Some(id) => {
            sqlx::query(
                "UPDATE twofa_backup_codes SET used_at = ? WHERE id = ? AND used_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_well_formed_and_normalised() {
        let codes = generate();
        assert_eq!(codes.len(), COUNT);
        let set: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(set.len(), COUNT);
        for c in &codes {
            assert_eq!(c.len(), 11);
            assert!(looks_like(c));
            assert!(looks_like(&c.to_uppercase().replace('-', " ")));
        }
        assert!(!looks_like("123456"));
        let salt = [3u8; 16];
        assert_eq!(
            hash("ABCDE-FGHJK", &salt).expect("h"),
            hash("abcdefghjk", &salt).expect("h")
        );
    }
}
