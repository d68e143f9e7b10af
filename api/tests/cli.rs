//! The `probono` binary itself. Besides what it checks, this integration test is why
//! `cargo test --workspace` builds `target/<profile>/probono`, which the fault tests in
//! `tests/tests/it/faults.rs` run as a child process and kill.

use std::process::Command;

#[test]
fn probono_schema_prints_the_committed_sdl() {
    let out = Command::new(env!("CARGO_BIN_EXE_probono")).arg("schema").output().expect("run probono schema");
    assert!(out.status.success(), "probono schema failed: {}", String::from_utf8_lossy(&out.stderr));
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("api/schema.graphql is committed");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), committed.trim());
}

#[test]
fn probono_refuses_postgres_without_a_master_key_file() {
    let out = Command::new(env!("CARGO_BIN_EXE_probono"))
        .args(["migrate", "--database-url", "postgres://nobody@127.0.0.1:1/none"])
        .env_remove("PROBONO_MASTER_KEY_FILE")
        .output()
        .expect("run probono migrate");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("PROBONO_MASTER_KEY_FILE"));
}
