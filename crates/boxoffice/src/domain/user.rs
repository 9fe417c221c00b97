use super::folding::{caseless_key, is_invisible, nfc};
use super::{ObjectId, Rejection, Timestamp, status_enum};

status_enum!(Role { User => "user", Admin => "admin" });

#[derive(Clone, Debug)]
pub struct User {
    pub id: ObjectId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub password_hash: String,
    /// Raised whenever the password or role changes or the user logs out everywhere; tokens
    /// issued under a lower value are refused ("Tokens end with their credentials").
    pub credentials_version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A registration that passed every rule, with its password already hashed.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub name: String,
    pub email: String,
    pub role: Role,
    pub password_hash: String,
}

pub const MAX_NAME_CHARS: usize = 100;
pub const MIN_PASSWORD_CHARS: usize = 6;
pub const MAX_PASSWORD_CHARS: usize = 128;

impl NewUser {
    /// Checks a registration's fields; returns the trimmed name and the trimmed email in NFC.
    /// The password's length is counted in NFC, the form it is hashed in (see
    /// [`normalize_password`]). An email with an invisible character is invalid (rule 10).
    pub fn validate(
        name: &str,
        email: &str,
        password: &str,
    ) -> Result<(String, String), Rejection> {
        let name = name.trim();
        let email = nfc(email.trim());
        let password = normalize_password(password);
        if name.is_empty() || email.is_empty() || password.is_empty() {
            return Err(Rejection::invalid("name, email, and password are required"));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(Rejection::invalid("name must be at most 100 characters"));
        }
        if !is_plausible_email(&email) {
            return Err(Rejection::invalid("email must be a valid email address"));
        }
        let password_chars = password.chars().count();
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&password_chars) {
            return Err(Rejection::invalid(
                "password must be between 6 and 128 characters",
            ));
        }
        Ok((name.to_owned(), email))
    }
}

/// One `@`, something before it, a dotted domain after it, no spaces; at most 254 characters.
/// Deliverability is the mail server's business, not ours.
fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || is_invisible(c))
}

/// The key under which emails are unique and looked up (CONTRACT.md rule 10): the trimmed email
/// NFC-normalised and fully case-folded, so that `ZOË@…`, and `zoë@…` composed or decomposed,
/// are one account. See [`super::folding::caseless_key`].
pub fn email_key(email: &str) -> String {
    caseless_key(email.trim())
}

/// The key this server kept before rule 10 (the trimmed email, lower-cased), for rows that
/// start-up has not re-keyed yet.
pub fn legacy_email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A password as it is hashed and verified: NFC (CONTRACT.md rule 10), so that the same
/// password typed composed or decomposed is the same password. Hashes stored before the rule
/// were made from the password as typed; see `password::check`.
pub fn normalize_password(password: &str) -> String {
    nfc(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_rules() {
        assert!(NewUser::validate("Ann", "ann@example.com", "secret").is_ok());
        let long_name = "n".repeat(101);
        for (name, email, password) in [
            ("", "ann@example.com", "secret"),
            ("Ann", "not-an-email", "secret"),
            ("Ann", "ann@localhost", "secret"),
            ("Ann", "a b@example.com", "secret"),
            ("Ann", "ann@example.com", "short"),
            (long_name.as_str(), "ann@example.com", "secret"),
        ] {
            assert!(
                NewUser::validate(name, email, password).is_err(),
                "{name} {email} {password}"
            );
        }
        assert!(NewUser::validate("Ann", "ann@example.com", &"p".repeat(129)).is_err());
    }

    #[test]
    fn emails_are_kept_in_nfc_and_keyed_caselessly() {
        let decomposed = "Zoe\u{308}@exa\u{308}mple.org";
        let (_, email) = NewUser::validate("Zoë", decomposed, "secret").unwrap();
        assert_eq!(email, "Zo\u{eb}@ex\u{e4}mple.org");
        assert_eq!(email_key(decomposed), "zo\u{eb}@ex\u{e4}mple.org");
        assert_eq!(email_key(" ZO\u{cb}@EX\u{c4}MPLE.ORG "), email_key(&email));
        for invisible in [
            '\u{200b}', '\u{200c}', '\u{200d}', '\u{2060}', '\u{feff}', '\u{ad}',
        ] {
            let email = format!("zo{invisible}e@example.org");
            assert!(
                NewUser::validate("Zoë", &email, "secret").is_err(),
                "{email:?}"
            );
        }
    }

    #[test]
    fn password_length_is_counted_in_nfc() {
        // Six characters composed, twelve code points decomposed.
        let decomposed = "e\u{301}".repeat(6);
        assert!(NewUser::validate("Ann", "ann@example.com", &decomposed).is_ok());
        assert_eq!(normalize_password(&decomposed), "\u{e9}".repeat(6));
    }
}
