use super::{ObjectId, Rejection, Timestamp, status_enum};

status_enum!(Role { User => "user", Admin => "admin" });

#[derive(Clone, Debug)]
pub struct User {
    pub id: ObjectId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub password_hash: String,
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
    /// Checks a registration's fields; returns the trimmed name and email.
    pub fn validate(
        name: &str,
        email: &str,
        password: &str,
    ) -> Result<(String, String), Rejection> {
        let name = name.trim();
        let email = email.trim();
        if name.is_empty() || email.is_empty() || password.is_empty() {
            return Err(Rejection::invalid("name, email, and password are required"));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(Rejection::invalid("name must be at most 100 characters"));
        }
        if !is_plausible_email(email) {
            return Err(Rejection::invalid("email must be a valid email address"));
        }
        let password_chars = password.chars().count();
        if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&password_chars) {
            return Err(Rejection::invalid(
                "password must be between 6 and 128 characters",
            ));
        }
        Ok((name.to_owned(), email.to_owned()))
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
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The key under which emails are unique: the seed compares them case-insensitively.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
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
}
