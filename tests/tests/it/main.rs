//! The black-box tests, as one test binary: each module is one area (one link of the whole
//! tree per change, instead of one per file). Run one area with
//! `cargo test -p tests --test it <module>`, e.g. `cargo test -p tests --test it hostile`.

mod access_matrix;
mod audit;
mod backup;
mod capacity;
mod catalogue_eras;
mod dashboard;
mod edge;
mod erasure_epochs;
mod faults;
mod hardening;
mod hostile;
mod htcds;
mod import;
mod legal;
mod lifecycle;
mod outcomes;
mod privacy;
mod proceedings;
mod schema;
mod web;

/// A file left in `tests/tests/` or `tests/tests/it/` without a `mod` line here would be
/// compiled by nobody and pass silently: every test file must be a module of this binary.
#[test]
fn every_test_file_is_a_module_of_this_binary() {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let main = std::fs::read_to_string(here.join("it/main.rs")).expect("tests/tests/it/main.rs");
    let mut modules = 0;
    for entry in std::fs::read_dir(&here).expect("tests/tests").flatten() {
        let path = entry.path();
        assert!(
            path.is_dir() && path.file_name().is_some_and(|n| n == "it"),
            "{} is outside tests/tests/it/: make it a module of tests/tests/it/main.rs",
            path.display()
        );
    }
    for entry in std::fs::read_dir(here.join("it")).expect("tests/tests/it").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(module) = name.strip_suffix(".rs") else { continue };
        if module == "main" {
            continue;
        }
        assert!(main.lines().any(|l| l.trim() == format!("mod {module};")), "{name} has no `mod {module};` in main.rs");
        modules += 1;
    }
    assert!(modules >= 11, "only {modules} test modules found");
}
