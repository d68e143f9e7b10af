//! Hardening against what an attacker and a careless operator do: each test reproduces a
//! finding from outside, against the real router (or binary), on both stores where it
//! applies.

use serde_json::json;
use std::time::{Duration, Instant};
use tests::{on_both_backends, Backend, TestApp};

/// A few kilobytes of nested list literal (or input object) used to overflow a worker's
/// stack and end the process. Now: `BAD_USER_INPUT`, and the server stays up.
async fn deeply_nested_input_is_refused_and_the_server_stays_up(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let lists = format!("{{ me(x: {}1{}) {{ id }} }}", "[".repeat(2_500), "]".repeat(2_500));
    let objects = format!("{{ me(x: {}1{}) {{ id }} }}", "{a: ".repeat(2_500), "}".repeat(2_500));
    for q in [lists, objects] {
        let body = t.gql(&t.admin, &q, json!({})).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("nests"), "{body}");
    }
    let health = reqwest::get(t.url("/healthz")).await.expect("the server is still up");
    assert!(health.status().is_success());
    t.ok(&t.admin, "{ me { id } }", json!({})).await;
}

/// 27 fragments that each spread the previous one twice (about 1 KB) took 34 s of CPU in
/// validation and stalled `/healthz`. Now refused at once.
async fn exponential_fragments_are_refused_at_once(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let mut q = String::from("query { ...F26 }\nfragment F0 on QueryRoot { me { id } }\n");
    for i in 1..27 {
        q.push_str(&format!("fragment F{i} on QueryRoot {{ ...F{p} ...F{p} }}\n", p = i - 1));
    }
    let started = Instant::now();
    let (a, b) = tokio::join!(t.gql(&t.admin, &q, json!({})), t.gql(&t.admin, &q, json!({})));
    for body in [a, b] {
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    }
    assert!(started.elapsed() < Duration::from_secs(2), "refused in {:?}", started.elapsed());
    let started = Instant::now();
    assert!(reqwest::get(t.url("/healthz")).await.unwrap().status().is_success());
    assert!(started.elapsed() < Duration::from_secs(1));
}

on_both_backends!(deeply_nested_input_is_refused_and_the_server_stays_up, exponential_fragments_are_refused_at_once);
