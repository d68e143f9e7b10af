//! The one-way rule of `lib.rs`, checked: every `crate::<module>` path in a module's files
//! must name a module that module may depend on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each top-level module may use. Shared modules (`error`, `config`, `metrics`) may
/// be used by every layer and use nothing of the crate themselves.
const ALLOWED: &[(&str, &[&str])] = &[
    ("error", &[]),
    ("config", &[]),
    ("metrics", &[]),
    ("access", &[]),
    ("privacy", &[]),
    ("store", &[]),
    ("audit", &["privacy"]),
    ("app", &["access", "privacy", "store", "audit"]),
    ("graphql", &["app", "access"]),
    ("web", &["app", "access", "privacy"]),
    ("http", &["app", "access", "graphql", "web"]),
    ("demo", &["app", "access", "privacy"]),
    ("cli", &["app", "access", "audit", "privacy", "graphql", "http", "web", "demo"]),
];
const SHARED: &[&str] = &["error", "config", "metrics"];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a source file belongs to (`None` for lib.rs, this file and the
/// binary's main.rs, which reaches the library only as `api::`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.trim_end_matches(".rs").to_string();
    (!matches!(first.as_str(), "lib" | "main" | "layering")).then_some(first)
}

/// Every `crate::name` in `text`, outside comments.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.insert(name);
            }
            rest = after;
        }
    }
    out
}

fn violations(src: &Path) -> Vec<String> {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut list = vec![];
    files(src, &mut list);
    let mut bad = vec![];
    for f in list {
        let Some(module) = module_of(src, &f) else { continue };
        let Some(may) = allowed.get(module.as_str()) else {
            bad.push(format!("{}: module `{module}` has no row in layering::ALLOWED", f.display()));
            continue;
        };
        let text = std::fs::read_to_string(&f).expect("read file");
        for used in crate_paths(&text) {
            // `crate::App` and `crate::ApiError` are re-exports of `app` and `error`.
            let used = match used.as_str() {
                "App" => "app".to_string(),
                "ApiError" => "error".to_string(),
                _ => used,
            };
            let ok = used == module
                || (SHARED.contains(&used.as_str()) && !SHARED.contains(&module.as_str()))
                || may.contains(&used.as_str());
            if !ok {
                bad.push(format!("{}: `{module}` uses `crate::{used}`", f.display()));
            }
        }
    }
    bad
}

#[test]
fn modules_depend_only_downwards() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let bad = violations(&src);
    assert!(bad.is_empty(), "the one-way rule of lib.rs is broken:\n{}", bad.join("\n"));
}

#[test]
fn the_check_sees_a_path_that_goes_up() {
    let dir = tempfile_dir();
    std::fs::create_dir_all(dir.join("access")).unwrap();
    std::fs::write(dir.join("access/mod.rs"), "use crate::app::App; // up\n").unwrap();
    std::fs::write(dir.join("app.rs"), "use crate::access::Principal;\n").unwrap();
    let bad = violations(&dir);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].contains("`access` uses `crate::app`"), "{bad:?}");
    std::fs::remove_dir_all(&dir).ok();
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("probono-layering-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
