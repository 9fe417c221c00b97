//! Tokens end with their credentials (CONTRACT.md, "Authentication and roles"): a token issued
//! before its user's password or role last changed, or before a logout-all, is refused with
//! 401 `Invalid or expired token` on every instance, at once on the instance that made the
//! change and within `CREDENTIALS_CACHE_MS` (≤ 10 s) on the others.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::backend_tests;
use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, jwt_mode};

const UNKNOWN_ID: &str = "5f0000000000000000000000";
/// The other instance's cache in these tests: short, so that no test waits 10 s.
const CACHE_MS: u64 = 1000;

async fn profile_status(app: &TestApp, token: &str, id: &str) -> u16 {
    app.get_as(token, &format!("/api/users/{id}"))
        .await
        .status
        .as_u16()
}

/// Polls until `token` is refused on `app`, and asserts that it happens within the cache's
/// lifetime (plus slack for a loaded machine) of `since`, with the contract's message.
async fn refused_within_the_cache_lifetime(app: &TestApp, token: &str, id: &str, since: Instant) {
    let bound = Duration::from_millis(CACHE_MS) + Duration::from_secs(2);
    loop {
        let reply = app.get_as(token, &format!("/api/users/{id}")).await;
        if reply.status == 401 {
            reply.assert_error(401, "Invalid or expired token");
            return;
        }
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(
            since.elapsed() < bound,
            "still accepted after {:?}",
            since.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

backend_tests! {
    async fn logout_all_ends_every_token_on_every_instance(backend: Backend) {
        let one = TestApp::spawn_jwt(backend).await;
        let two = one
            .another_instance(|config| {
                jwt_mode(config);
                config.credentials_cache_ms = CACHE_MS;
            })
            .await;
        let ann = one.register_account("Ann").await;
        let first = one.token(&ann.email, &ann.password).await;
        let second = two.token(&ann.email, &ann.password).await;
        // Both work on both instances, and instance two has read (and cached) Ann's credentials.
        for (app, token) in [(&one, &first), (&two, &first), (&one, &second), (&two, &second)] {
            assert_eq!(profile_status(app, token, &ann.id).await, 200);
        }

        let ended = one
            .post_as(&first, &format!("/api/users/{}/logout-all", ann.id), json!({}))
            .await;
        let at = Instant::now();
        assert_eq!(ended.status, 200, "{}", ended.body);
        assert_eq!(ended.data()["_id"], ann.id.as_str());
        // At once on the instance that ended them.
        for token in [&first, &second] {
            one.get_as(token, &format!("/api/users/{}", ann.id))
                .await
                .assert_error(401, "Invalid or expired token");
        }
        // Within the cache's lifetime on the other.
        refused_within_the_cache_lifetime(&two, &second, &ann.id, at).await;
        refused_within_the_cache_lifetime(&two, &first, &ann.id, at).await;
        // Logging in again gives a token that works everywhere, at once.
        let fresh = two.token(&ann.email, &ann.password).await;
        assert_eq!(profile_status(&one, &fresh, &ann.id).await, 200);
        assert_eq!(profile_status(&two, &fresh, &ann.id).await, 200);
    }

    async fn logout_all_is_for_the_user_itself_or_an_admin(backend: Backend) {
        let app = TestApp::spawn_jwt(backend).await;
        let ann = app.register_account("Ann").await;
        let bob = app.register_account("Bob").await;
        let ann_token = app.token(&ann.email, &ann.password).await;
        let bob_token = app.token(&bob.email, &bob.password).await;
        let admin = app.admin_token().await;
        let logout_all = |id: &str| format!("/api/users/{id}/logout-all");

        // Someone else's: 403, and Ann's token still works; unknown or malformed ids alike.
        for id in [ann.id.as_str(), UNKNOWN_ID, "not-an-id"] {
            app.post_as(&bob_token, &logout_all(id), json!({}))
                .await
                .assert_error(403, "Forbidden");
        }
        assert_eq!(profile_status(&app, &ann_token, &ann.id).await, 200);
        // Without a token: 401.
        app.post(&logout_all(&ann.id), json!({}))
            .await
            .assert_error(401, "Authentication required");
        // An admin: anyone's, and 404 for nobody.
        for id in [UNKNOWN_ID, "not-an-id"] {
            app.post_as(&admin, &logout_all(id), json!({}))
                .await
                .assert_error(404, "User not found");
        }
        let ended = app.post_as(&admin, &logout_all(&ann.id), json!({})).await;
        assert_eq!(ended.status, 200, "{}", ended.body);
        app.get_as(&ann_token, &format!("/api/users/{}", ann.id))
            .await
            .assert_error(401, "Invalid or expired token");
        // Nobody else's tokens ended, the admin's included.
        assert_eq!(profile_status(&app, &bob_token, &bob.id).await, 200);
        assert_eq!(profile_status(&app, &admin, &bob.id).await, 200);
    }

    async fn a_rotated_admin_password_ends_the_admins_tokens(backend: Backend) {
        let one = TestApp::spawn_with(backend, |config| {
            jwt_mode(config);
            config.credentials_cache_ms = CACHE_MS;
        })
        .await;
        let old = one.admin_token().await;
        let event = json!({"name": "Gala", "eventDate": "2099-06-15T10:00:00Z", "totalSeats": 5});
        assert_eq!(one.post_as(&old, "/api/events", event.clone()).await.status, 201);

        // Another instance starts with a new ADMIN_PASSWORD: a restart that rotates it.
        let two = one
            .another_instance(|config| {
                jwt_mode(config);
                config.admin_password = Some("a-brand-new-password".to_owned());
            })
            .await;
        let at = Instant::now();
        two.post_as(&old, "/api/events", event.clone())
            .await
            .assert_error(401, "Invalid or expired token");
        let admin_id = two.login(ADMIN_EMAIL, "a-brand-new-password").await.data()["user"]["_id"]
            .as_str()
            .unwrap()
            .to_owned();
        refused_within_the_cache_lifetime(&one, &old, &admin_id, at).await;
        one.post_as(&old, "/api/events", event.clone())
            .await
            .assert_error(401, "Invalid or expired token");
        one.login(ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .assert_error(401, "Invalid email or password");
        let new = one.token(ADMIN_EMAIL, "a-brand-new-password").await;
        assert_eq!(one.post_as(&new, "/api/events", event.clone()).await.status, 201);
        assert_eq!(two.post_as(&new, "/api/events", event).await.status, 201);
    }

    async fn a_changed_role_ends_the_users_tokens(backend: Backend) {
        let one = TestApp::spawn_jwt(backend).await;
        let ann = one.register_account("Ann").await;
        let as_user = one.token(&ann.email, &ann.password).await;
        // Ann becomes the admin of ADMIN_EMAIL at the next start-up.
        let two = one
            .another_instance(|config| {
                jwt_mode(config);
                config.admin_email = Some(ann.email.clone());
                config.admin_password = Some(ann.password.clone());
            })
            .await;
        two.get_as(&as_user, &format!("/api/users/{}", ann.id))
            .await
            .assert_error(401, "Invalid or expired token");
        let as_admin = two.token(&ann.email, &ann.password).await;
        assert_eq!(two.get_as(&as_admin, &format!("/api/events/{UNKNOWN_ID}/inventory")).await.status, 404);
    }

    async fn an_instance_reads_credentials_at_most_once_per_cache_lifetime(backend: Backend) {
        let cached = TestApp::spawn_with(backend, |config| {
            jwt_mode(config);
            config.credentials_cache_ms = 10_000;
        })
        .await;
        let uncached = cached
            .another_instance(|config| {
                jwt_mode(config);
                config.credentials_cache_ms = 0;
            })
            .await;
        let ann = cached.register_account("Ann").await;
        let token = cached.token(&ann.email, &ann.password).await;
        assert_eq!(profile_status(&cached, &token, &ann.id).await, 200);
        assert_eq!(profile_status(&uncached, &token, &ann.id).await, 200);
        // A change behind both servers' backs, as another instance's would be.
        cached
            .sql(&format!(
                "UPDATE users SET credentials_version = credentials_version + 1 WHERE id = '{}'",
                ann.id
            ))
            .await;
        // Without a cache, every request reads the database: refused at once.
        uncached
            .get_as(&token, &format!("/api/users/{}", ann.id))
            .await
            .assert_error(401, "Invalid or expired token");
        // With one, requests are answered from what was read, without reading again (until
        // the cache lapses, at most 10 s later; not waited for here).
        for _ in 0..3 {
            assert_eq!(profile_status(&cached, &token, &ann.id).await, 200);
        }
    }

    async fn tokens_without_a_credentials_version_count_as_version_zero(backend: Backend) {
        // Tokens issued before this rule carry no `ver`: they stay valid until the first change.
        use jsonwebtoken::{Algorithm, EncodingKey, Header};
        let app = TestApp::spawn_jwt(backend).await;
        let ann = app.register_account("Ann").await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let claims = json!({"sub": ann.id, "role": "user", "iat": now, "exp": now + 600});
        let old_style = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(crate::harness::TEST_JWT_SECRET.as_bytes()),
        )
        .unwrap();
        assert_eq!(profile_status(&app, &old_style, &ann.id).await, 200);
        let ended = app
            .post_as(&old_style, &format!("/api/users/{}/logout-all", ann.id), json!({}))
            .await;
        assert_eq!(ended.status, 200, "{}", ended.body);
        app.get_as(&old_style, &format!("/api/users/{}", ann.id))
            .await
            .assert_error(401, "Invalid or expired token");
    }
}
