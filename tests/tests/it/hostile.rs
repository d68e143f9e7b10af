//! Malformed and hostile input (DESIGN.md §9) over HTTP, on both stores, with valid tokens of
//! every role: generated values for every argument and input field of every mutation and
//! query (wrong types, huge and control-laden strings, NUL, invalid ids, dates and enums,
//! out-of-range numbers, huge lists, missing and unknown fields), sent both as variables and
//! inlined as literals, and a hand-written corpus of broken requests (not JSON, JSON that is
//! not GraphQL, wrong content types, deep nesting, alias floods, oversized bodies).
//!
//! Every answer must be a success or typed errors with one of API.md's codes other than
//! `INTERNAL` (hostile input is the client's fault, and the client must be told what is wrong
//! with it); never a 500, never a dropped connection (a panic), never a hang; and the server
//! answers afterwards.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use tests::{fixtures, on_both_backends, Backend, TestApp};

/// API.md's codes that say what is wrong with a request. `INTERNAL` (a fault of the server,
/// or the database down) is not among them: no input may cause it.
const CODES: &[&str] = &["UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT", "RULE_VIOLATION", "CONFLICT"];

/// How many generated requests (the corpus adds a few dozen).
const GENERATED: usize = 400;

/// Tokens of every role, and ids that exist, so that generated requests also reach the
/// resolvers and the domain rather than stopping at "not found".
struct Ids {
    tokens: BTreeMap<&'static str, String>,
    case: String,
    report: String,
    lawyer: String,
    org: String,
}

async fn setup(t: &TestApp) -> Ids {
    let w = fixtures::world(t).await;
    let case = fixtures::represented_case(t, &w).await;
    let input = json!({"caseId": case, "filedOn": "2020-04-01", "policeUnit": "Osh city police"});
    let c = fixtures::case_mutation(t, &w.lawyer_a, "filePoliceReport", "FilePoliceReportInput", input).await;
    let report = c["policeReports"][0]["id"].as_str().unwrap().to_string();
    let tokens = BTreeMap::from([
        ("ADMIN", t.admin.clone()),
        ("COORDINATOR", w.coordinator),
        ("INTAKE_WORKER", w.intake),
        ("LAWYER", w.lawyer_a),
        ("AUDITOR", w.auditor),
    ]);
    Ids { tokens, case, report, lawyer: w.lawyer_a_id, org: w.org }
}

/// One root field of the schema with valid arguments: what the generator corrupts.
struct Template {
    mutation: bool,
    field: &'static str,
    /// Argument name, GraphQL type, a valid value.
    args: Vec<(&'static str, &'static str, Value)>,
    selection: &'static str,
    role: &'static str,
}

fn templates(ids: &Ids) -> Vec<Template> {
    let (case, report, lawyer, org) = (&ids.case, &ids.report, &ids.lawyer, &ids.org);
    let m = |field, ty, value: Value, selection, role| Template {
        mutation: true,
        field,
        args: vec![("input", ty, value)],
        selection,
        role,
    };
    const CASE: &str = "{ id status version }";
    vec![
        m(
            "registerOrganization",
            "RegisterOrganizationInput!",
            json!({"name": "NGO", "kind": "NGO"}),
            "{ id }",
            "ADMIN",
        ),
        m(
            "createAccessToken",
            "CreateAccessTokenInput!",
            json!({"name": "someone", "role": "INTAKE_WORKER", "organizationId": org, "lawyerId": null, "expiresAt": "2099-01-01T00:00:00Z"}),
            "{ tokenId }",
            "ADMIN",
        ),
        Template {
            mutation: true,
            field: "revokeAccessToken",
            args: vec![("tokenId", "ID!", json!(uuid::Uuid::new_v4().to_string()))],
            selection: "{ id }",
            role: "ADMIN",
        },
        m(
            "addOffense",
            "AddOffenseInput!",
            json!({"edition": "2021", "article": "999", "title": "Test offence", "titleRu": null, "titleKy": null, "category": "OTHER", "source": "test"}),
            "{ code }",
            "ADMIN",
        ),
        m("retireOffense", "RetireOffenseInput!", json!({"code": "2021-999", "reason": "test"}), "{ code }", "ADMIN"),
        m("eraseClientData", "CaseReasonInput!", json!({"caseId": case, "reason": "asked"}), CASE, "ADMIN"),
        m(
            "registerLawyer",
            "RegisterLawyerInput!",
            json!({"fullName": "Bakyt", "gender": "MALE", "status": "STUDENT", "region": "NARYN", "languages": ["ky"], "licenseNumber": "L-1"}),
            "{ id }",
            "COORDINATOR",
        ),
        m(
            "recordLawyerTraining",
            "LawyerTrainingInput!",
            json!({"lawyerId": lawyer, "course": "TIP law", "completedOn": "2021-01-01"}),
            "{ id }",
            "COORDINATOR",
        ),
        m(
            "setLawyerCapacity",
            "LawyerCapacityInput!",
            json!({"lawyerId": lawyer, "maxActiveCases": 10}),
            "{ id }",
            "COORDINATOR",
        ),
        m(
            "deactivateLawyer",
            "LawyerReasonInput!",
            json!({"lawyerId": lawyer, "reason": "leave"}),
            "{ id }",
            "COORDINATOR",
        ),
        Template {
            mutation: true,
            field: "reactivateLawyer",
            args: vec![("lawyerId", "ID!", json!(lawyer))],
            selection: "{ id }",
            role: "COORDINATOR",
        },
        m("assignLawyer", "AssignLawyerInput!", json!({"caseId": case, "lawyerId": lawyer}), CASE, "COORDINATOR"),
        m(
            "openIntake",
            "OpenIntakeInput!",
            json!({"organizationId": org, "identifiedOn": "2021-05-05", "referralSource": "IOM",
                "exploitationTypes": ["FORCED_LABOR", "SEXUAL"], "countryOfExploitation": "ru",
                "client": {"fullName": "Someone", "gender": "OTHER", "ageAtIdentification": 16, "dateOfBirth": "2005-01-01",
                    "citizenship": "kg", "region": "BATKEN", "contact": "+996", "documentNumber": "ID1", "narrative": "text\nmore"},
                "consent": {"legalAid": true, "reportToPolice": false, "dataSharing": false},
                "guardianConsent": {"givenBy": "PARENT", "givenOn": "2021-05-05"},
                "profile": {"recruitment": ["JOB_OFFER"], "meansOfControl": ["THREATS", "WITHHOLDS_DOCUMENTS"],
                    "recruiterRelationship": "FRIEND", "industry": "F", "placeOfRecruitment": "OSH",
                    "migrationStatus": "IRREGULAR_MIGRANT", "primaryLanguage": "ky"}}),
            CASE,
            "INTAKE_WORKER",
        ),
        m(
            "updateClientIdentity",
            "UpdateClientIdentityInput!",
            json!({"caseId": case, "identity": {"fullName": "Corrected Name", "dateOfBirth": "1990-01-01", "contact": null, "documentNumber": null, "narrative": null}}),
            CASE,
            "INTAKE_WORKER",
        ),
        m(
            "giveConsent",
            "ConsentChangeInput!",
            json!({"caseId": case, "scopes": ["DATA_SHARING"], "on": "2020-05-01"}),
            CASE,
            "INTAKE_WORKER",
        ),
        m(
            "withdrawConsent",
            "ConsentChangeInput!",
            json!({"caseId": case, "scopes": ["DATA_SHARING"], "on": "2020-05-01"}),
            CASE,
            "INTAKE_WORKER",
        ),
        m(
            "recordVictimProfile",
            "RecordVictimProfileInput!",
            json!({"caseId": case, "profile": {"meansOfControl": ["DEBT_BONDAGE"], "industry": "A", "placeOfRecruitment": "UZ",
                "primaryLanguage": "ru"}, "recordedOn": "2020-05-01"}),
            CASE,
            "INTAKE_WORKER",
        ),
        m(
            "recordGuardianConsent",
            "RecordGuardianConsentInput!",
            json!({"caseId": case, "givenBy": "GUARDIANSHIP_AUTHORITY", "givenOn": "2020-05-01"}),
            CASE,
            "INTAKE_WORKER",
        ),
        m(
            "referToService",
            "ReferToServiceInput!",
            json!({"caseId": case, "service": "MEDICAL", "referredOn": "2020-05-01", "provider": "clinic"}),
            CASE,
            "INTAKE_WORKER",
        ),
        m("acceptAssignment", "CaseIdInput!", json!({"caseId": case}), CASE, "LAWYER"),
        m("declineAssignment", "CaseReasonInput!", json!({"caseId": case, "reason": "busy"}), CASE, "LAWYER"),
        m(
            "recordLegalAction",
            "RecordLegalActionInput!",
            json!({"caseId": case, "kind": "CONSULTATION", "takenOn": "2020-05-01", "note": "a note"}),
            CASE,
            "LAWYER",
        ),
        m(
            "filePoliceReport",
            "FilePoliceReportInput!",
            json!({"caseId": case, "filedOn": "2020-05-01", "policeUnit": "unit", "referenceNumber": "R-1"}),
            CASE,
            "LAWYER",
        ),
        m(
            "recordOffenseRegistration",
            "RecordOffenseRegistrationInput!",
            json!({"caseId": case, "reportId": report, "offenseCode": "2021-209", "registeredOn": "2022-05-02", "registryNumber": "N-1"}),
            CASE,
            "LAWYER",
        ),
        m(
            "recordRegistrationRefused",
            "RecordRegistrationRefusedInput!",
            json!({"caseId": case, "reportId": report, "decidedOn": "2020-05-02", "reason": "none"}),
            CASE,
            "LAWYER",
        ),
        m(
            "reclassifyOffense",
            "ReclassifyOffenseInput!",
            json!({"caseId": case, "reportId": report, "offenseCode": "2021-166", "decidedOn": "2022-06-01", "decidedBy": "PROSECUTOR", "reason": "review"}),
            CASE,
            "LAWYER",
        ),
        m(
            "recordInvestigationOutcome",
            "RecordInvestigationOutcomeInput!",
            json!({"caseId": case, "reportId": report, "outcome": "SENT_TO_COURT", "decidedOn": "2020-07-01", "note": null}),
            CASE,
            "LAWYER",
        ),
        m(
            "recordVerdict",
            "RecordVerdictInput!",
            json!({"caseId": case, "reportId": report, "outcome": "CONVICTED", "offenseCode": null, "decidedOn": "2020-08-01", "sentenceMonths": 60, "compensationAwarded": true}),
            CASE,
            "LAWYER",
        ),
        m("closeCase", "CaseReasonInput!", json!({"caseId": case, "reason": "done"}), CASE, "LAWYER"),
        m("reopenCase", "CaseReasonInput!", json!({"caseId": case, "reason": "again"}), CASE, "LAWYER"),
        Template {
            mutation: false,
            field: "case",
            args: vec![("id", "ID!", json!(case))],
            selection: "{ id identity { fullName } policeReports { id currentOffense { code } } }",
            role: "AUDITOR",
        },
        Template {
            mutation: false,
            field: "cases",
            args: vec![
                (
                    "filter",
                    "CaseFilter",
                    json!({"status": "REPORTED", "organizationId": org, "lawyerId": lawyer, "region": "OSH",
                        "exploitationType": "SEXUAL", "offenseCategory": "FRAUD", "identifiedFrom": "2019-01-01", "identifiedTo": "2022-01-01"}),
                ),
                ("first", "Int", json!(20)),
                ("after", "String", Value::Null),
            ],
            selection: "{ totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } }",
            role: "COORDINATOR",
        },
        Template {
            mutation: false,
            field: "lawyer",
            args: vec![("id", "ID!", json!(lawyer))],
            selection: "{ id activeCaseload }",
            role: "AUDITOR",
        },
        Template {
            mutation: false,
            field: "outcomeStats",
            args: vec![
                (
                    "filter",
                    "StatsFilter",
                    json!({"from": "2019-01-01", "to": "2022-12-31", "organizationId": org, "region": "OSH", "lawyerId": lawyer, "offenseCategory": "TIP"}),
                ),
                ("groupBy", "[StatsDimension!]", json!(["YEAR", "REGION"])),
            ],
            selection: "{ totals { casesOpened } groups { key { dimension value } } }",
            role: "AUDITOR",
        },
        Template {
            mutation: false,
            field: "networkStats",
            args: vec![
                ("groupBy", "[NetworkDimension!]", json!(["GENDER", "TRAINED"])),
                ("includeInactive", "Boolean", json!(true)),
            ],
            selection: "{ total groups { count } }",
            role: "AUDITOR",
        },
    ]
}

// ---------------------------------------------------------------- generators

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x1f\\x7f]{1,8}",
        "\\PC{0,30}",
        Just(String::new()),
        Just("   ".into()),
        Just("a\0b".into()),
        Just("\0".into()),
        Just("\u{202E}evil\u{200B}\u{FEFF}".into()),
        Just("😀".repeat(300)),
        Just("x".repeat(501)),
        Just("y".repeat(100_000)),
        Just("Z\u{301}\u{301}\u{301}\u{301}".repeat(50)),
        Just("2020-02-30".into()),
        Just("0000-00-00".into()),
        Just("+275760-09-13".into()),
        Just("9999-12-31".into()),
        Just("2020-1-1".into()),
        Just("2099-01-01".into()),
        Just("1900-01-01".into()),
        Just("not-a-uuid".into()),
        Just("00000000-0000-0000-0000-000000000000".into()),
        Just(uuid::Uuid::new_v4().to_string()),
        Just("forced_labor".into()),
        Just("FORCED_LABOR".into()),
        Just("'; DROP TABLE events; --".into()),
        Just("\" OR 1=1 --".into()),
        Just("{ __schema { types { name } } }".into()),
        Just("$i".into()),
        Just("\\u0000".into()),
        Just("2021-99999999999999999999".into()),
    ]
}

fn hostile_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i32>().prop_map(|n| json!(n)),
        Just(json!(i32::MAX)),
        Just(json!(i32::MIN)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(2_147_483_648i64)),
        Just(json!(1e308)),
        Just(json!(-0.5)),
    ]
}

fn hostile_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        3 => hostile_string().prop_map(Value::String),
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => any::<i64>().prop_map(|n| json!(n)),
        1 => prop_oneof![
            Just(json!(2_147_483_648i64)),
            Just(json!(-2_147_483_649i64)),
            Just(json!(u64::MAX)),
            Just(json!(-1)),
            Just(json!(0)),
            Just(json!(65_536)),
            Just(json!(1e308)),
            Just(json!(-0.5)),
            Just(json!(3.75)),
        ],
        1 => Just(json!(vec!["FORCED_LABOR"; 20_000])),
        1 => Just(json!(vec![Value::Null; 1000])),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_][a-zA-Z0-9_]{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// How a valid request is made hostile.
#[derive(Debug, Clone)]
enum Corruption {
    /// Replace the value at the n-th position (any depth) of the arguments.
    Replace(usize, Value),
    /// Drop the key at the n-th position (a missing required field, or an optional one).
    Remove(usize),
    /// Add an unknown field to the n-th object.
    Extra(usize, Value),
    /// Replace the n-th string with a hostile one: the type stays valid, so the request gets
    /// past GraphQL's validation to the resolvers, the domain and the store.
    Str(usize, String),
    /// Replace the n-th number with a hostile one (still a number).
    Num(usize, Value),
}

#[derive(Debug, Clone)]
struct Generated {
    template: usize,
    corruption: Corruption,
    /// Inline the arguments as literals instead of variables.
    inline: bool,
    /// Send it with another role's token than the usual one.
    role: Option<usize>,
}

fn generated(templates: usize) -> impl Strategy<Value = Generated> {
    let corruption = prop_oneof![
        6 => (any::<usize>(), hostile_value()).prop_map(|(n, v)| Corruption::Replace(n, v)),
        2 => any::<usize>().prop_map(Corruption::Remove),
        1 => (any::<usize>(), hostile_value()).prop_map(|(n, v)| Corruption::Extra(n, v)),
        6 => (any::<usize>(), hostile_string()).prop_map(|(n, v)| Corruption::Str(n, v)),
        2 => (any::<usize>(), hostile_number()).prop_map(|(n, v)| Corruption::Num(n, v)),
    ];
    (0..templates, corruption, any::<bool>(), prop::option::weighted(0.2, 0usize..5))
        .prop_map(|(template, corruption, inline, role)| Generated { template, corruption, inline, role })
}

/// Every position in a value: (path of keys/indices) — the root is not a position.
fn positions(v: &Value, path: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                path.push(json!(k));
                out.push(path.clone());
                positions(x, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(json!(i));
                out.push(path.clone());
                positions(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(v: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, k| match k {
        Value::String(k) => v.get_mut(k.as_str()),
        Value::Number(i) => v.get_mut(i.as_u64()? as usize),
        _ => None,
    })
}

fn corrupt(args: &mut Value, c: &Corruption) {
    let mut all = vec![];
    positions(args, &mut vec![], &mut all);
    match c {
        Corruption::Replace(n, value) => {
            if let Some(slot) = at(args, &all[n % all.len()]) {
                *slot = value.clone();
            }
        }
        Corruption::Remove(n) => {
            let path = &all[n % all.len()];
            let (last, parent) = path.split_last().expect("a position has a path");
            match (at(args, parent), last) {
                (Some(Value::Object(m)), Value::String(k)) => {
                    m.remove(k);
                }
                (Some(Value::Array(a)), Value::Number(i)) => {
                    a.remove(i.as_u64().unwrap_or(0) as usize);
                }
                _ => {}
            }
        }
        Corruption::Str(n, value) => replace_leaf(args, &all, *n, Value::is_string, Value::String(value.clone())),
        Corruption::Num(n, value) => replace_leaf(args, &all, *n, Value::is_number, value.clone()),
        Corruption::Extra(n, value) => {
            let objects: Vec<_> =
                all.iter().filter(|p| matches!(at(args, p), Some(Value::Object(_)))).cloned().collect();
            let target = if objects.is_empty() { None } else { Some(objects[n % objects.len()].clone()) };
            if let Some(Value::Object(m)) = target.and_then(|p| at(args, &p)) {
                m.insert("unexpectedField".into(), value.clone());
            }
        }
    }
}

/// Replaces the n-th (modulo their number) of the positions whose value is `kind`.
fn replace_leaf(args: &mut Value, all: &[Vec<Value>], n: usize, kind: fn(&Value) -> bool, with: Value) {
    let leaves: Vec<_> = all.iter().filter(|p| at(args, p).is_some_and(|v| kind(v))).cloned().collect();
    if !leaves.is_empty() {
        if let Some(slot) = at(args, &leaves[n % leaves.len()]) {
            *slot = with;
        }
    }
}

/// A JSON value as a GraphQL literal; all-caps identifiers become enum values.
fn literal(v: &Value) -> String {
    match v {
        Value::String(s) if !s.is_empty() && s.chars().all(|c| c.is_ascii_uppercase() || c == '_') => s.clone(),
        Value::String(s) => serde_json::to_string(s).expect("a string serialises"),
        Value::Array(a) => format!("[{}]", a.iter().map(literal).collect::<Vec<_>>().join(", ")),
        Value::Object(m) => {
            format!("{{{}}}", m.iter().map(|(k, v)| format!("{k}: {}", literal(v))).collect::<Vec<_>>().join(", "))
        }
        other => other.to_string(),
    }
}

/// The query and variables of a (possibly corrupted) template.
fn request(t: &Template, args: &Value, inline: bool) -> (String, Value) {
    let op = if t.mutation { "mutation" } else { "query" };
    let names: Vec<&str> = t.args.iter().map(|a| a.0).collect();
    let present = |n: &str| args.get(n).is_some();
    if inline {
        let list: Vec<String> =
            names.iter().filter(|n| present(n)).map(|n| format!("{n}: {}", literal(&args[*n]))).collect();
        let list = if list.is_empty() { String::new() } else { format!("({})", list.join(", ")) };
        (format!("{op} {{ {}{list} {} }}", t.field, t.selection), json!({}))
    } else {
        let decls: Vec<String> = t.args.iter().map(|(n, ty, _)| format!("${n}: {ty}")).collect();
        let uses: Vec<String> = names.iter().map(|n| format!("{n}: ${n}")).collect();
        (format!("{op}({}) {{ {}({}) {} }}", decls.join(", "), t.field, uses.join(", "), t.selection), args.clone())
    }
}

// ---------------------------------------------------------------- the checks

/// Checks one answer; returns a label for the tally ("ok" or the first error code). An
/// `INTERNAL` answer is noted in `internal` (the test fails at the end, naming them all).
async fn check(resp: Result<reqwest::Response, reqwest::Error>, what: &str, internal: &mut Vec<String>) -> String {
    let resp = resp.unwrap_or_else(|e| panic!("no answer (a panic or a hang?) to {what}: {e}"));
    let status = resp.status().as_u16();
    assert_ne!(status, 500, "a 500 for {what}");
    assert!(matches!(status, 200 | 400 | 401 | 403 | 413 | 415), "unexpected status {status} for {what}");
    let body: Value =
        resp.json().await.unwrap_or_else(|e| panic!("a body that is not JSON (status {status}) for {what}: {e}"));
    match body.get("errors").and_then(Value::as_array) {
        Some(errors) => {
            assert!(!errors.is_empty(), "an empty error list for {what}");
            for e in errors {
                let code = e["extensions"]["code"]
                    .as_str()
                    .unwrap_or_else(|| panic!("an error without a code for {what}: {e}"));
                if code == "INTERNAL" {
                    internal.push(format!("{what} → {e}"));
                } else {
                    assert!(CODES.contains(&code), "{code} is not one of API.md's codes ({what}): {e}");
                }
                let message = e["message"].as_str().unwrap_or_default();
                assert!(!message.contains("panicked") && !message.contains("stack backtrace"), "{what}: {message}");
            }
            errors[0]["extensions"]["code"].as_str().unwrap_or_default().to_string()
        }
        None => {
            assert_eq!(status, 200, "no errors, yet status {status} for {what}");
            assert!(body["data"].is_object(), "neither data nor errors for {what}: {body}");
            "ok".into()
        }
    }
}

fn short(s: &str) -> String {
    if s.len() > 300 {
        format!("{}… ({} bytes)", &s[..s.char_indices().nth(300).map(|(i, _)| i).unwrap_or(s.len())], s.len())
    } else {
        s.to_string()
    }
}

async fn hostile_graphql_input_gets_typed_errors_only(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let ids = setup(&t).await;
    let templates = templates(&ids);
    let roles: Vec<&str> = ids.tokens.keys().copied().collect();
    // No connection reuse: after refusing an oversized body the server closes that
    // connection, and a pooled client could send the next request into the closed socket.
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).pool_max_idle_per_host(0).build().unwrap();
    let url = t.url("/graphql");
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    let mut internal = vec![];

    // Generated from the valid templates; a fixed seed, so a failure reproduces.
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
    let strategy = generated(templates.len());
    for _ in 0..GENERATED {
        let g = strategy.new_tree(&mut runner).expect("a generated request").current();
        let tpl = &templates[g.template];
        let mut args = Value::Object(t_args(tpl));
        corrupt(&mut args, &g.corruption);
        let (query, variables) = request(tpl, &args, g.inline);
        let role = g.role.map(|r| roles[r % roles.len()]).unwrap_or(tpl.role);
        let what = format!("{} as {role}: {}", tpl.field, short(&format!("{query} {variables}")));
        let resp = client
            .post(&url)
            .bearer_auth(&ids.tokens[role])
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await;
        let label = check(resp, &what, &mut internal).await;
        *tally.entry(format!("generated {label}")).or_default() += 1;
    }

    // Hand-written: requests broken before GraphQL sees them, and abuse of the language.
    let admin = &ids.tokens["ADMIN"];
    let deep = format!("{{ {}__typename{} }}", "me { organization { ".repeat(20), " } }".repeat(20));
    let aliases = format!(
        "{{ {} }}",
        (0..3000).map(|i| format!("a{i}: offenses {{ code title }}")).collect::<Vec<_>>().join(" ")
    );
    let fragments = "query { ...A } fragment A on QueryRoot { ...B } fragment B on QueryRoot { ...A }".to_string();
    let directives = format!("{{ me {} {{ id }} }}", "@include(if: true) ".repeat(100));
    let nested_input =
        format!("{{ cases(filter: {}) {{ totalCount }} }}", "{status: ".repeat(200) + "\"x\"" + &"}".repeat(200));
    let raw: Vec<(&str, &str, String)> = vec![
        ("application/json", "not JSON", "this is not json".into()),
        ("application/json", "empty body", String::new()),
        ("application/json", "truncated JSON", "{\"query\": \"{ me { id } }".into()),
        ("application/json", "JSON array of nothing", "[]".into()),
        ("application/json", "JSON string", "\"{ me { id } }\"".into()),
        ("application/json", "JSON number", "42".into()),
        ("application/json", "JSON null", "null".into()),
        ("application/json", "JSON without query", "{\"foo\": 1}".into()),
        ("application/json", "query not a string", "{\"query\": 12}".into()),
        ("application/json", "variables not an object", "{\"query\": \"{ me { id } }\", \"variables\": [1,2]}".into()),
        (
            "application/json",
            "operationName unknown",
            "{\"query\": \"query A { me { id } }\", \"operationName\": \"B\"}".into(),
        ),
        (
            "application/json",
            "two operations, none chosen",
            "{\"query\": \"query A { me { id } } query B { me { id } }\"}".into(),
        ),
        ("application/json", "NUL in the query", "{\"query\": \"{ me\\u0000 { id } }\"}".into()),
        ("application/json", "unknown field", "{\"query\": \"{ nothing }\"}".into()),
        ("application/json", "syntax error", "{\"query\": \"{ me { id \"}".into()),
        ("application/json", "subscription", "{\"query\": \"subscription { me { id } }\"}".into()),
        ("application/json", "deep nesting", json!({ "query": deep }).to_string()),
        ("application/json", "alias flood", json!({ "query": aliases }).to_string()),
        ("application/json", "fragment cycle", json!({ "query": fragments }).to_string()),
        ("application/json", "directive flood", json!({ "query": directives }).to_string()),
        ("application/json", "deeply nested input", json!({ "query": nested_input }).to_string()),
        (
            "application/json",
            "introspection of everything",
            json!({ "query": "{ __schema { types { name fields { name args { name } } } } }" }).to_string(),
        ),
        ("text/plain", "wrong content type", json!({ "query": "{ me { id } }" }).to_string()),
        ("application/xml", "XML", "<query>{ me { id } }</query>".into()),
        ("application/x-www-form-urlencoded", "a form", "query=%7B+me+%7B+id+%7D+%7D".into()),
        (
            "multipart/form-data; boundary=x",
            "broken multipart",
            "--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\r\n--x--".into(),
        ),
        ("multipart/form-data", "multipart without boundary", "garbage".into()),
        ("application/graphql", "bare GraphQL", "{ me { id } }".into()),
    ];
    for (content_type, what, body) in raw {
        let resp = client
            .post(&url)
            .bearer_auth(admin)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await;
        let label = check(resp, what, &mut internal).await;
        let key = if label == "ok" { format!("corpus ok: {what}") } else { format!("corpus {label}") };
        *tally.entry(key).or_default() += 1;
    }
    // Bodies over the limit are refused, announced or streamed.
    let big =
        json!({ "query": "{ me { id } }", "variables": { "pad": "p".repeat(api::http::BODY_LIMIT + 1) } }).to_string();
    let resp =
        client.post(&url).bearer_auth(admin).header("content-type", "application/json").body(big.clone()).send().await;
    assert_eq!(check(resp, "an oversized body", &mut internal).await, "BAD_USER_INPUT");
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.into_bytes().chunks(16 * 1024).map(|c| Ok(c.to_vec())).collect();
    let streamed = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let resp =
        client.post(&url).bearer_auth(admin).header("content-type", "application/json").body(streamed).send().await;
    assert_eq!(check(resp, "an oversized streamed body", &mut internal).await, "BAD_USER_INPUT");
    // Invalid UTF-8, and hostile tokens.
    let resp = client
        .post(&url)
        .bearer_auth(admin)
        .header("content-type", "application/json")
        .body(vec![0xff, 0xfe, b'{', 0x80])
        .send()
        .await;
    check(resp, "invalid UTF-8", &mut internal).await;
    // Hostile Idempotency-Keys on a change are refused as input; hostile request ids are
    // replaced, never a reason to fail.
    let change = json!({"query": "mutation { createAccessToken(input: {name: \"k\", role: AUDITOR}) { tokenId } }"});
    let long_key = "k".repeat(256);
    let keys: [&[u8]; 6] = [b"", b" ", b"a b", long_key.as_bytes(), &[0xe9, 0x80, 0xff], b"\t"];
    for key in keys {
        let value = reqwest::header::HeaderValue::from_bytes(key).expect("a header value");
        let resp = client.post(&url).bearer_auth(admin).header("idempotency-key", value).json(&change).send().await;
        assert_eq!(check(resp, "a hostile Idempotency-Key", &mut internal).await, "BAD_USER_INPUT");
    }
    let long_id = "r".repeat(10_000);
    let request_ids: [&[u8]; 4] = [b"", long_id.as_bytes(), &[0xe9, 0x80, 0xff], b"'; DROP TABLE events; --"];
    for id in request_ids {
        let value = reqwest::header::HeaderValue::from_bytes(id).expect("a header value");
        let resp = client.post(&url).bearer_auth(admin).header("x-request-id", value).json(&change).send().await;
        assert_eq!(check(resp, "a hostile X-Request-Id", &mut internal).await, "ok");
    }
    // (Control characters cannot be sent in a header at all: HTTP clients refuse to.)
    for token in ["", "pbl_", "pbl_\u{e9}\u{80}", &"a".repeat(10_000), "Bearer Bearer", "😀"] {
        let resp = client
            .post(&url)
            .header("authorization", format!("Bearer {token}").as_bytes())
            .json(&json!({"query": "{ me { id } }"}))
            .send()
            .await;
        assert_eq!(check(resp, "a hostile token", &mut internal).await, "UNAUTHENTICATED");
    }

    eprintln!("hostile input ({backend:?}): {tally:?}");
    assert!(
        internal.is_empty(),
        "{} hostile requests got INTERNAL instead of a typed error ({backend:?}):\n{}",
        internal.len(),
        internal.iter().take(20).map(|s| short(s)).collect::<Vec<_>>().join("\n")
    );
    assert!(
        tally.keys().any(|k| k.starts_with("generated BAD_USER_INPUT")),
        "the generator must produce invalid input"
    );
    assert!(tally.get("generated ok").copied().unwrap_or(0) > 0, "the generator must also keep some requests valid");
    // Still serving, with its data intact.
    let d = t.ok(&ids.tokens["AUDITOR"], "query($id: ID!) { case(id: $id) { id } }", json!({"id": ids.case})).await;
    assert_eq!(d["case"]["id"], ids.case.as_str());
    assert_eq!(client.get(t.url("/healthz")).send().await.unwrap().status().as_u16(), 200);
    t.stop().await;
}

fn t_args(t: &Template) -> Map<String, Value> {
    t.args.iter().map(|(n, _, v)| (n.to_string(), v.clone())).collect()
}

on_both_backends!(hostile_graphql_input_gets_typed_errors_only);
