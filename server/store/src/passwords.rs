//! Password hashing and checking, kept off the async workers.
//!
//! argon2id is deliberately slow and memory-hungry. Run on the async runtime, a burst of
//! sign-ins at shift change would stall every other request; run without a bound, it
//! would take all memory. So each hash runs on the blocking pool, and a semaphore lets
//! only as many run at once as configured (by default the machine's cores); the rest
//! wait their turn.

use crate::{Result, StoreError};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// argon2id memory cost in KiB. With [`ITERATIONS`] this is the OWASP baseline
/// (19 MiB, two passes, one lane). Measured with `reserv-bench sign-in` on the 2-core
/// machine Reserv is built on (shared with other builds): one whole `login` over HTTP
/// costs 35 ms (p50; p99 42 ms), well under the 250 ms a person notices, and a burst of
/// 40 sign-ins at once finishes in 0.8 s while `/healthz` keeps answering (p50 1.4 ms).
/// Dearer parameters would buy little against guessing, which the throttle already
/// limits, and make a shift change's burst of sign-ins wait longer. Stored hashes carry
/// their own parameters, so changing these never locks anyone out.
pub const MEMORY_KIB: u32 = 19 * 1024;
/// argon2id passes over the memory.
pub const ITERATIONS: u32 = 2;
/// argon2id lanes; one, because parallel sign-ins already use every core.
pub const LANES: u32 = 1;

/// An argon2id hash with Reserv's parameters of a password that nobody knows, checked
/// when the username is unknown so that timing does not tell which usernames exist.
fn dummy_hash() -> String {
    format!(
        "$argon2id$v=19$m={MEMORY_KIB},t={ITERATIONS},p={LANES}$c29tZXNhbHRzb21lc2FsdA$3q3v0H0yN1vW9wq0cVq3kq5tLz8dJ3JpQ3Q3b0m8Qy0"
    )
}

fn hasher() -> Result<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None)
        .map_err(|error| internal(&format!("argon2 parameters: {error}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes and checks passwords on the blocking pool, a bounded number at a time.
#[derive(Debug, Clone)]
pub(crate) struct Passwords {
    permits: Arc<Semaphore>,
}

impl Passwords {
    /// Allows one hash at a time per core.
    pub fn new() -> Self {
        Self::with_concurrency(0)
    }

    /// Allows `concurrency` hashes at a time; 0 means one per core.
    pub fn with_concurrency(concurrency: usize) -> Self {
        let permits = match concurrency {
            0 => std::thread::available_parallelism().map_or(2, usize::from),
            n => n,
        };
        Self {
            permits: Arc::new(Semaphore::new(permits)),
        }
    }

    pub async fn hash(&self, password: String) -> Result<String> {
        self.run(move || hash_password(&password)).await?
    }

    /// Whether `password` matches `stored_hash`; with no hash (an unknown or disabled
    /// account) it spends the same time and answers no.
    pub async fn verify(&self, password: String, stored_hash: Option<String>) -> Result<bool> {
        self.run(move || match stored_hash {
            Some(hash) => verify_password(&password, &hash),
            None => {
                let _ = verify_password(&password, &dummy_hash());
                false
            }
        })
        .await
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| internal("the password checker has shut down"))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|error| internal(&format!("password hashing stopped: {error}")))
    }
}

fn internal(message: &str) -> StoreError {
    StoreError::Database(sea_orm::DbErr::Custom(message.to_owned()))
}

fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| internal(&format!("password hashing failed: {error}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() -> Result<()> {
        let passwords = Passwords::new();
        let hash = passwords.hash("rätt-lösenord-2026".into()).await?;
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(PasswordHash::new(&dummy_hash()).is_ok());
        assert!(
            passwords
                .verify("rätt-lösenord-2026".into(), Some(hash.clone()))
                .await?
        );
        assert!(
            !passwords
                .verify("fel-lösenord-2026".into(), Some(hash))
                .await?
        );
        assert!(!passwords.verify("vad som helst".into(), None).await?);
        Ok(())
    }

    /// A burst of sign-ins all finish, and never more hashes run at once than there
    /// are permits.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_work_is_bounded_and_all_finishes() -> Result<()> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let passwords = Passwords {
            permits: Arc::new(Semaphore::new(2)),
        };
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..12)
            .map(|_| {
                let passwords = passwords.clone();
                let (running, most) = (running.clone(), most.clone());
                tokio::spawn(async move {
                    passwords
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(20));
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for job in jobs {
            job.await.map_err(|error| internal(&error.to_string()))??;
        }
        let most = most.load(Ordering::SeqCst);
        assert!(most <= 2, "{most} hashes ran at once with 2 permits");
        assert_eq!(passwords.permits.available_permits(), 2);
        Ok(())
    }
}
