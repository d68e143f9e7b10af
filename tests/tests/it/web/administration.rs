//! Administration and audit screens over plain HTTP, on both stores: an ADMIN revokes an
//! account's access and deactivates accounts (the token is refused, the web session ends);
//! an erasure request made on the case page is approved by a second ADMIN only (never the
//! requester), after which the identity is unreadable; the identity-read log, the sign-in
//! history and an account's activity show case references and never a client's name; an
//! auditor verifies a case's hash chain and sees an altered one named.

use super::{people, serve_web, signed_in, user};
use domain::values::Role;
use serde_json::json;
use tests::fixtures::{represented_case, CLIENT_NAME};
use tests::{Backend, TestApp};

fn contains_none(pages: &[(&str, &str)], needle: &str) {
    for (path, body) in pages {
        assert!(!body.contains(needle), "{path} shows a client's name: {body}");
    }
}

async fn an_admin_ends_an_accounts_access(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let p = people(&t).await;
    user(&t, "chief", Role::Admin, None, None).await;
    let base = serve_web(&t, false).await;
    let mut chief = signed_in(&base, "chief").await;
    let mut intake = signed_in(&base, "intake").await;
    assert_eq!(intake.get("/app/cases").await.status, 200);
    let accounts = t.ok(&t.admin, "{ accounts { id name } }", json!({})).await;
    let id_of = |name: &str| {
        accounts["accounts"].as_array().unwrap().iter().find(|a| a["name"] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let intake_id = id_of("intake (test)");
    // The admin page lists the accounts; each has its page.
    let admin = chief.get("/app/admin").await;
    assert_eq!(admin.status, 200);
    assert!(admin.body.contains("intake (test)") && admin.body.contains(&format!("/app/admin/accounts/{intake_id}")));
    // Revoking access ends the web session at once; the user may sign in again.
    let page = format!("/app/admin/accounts/{intake_id}");
    let r = chief.submit(&page, &format!("{page}/revoke"), &[]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some(page.as_str())), "{}", r.body);
    let after = intake.get("/app/cases").await;
    assert_eq!((after.status, after.location.as_deref()), (303, Some("/app/sign-in")), "the session ended");
    let log =
        t.ok(&p.w.auditor, "query($a: ID) { signInHistory(accountId: $a) { outcome } }", json!({"a": intake_id})).await;
    assert_eq!(log["signInHistory"][0]["outcome"], "REVOKED_BY_ADMIN", "{log}");
    let mut intake = signed_in(&base, "intake").await;

    // A token holder: revoking every token refuses the bearer at once.
    let made = t
        .ok(&t.admin, "mutation { createAccessToken(input: {name: \"Reporting script\", role: AUDITOR}) { token account { id } } }", json!({}))
        .await;
    let token = made["createAccessToken"]["token"].as_str().unwrap().to_string();
    let script = made["createAccessToken"]["account"]["id"].as_str().unwrap().to_string();
    t.ok(&token, "{ me { id } }", json!({})).await;
    let tokens =
        t.ok(&t.admin, "query($a: ID!) { accessTokens(accountId: $a) { id revoked } }", json!({"a": script})).await;
    assert_eq!(tokens["accessTokens"].as_array().unwrap().len(), 1);
    let r = t
        .ok(
            &t.admin,
            "mutation($a: ID!) { revokeAccountAccess(accountId: $a) { revokedTokens endedSessions } }",
            json!({"a": script}),
        )
        .await;
    assert_eq!(r["revokeAccountAccess"]["revokedTokens"], 1);
    assert_eq!(t.err(&token, "{ me { id } }", json!({})).await, "UNAUTHENTICATED");

    // Deactivation from the web page: no reason is refused with the form again, then the
    // account can do nothing — its session ends and it cannot sign in.
    let form = format!("{page}/deactivate");
    let r = chief.submit(&page, &form, &[("reason", "")]).await;
    assert_eq!(r.status, 422, "a reason is needed");
    let r = chief.submit(&page, &form, &[("reason", "left the organisation")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(intake.get("/app/cases").await.location.as_deref(), Some("/app/sign-in"));
    let again = intake.sign_in("intake").await;
    assert_ne!(again.location.as_deref(), Some("/app"), "a deactivated account cannot sign in");
    let a = t.ok(&t.admin, "{ accounts { id disabled } }", json!({})).await;
    assert!(a["accounts"].as_array().unwrap().iter().any(|a| a["id"] == intake_id.as_str() && a["disabled"] == true));
    // A deactivated token holder is refused too, and an ADMIN cannot deactivate themselves.
    let made = t
        .ok(
            &t.admin,
            "mutation { createAccessToken(input: {name: \"Second script\", role: AUDITOR}) { token account { id } } }",
            json!({}),
        )
        .await;
    let token = made["createAccessToken"]["token"].as_str().unwrap().to_string();
    let second = made["createAccessToken"]["account"]["id"].as_str().unwrap().to_string();
    let q = "mutation($a: ID!, $r: String!) { deactivateAccount(input: {accountId: $a, reason: $r}) { disabled } }";
    assert_eq!(
        t.ok(&t.admin, q, json!({"a": second, "r": "script retired"})).await["deactivateAccount"]["disabled"],
        true
    );
    assert_eq!(t.err(&token, "{ me { id } }", json!({})).await, "UNAUTHENTICATED");
    assert_eq!(t.err(&t.admin, q, json!({"a": second, "r": "twice"})).await, "RULE_VIOLATION");
    let me = t.ok(&t.admin, "{ me { id } }", json!({})).await["me"]["id"].as_str().unwrap().to_string();
    assert_eq!(t.err(&t.admin, q, json!({"a": me, "r": "self"})).await, "RULE_VIOLATION");
    assert_eq!(t.err(&t.admin, q, json!({"a": second, "r": " "})).await, "BAD_USER_INPUT");
    // Not for other roles; the page is a 404 for them.
    assert_eq!(t.err(&p.w.auditor, q, json!({"a": second, "r": "x"})).await, "FORBIDDEN");
    let mut auditor = signed_in(&base, "auditor").await;
    assert_eq!(auditor.get(&page).await.status, 404);
    t.stop().await;
}

async fn an_erasure_is_approved_by_a_second_admin_only(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let p = people(&t).await;
    let w = &p.w;
    user(&t, "chief", Role::Admin, None, None).await;
    user(&t, "deputy", Role::Admin, None, None).await;
    let case = represented_case(&t, w).await;
    // The intake worker reads the identity (on record), then asks for erasure on the page.
    let iq = "query($c: ID!) { case(id: $c) { identity(purpose: \"CONTACT_CLIENT\") { fullName erased } } }";
    assert_eq!(t.ok(&w.intake, iq, json!({"c": case})).await["case"]["identity"]["fullName"], CLIENT_NAME);
    let base = serve_web(&t, false).await;
    let mut intake = signed_in(&base, "intake").await;
    let case_page = intake.get(&format!("/app/cases/{case}")).await;
    assert!(case_page.body.contains(&format!("/app/cases/{case}/erasure")), "the case page links to the request");
    let form = format!("/app/cases/{case}/erasure");
    let r = intake.submit(&form, &form, &[("reason", "")]).await;
    assert_eq!(r.status, 422);
    let r = intake.submit(&form, &form, &[("reason", "the client asked for her data to be erased")]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some(format!("{form}?sent=1").as_str())), "{}", r.body);
    let sent = intake.get(&format!("{form}?sent=1")).await;
    assert!(!sent.body.contains(&format!("action=\"{form}\"")), "one request waits at a time: no second form");
    // Another organisation's intake worker has no such page.
    let mut other = signed_in(&base, "intake.b").await;
    assert_eq!(other.get(&form).await.status, 404);
    let list = t.ok(&t.admin, "{ erasureRequests(status: PENDING) { id caseId status requestedBy } }", json!({})).await;
    let request = list["erasureRequests"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(list["erasureRequests"][0]["caseId"], case.as_str());

    // The chief ADMIN sees it waiting and approves it: the identity is gone.
    let mut chief = signed_in(&base, "chief").await;
    let admin = chief.get("/app/admin").await;
    assert!(admin.body.contains(&format!("/app/admin/erasures/{request}")), "{}", admin.body);
    let decide = format!("/app/admin/erasures/{request}");
    let r = chief.submit(&decide, &format!("{decide}/approve"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let after = t.ok(&w.intake, iq, json!({"c": case})).await;
    assert_eq!(after["case"]["identity"]["erased"], true, "{after}");
    assert!(after["case"]["identity"]["fullName"].is_null());
    let done = t.ok(&t.admin, "{ erasureRequests { id status decidedBy } }", json!({})).await;
    assert_eq!(done["erasureRequests"][0]["status"], "APPROVED");
    // A second request on an erased case is refused.
    let rq = "mutation($c: ID!) { requestErasure(input: {caseId: $c, reason: \"again please\"}) { id } }";
    assert_eq!(t.err(&w.intake, rq, json!({"c": case})).await, "RULE_VIOLATION");

    // The requester never approves their own request: the chief asks on another case; the
    // page says another ADMIN must decide, and an approval is refused.
    let other_case = represented_case(&t, w).await;
    let form = format!("/app/cases/{other_case}/erasure");
    let r = chief.submit(&form, &form, &[("reason", "the client is in danger and asked us")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let list =
        t.ok(&t.admin, "query($c: ID) { erasureRequests(caseId: $c) { id status } }", json!({"c": other_case})).await;
    let own = list["erasureRequests"][0]["id"].as_str().unwrap().to_string();
    let decide = format!("/app/admin/erasures/{own}");
    let page = chief.get(&decide).await;
    assert!(!page.body.contains(&format!("action=\"{decide}/approve\"")), "no approve button for the requester");
    let csrf = super::value_of(&page.body, "csrf").unwrap();
    let refused = chief.post(&format!("{decide}/approve"), &[("csrf", &csrf)]).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(t.ok(&w.intake, iq, json!({"c": other_case})).await["case"]["identity"]["fullName"], CLIENT_NAME);
    // The deputy turns it down instead, with a reason; the data stays.
    let mut deputy = signed_in(&base, "deputy").await;
    let r = deputy
        .submit(&decide, &format!("{decide}/reject"), &[("reason", "the client confirmed she wants to continue")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let list = t
        .ok(
            &t.admin,
            "query($c: ID) { erasureRequests(caseId: $c) { status decisionReason } }",
            json!({"c": other_case}),
        )
        .await;
    assert_eq!(list["erasureRequests"][0]["status"], "REJECTED");
    assert_eq!(t.ok(&w.intake, iq, json!({"c": other_case})).await["case"]["identity"]["fullName"], CLIENT_NAME);
    // GraphQL says the same: the requester is refused.
    let made = t.ok(&t.admin, rq, json!({"c": other_case})).await;
    let id = made["requestErasure"]["id"].as_str().unwrap().to_string();
    let aq = "mutation($r: ID!) { approveErasureRequest(requestId: $r) { request { status } case { id } } }";
    assert_eq!(t.err(&t.admin, aq, json!({"r": id})).await, "RULE_VIOLATION");
    let ok = t.ok(&t.approver, aq, json!({"r": id})).await;
    assert_eq!(ok["approveErasureRequest"]["request"]["status"], "APPROVED");
    assert_eq!(t.err(&t.approver, aq, json!({"r": id})).await, "RULE_VIOLATION", "decided once");

    // The key status counts the data keys left, and never shows key material.
    let keys = t
        .ok(
            &t.admin,
            "{ keyStatus { masterKeyId currentEpoch wrappedKeys epochChangedAt keysByEpoch { epoch keys } } }",
            json!({}),
        )
        .await;
    assert!(keys["keyStatus"]["currentEpoch"].as_i64().unwrap() >= 2, "each erasure starts a new epoch: {keys}");
    let wrapped = keys["keyStatus"]["wrappedKeys"].as_i64().unwrap();
    let sum: i64 =
        keys["keyStatus"]["keysByEpoch"].as_array().unwrap().iter().map(|e| e["keys"].as_i64().unwrap()).sum();
    assert_eq!(wrapped, sum);
    assert!(chief.get("/app/admin").await.body.contains(keys["keyStatus"]["masterKeyId"].as_str().unwrap()));
    t.stop().await;
}

async fn audit_screens_show_references_never_names(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let p = people(&t).await;
    let w = &p.w;
    let case = represented_case(&t, w).await;
    let iq = "query($c: ID!) { case(id: $c) { identity(purpose: \"LEGAL_REPRESENTATION\") { fullName } } }";
    t.ok(&w.lawyer_a, iq, json!({"c": case})).await;
    let base = serve_web(&t, false).await;
    let mut auditor = signed_in(&base, "auditor").await;
    let accounts = t.ok(&t.admin, "{ accounts { id name } }", json!({})).await;
    let reference = case.replace('-', "")[..8].to_uppercase();
    let index = auditor.get("/app/audit").await;
    assert_eq!(index.status, 200);
    assert!(index.body.contains(&reference), "the log names the case by reference: {}", index.body);
    let by_case = auditor.get(&format!("/app/audit?case={case}")).await;
    assert!(by_case.body.contains(&reference));
    let other = represented_case(&t, w).await;
    let none = auditor.get(&format!("/app/audit?case={other}")).await;
    assert!(!none.body.contains(&reference), "the filter by case keeps to that case");
    let bad = auditor.get("/app/audit?case=not-a-case").await;
    assert_eq!(bad.status, 422);
    let trail = auditor.get(&format!("/app/audit/cases/{case}")).await;
    assert_eq!(trail.status, 200);
    // The auditor checks the chain: intact, in Russian.
    let verified = auditor.get(&format!("/app/audit/cases/{case}?verify=1")).await;
    assert!(verified.body.contains("Запись не изменена"), "{}", verified.body);
    // The activity of every account that touched the case.
    let mut pages = vec![];
    for a in accounts["accounts"].as_array().unwrap() {
        let path = format!("/app/audit/accounts/{}", a["id"].as_str().unwrap());
        let page = auditor.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        pages.push((path, page.body));
    }
    // The lawyer who accepted the case: their activity lists the events they recorded.
    let lawyer = t.ok(&w.lawyer_a, "{ me { id } }", json!({})).await["me"]["id"].as_str().unwrap().to_string();
    let lawyer_page = pages.iter().find(|(p, _)| p.ends_with(&lawyer)).unwrap();
    assert!(lawyer_page.1.contains("<code title="), "the lawyer's activity lists the events they recorded");
    let auditor_id = t.ok(&w.auditor, "{ me { id } }", json!({})).await["me"]["id"].as_str().unwrap().to_string();
    let auditor_page = pages.iter().find(|(p, _)| p.ends_with(&auditor_id)).unwrap();
    assert!(!auditor_page.1.contains("<code title="), "an auditor records nothing");
    let all: Vec<(&str, &str)> = [
        ("/app/audit", index.body.as_str()),
        ("case filter", by_case.body.as_str()),
        ("trail", trail.body.as_str()),
        ("verified", verified.body.as_str()),
    ]
    .into_iter()
    .chain(pages.iter().map(|(p, b)| (p.as_str(), b.as_str())))
    .collect();
    contains_none(&all, CLIENT_NAME);
    contains_none(&all, "Kadyrova");
    // An ADMIN's administration pages name no client either.
    user(&t, "chief", Role::Admin, None, None).await;
    let mut chief = signed_in(&base, "chief").await;
    let admin = chief.get("/app/admin").await;
    contains_none(&[("/app/admin", admin.body.as_str())], "Kadyrova");
    // Other roles have no audit screens.
    let mut intake = signed_in(&base, "intake").await;
    assert_eq!(intake.get("/app/audit").await.status, 404);
    assert_eq!(intake.get(&format!("/app/audit/cases/{case}")).await.status, 404);

    // An event altered in the database is named on the page.
    let sql = "UPDATE events SET hash = CASE WHEN substr(hash, 1, 1) = '0' THEN '1' ELSE '0' END || substr(hash, 2) WHERE aggregate_type = 'Case' AND aggregate_id = $1 AND sequence = 2";
    let n = projections::on_db!(&t.app.db, p => sqlx::query(sql).bind(&case).execute(p).await.unwrap().rows_affected());
    assert_eq!(n, 1);
    let broken = auditor.get(&format!("/app/audit/cases/{case}?verify=1")).await;
    assert!(broken.body.contains("Запись изменена"), "{}", broken.body);
    // A pasted text that is no checkpoint is refused with the form again.
    let trail = auditor.get(&format!("/app/audit/cases/{case}")).await;
    let csrf = super::value_of(&trail.body, "csrf").unwrap();
    let r = auditor
        .post(
            &format!("/app/audit/cases/{case}/checkpoint"),
            &[("csrf", &csrf), ("checkpoint", "{}"), ("publicKey", "00")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    t.stop().await;
}

/// The offence catalogue screen: only an ADMIN has it; an article needs its source and a code
/// of the right shape, a duplicate is refused with the form kept, a retirement needs a reason;
/// what the screen adds and retires is what GraphQL then lists.
async fn an_admin_keeps_the_offence_catalogue(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let p = people(&t).await;
    user(&t, "chief", Role::Admin, None, None).await;
    let base = serve_web(&t, false).await;
    let mut chief = signed_in(&base, "chief").await;
    let page = chief.get("/app/admin/offenses").await;
    assert_eq!(page.status, 200);
    for shown in ["2021-166", "2017-171", "1997-124", "2021-209"] {
        assert!(page.body.contains(&format!("/app/admin/offenses/{shown}")), "{shown} is listed");
    }
    // Other roles do not have the screen.
    for who in ["intake", "coordinator", "auditor", "lawyer.a"] {
        let mut a = signed_in(&base, who).await;
        assert_eq!(a.get("/app/admin/offenses").await.status, 404, "{who}");
        assert_eq!(a.get("/app/admin/offenses/2021-166").await.status, 404, "{who}");
    }
    let add = "/app/admin/offenses";
    // No source: refused, with what was typed kept.
    let r = chief
        .submit(
            add,
            add,
            &[("edition", "2021"), ("article", "998"), ("title", "Kept title"), ("category", "OTHER"), ("source", "")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Kept title") && r.body.contains("error-summary"), "{}", r.body);
    // A code with a path in it: refused before it reaches the catalogue.
    let r = chief
        .submit(
            add,
            add,
            &[("edition", "2021"), ("article", "9/../x"), ("title", "T"), ("category", "OTHER"), ("source", "S")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    // An unknown category: refused.
    let r = chief
        .submit(
            add,
            add,
            &[("edition", "2021"), ("article", "998"), ("title", "T"), ("category", "MURDER"), ("source", "S")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    // An existing code: refused, the form kept.
    let r = chief
        .submit(
            add,
            add,
            &[("edition", "2021"), ("article", "166"), ("title", "Again"), ("category", "TIP"), ("source", "S")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Again"), "{}", r.body);
    // A good one: shown on its own page, and listed by GraphQL with its source.
    let r = chief
        .submit(
            add,
            add,
            &[
                ("edition", "2021"),
                ("article", "998"),
                ("title", "Test article"),
                ("titleRu", "Тестовая статья"),
                ("category", "TIP_RELATED"),
                ("source", "Official text (test citation)"),
            ],
        )
        .await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/app/admin/offenses/2021-998")), "{}", r.body);
    let entry = chief.get("/app/admin/offenses/2021-998").await;
    assert!(entry.body.contains("Official text (test citation)") && entry.body.contains("Тестовая статья"));
    let q = "{ offenses { code title titleRu category retired source } }";
    let listed = t.ok(&p.w.auditor, q, json!({})).await;
    let find =
        |d: &serde_json::Value| d["offenses"].as_array().unwrap().iter().find(|o| o["code"] == "2021-998").cloned();
    assert_eq!(
        find(&listed),
        Some(
            json!({"code": "2021-998", "title": "Test article", "titleRu": "Тестовая статья", "category": "TIP_RELATED",
                    "retired": false, "source": "Official text (test citation)"})
        )
    );
    // Retiring needs a reason; then the article is retired and no longer offered.
    let retire = "/app/admin/offenses/2021-998/retire";
    let r = chief.submit("/app/admin/offenses/2021-998", retire, &[("reason", "")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = chief.submit("/app/admin/offenses/2021-998", retire, &[("reason", "Entered by mistake")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(find(&t.ok(&p.w.auditor, q, json!({})).await).unwrap()["retired"], true);
    let again = chief.get("/app/admin/offenses/2021-998").await;
    assert!(!again.body.contains(retire), "a retired article has no retire form");
    // Unknown and malformed codes are the plain 404.
    assert_eq!(chief.get("/app/admin/offenses/2021-0000").await.status, 404);
    assert_eq!(chief.get("/app/admin/offenses/%3Cscript%3E").await.status, 404);
    // A post from another origin is refused.
    let r = chief
        .post_from(
            add,
            &[("edition", "2021"), ("article", "997"), ("title", "T"), ("category", "OTHER"), ("source", "S")],
            "http://evil.example",
        )
        .await;
    assert!(r.status == 403 || r.status == 400, "{}", r.status);
    let codes = t.ok(&p.w.auditor, "{ offenses { code } }", json!({})).await;
    assert!(!codes.to_string().contains("2021-997"), "nothing was added from another origin");
    t.stop().await;
}

tests::on_both_backends!(
    an_admin_keeps_the_offence_catalogue,
    an_admin_ends_an_accounts_access,
    an_erasure_is_approved_by_a_second_admin_only,
    audit_screens_show_references_never_names,
);
