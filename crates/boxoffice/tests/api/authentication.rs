//! Logins, tokens, the login throttle, and where admins come from (AUTH_MODE=jwt).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, TEST_JWT_SECRET, TestApp, jwt_mode};

fn now_seconds() -> i64 {
    boxoffice::domain::Timestamp::now().millis() / 1000
}

/// A token as the server would make it, but with any claims, algorithm and secret.
fn mint(claims: &Value, algorithm: Algorithm, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn b64(bytes: &[u8]) -> String {
    // URL-safe base64 without padding, as JWTs use; small enough to write out.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn retry_after(reply: &crate::harness::Reply) -> u64 {
    reply
        .headers
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds")
}

backend_tests! {
    async fn login_answers_a_bearer_token_and_the_user(backend: Backend) {
        let app = TestApp::spawn_jwt(backend).await;
        let ann = app.register_account("Ann").await;
        // The email is matched case-insensitively, like registration's uniqueness.
        let reply = app.login(&ann.email.to_uppercase(), &ann.password).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.body["success"], true);
        let data = reply.data();
        assert_eq!(data["tokenType"], "Bearer");
        assert_eq!(data["expiresIn"], 3600);
        assert_eq!(data["user"]["_id"], ann.id.as_str());
        assert_eq!(data["user"]["role"], "user");
        assert!(data["user"].get("password").is_none() && data["user"].get("passwordHash").is_none());
        let token = data["token"].as_str().unwrap();
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(app.get_as(token, &format!("/api/users/{}", ann.id)).await.status, 200);

        // A wrong password and an unknown email look the same.
        let wrong = app.login(&ann.email, "not-the-password").await;
        let unknown = app.login("nobody@example.com", "not-the-password").await;
        wrong.assert_error(401, "Invalid email or password");
        unknown.assert_error(401, "Invalid email or password");
        assert_eq!(wrong.body, unknown.body);

        for body in [json!({}), json!({"email": ann.email}), json!({"password": "x"}), json!({"email": 1, "password": "x"})] {
            app.post("/api/users/login", body).await.assert_error(400, "email and password are required");
        }
        app.stop().await;
    }

    async fn tokens_that_are_not_exactly_ours_are_refused(backend: Backend) {
        let app = TestApp::spawn_jwt(backend).await;
        let ann = app.register_account("Ann").await;
        let token = app.token(&ann.email, &ann.password).await;
        let profile = format!("/api/users/{}", ann.id);
        let now = now_seconds();
        let claims = |role: &str, iat: i64, exp: i64| {
            json!({"sub": ann.id, "role": role, "iat": iat, "exp": exp})
        };

        // A token the test mints with the server's secret works, so the refusals below are
        // about what was changed, not about how the test mints.
        let minted = mint(&claims("user", now, now + 60), Algorithm::HS256, TEST_JWT_SECRET);
        assert_eq!(app.get_as(&minted, &profile).await.status, 200);

        let (head, rest) = token.split_once('.').unwrap();
        let (payload, signature) = rest.split_once('.').unwrap();
        let mut tampered_signature = signature.to_owned();
        let middle = tampered_signature.len() / 2;
        let flipped = if &signature[middle..=middle] == "A" { "B" } else { "A" };
        tampered_signature.replace_range(middle..=middle, flipped);
        let as_admin = b64(claims("admin", now, now + 3600).to_string().as_bytes());
        let none_header = b64(br#"{"alg":"none","typ":"JWT"}"#);
        let unsigned_claims = b64(claims("user", now, now + 3600).to_string().as_bytes());
        let refused = [
            ("a changed signature", format!("{head}.{payload}.{tampered_signature}")),
            ("a changed claim", format!("{head}.{as_admin}.{signature}")),
            ("alg none", format!("{none_header}.{unsigned_claims}.")),
            ("alg none without the dot", format!("{none_header}.{unsigned_claims}")),
            ("expired", mint(&claims("user", now - 120, now - 60), Algorithm::HS256, TEST_JWT_SECRET)),
            ("expired just now", mint(&claims("user", now - 61, now - 1), Algorithm::HS256, TEST_JWT_SECRET)),
            ("another secret", mint(&claims("user", now, now + 60), Algorithm::HS256, "another secret that is long enough....")),
            ("another algorithm", mint(&claims("user", now, now + 60), Algorithm::HS512, TEST_JWT_SECRET)),
            ("no expiry", mint(&json!({"sub": ann.id, "role": "user", "iat": now}), Algorithm::HS256, TEST_JWT_SECRET)),
            ("not an id", mint(&json!({"sub": "ann", "role": "user", "iat": now, "exp": now + 60}), Algorithm::HS256, TEST_JWT_SECRET)),
            ("an unknown role", mint(&claims("root", now, now + 60), Algorithm::HS256, TEST_JWT_SECRET)),
            ("garbage", "garbage".to_owned()),
            ("three dots of garbage", "a.b.c".to_owned()),
        ];
        for (what, token) in &refused {
            let reply = app.get_as(token, &profile).await;
            assert_eq!(
                (reply.status.as_u16(), reply.message()),
                (401, "Invalid or expired token"),
                "{what}: {}", reply.body
            );
            assert_eq!(reply.body["code"], "INVALID_TOKEN");
            // The admin-only route too: a forged admin claim is a 401, never a 403 or a 201.
            let reply = app.call(Method::GET, "/api/events/5f0000000000000000000000/inventory", Some(token), None).await;
            assert_eq!(reply.status, 401, "{what}: {}", reply.body);
        }

        // No usable Authorization header at all.
        let request = |value: Option<&str>| {
            let mut request = app.client.get(app.url(&profile));
            if let Some(value) = value {
                request = request.header("authorization", value);
            }
            request
        };
        for value in [None, Some(""), Some("Bearer"), Some("Bearer "), Some("Basic YW5uOnNlY3JldA=="), Some(token.as_str())] {
            let reply = app.send(request(value)).await;
            reply.assert_error(401, "Authentication required");
            assert_eq!(reply.headers["www-authenticate"], "Bearer");
        }
        app.stop().await;
    }

    async fn failed_logins_for_one_email_from_one_address_are_throttled(backend: Backend) {
        let app = TestApp::spawn_jwt(backend).await;
        let ann = app.register_account("Ann").await;
        let bob = app.register_account("Bob").await;
        for _ in 0..10 {
            app.login(&ann.email, "wrong-password").await.assert_error(401, "Invalid email or password");
        }
        // Now even the right password waits, with the reason and for how long.
        let reply = app.login(&ann.email.to_uppercase(), &ann.password).await;
        reply.assert_error(429, "Too many failed login attempts; try again later");
        assert_eq!(reply.body["code"], "TOO_MANY_LOGIN_ATTEMPTS");
        let wait = retry_after(&reply);
        assert!((1..=900).contains(&wait), "Retry-After: {wait}");
        // Refused attempts are not failures: they do not make the wait longer.
        let again = app.login(&ann.email, "wrong-password").await;
        assert_eq!(again.status, 429);
        assert!(retry_after(&again) <= wait);
        // Other emails from the same address are not affected (10 failures < 30).
        app.token(&bob.email, &bob.password).await;
        // Unknown emails are throttled alike, so the throttle does not reveal who exists.
        for _ in 0..10 {
            app.login("nobody@example.com", "wrong-password").await.assert_error(401, "Invalid email or password");
        }
        assert_eq!(app.login("nobody@example.com", "wrong-password").await.status, 429);

        // Once the window has passed (moved here by ageing the failures), Ann may log in.
        app.sql("UPDATE login_failures SET failed_at = failed_at - 900000").await;
        app.token(&ann.email, &ann.password).await;
        app.stop().await;
    }

    async fn guesses_from_one_address_lock_only_that_address_out(backend: Backend) {
        let app = TestApp::spawn_with(backend, |config| {
            jwt_mode(config);
            config.protection.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        })
        .await;
        let ann = app.register_account("Ann").await;
        let from = |address: &'static str, password: &str| {
            app.client
                .post(app.url("/api/users/login"))
                .header("x-forwarded-for", address)
                .json(&json!({"email": ann.email, "password": password}))
        };
        let attacker = "203.0.113.7";
        for _ in 0..10 {
            app.send(from(attacker, "wrong-password")).await.assert_error(401, "Invalid email or password");
        }
        // The attacker is locked out of Ann's account, even with the right password...
        let reply = app.send(from(attacker, &ann.password)).await;
        reply.assert_error(429, "Too many failed login attempts; try again later");
        assert!((1..=900).contains(&retry_after(&reply)));
        // ...but Ann, from her own address, is not: neither by the attacker's failures nor
        // by her own typo.
        app.send(from("198.51.100.20", "typo-password")).await.assert_error(401, "Invalid email or password");
        let ann_login = app.send(from("198.51.100.20", &ann.password)).await;
        assert_eq!(ann_login.status, 200, "{}", ann_login.body);
        // The per-address limit still holds across emails: 20 more guesses for other emails
        // make 30 from the attacker's address, which then cannot log in as anyone.
        for i in 0..20 {
            let reply = app
                .send(
                    app.client
                        .post(app.url("/api/users/login"))
                        .header("x-forwarded-for", attacker)
                        .json(&json!({"email": format!("guess{i}@example.com"), "password": "wrong-password"})),
                )
                .await;
            reply.assert_error(401, "Invalid email or password");
        }
        let bob = app.register_account("Bob").await;
        let reply = app
            .send(
                app.client
                    .post(app.url("/api/users/login"))
                    .header("x-forwarded-for", attacker)
                    .json(&json!({"email": bob.email, "password": bob.password})),
            )
            .await;
        reply.assert_error(429, "Too many failed login attempts; try again later");
        let ann_login = app.send(from("198.51.100.20", &ann.password)).await;
        assert_eq!(ann_login.status, 200, "{}", ann_login.body);
        app.stop().await;
    }

    async fn failed_logins_from_one_address_are_throttled(backend: Backend) {
        let app = TestApp::spawn_jwt(backend).await;
        let ann = app.register_account("Ann").await;
        for i in 0..29 {
            app.login(&format!("guess{i}@example.com"), "wrong-password").await.assert_error(401, "Invalid email or password");
        }
        // A success does not reset the address's count.
        app.token(&ann.email, &ann.password).await;
        app.login("guess-last@example.com", "wrong-password").await.assert_error(401, "Invalid email or password");
        let reply = app.login(&ann.email, &ann.password).await;
        reply.assert_error(429, "Too many failed login attempts; try again later");
        assert!((1..=900).contains(&retry_after(&reply)));
        let failures = app.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM login_failures WHERE client = '127.0.0.1'").await;
        assert_eq!(failures, "30");

        // Old failures are forgotten when new ones are recorded.
        app.sql("UPDATE login_failures SET failed_at = failed_at - 3600000").await;
        app.login("guess-new@example.com", "wrong-password").await.assert_error(401, "Invalid email or password");
        let failures = app.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM login_failures").await;
        assert_eq!(failures, "1");
        app.token(&ann.email, &ann.password).await;
        app.stop().await;
    }

    async fn registration_never_makes_an_admin(backend: Backend) {
        let app = TestApp::spawn_jwt(backend).await;
        let reply = app
            .post("/api/users/register", json!({
                "name": "Mallory", "email": "mallory@example.com", "password": "secret12", "role": "admin"
            }))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        assert_eq!(reply.data()["role"], "user");
        let login = app.login("mallory@example.com", "secret12").await;
        assert_eq!(login.data()["user"]["role"], "user");
        let token = login.data()["token"].as_str().unwrap();
        app.post_as(token, "/api/events", json!({"name": "Mine", "eventDate": "2099-01-01T00:00:00Z", "totalSeats": 5}))
            .await
            .assert_error(403, "Forbidden");
        app.stop().await;
    }

    async fn admin_email_makes_sure_that_admin_exists(backend: Backend) {
        let app = TestApp::spawn_jwt(backend).await;
        let reply = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.data()["user"]["role"], "admin");
        assert_eq!(reply.data()["user"]["name"], "Administrator");

        // An existing account named by ADMIN_EMAIL becomes admin, with ADMIN_PASSWORD.
        let boss = app.register_account("Boss").await;
        let second = app
            .another_instance(|config| {
                crate::harness::jwt_mode(config);
                config.admin_email = Some(boss.email.to_uppercase());
                config.admin_password = Some("the-new-password".to_owned());
            })
            .await;
        second.login(&boss.email, &boss.password).await.assert_error(401, "Invalid email or password");
        let reply = second.login(&boss.email, "the-new-password").await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.data()["user"]["role"], "admin");
        assert_eq!(reply.data()["user"]["_id"], boss.id.as_str());
        assert_eq!(reply.data()["user"]["email"], boss.email.as_str());
        let users = second.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM users").await;
        assert_eq!(users, "2", "the admin and Boss, nobody else");
        // Starting again with the same settings changes nothing.
        let third = second
            .another_instance(|config| {
                crate::harness::jwt_mode(config);
                config.admin_email = Some(boss.email.clone());
                config.admin_password = Some("the-new-password".to_owned());
            })
            .await;
        third.token(&boss.email, "the-new-password").await;
        third.stop().await;
        second.stop().await;
        app.stop().await;
    }
}
