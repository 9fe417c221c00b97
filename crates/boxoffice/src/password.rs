//! Passwords are kept only as Argon2id hashes (the seed stored them in plain text).
//!
//! Hashing is deliberately slow and takes 19 MiB of working memory, so it runs off the async
//! workers, on a few threads of its own, each reusing one working buffer. Letting argon2
//! allocate and free 19 MiB per hash on tokio's blocking pool made the C allocator keep the freed
//! buffers (glibc raises its mmap threshold after the first free), and the server grew by about
//! 18 MiB per registration (measured: 958 MB resident after 48). The fixed threads also bound the
//! CPU a flood of logins or registrations can take.

use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, OnceLock};

use std::cell::RefCell;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// How many hashes run at once, at most.
fn hasher_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4))
}

/// Runs `work` on one of the hashing threads and waits for its answer.
async fn on_hasher<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    static JOBS: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    let jobs = JOBS.get_or_init(|| {
        let (sender, receiver) = channel::<Job>();
        let receiver = std::sync::Arc::new(Mutex::new(receiver));
        for i in 0..hasher_threads() {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("password-hasher-{i}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while taking a job, not while running it.
                        let job = receiver.lock().map(|r| r.recv());
                        match job {
                            Ok(Ok(job)) => job(),
                            _ => return,
                        }
                    }
                })
                .expect("a password hashing thread starts");
        }
        Mutex::new(sender)
    });
    let (answer, answered) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = answer.send(work());
    });
    jobs.lock()
        .map_err(|_| anyhow::anyhow!("the password hashers are gone"))?
        .send(job)
        .map_err(|_| anyhow::anyhow!("the password hashers are gone"))?;
    answered
        .await
        .map_err(|_| anyhow::anyhow!("a password hasher failed"))
}

thread_local! {
    /// This hashing thread's Argon2 working memory, kept between hashes.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Argon2 of `password` and `salt` into `out`, in this thread's reused working memory.
fn argon2_into(
    argon2: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    MEMORY.with_borrow_mut(|memory| {
        memory.resize(params.block_count(), Block::default());
        argon2.hash_password_into_with_memory(password, salt, out, memory.as_mut_slice())
    })
}

/// An Argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) with a fresh random salt,
/// using the crate's defaults, which follow OWASP's current recommendation.
pub async fn hash(password: String) -> anyhow::Result<String> {
    on_hasher(move || {
        let fail = |e: &dyn std::fmt::Display| anyhow::anyhow!("password hashing failed: {e}");
        let params = Params::default();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let salt = argon2::password_hash::generate_salt();
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        argon2_into(&argon2, &params, password.as_bytes(), &salt, &mut out)
            .map_err(|e| fail(&e))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| fail(&e))?,
            salt: Some(Salt::new(&salt).map_err(|e| fail(&e))?),
            hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
        };
        Ok(phc.to_string())
    })
    .await?
}

/// Whether `password` matches `hash` (with the algorithm, version and parameters the hash
/// names); a malformed hash matches nothing.
pub async fn verify(password: String, hash: String) -> anyhow::Result<bool> {
    on_hasher(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
            Algorithm::new(parsed.algorithm.as_str()),
            Params::try_from(&parsed),
            parsed.salt.as_ref(),
            parsed.hash.as_ref(),
        ) else {
            return false;
        };
        let version = match parsed.version.map(Version::try_from).transpose() {
            Ok(version) => version.unwrap_or_default(),
            Err(_) => return false,
        };
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let mut out = vec![0u8; expected.len()];
        argon2_into(&argon2, &params, password.as_bytes(), salt.as_ref(), &mut out).is_ok()
            // `Output` compares in constant time.
            && Output::new(&out).is_ok_and(|computed| &computed == expected)
    })
    .await
}

/// What a typed password proved against a stored hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordCheck {
    /// The hash is of the password in NFC, as every hash since CONTRACT.md rule 10.
    Matches,
    /// The hash is of the password exactly as typed, not in NFC: a hash stored before rule 10.
    /// The caller replaces it with a hash of the NFC form.
    MatchesAsTyped,
    NoMatch,
}

/// Checks `typed` against `hash` the way rule 10 asks: the password's NFC form first, then,
/// only if that differs from what was typed and did not match, the password as typed (which
/// is how hashes were made before the rule). An unknown email is checked against a dummy hash
/// the same way, so the work done does not tell whether the account exists.
pub async fn check(typed: &str, hash: &str) -> anyhow::Result<PasswordCheck> {
    let normalized = crate::domain::normalize_password(typed);
    let as_typed_differs = normalized != typed;
    if verify(normalized, hash.to_owned()).await? {
        return Ok(PasswordCheck::Matches);
    }
    if as_typed_differs && verify(typed.to_owned(), hash.to_owned()).await? {
        return Ok(PasswordCheck::MatchesAsTyped);
    }
    Ok(PasswordCheck::NoMatch)
}

#[cfg(test)]
mod tests {
    use super::PasswordCheck;

    #[tokio::test]
    async fn nfc_and_old_hashes_of_the_password_as_typed_both_match() {
        let composed = "caf\u{e9}-secret";
        let decomposed = "cafe\u{301}-secret";
        let new_style = super::hash(composed.into()).await.unwrap();
        assert_eq!(
            super::check(decomposed, &new_style).await.unwrap(),
            PasswordCheck::Matches
        );
        assert_eq!(
            super::check(composed, &new_style).await.unwrap(),
            PasswordCheck::Matches
        );
        let old_style = super::hash(decomposed.into()).await.unwrap();
        assert_eq!(
            super::check(decomposed, &old_style).await.unwrap(),
            PasswordCheck::MatchesAsTyped
        );
        assert_eq!(
            super::check("cafe-secret", &old_style).await.unwrap(),
            PasswordCheck::NoMatch
        );
    }

    #[tokio::test]
    async fn hashes_verify_and_differ_by_salt() {
        let first = super::hash("secret123".into()).await.unwrap();
        let second = super::hash("secret123".into()).await.unwrap();
        assert!(first.starts_with("$argon2id$"));
        assert_ne!(first, second);
        assert!(
            super::verify("secret123".into(), first.clone())
                .await
                .unwrap()
        );
        assert!(!super::verify("secret124".into(), first).await.unwrap());
        assert!(
            !super::verify("secret123".into(), "garbage".into())
                .await
                .unwrap()
        );
    }

    /// Hashes are interchangeable with the argon2 crate's own: each verifies the other's.
    #[tokio::test]
    async fn agrees_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let ours = super::hash("hunter42".into()).await.unwrap();
        let parsed = super::PasswordHash::new(&ours).unwrap();
        assert!(
            super::Argon2::default()
                .verify_password(b"hunter42", &parsed)
                .is_ok()
        );
        let theirs = super::Argon2::default()
            .hash_password(b"hunter42")
            .unwrap()
            .to_string();
        assert!(
            super::verify("hunter42".into(), theirs.clone())
                .await
                .unwrap()
        );
        assert!(!super::verify("hunter43".into(), theirs).await.unwrap());
        // Other parameters than ours verify too, with the memory they ask for.
        let small = super::Params::new(1024, 1, 1, None).unwrap();
        let other = super::Argon2::new(super::Algorithm::Argon2id, super::Version::V0x13, small)
            .hash_password(b"pw123456")
            .unwrap()
            .to_string();
        assert!(super::verify("pw123456".into(), other).await.unwrap());
    }
}
