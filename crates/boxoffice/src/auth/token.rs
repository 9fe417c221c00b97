//! Login tokens: JWTs signed with HS256 and `JWT_SECRET`, carrying the user id (`sub`), the
//! role, the user's credentials version when they were issued (`ver`; see
//! [`crate::auth::Sessions`]), and when they were issued and expire. Only HS256 is accepted (so `alg: none` and
//! algorithm swaps fail), the signature must match, and `exp` is checked without leeway.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::{ObjectId, Role, Timestamp, User};

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: String,
    /// The user's `credentials_version` at issue. Tokens issued before it existed have none:
    /// version 0, which every user had until their first change.
    #[serde(default)]
    ver: i64,
    iat: i64,
    exp: i64,
}

/// What a valid token says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenClaims {
    pub user: ObjectId,
    pub role: Role,
    /// The user's credentials version when the token was issued.
    pub credentials_version: i64,
}

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: i64,
}

/// A token and how many seconds it lives.
pub struct IssuedToken {
    pub token: String,
    pub expires_in: i64,
}

/// Why a token was refused. Callers answer all of them alike; the kind is for the log.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token rejected: {0}")]
    Rejected(#[from] jsonwebtoken::errors::Error),
    #[error("token claims are not ours")]
    Claims,
}

impl Tokens {
    pub fn new(secret: &[u8], ttl_seconds: u32) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds: i64::from(ttl_seconds),
        }
    }

    /// A key nobody knows, for a server that must be able to answer logins but honours no
    /// token (open mode without JWT_SECRET).
    pub fn ephemeral(ttl_seconds: u32) -> Self {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("the operating system's random source failed");
        Self::new(&secret, ttl_seconds)
    }

    pub fn issue(&self, user: &User, now: Timestamp) -> anyhow::Result<IssuedToken> {
        let iat = now.millis().div_euclid(1000);
        let claims = Claims {
            sub: user.id.to_string(),
            role: user.role.as_str().to_owned(),
            ver: user.credentials_version,
            iat,
            exp: iat + self.ttl_seconds,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok(IssuedToken {
            token,
            expires_in: self.ttl_seconds,
        })
    }

    /// What a valid token says. Whether its credentials still stand is for
    /// [`crate::auth::Sessions`] to tell.
    pub fn verify(&self, token: &str) -> Result<TokenClaims, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?;
        Ok(TokenClaims {
            user: ObjectId::parse(&data.claims.sub).ok_or(TokenError::Claims)?,
            role: Role::parse(&data.claims.role).ok_or(TokenError::Claims)?,
            credentials_version: data.claims.ver,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> User {
        let now = Timestamp::now();
        User {
            id: ObjectId::generate(),
            name: "Ann".to_owned(),
            email: "ann@example.com".to_owned(),
            role,
            password_hash: String::new(),
            credentials_version: 0,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_token_names_its_user_and_role_and_nothing_else_verifies() {
        let tokens = Tokens::new(&[7; 32], 60);
        let admin = user(Role::Admin);
        let issued = tokens.issue(&admin, Timestamp::now()).unwrap();
        assert_eq!(issued.expires_in, 60);
        assert_eq!(
            tokens.verify(&issued.token).unwrap(),
            TokenClaims {
                user: admin.id,
                role: Role::Admin,
                credentials_version: 0,
            }
        );

        let other_key = Tokens::new(&[8; 32], 60);
        assert!(other_key.verify(&issued.token).is_err());
        assert!(tokens.verify("garbage").is_err());
        let expired = tokens
            .issue(&admin, Timestamp::now().plus_seconds(-61))
            .unwrap();
        assert!(tokens.verify(&expired.token).is_err());
    }
}
