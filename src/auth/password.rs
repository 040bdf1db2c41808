//! argon2id password hashing, run on a few dedicated threads behind a bounded queue
//! ([`HashingGate`]) so it never stalls the async runtime and a burst of logins cannot take
//! more memory than `concurrency × m_cost`.
//!
//! The cost parameters come from configuration ([`PasswordParams`]): production keeps the
//! argon2 crate's defaults, which are OWASP's minimum; the test suite may go lower so that a
//! registration does not cost it 19 MiB and tens of milliseconds. A stored hash is a PHC
//! string that carries the parameters it was made with, so changing them never locks anyone
//! out: verification always uses the hash's own parameters.

use super::hashing::{HashingGate, HashingLimits};
use super::working_memory::{hash_in, verify_in, Scratch};
use super::AuthError;
use argon2::password_hash::PasswordHash;
use argon2::Params;
use std::sync::{Arc, OnceLock};

/// argon2id cost parameters, checked by argon2 itself (so a value of this type always
/// hashes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordParams(Params);

/// OWASP's minimum argon2id configurations, as (memory KiB, iterations) pairs of equal
/// strength: more memory buys fewer iterations.
const OWASP_MINIMUMS: [(u32, u32); 5] = [
    (47_104, 1),
    (19_456, 2),
    (12_288, 3),
    (9_216, 4),
    (7_168, 5),
];

impl Default for PasswordParams {
    /// The argon2 crate's defaults: 19456 KiB, 2 iterations, 1 lane (OWASP's minimum).
    fn default() -> Self {
        Self(Params::default())
    }
}

impl PasswordParams {
    /// Memory in KiB, iterations and lanes; refuses combinations argon2 cannot run (memory
    /// below 8 KiB per lane, no iterations, no lanes, …).
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, String> {
        Params::new(memory_kib, iterations, parallelism, None)
            .map(Self)
            .map_err(|e| {
                format!(
                    "argon2 parameters (memory {memory_kib} KiB, {iterations} iterations, \
                     parallelism {parallelism}) are invalid: {e}"
                )
            })
    }

    /// Whether these parameters are weaker than every configuration OWASP recommends.
    pub fn below_owasp_minimum(&self) -> bool {
        !OWASP_MINIMUMS
            .iter()
            .any(|&(m, t)| self.0.m_cost() >= m && self.0.t_cost() >= t)
    }
}

/// Hashes and verifies passwords with the configured parameters. Cheap to clone.
#[derive(Clone)]
pub struct Passwords {
    params: PasswordParams,
    /// A hash of nothing, made with the same parameters, to verify against when there is no
    /// stored hash, so that the answer takes as long either way.
    dummy: Arc<OnceLock<String>>,
    gate: Arc<HashingGate>,
}

impl Passwords {
    pub fn new(params: PasswordParams, limits: HashingLimits) -> Self {
        if params.below_owasp_minimum() {
            tracing::warn!(
                memory_kib = params.0.m_cost(),
                iterations = params.0.t_cost(),
                parallelism = params.0.p_cost(),
                "argon2 parameters are below OWASP's minimum (19456 KiB with 2 iterations, or \
                 an equivalent): use them for tests only"
            );
        }
        Self {
            gate: Arc::new(HashingGate::new(limits, params.0.block_count())),
            params,
            dummy: Arc::default(),
        }
    }

    /// Hashes a password into a PHC string; [`AuthError::Busy`] when too many wait already.
    pub async fn hash(&self, password: String) -> Result<String, AuthError> {
        let params = self.params.clone();
        self.gate
            .run(move |scratch| hash_with(scratch, &params, &password))
            .await?
    }

    /// Checks a password against a stored hash, with the hash's own parameters. With no hash
    /// (unknown user, key account) it checks against a dummy hash anyway. `Ok(false)` is a
    /// wrong password; an error means it was not checked ([`AuthError::Busy`]).
    pub async fn verify(
        &self,
        stored: Option<String>,
        password: String,
    ) -> Result<bool, AuthError> {
        let this = self.clone();
        self.gate
            .run(move |scratch| {
                let stored = match stored {
                    Some(stored) => stored,
                    None => this.dummy_hash(scratch).to_owned(),
                };
                // Algorithm, version and cost come from the PHC string.
                verify_in(scratch, &stored, password.as_bytes())
            })
            .await
    }

    fn dummy_hash(&self, scratch: &mut Scratch) -> &str {
        self.dummy.get_or_init(|| {
            hash_with(scratch, &self.params, "parlor-dummy-password").unwrap_or_default()
        })
    }
}

fn hash_with(
    scratch: &mut Scratch,
    params: &PasswordParams,
    password: &str,
) -> Result<String, AuthError> {
    hash_in(scratch, &params.0, password.as_bytes()).map_err(|e| AuthError::Hashing(e.to_string()))
}

/// Hashes a password into a PHC string with the production parameters (for tools that
/// prepare a `root_password_hash`).
pub async fn hash_password(password: String) -> Result<String, AuthError> {
    Passwords::new(PasswordParams::default(), HashingLimits::default())
        .hash(password)
        .await
}

/// Whether a string is an argon2 PHC hash this server can verify against.
pub fn is_argon2_hash(hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| parsed.algorithm.as_str().starts_with("argon2"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_owasps_minimum() {
        let params = PasswordParams::default();
        assert_eq!(params, PasswordParams::new(19_456, 2, 1).unwrap());
        assert!(!params.below_owasp_minimum());
        assert!(!PasswordParams::new(47_104, 1, 1)
            .unwrap()
            .below_owasp_minimum());
        assert!(PasswordParams::new(8, 1, 1).unwrap().below_owasp_minimum());
        assert!(PasswordParams::new(19_456, 1, 1)
            .unwrap()
            .below_owasp_minimum());
    }

    #[test]
    fn impossible_parameters_are_refused() {
        assert!(PasswordParams::new(19_456, 0, 1).is_err());
        assert!(PasswordParams::new(19_456, 2, 0).is_err());
        assert!(
            PasswordParams::new(4, 1, 1).is_err(),
            "under 8 KiB per lane"
        );
        assert!(
            PasswordParams::new(16, 1, 4).is_err(),
            "under 8 KiB per lane"
        );
    }

    #[tokio::test]
    async fn hashes_carry_their_parameters_and_verify_under_others() {
        let cheap = Passwords::new(
            PasswordParams::new(8, 1, 1).unwrap(),
            HashingLimits::default(),
        );
        let hash = cheap.hash("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{hash}");
        assert!(is_argon2_hash(&hash));

        let other = Passwords::new(
            PasswordParams::new(16, 2, 2).unwrap(),
            HashingLimits::default(),
        );
        let verify = |stored: Option<&str>, password: &str| {
            other.verify(stored.map(str::to_owned), password.to_owned())
        };
        assert!(verify(Some(&hash), "correct horse").await.unwrap());
        assert!(!verify(Some(&hash), "wrong horse").await.unwrap());
        assert!(!verify(None, "anything").await.unwrap());

        let again = other.hash("battery staple".into()).await.unwrap();
        assert!(again.starts_with("$argon2id$v=19$m=16,t=2,p=2$"), "{again}");
        assert!(cheap
            .verify(Some(again), "battery staple".into())
            .await
            .unwrap());
    }
}
