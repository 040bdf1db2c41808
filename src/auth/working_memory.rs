//! argon2 in working memory the caller keeps. The argon2 crate's `hash_password` allocates its
//! `m_cost` KiB afresh for every hash and frees it after; under glibc that block lands in the
//! hashing thread's allocator arena and, once freed, is kept there rather than returned, while
//! the next hash's block often cannot reuse it: measured on a debug build, 200 logins on two
//! threads left 250 MB resident for 38 MB of working memory. A hashing thread that keeps one
//! block of the configured size ([`Scratch`]) and hands it to
//! `Argon2::hash_password_into_with_memory` allocates it once, and can give it back as a whole
//! when it has been idle.
//!
//! The PHC strings produced and accepted are exactly those of argon2's own `PasswordHasher` and
//! `PasswordVerifier` (the unit tests check both ways); the comparison of outputs is
//! `password_hash::Output`'s, in constant time.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{self, Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// A hashing thread's argon2 working memory: one block of the configured size, allocated on
/// first use and kept until [`Scratch::release`].
pub struct Scratch {
    kept: Vec<Block>,
    /// Blocks of the configured parameters: a stored hash that asks for more gets its memory
    /// for that one hash only, so an old, costlier hash does not grow what is kept.
    keep: usize,
}

impl Scratch {
    pub fn new(keep: usize) -> Self {
        Self {
            kept: Vec::new(),
            keep,
        }
    }

    /// Runs `f` on `count` blocks of working memory.
    fn with<T>(&mut self, count: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
        if count > self.keep {
            return f(&mut vec![Block::default(); count]);
        }
        if self.kept.len() < self.keep {
            // All of it at once: one allocation, never grown in steps.
            self.kept = vec![Block::default(); self.keep];
        }
        f(&mut self.kept[..count])
    }

    /// Gives the kept memory back to the allocator (a thread that has been idle for a while).
    pub fn release(&mut self) {
        self.kept = Vec::new();
    }
}

/// Hashes `password` with argon2id and a fresh salt into a PHC string.
pub fn hash_in(
    scratch: &mut Scratch,
    params: &Params,
    password: &[u8],
) -> password_hash::Result<String> {
    let (algorithm, version) = (Algorithm::Argon2id, Version::V0x13);
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let salt = SaltString::generate(&mut OsRng);
    let output_len = argon2
        .params()
        .output_len()
        .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = compute(scratch, &argon2, password, salt.as_salt(), output_len)?;
    let hash = PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(argon2.params())?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches a stored PHC hash, computed with the hash's own algorithm,
/// version and costs. A hash that does not parse matches nothing.
pub fn verify_in(scratch: &mut Scratch, stored: &str, password: &[u8]) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version {
        Some(number) => Version::try_from(number),
        None => Ok(Version::default()),
    };
    let (Ok(version), Ok(params)) = (version, Params::try_from(&parsed)) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    compute(scratch, &argon2, password, salt, expected.len()).is_ok_and(|out| out == expected)
}

fn compute(
    scratch: &mut Scratch,
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: Salt<'_>,
    output_len: usize,
) -> password_hash::Result<Output> {
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt = salt.decode_b64(&mut salt_bytes)?;
    scratch.with(argon2.params().block_count(), |blocks| {
        Output::init_with(output_len, |out| {
            argon2
                .hash_password_into_with_memory(password, salt, out, blocks)
                .map_err(password_hash::Error::from)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{PasswordHasher, PasswordVerifier};

    fn params(memory_kib: u32) -> Params {
        Params::new(memory_kib, 1, 1, None).unwrap()
    }

    #[test]
    fn hashes_made_here_and_by_argon2_verify_both_ways() {
        let mut scratch = Scratch::new(params(64).block_count());
        let ours = hash_in(&mut scratch, &params(64), b"pw").unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{ours}");
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"pw", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"px", &parsed).is_err());

        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::from(params(64))
            .hash_password(b"pw", &salt)
            .unwrap()
            .to_string();
        assert!(verify_in(&mut scratch, &theirs, b"pw"));
        assert!(!verify_in(&mut scratch, &theirs, b"px"));
        assert!(!verify_in(&mut scratch, "not a hash", b"pw"));
    }

    #[test]
    fn costlier_hashes_borrow_memory_without_growing_what_is_kept() {
        let mut scratch = Scratch::new(64);
        let costly = hash_in(&mut scratch, &params(256), b"pw").unwrap();
        assert!(verify_in(&mut scratch, &costly, b"pw"));
        assert!(scratch.kept.is_empty(), "nothing kept for a costlier hash");
        let cheap = hash_in(&mut scratch, &params(64), b"x").unwrap();
        assert!(verify_in(&mut scratch, &cheap, b"x"));
        assert_eq!(scratch.kept.len(), 64);
        scratch.release();
        assert!(scratch.kept.is_empty());
    }
}
