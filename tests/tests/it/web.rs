//! The web app over plain HTTP (no browser needed): headers, sign-in with and without the
//! second factor, sessions and their expiry, CSRF and Origin checks, throttling, out-of-scope
//! 404s, one record per form render, identity reads on record, and a whole case in Russian by
//! three users. `browser` drives the same app in Chromium.

mod administration;
mod browser;
mod case_page;
mod proceedings;

use api::app::accounts::NewAccount;
use api::app::Caller;
use api::http::{EdgeOptions, WebOptions};
use domain::values::Role;
use std::collections::HashMap;
use tests::fixtures::{world, World, CLIENT_NAME};
use tests::{Backend, TestApp};
use uuid::Uuid;

pub const PASSWORD: &str = "copper kettle winter orchard";

/// Serves the whole router with these web options; returns its base URL.
pub async fn serve_web(t: &TestApp, require_totp: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let opts = EdgeOptions { introspection: true, mutation_rate: None };
    let router = api::http::router_full(t.app.clone(), opts, WebOptions { require_totp });
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, service).await;
    });
    base
}

/// The web users of a [`World`]: (username of the intake worker, coordinator, lawyer A,
/// lawyer B, auditor).
pub struct People {
    pub w: World,
}

pub async fn user(t: &TestApp, username: &str, role: Role, org: Option<&str>, lawyer: Option<&str>) -> Uuid {
    let input = NewAccount {
        account_id: None,
        name: format!("{username} (test)"),
        role,
        organization_id: org.map(|o| o.parse().unwrap()),
        lawyer_id: lawyer.map(|l| l.parse().unwrap()),
        expires_at: None,
    };
    let id = t.app.create_user(&Caller::system("test"), input, username, PASSWORD).await.expect("create web user");
    // A second person approves the accounts that read identity, as the rules ask.
    if role.reads_identity() {
        t.approve(&id.to_string(), role.as_str()).await;
    }
    id
}

pub async fn people(t: &TestApp) -> People {
    let w = world(t).await;
    user(t, "intake", Role::IntakeWorker, Some(&w.org), None).await;
    user(t, "coordinator", Role::Coordinator, None, None).await;
    user(t, "lawyer.a", Role::Lawyer, None, Some(&w.lawyer_a_id)).await;
    user(t, "lawyer.b", Role::Lawyer, None, Some(&w.lawyer_b_id)).await;
    user(t, "auditor", Role::Auditor, None, None).await;
    let d = t
        .ok(
            &t.admin,
            "mutation { registerOrganization(input: {name: \"Other NGO\", kind: NGO}) { id } }",
            Default::default(),
        )
        .await;
    let org_b = d["registerOrganization"]["id"].as_str().unwrap().to_string();
    user(t, "intake.b", Role::IntakeWorker, Some(&org_b), None).await;
    People { w }
}

/// A user agent without a browser: cookies, the page's Origin, no automatic redirects.
pub struct Agent {
    base: String,
    client: reqwest::Client,
    cookies: HashMap<String, String>,
    lang: &'static str,
}

pub struct Answer {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
}

impl Agent {
    pub fn new(base: &str, lang: &'static str) -> Agent {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Agent { base: base.to_string(), client, cookies: HashMap::new(), lang }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn keep_cookies(&mut self, h: &reqwest::header::HeaderMap) {
        for v in h.get_all("set-cookie") {
            let s = v.to_str().unwrap();
            let kv = s.split(';').next().unwrap();
            let (k, v) = kv.split_once('=').unwrap();
            if v.is_empty() || s.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
    }

    async fn answer(&mut self, r: reqwest::Response) -> Answer {
        let status = r.status().as_u16();
        assert_ne!(status, 500, "no page may answer 500");
        let headers = r.headers().clone();
        self.keep_cookies(&headers);
        let location = headers.get("location").map(|l| l.to_str().unwrap().to_string());
        Answer { status, body: r.text().await.unwrap(), location, headers }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept-language", self.lang)
            .send()
            .await
            .unwrap();
        self.answer(r).await
    }

    pub async fn post_from(&mut self, path: &str, form: &[(&str, &str)], origin: &str) -> Answer {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept-language", self.lang)
            .header("origin", origin)
            .form(form)
            .send()
            .await
            .unwrap();
        self.answer(r).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let origin = self.base.clone();
        self.post_from(path, form, &origin).await
    }

    /// Opens `page`, then posts its form to `action` with the page's hidden fields.
    pub async fn submit(&mut self, page: &str, action: &str, fields: &[(&str, &str)]) -> Answer {
        let p = self.get(page).await;
        assert_eq!(p.status, 200, "{page}: {}", p.body);
        let (csrf, key) = hidden_fields(&p.body, action);
        let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf), ("idempotencyKey", &key)];
        form.extend_from_slice(fields);
        self.post(action, &form).await
    }

    pub async fn sign_in(&mut self, username: &str) -> Answer {
        let p = self.get("/app/sign-in").await;
        let csrf = value_of(&p.body, "csrf").expect("sign-in form has a token");
        self.post("/app/sign-in", &[("csrf", &csrf), ("username", username), ("password", PASSWORD)]).await
    }
}

/// The value of the first hidden input named `name`.
pub fn value_of(html: &str, name: &str) -> Option<String> {
    let i = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[i + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

/// The CSRF token and idempotency key of the form posting to `action`.
pub fn hidden_fields(html: &str, action: &str) -> (String, String) {
    let i = html.find(&format!("action=\"{action}\"")).unwrap_or_else(|| panic!("no form posts to {action}"));
    let form = &html[i..];
    (value_of(form, "csrf").unwrap(), value_of(form, "idempotencyKey").unwrap_or_default())
}

fn case_id_of(location: &str) -> Uuid {
    location.trim_start_matches("/app/cases/").split('?').next().unwrap().parse().unwrap()
}

pub fn intake_fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("identifiedOn", "2024-03-05"),
        ("referralSource", "HOTLINE"),
        ("exploitationTypes", "FORCED_LABOR"),
        ("exploitationTypes", "SEXUAL"),
        ("countryOfExploitation", "ru"),
        ("fullName", CLIENT_NAME),
        ("gender", "FEMALE"),
        ("ageAtIdentification", "24"),
        ("region", "OSH"),
        ("legalAid", "true"),
        ("reportToPolice", "true"),
    ]
}

async fn signed_in(base: &str, username: &str) -> Agent {
    let mut a = Agent::new(base, "ru");
    let r = a.sign_in(username).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/app")), "{}", r.body);
    a
}

async fn pages_carry_strict_security_headers(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let _p = people(&t).await;
    let base = serve_web(&t, false).await;
    let sign_in = Agent::new(&base, "ru").get("/app/sign-in").await;
    assert_eq!(sign_in.headers["cache-control"], "no-store");
    assert!(sign_in.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let mut a = signed_in(&base, "intake").await;
    for path in ["/app/cases", "/app/intake/new", &format!("/app/cases/{}", Uuid::new_v4())] {
        let r = a.get(path).await;
        let h = |k: &str| r.headers.get(k).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        let csp = h("content-security-policy");
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("http"), "{path}: {csp}");
        assert_eq!(h("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(h("cache-control"), "no-store", "{path}");
        assert_eq!(h("x-frame-options"), "DENY", "{path}");
        assert!(!r.body.contains("<script"), "{path} has no script");
        assert!(r.body.contains("<html lang=\"ru\">"), "{path}");
    }
    let css = a.get("/app/assets/app.css").await;
    assert_eq!(css.status, 200);
    // A poor connection: the intake form with everything it loads stays far below 100 KB,
    // even uncompressed.
    let form = a.get("/app/intake/new").await;
    let icon = a.get("/app/assets/icon.svg").await;
    let weight = form.body.len() + css.body.len() + icon.body.len();
    assert!(weight < 100_000, "the intake form weighs {weight} bytes");
    eprintln!("intake form page weight: {weight} bytes uncompressed");
    assert!(css.headers["content-type"].to_str().unwrap().starts_with("text/css"));
    let en = a.get("/app/cases?lang=en").await;
    assert!(en.body.contains("<html lang=\"en\">"));
    assert!(en.headers.get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("pbl_lang=en")));
    assert!(a.get("/app/cases").await.body.contains("<html lang=\"en\">"), "the language is remembered");
}

async fn sign_in_asks_for_a_second_factor_and_records_everything(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let _p = people(&t).await;
    let base = serve_web(&t, true).await;
    let mut a = Agent::new(&base, "en");
    // A wrong password and an unknown user are refused alike.
    let p = a.get("/app/sign-in").await;
    let csrf = value_of(&p.body, "csrf").unwrap();
    let bad = a.post("/app/sign-in", &[("csrf", &csrf), ("username", "intake"), ("password", "wrong password")]).await;
    let unknown = a.post("/app/sign-in", &[("csrf", &csrf), ("username", "nobody"), ("password", PASSWORD)]).await;
    assert_eq!((bad.status, unknown.status), (401, 401));
    assert!(bad.body.contains("The username or password is wrong"));
    // The right password opens a pending session: no page of the app yet.
    let r = a.sign_in("intake").await;
    assert_eq!(r.location.as_deref(), Some("/app/sign-in"));
    assert_eq!(a.get("/app/cases").await.location.as_deref(), Some("/app/sign-in"));
    let enrol = a.get("/app/sign-in").await;
    assert!(enrol.body.contains("name=\"otp\""), "{}", enrol.body);
    let secret = enrol.body.split("id=\"totp-secret\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    let csrf = value_of(&enrol.body, "csrf").unwrap();
    let wrong = a.post("/app/sign-in", &[("csrf", &csrf), ("otp", "000000")]).await;
    assert_eq!(wrong.status, 401);
    let again = a.get("/app/sign-in").await;
    assert!(again.body.contains(&secret), "the secret on offer stays the same until confirmed");
    let code = api::app::sign_in::totp_code(&secret).unwrap();
    let ok = a.post("/app/sign-in", &[("csrf", &csrf), ("otp", &code)]).await;
    assert_eq!(ok.location.as_deref(), Some("/app"), "{}", ok.body);
    assert_eq!(a.get("/app/cases").await.status, 200);
    // The next sign-in asks for a code of the enrolled secret, not for enrolment.
    let mut b = Agent::new(&base, "en");
    b.sign_in("intake").await;
    let step = b.get("/app/sign-in").await;
    assert!(!step.body.contains("totp-secret"), "the secret is never shown again");
    assert!(step.body.contains("name=\"otp\""));
    // An auditor (no identity access) needs no second factor, and sees the log.
    let mut aud = Agent::new(&base, "en");
    assert_eq!(aud.sign_in("auditor").await.location.as_deref(), Some("/app"));
    let dash = aud.get("/app/audit").await;
    assert_eq!(dash.status, 200);
    for outcome in ["Wrong username or password", "Wrong code", "Signed in"] {
        assert!(dash.body.contains(outcome), "the log shows {outcome:?}");
    }
    assert!(dash.body.contains("nobody"), "a failure for an unknown username is on record");
    // Sign-out is recorded too and ends the session.
    let csrf = value_of(&a.get("/app/cases").await.body, "csrf").unwrap();
    assert_eq!(a.post("/app/sign-out", &[("csrf", &csrf)]).await.location.as_deref(), Some("/app/sign-in"));
    assert_eq!(a.get("/app/cases").await.location.as_deref(), Some("/app/sign-in"));
    assert!(aud.get("/app/audit").await.body.contains("Signed out"));
    // A code is accepted once: the one used above is refused now.
    let mut i = Agent::new(&base, "en");
    i.sign_in("intake").await;
    let step = i.get("/app/sign-in").await;
    let csrf = value_of(&step.body, "csrf").unwrap();
    let replay = i.post("/app/sign-in", &[("csrf", &csrf), ("otp", &code)]).await;
    assert_eq!(replay.status, 401, "a used code is refused");
    // The next step's code (within the allowed clock skew) works; the intake worker may not
    // read the audit dashboard.
    let next = api::app::sign_in::totp_code_at(&secret, chrono::Utc::now().timestamp() as u64 + 30).unwrap();
    let r = i.post("/app/sign-in", &[("csrf", &csrf), ("otp", &next)]).await;
    assert_eq!(r.location.as_deref(), Some("/app"), "{}", r.body);
    assert_eq!(i.get("/app/audit").await.status, 404);
}

async fn forms_need_the_sessions_token_and_this_origin(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let _p = people(&t).await;
    let base = serve_web(&t, false).await;
    let mut a = signed_in(&base, "intake").await;
    let form = a.get("/app/intake/new").await;
    let (csrf, key) = hidden_fields(&form.body, "/app/intake/new");
    let mut fields = intake_fields();
    // No token, a wrong token, another origin: refused, nothing recorded.
    assert_eq!(a.post("/app/intake/new", &fields).await.status, 403);
    let mut forged = fields.clone();
    forged.push(("csrf", "pbl_forged"));
    assert_eq!(a.post("/app/intake/new", &forged).await.status, 403);
    fields.push(("csrf", &csrf));
    fields.push(("idempotencyKey", &key));
    let cross = a.post_from("/app/intake/new", &fields, "https://evil.example").await;
    assert_eq!(cross.status, 403);
    assert!(cross.body.contains("не со страницы этого сайта"), "{}", cross.body);
    let none = t.app.cases(&Caller::system("t"), Default::default(), 10, None).await.unwrap();
    assert!(none.cases.is_empty(), "nothing was recorded");
    // A token from before signing in again is stale.
    let csrf_old = csrf.clone();
    let r = a.get("/app/cases").await;
    let out = value_of(&r.body, "csrf").unwrap();
    a.post("/app/sign-out", &[("csrf", &out)]).await;
    a.sign_in("intake").await;
    let mut stale = intake_fields();
    stale.push(("csrf", &csrf_old));
    let r = a.post("/app/intake/new", &stale).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("форма устарела"), "{}", r.body);
    // Sign-out everywhere ends the other sessions as well.
    let mut other = signed_in(&base, "intake").await;
    let csrf = value_of(&a.get("/app/cases").await.body, "csrf").unwrap();
    a.post("/app/sign-out-everywhere", &[("csrf", &csrf)]).await;
    assert_eq!(other.get("/app/cases").await.location.as_deref(), Some("/app/sign-in"));
}

async fn sign_in_is_throttled(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let _p = people(&t).await;
    let base = serve_web(&t, false).await;
    let mut a = Agent::new(&base, "ru");
    let p = a.get("/app/sign-in").await;
    let csrf = value_of(&p.body, "csrf").unwrap();
    let mut statuses = vec![];
    for _ in 0..11 {
        let r =
            a.post("/app/sign-in", &[("csrf", &csrf), ("username", "coordinator"), ("password", "guess guess")]).await;
        statuses.push(r.status);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 429]);
    // Even the right password waits now.
    let r = a.post("/app/sign-in", &[("csrf", &csrf), ("username", "coordinator"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, 429);
    assert!(r.body.contains("Слишком много попыток"));
    let log = t.app.sign_in_log(&Caller::system("t"), 100).await.unwrap();
    assert!(log.iter().any(|e| e.outcome == "THROTTLED" && e.username == "coordinator"));
    assert!(log.iter().all(|e| e.client_address.as_deref() == Some("127.0.0.1")), "the client address is kept");
}

async fn sessions_expire_when_idle_and_after_twelve_hours(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let _p = people(&t).await;
    let base = serve_web(&t, false).await;
    let mut a = signed_in(&base, "intake").await;
    assert_eq!(a.get("/app/cases").await.status, 200);
    let old = (chrono::Utc::now() - chrono::Duration::minutes(31)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    projections::on_db!(&t.app.db, p => sqlx::query("UPDATE web_sessions SET last_seen_at = $1").bind(&old).execute(p).await.map(|_| ()).unwrap());
    assert_eq!(a.get("/app/cases").await.location.as_deref(), Some("/app/sign-in"), "idle for 31 minutes");
    let mut b = signed_in(&base, "intake").await;
    let old = (chrono::Utc::now() - chrono::Duration::hours(13)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    projections::on_db!(&t.app.db, p => sqlx::query("UPDATE web_sessions SET created_at = $1").bind(&old).execute(p).await.map(|_| ()).unwrap());
    assert_eq!(b.get("/app/cases").await.location.as_deref(), Some("/app/sign-in"), "signed in 13 hours ago");
    // The session rows hold no cookie value: only its hash.
    let cookie = b.cookies.get("pbl_session").cloned().unwrap_or_default();
    let dump = tests::dump_database(&t.app.db).await;
    assert!(cookie.is_empty() || !dump.contains(&cookie));
}

async fn one_form_render_records_once_and_identity_reads_are_on_record(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let _p = people(&t).await;
    let base = serve_web(&t, false).await;
    let mut a = signed_in(&base, "intake").await;
    let form = a.get("/app/intake/new").await;
    let (csrf, key) = hidden_fields(&form.body, "/app/intake/new");
    let mut fields = intake_fields();
    fields.push(("csrf", &csrf));
    fields.push(("idempotencyKey", &key));
    let first = a.post("/app/intake/new", &fields).await;
    let second = a.post("/app/intake/new", &fields).await;
    assert_eq!(first.status, 303, "{}", first.body);
    assert_eq!(first.location, second.location, "the double submit gets the first answer");
    let all = t.app.cases(&Caller::system("t"), Default::default(), 10, None).await.unwrap();
    assert_eq!(all.cases.len(), 1, "a double-submitted intake records once");
    let case_id = case_id_of(first.location.as_deref().unwrap());
    // The case page hides the identity; the name is in no URL and not on the page.
    let page = a.get(&format!("/app/cases/{case_id}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(CLIENT_NAME));
    assert!(page.body.contains("Показать личные данные"));
    let (csrf, key) = hidden_fields(&page.body, &format!("/app/cases/{case_id}/identity"));
    let shown = a
        .post(
            &format!("/app/cases/{case_id}/identity"),
            &[("csrf", &csrf), ("idempotencyKey", &key), ("purpose", "CONTACT_CLIENT")],
        )
        .await;
    assert_eq!(shown.status, 200);
    assert!(shown.body.contains(CLIENT_NAME));
    assert_eq!(shown.headers["cache-control"], "no-store");
    let reads = t.app.identity_reads(&Caller::system("t"), Some(case_id), None, 10).await;
    let reads = reads.unwrap();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].read.purpose.as_deref(), Some("CONTACT_CLIENT"));
    // Bad input comes back with the summary, linked to the field, and what was typed.
    let mut bad = intake_fields();
    bad.retain(|(k, _)| *k != "exploitationTypes" && *k != "gender");
    bad.push(("narrative", "typed text that must survive"));
    let r = a.submit("/app/intake/new", "/app/intake/new", &bad).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("href=\"#exploitationTypes\"") && r.body.contains("href=\"#gender\""), "{}", r.body);
    assert!(r.body.contains("typed text that must survive") && r.body.contains(CLIENT_NAME));
    assert!(r.body.contains("Выберите хотя бы один вид эксплуатации"));
}

async fn a_case_out_of_scope_is_a_plain_404(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let _p = people(&t).await;
    let base = serve_web(&t, false).await;
    let mut a = signed_in(&base, "intake").await;
    let r = a.submit("/app/intake/new", "/app/intake/new", &intake_fields()).await;
    let case_id = case_id_of(r.location.as_deref().unwrap());
    let mut b = signed_in(&base, "intake.b").await;
    let theirs = b.get(&format!("/app/cases/{case_id}")).await;
    let none = b.get(&format!("/app/cases/{}", Uuid::new_v4())).await;
    assert_eq!((theirs.status, none.status), (404, 404));
    let strip = |s: &str| s.replace(&case_id.to_string(), "").split("<main").nth(1).unwrap().to_string();
    assert_eq!(strip(&theirs.body), strip(&none.body), "the two 404 pages are the same");
    // Posting to it is the same 404, and records nothing.
    let page = a.get(&format!("/app/cases/{case_id}")).await;
    let (_, key) = hidden_fields(&page.body, &format!("/app/cases/{case_id}/referral"));
    let csrf = value_of(&b.get("/app/cases").await.body, "csrf").unwrap();
    let r = b
        .post(
            &format!("/app/cases/{case_id}/referral"),
            &[("csrf", &csrf), ("idempotencyKey", &key), ("service", "SHELTER"), ("referredOn", "2024-03-06")],
        )
        .await;
    assert_eq!(r.status, 404);
    let view = t.app.case_view(case_id).await.unwrap().unwrap();
    assert!(view.referrals.is_empty());
}

/// The whole case in Russian: intake worker → coordinator → lawyer, three sessions.
async fn a_whole_case_in_russian_by_three_users(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let p = people(&t).await;
    let base = serve_web(&t, false).await;
    let mut intake = signed_in(&base, "intake").await;
    let r = intake.submit("/app/intake/new", "/app/intake/new", &intake_fields()).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let case_id = case_id_of(r.location.as_deref().unwrap());
    let case = format!("/app/cases/{case_id}");
    let page = intake.get(r.location.as_deref().unwrap()).await;
    assert!(page.body.contains("Сохранено.") && page.body.contains("Ждёт адвоката"), "{}", page.body);
    assert!(page.body.contains("05.03.2024"), "dates are dd.mm.yyyy in Russian");
    let r = intake
        .submit(&case, &format!("{case}/referral"), &[("service", "SHELTER"), ("referredOn", "2024-03-06")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = intake
        .submit(
            &case,
            &format!("{case}/consent"),
            &[("action", "give"), ("scopes", "DATA_SHARING"), ("on", "2024-03-06")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let list = intake.get(&format!("/app/cases?reference={}", &case_id.simple().to_string()[..8])).await;
    assert!(list.body.contains(&case), "found by its reference");

    let mut coordinator = signed_in(&base, "coordinator").await;
    let waiting = coordinator.get("/app/coordinator").await;
    assert!(waiting.body.contains(&case), "the case waits for a lawyer");
    assert!(waiting.body.contains("Aida Lawyer") && waiting.body.contains("0 (без ограничения)"));
    let r = coordinator.submit(&case, &format!("{case}/assign"), &[("lawyerId", &p.w.lawyer_a_id)]).await;
    assert_eq!(r.status, 303, "{}", r.body);

    let mut lawyer = signed_in(&base, "lawyer.a").await;
    let mine = lawyer.get("/app/assignments").await;
    assert!(mine.body.contains(&case));
    // Declining needs a reason; the refusal is a sentence in Russian.
    let r = lawyer.submit(&case, &format!("{case}/decline"), &[("reason", "")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Заполните это поле."));
    let r = lawyer.submit(&case, &format!("{case}/accept"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = lawyer
        .submit(
            &case,
            &format!("{case}/police-report"),
            &[("filedOn", "2024-03-10"), ("policeUnit", "ОВД Октябрьского района")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let view = t.app.case_view(case_id).await.unwrap().unwrap();
    let report = view.reports[0].id.to_string();
    // (An article of a code not yet in force on the date is refused on the court forms:
    // `web::proceedings`. An article of a repealed code, e.g. 1997-124 in 2024, stays usable
    // for acts committed while it was in force.)
    for (action, fields) in [
        ("registration", vec![("offenseCode", "2021-166"), ("registeredOn", "2024-03-12")]),
        (
            "reclassification",
            vec![
                ("offenseCode", "2021-167"),
                ("decidedOn", "2024-04-02"),
                ("decidedBy", "PROSECUTOR"),
                ("reason", "the client was 17"),
            ],
        ),
        ("outcome", vec![("outcome", "SENT_TO_COURT"), ("decidedOn", "2024-06-01")]),
        ("verdict", vec![("outcome", "CONVICTED"), ("decidedOn", "2024-09-01"), ("sentenceMonths", "96")]),
    ] {
        let mut f = vec![("reportId", report.as_str())];
        f.extend(fields);
        let r = lawyer.submit(&case, &format!("{case}/{action}"), &f).await;
        assert_eq!(r.status, 303, "{action}: {}", r.body);
    }
    // A second report whose registration the police refused.
    let r = lawyer
        .submit(&case, &format!("{case}/police-report"), &[("filedOn", "2024-09-10"), ("policeUnit", "УВД г. Ош")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let view = t.app.case_view(case_id).await.unwrap().unwrap();
    let second = view.reports.iter().find(|r| r.police_unit == "УВД г. Ош").unwrap().id.to_string();
    let r = lawyer
        .submit(
            &case,
            &format!("{case}/refusal"),
            &[("reportId", &second), ("decidedOn", "2024-09-20"), ("reason", "нет состава")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let done = lawyer.get(&case).await;
    assert!(done.body.contains("В регистрации отказано") && done.body.contains("Торговля детьми"), "{}", done.body);
    assert!(done.body.contains("Обвинительный приговор") && done.body.contains("Решение вынесено"), "{}", done.body);
    let view = t.app.case_view(case_id).await.unwrap().unwrap();
    assert_eq!(view.status().as_str(), "DECIDED");
    // The events carry the web user's account as actor, as GraphQL's would.
    let trail = t.app.audit_trail(&Caller::system("t"), case_id).await.unwrap();
    let roles: Vec<String> =
        trail.iter().filter_map(|e| e.actor.as_ref().and_then(|a| a.role)).map(|r| r.as_str().to_string()).collect();
    for role in ["INTAKE_WORKER", "COORDINATOR", "LAWYER"] {
        assert!(roles.iter().any(|r| r == role), "{role} in {roles:?}");
    }
    // Closing the case ends the lawyer's part: the steps are gone from the page.
    let r = lawyer.submit(&case, &format!("{case}/close"), &[("reason", "дело решено")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let closed = lawyer.get(&case).await;
    assert!(closed.body.contains("Закрыто") && !closed.body.contains(&format!("{case}/legal-action")));
    assert!(!tests::dump_database(&t.app.db).await.contains(CLIENT_NAME), "no identity in clear anywhere");
}

tests::on_both_backends!(
    pages_carry_strict_security_headers,
    sign_in_asks_for_a_second_factor_and_records_everything,
    forms_need_the_sessions_token_and_this_origin,
    sign_in_is_throttled,
    sessions_expire_when_idle_and_after_twelve_hours,
    one_form_render_records_once_and_identity_reads_are_on_record,
    a_case_out_of_scope_is_a_plain_404,
    a_whole_case_in_russian_by_three_users,
);

/// `probono user create --password-stdin` makes a web user; `demo seed` prints a user of every
/// role and refuses a ledger holding cases it did not create, unless `--force`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_makes_web_users_and_the_demo_keeps_out_of_real_ledgers() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("probono.db").display());
    // A ledger with a case of its own.
    {
        let app = api::App::open(&api::config::StoreArgs::with_url(&url)).await.unwrap();
        let system = Caller::system("t");
        let org =
            app.register_organization(&system, None, "Real NGO", domain::values::OrganizationKind::Ngo).await.unwrap();
        let worker = user_in(&app, "real.worker", Role::IntakeWorker, Some(org.id)).await;
        let caller = Caller::new(worker, "t");
        let input = api::app::cases::OpenIntakeInput {
            case_id: None,
            organization_id: None,
            identified_on: chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
            referral_source: domain::values::ReferralSource::Hotline,
            exploitation_types: vec![domain::values::ExploitationType::ForcedLabor],
            country_of_exploitation: None,
            client: api::app::cases::ClientInput {
                gender: domain::values::Gender::Female,
                age_at_identification: None,
                citizenship: None,
                region: None,
            },
            identity: api::app::cases::IdentityInput { full_name: CLIENT_NAME.into(), ..Default::default() },
            consent: domain::case::ConsentGrant { legal_aid: true, report_to_police: false, data_sharing: false },
            profile: Default::default(),
            guardian_consent: None,
        };
        app.open_intake(&caller, input).await.unwrap();
        app.db.close().await;
    }
    let out = tests::run_probono(&["demo", "seed", "--database-url", &url]).await;
    assert_ne!(out.code, Some(0), "a ledger with real cases is refused");
    assert!(out.stderr.contains("--force") && out.stderr.contains("did not create"), "{}", out.stderr);
    let out = tests::run_probono(&["demo", "seed", "--force", "--database-url", &url]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for username in ["demo-intake", "demo-coordinator", "demo-lawyer", "demo-auditor", "demo-admin"] {
        assert!(out.stdout.contains(username), "{}", out.stdout);
    }
    assert!(out.stdout.contains("/app/sign-in") || out.stdout.contains("http://127.0.0.1:8080/"));
    // user create reads the password from standard input, and refuses a weak one.
    let run = |password: &str| {
        let mut child = std::process::Command::new(tests::probono_bin())
            .args([
                "user",
                "create",
                "--role",
                "AUDITOR",
                "--username",
                "Aud.Two",
                "--password-stdin",
                "--database-url",
                &url,
            ])
            .env("PROBONO_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    let weak = run("password1");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("too weak"));
    let ok = run(PASSWORD);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let app = api::App::open(&api::config::StoreArgs::with_url(&url)).await.unwrap();
    app.projector.catch_up().await.unwrap();
    let step = app.sign_in_password("aud.two", PASSWORD, true, None).await.unwrap();
    assert!(matches!(step, api::app::sign_in::PasswordStep::Done(_)), "an auditor needs no second factor");
    let refused = app.sign_in_password("aud.two", "not the password", true, None).await.unwrap();
    assert!(matches!(refused, api::app::sign_in::PasswordStep::Refused));
}

async fn user_in(app: &api::App, username: &str, role: Role, org: Option<Uuid>) -> api::access::Principal {
    let input = NewAccount {
        account_id: None,
        name: username.into(),
        role,
        organization_id: org,
        lawyer_id: None,
        expires_at: None,
    };
    let id = app.create_user(&Caller::system("t"), input, username, PASSWORD).await.unwrap();
    if role.reads_identity() {
        // A second person approves it: the COORDINATOR a lawyer's account, an ADMIN others'.
        let approver_role = if role == Role::Lawyer { Role::Coordinator } else { Role::Admin };
        let approver = NewAccount {
            account_id: None,
            name: "approver".into(),
            role: approver_role,
            organization_id: None,
            lawyer_id: None,
            expires_at: None,
        };
        let approver = app.create_account(&Caller::system("t"), approver).await.unwrap();
        let p = api::access::Principal {
            account_id: approver.account.id,
            role: approver_role,
            ..api::access::Principal::system()
        };
        app.approve_account(&Caller::new(p, "t"), id).await.unwrap();
    }
    let a =
        app.me(&Caller::new(api::access::Principal { account_id: id, ..api::access::Principal::system() }, "t")).await;
    let a = a.unwrap();
    api::access::Principal {
        account_id: id,
        name: a.name,
        role: a.role,
        organization_id: a.organization_id,
        lawyer_id: a.lawyer_id,
        token_id: Uuid::new_v4(),
        approved: a.approved,
    }
}

/// Second-person approval in the browser: an ADMIN sees the intake workers' and
/// coordinators' accounts another person created and approves them; the COORDINATOR sees the
/// lawyers'; nobody sees their own, and an intake worker has no such page.
async fn approvals_are_made_by_a_second_person_in_the_web_app(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let p = people(&t).await;
    user(&t, "chief", Role::Admin, None, None).await;
    let mint = "mutation($i: CreateAccessTokenInput!) { createAccessToken(input: $i) { account { id approved } } }";
    let worker = t
        .ok(&t.admin, mint, serde_json::json!({ "i": { "name": "New intake worker", "role": "INTAKE_WORKER", "organizationId": p.w.org } }))
        .await["createAccessToken"]["account"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let lawyer = t
        .ok(&t.admin, mint, serde_json::json!({ "i": { "name": "Second lawyer login", "role": "LAWYER", "lawyerId": p.w.lawyer_b_id } }))
        .await["createAccessToken"]["account"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let base = serve_web(&t, false).await;
    let mut chief = signed_in(&base, "chief").await;
    let page = chief.get("/app/approvals").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("New intake worker") && !page.body.contains("Second lawyer login"), "{}", page.body);
    let action = format!("/app/approvals/{worker}");
    let r = chief.submit("/app/approvals", &action, &[]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/app/approvals")), "{}", r.body);
    let approved = |id: String| {
        let t = &t;
        async move {
            let d = t.ok(&t.admin, "{ accounts { id approved } }", serde_json::json!({})).await;
            d["accounts"].as_array().unwrap().iter().any(|a| a["id"] == id.as_str() && a["approved"] == true)
        }
    };
    assert!(approved(worker.clone()).await, "approved by the second ADMIN");
    assert!(!chief.get("/app/approvals").await.body.contains("New intake worker"));
    // The coordinator approves the lawyer's account.
    let mut coordinator = signed_in(&base, "coordinator").await;
    let page = coordinator.get("/app/approvals").await;
    assert!(page.body.contains("Second lawyer login") && !page.body.contains("New intake worker"), "{}", page.body);
    let r = coordinator.submit("/app/approvals", &format!("/app/approvals/{lawyer}"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(approved(lawyer).await);
    // An intake worker has no approvals page.
    let mut intake = signed_in(&base, "intake").await;
    assert_eq!(intake.get("/app/approvals").await.status, 404);
}

tests::on_both_backends!(approvals_are_made_by_a_second_person_in_the_web_app);
