//! A lawyer's capacity is decided in the transaction of the assignment itself: concurrent
//! assignments to a lawyer with one free slot let exactly one through, on both stores, and
//! declining, closing and reassigning give the slot back.

use futures::future::join_all;
use serde_json::json;
use tests::fixtures::{case_mutation, case_mutation_err, open_case, world, World};
use tests::{on_both_backends, Backend, TestApp};

const ASSIGN: &str = "mutation($i: AssignLawyerInput!) { assignLawyer(input: $i) { id assignedLawyer { id } } }";

async fn set_capacity(t: &TestApp, w: &World, lawyer: &str, max: i32) {
    let q = "mutation($i: LawyerCapacityInput!) { setLawyerCapacity(input: $i) { maxActiveCases } }";
    let d = t.ok(&w.coordinator, q, json!({ "i": { "lawyerId": lawyer, "maxActiveCases": max } })).await;
    assert_eq!(d["setLawyerCapacity"]["maxActiveCases"], max);
}

async fn caseload(t: &TestApp, w: &World, lawyer: &str) -> i64 {
    let d =
        t.ok(&w.coordinator, "query($id: ID!) { lawyer(id: $id) { activeCaseload } }", json!({ "id": lawyer })).await;
    d["lawyer"]["activeCaseload"].as_i64().unwrap()
}

async fn one_free_slot_goes_to_exactly_one_of_many_concurrent_assignments(backend: Backend) {
    const N: usize = 8;
    let t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    // Lawyer A has a capacity of 2 and one case already: one free slot.
    set_capacity(&t, &w, &w.lawyer_a_id, 2).await;
    let first = open_case(&t, &w, true).await;
    case_mutation(
        &t,
        &w.coordinator,
        "assignLawyer",
        "AssignLawyerInput",
        json!({"caseId": first, "lawyerId": w.lawyer_a_id}),
    )
    .await;
    let mut cases = vec![];
    for _ in 0..N {
        cases.push(open_case(&t, &w, true).await);
    }
    let answers = join_all(
        cases.iter().map(|c| t.gql(&w.coordinator, ASSIGN, json!({ "i": { "caseId": c, "lawyerId": w.lawyer_a_id } }))),
    )
    .await;
    let won: Vec<&serde_json::Value> = answers.iter().filter(|a| a.get("errors").is_none()).collect();
    assert_eq!(won.len(), 1, "exactly one assignment takes the last slot: {answers:#?}");
    assert_eq!(won[0]["data"]["assignLawyer"]["assignedLawyer"]["id"], w.lawyer_a_id.as_str());
    for a in answers.iter().filter(|a| a.get("errors").is_some()) {
        let code = a["errors"][0]["extensions"]["code"].as_str().unwrap_or_default();
        let message = a["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            code == "RULE_VIOLATION" && message.contains("capacity") || code == "CONFLICT",
            "a losing assignment is refused for capacity (or told to retry): {a}"
        );
    }
    tests::wait_projected(&t.app).await;
    assert_eq!(caseload(&t, &w, &w.lawyer_a_id).await, 2, "the read model agrees: two open cases");

    // The losers really are unassigned, and lawyer B (no capacity set) takes them all.
    let lost: Vec<&String> =
        cases.iter().zip(&answers).filter(|(_, a)| a.get("errors").is_some()).map(|(c, _)| c).collect();
    for c in &lost {
        let d =
            t.ok(&w.coordinator, "query($id: ID!) { case(id: $id) { assignedLawyer { id } } }", json!({"id": c})).await;
        assert!(d["case"]["assignedLawyer"].is_null(), "{c} was not assigned");
    }
    for c in &lost {
        case_mutation(
            &t,
            &w.coordinator,
            "assignLawyer",
            "AssignLawyerInput",
            json!({"caseId": c, "lawyerId": w.lawyer_b_id}),
        )
        .await;
    }

    // Full: one more is refused until a slot is given back.
    let extra = open_case(&t, &w, true).await;
    let assign_extra = json!({"caseId": extra, "lawyerId": w.lawyer_a_id});
    assert_eq!(
        case_mutation_err(&t, &w.coordinator, "assignLawyer", "AssignLawyerInput", assign_extra.clone()).await,
        "RULE_VIOLATION"
    );
    // Declining gives the slot back.
    case_mutation(
        &t,
        &w.lawyer_a,
        "declineAssignment",
        "CaseReasonInput",
        json!({"caseId": first, "reason": "conflict of interest"}),
    )
    .await;
    case_mutation(&t, &w.coordinator, "assignLawyer", "AssignLawyerInput", assign_extra.clone()).await;
    // Closing gives it back too; reassigning a case away frees it for the next one.
    case_mutation(
        &t,
        &w.coordinator,
        "closeCase",
        "CaseReasonInput",
        json!({"caseId": extra, "reason": "client withdrew"}),
    )
    .await;
    case_mutation(
        &t,
        &w.coordinator,
        "assignLawyer",
        "AssignLawyerInput",
        json!({"caseId": first, "lawyerId": w.lawyer_a_id}),
    )
    .await;
    let winner = cases.iter().zip(&answers).find(|(_, a)| a.get("errors").is_none()).map(|(c, _)| c.clone()).unwrap();
    case_mutation(
        &t,
        &w.coordinator,
        "assignLawyer",
        "AssignLawyerInput",
        json!({"caseId": winner, "lawyerId": w.lawyer_b_id}),
    )
    .await;
    let again = open_case(&t, &w, true).await;
    case_mutation(
        &t,
        &w.coordinator,
        "assignLawyer",
        "AssignLawyerInput",
        json!({"caseId": again, "lawyerId": w.lawyer_a_id}),
    )
    .await;
    tests::wait_projected(&t.app).await;
    assert_eq!(caseload(&t, &w, &w.lawyer_a_id).await, 2);
}

/// A deactivated lawyer takes no case, as their own stream says (not a read model).
async fn a_deactivated_lawyer_is_refused_at_once(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let q = "mutation($i: LawyerReasonInput!) { deactivateLawyer(input: $i) { active } }";
    t.ok(&w.coordinator, q, json!({ "i": { "lawyerId": w.lawyer_b_id, "reason": "left the network" } })).await;
    let case = open_case(&t, &w, true).await;
    let body = t.gql(&w.coordinator, ASSIGN, json!({ "i": { "caseId": case, "lawyerId": w.lawyer_b_id } })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "RULE_VIOLATION", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("deactivated"), "{body}");
    let unknown = uuid::Uuid::new_v4().to_string();
    let body = t.gql(&w.coordinator, ASSIGN, json!({ "i": { "caseId": case, "lawyerId": unknown } })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND", "{body}");
}

on_both_backends!(
    one_free_slot_goes_to_exactly_one_of_many_concurrent_assignments,
    a_deactivated_lawyer_is_refused_at_once
);
