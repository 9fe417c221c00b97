//! Identities as people read them (CONTRACT.md rule 10): one account per email however it is
//! spelt (composed, decomposed, in capitals), no invisible characters in an email, one
//! password however it is typed, and hashes and keys stored before the rule still working.

use serde_json::json;

use crate::backend_tests;
use crate::harness::TestApp;

/// `zoë@exämple.org` composed (NFC), decomposed (NFD) and in capitals.
const ZOE_NFC: &str = "zo\u{eb}@ex\u{e4}mple.org";
const ZOE_NFD: &str = "zoe\u{308}@exa\u{308}mple.org";
const ZOE_UPPER: &str = "ZO\u{cb}@EX\u{c4}MPLE.ORG";
/// A password with accents, composed and decomposed.
const PASSWORD_NFC: &str = "cr\u{e8}me-br\u{fb}l\u{e9}e";
const PASSWORD_NFD: &str = "cre\u{300}me-bru\u{302}le\u{301}e";

async fn register(app: &TestApp, email: &str, password: &str) -> crate::harness::Reply {
    app.post(
        "/api/users/register",
        json!({"name": "Zoë", "email": email, "password": password}),
    )
    .await
}

async fn users(app: &TestApp) -> i64 {
    app.sql_text("SELECT CAST(COUNT(*) AS TEXT) FROM users")
        .await
        .parse()
        .unwrap()
}

/// An Argon2id hash of `password` exactly as given, as this server made them before rule 10.
fn hash_as_typed(password: &str) -> String {
    use argon2::password_hash::PasswordHasher as _;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .unwrap()
        .to_string()
}

backend_tests! {
    async fn one_account_however_the_email_is_spelt(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let first = register(&app, ZOE_NFD, PASSWORD_NFC).await;
        assert_eq!(first.status, 201, "{}", first.body);
        // Kept in NFC, the case as given.
        assert_eq!(first.data()["email"], ZOE_NFC);
        for spelling in [ZOE_NFC, ZOE_NFD, ZOE_UPPER, " Zo\u{cb}@Ex\u{e4}mple.Org "] {
            register(&app, spelling, PASSWORD_NFC)
                .await
                .assert_error(400, "User with this email already exists");
        }
        // Full case folding, not only lower-casing: ß is ss.
        assert_eq!(register(&app, "stra\u{df}e@example.org", "secret1").await.status, 201);
        register(&app, "STRASSE@example.org", "secret1")
            .await
            .assert_error(400, "User with this email already exists");
        assert_eq!(users(&app).await, 2);
        // Every spelling logs in to the one account.
        for spelling in [ZOE_NFC, ZOE_NFD, ZOE_UPPER] {
            let login = app.login(spelling, PASSWORD_NFC).await;
            assert_eq!(login.status, 200, "{spelling:?}: {}", login.body);
            assert_eq!(login.data()["user"]["_id"], first.id());
        }
    }

    async fn an_email_with_an_invisible_character_is_invalid(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        for invisible in [
            '\u{200b}', '\u{200c}', '\u{200d}', '\u{2060}', '\u{feff}', '\u{ad}', '\u{200e}',
            '\u{180e}', '\u{34f}', '\u{e0041}',
        ] {
            for email in [format!("zo{invisible}e@example.org"), format!("zoe@exam{invisible}ple.org")] {
                register(&app, &email, "secret1")
                    .await
                    .assert_error(400, "email must be a valid email address");
            }
        }
        assert_eq!(users(&app).await, 0);
        // The same address without them is fine.
        assert_eq!(register(&app, "zoe@example.org", "secret1").await.status, 201);
    }

    async fn a_password_is_the_same_composed_or_decomposed(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(register(&app, ZOE_NFC, PASSWORD_NFC).await.status, 201);
        assert_eq!(register(&app, "ann@example.org", PASSWORD_NFD).await.status, 201);
        for (email, password) in [
            (ZOE_NFC, PASSWORD_NFD),
            (ZOE_NFC, PASSWORD_NFC),
            ("ann@example.org", PASSWORD_NFC),
            ("ann@example.org", PASSWORD_NFD),
        ] {
            let login = app.login(email, password).await;
            assert_eq!(login.status, 200, "{email} {password:?}: {}", login.body);
        }
        app.login(ZOE_NFC, "creme-brulee")
            .await
            .assert_error(401, "Invalid email or password");
    }

    async fn a_hash_made_before_the_rule_still_verifies_and_is_replaced(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let zoe = register(&app, ZOE_NFC, "placeholder").await.id();
        // What a registration with the decomposed password made before rule 10.
        let old_hash = hash_as_typed(PASSWORD_NFD);
        app.sql(&format!("UPDATE users SET password_hash = '{old_hash}' WHERE id = '{zoe}'"))
            .await;
        let query = format!("SELECT password_hash FROM users WHERE id = '{zoe}'");
        let stored = || app.sql_text(&query);

        // The password as typed then still logs in, and its hash is replaced by one of its NFC.
        let login = app.login(ZOE_NFC, PASSWORD_NFD).await;
        assert_eq!(login.status, 200, "{}", login.body);
        let new_hash = stored().await;
        assert_ne!(new_hash, old_hash);
        assert!(new_hash.starts_with("$argon2id$"), "{new_hash}");
        // Now the password logs in whichever way it is typed, and the hash stays as it is.
        for password in [PASSWORD_NFC, PASSWORD_NFD] {
            assert_eq!(app.login(ZOE_NFC, password).await.status, 200);
        }
        assert_eq!(stored().await, new_hash);
        app.login(ZOE_NFC, "placeholder")
            .await
            .assert_error(401, "Invalid email or password");
    }

    async fn accounts_keyed_before_the_rule_are_rekeyed_at_start_up(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let strasse = register(&app, "x@example.org", "secret1").await.id();
        let zoe = register(&app, "y@example.org", "secret1").await.id();
        // As the server kept them before rule 10: the email as typed, its key lower-cased.
        app.sql(&format!(
            "UPDATE users SET email = 'Stra\u{df}e@Example.org', email_key = 'stra\u{df}e@example.org', \
             email_key_pending = 1 WHERE id = '{strasse}'"
        ))
        .await;
        app.sql(&format!(
            "UPDATE users SET email = '{ZOE_NFD}', email_key = '{ZOE_NFD}', email_key_pending = 1 \
             WHERE id = '{zoe}'"
        ))
        .await;
        let restarted = app.another_instance(|_| {}).await;
        for (spelling, id) in [("STRASSE@example.org", &strasse), (ZOE_NFC, &zoe), (ZOE_UPPER, &zoe)] {
            let login = restarted.login(spelling, "secret1").await;
            assert_eq!(login.status, 200, "{spelling}: {}", login.body);
            assert_eq!(&login.data()["user"]["_id"], id);
            register(&restarted, spelling, "secret1")
                .await
                .assert_error(400, "User with this email already exists");
        }
        assert_eq!(
            restarted.sql_text("SELECT CAST(SUM(email_key_pending) AS TEXT) FROM users").await,
            "0"
        );
    }
}
