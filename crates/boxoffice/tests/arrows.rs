//! The arrows of the house point one way (DESIGN.md, "The shape"): `http → domain ← store`,
//! with telemetry and configuration at the edges. This reads the source tree and fails when an
//! import runs back: the domain reaching for I/O, the store reaching up into HTTP, the hold
//! queue or telemetry, configuration depending on the store, or the HTTP layer, the sweeper,
//! `check` and the importer reaching past the `Store` trait into the SQL implementation.

use std::path::{Path, PathBuf};

/// A folder or file of `src/`, and what its code must not name.
struct Rule {
    path: &'static str,
    forbidden: &'static [&'static str],
    why: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        path: "domain",
        forbidden: &[
            "crate::http",
            "crate::store",
            "crate::holds",
            "crate::telemetry",
            "crate::config",
            "crate::app",
            "crate::auth",
            "crate::sweeper",
            "crate::check",
            "crate::import",
            "crate::password",
            "sqlx",
            "axum",
            "tokio",
        ],
        why: "the domain is pure: no I/O, no HTTP, no SQL",
    },
    Rule {
        path: "store",
        forbidden: &[
            "crate::http",
            "crate::holds",
            "crate::telemetry",
            "crate::config",
            "crate::app",
            "crate::auth",
            "crate::sweeper",
            "crate::check",
            "crate::import",
            "axum",
        ],
        why: "the store returns what happened; its callers count and answer",
    },
    Rule {
        path: "http",
        forbidden: &["sqlx", "SqlStore", "store::sql", "StoreError::"],
        why: "handlers use the store through its trait and StoreError's methods",
    },
    Rule {
        path: "holds",
        forbidden: &["crate::http", "SqlStore::", "store::sql"],
        why: "the hold queue hands batches to the Store trait",
    },
    Rule {
        path: "deadline.rs",
        forbidden: &[
            "crate::store",
            "crate::http",
            "crate::holds",
            "crate::domain",
            "sqlx",
            "axum",
        ],
        why: "a request's deadline is a plain value that the HTTP layer sets and writes ask",
    },
    Rule {
        path: "telemetry.rs",
        forbidden: &[
            "crate::store",
            "crate::http",
            "crate::holds",
            "crate::domain",
        ],
        why: "metrics are recorded by callers, from plain values",
    },
    Rule {
        path: "config",
        forbidden: &[
            "crate::store",
            "crate::http",
            "crate::holds",
            "crate::telemetry",
        ],
        why: "settings are plain values; the application builds what they configure",
    },
    Rule {
        path: "sweeper.rs",
        forbidden: &["SqlStore", "sqlx"],
        why: "the sweeper uses the store through its trait",
    },
    Rule {
        path: "check.rs",
        forbidden: &["SqlStore", "sqlx"],
        why: "`boxoffice check` uses the store through its trait",
    },
    Rule {
        path: "import",
        forbidden: &["SqlStore", "sqlx"],
        why: "the importer uses the store through its trait",
    },
];

fn rust_files(path: &Path, found: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .expect("a readable source folder")
            .map(|entry| entry.expect("a readable entry").path())
            .collect();
        entries.sort();
        for entry in entries {
            rust_files(&entry, found);
        }
    } else if path.extension().is_some_and(|ext| ext == "rs") {
        found.push(path.to_owned());
    }
}

/// The names a source text uses, outside comments and unit tests (which may build the
/// concrete store): every `a::b::c` path, and each member of a `use a::{b, c::d}` group
/// spelled out in full (`a::b`, `a::c::d`).
fn paths_named(source: &str) -> String {
    let source = source.split("#[cfg(test)]").next().unwrap_or_default();
    let code: String = source
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join(" ");
    let mut named = code.clone();
    // Spell out one level of grouped imports: `crate::{http, store::X}`.
    let mut rest = code.as_str();
    while let Some(open) = rest.find("::{") {
        let prefix_start = rest[..open]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map_or(0, |at| at + 1);
        let prefix = &rest[prefix_start..open];
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        for member in rest[open + 3..open + close].split(',') {
            named.push_str(&format!(" {prefix}::{} ", member.trim()));
        }
        rest = &rest[open + close..];
    }
    named
}

/// What `source` names that `rule` forbids.
fn violations(rule: &Rule, source: &str) -> Vec<&'static str> {
    let named = paths_named(source);
    rule.forbidden
        .iter()
        .copied()
        .filter(|forbidden| {
            named.match_indices(forbidden).any(|(at, _)| {
                // A whole name: `sqlx` but not `sqlx_like`, `crate::store` but not
                // `crate::storefront`, and not the tail of a longer path.
                let before = named[..at].chars().next_back();
                let after = named[at + forbidden.len()..].chars().next();
                let ident = |c: char| c.is_alphanumeric() || c == '_';
                let starts_a_name =
                    !before.is_some_and(|c| ident(c) || (c == ':' && !forbidden.contains("::")));
                let ends_a_name = forbidden.ends_with(':') || !after.is_some_and(ident);
                starts_a_name && ends_a_name
            })
        })
        .collect()
}

#[test]
fn imports_point_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut failures = Vec::new();
    for rule in RULES {
        let mut files = Vec::new();
        rust_files(&src.join(rule.path), &mut files);
        assert!(!files.is_empty(), "no source under src/{}", rule.path);
        for file in files {
            let source = std::fs::read_to_string(&file).expect("a readable source file");
            for name in violations(rule, &source) {
                failures.push(format!(
                    "{} names `{name}`: {}",
                    file.strip_prefix(&src).unwrap_or(&file).display(),
                    rule.why
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "imports that run back:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_check_sees_direct_grouped_and_nested_imports_but_not_comments() {
    let domain = &RULES[0];
    let store = &RULES[1];
    let http = &RULES[2];
    assert_eq!(
        violations(domain, "use crate::store::Store;"),
        ["crate::store"]
    );
    assert_eq!(
        violations(domain, "use crate::{http, store::X};"),
        ["crate::http", "crate::store"]
    );
    assert_eq!(violations(domain, "fn f() { sqlx::query(\"\") }"), ["sqlx"]);
    assert_eq!(
        violations(store, "crate::telemetry::seats_reclaimed(1);"),
        ["crate::telemetry"]
    );
    assert_eq!(
        violations(http, "StoreError::Rejected(r) => r,"),
        ["StoreError::"]
    );
    assert!(violations(domain, "// crate::store is not named here").is_empty());
    assert!(violations(domain, "#[cfg(test)]\nmod tests { use crate::store::X; }").is_empty());
    assert!(violations(domain, "use crate::domain::Timestamp; let sqlx_like = 1;").is_empty());
}
