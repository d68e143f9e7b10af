//! The `dashboard` section of `probono-bench`: the outcomes dashboard (`/app/dashboard`, an
//! auditor's session) rendered over a synthetic ledger, its p99 against `outcomeStats`' p99
//! over GraphQL in the same run and on the same data. The page asks for three `outcomeStats`
//! answers (totals, by year, by authority), the published figures, and draws two charts; the
//! baseline asks one `outcomeStats` question per request.

use super::{Errors, Section};
use crate::{synth, Backend, TestApp, TestDb};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// What the section measured, for the benchmark's table and JSON.
pub struct Measured {
    pub section: Section,
    /// The line of the benchmark's table.
    pub row: (String, String),
    pub json: Value,
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((p / 100.0) * (v.len() as f64 - 1.0)).round() as usize;
    v[i.min(v.len() - 1)]
}

/// The pages asked for, in turn: unfiltered, and narrowed by a region and a picked dimension.
const PAGES: &[&str] = &["/app/dashboard", "/app/dashboard?region=OSH&gender=FEMALE&from=2019-01-01"];
const QUERIES: &[&str] = &[
    "{ outcomeStats(groupBy: [YEAR]) { totals { casesOpened registeredAsFraud } groups { counts { registeredAsTip registeredAsFraud } } } }",
    "{ outcomeStats(filter: {region: OSH, from: \"2019-01-01\"}, groupBy: [YEAR, GENDER]) { groups { counts { registeredAsTip registeredAsFraud } } } }",
];

/// Signs in as a browser would; the session cookie's value.
async fn sign_in(base: &str, username: &str, password: &str) -> Option<String> {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().ok()?;
    let page = client.get(format!("{base}/app/sign-in")).send().await.ok()?;
    let cookie_of = |resp: &reqwest::Response, name: &str| {
        resp.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.split(';').next()?.strip_prefix(&format!("{name}=")).map(str::to_string))
    };
    let pre = cookie_of(&page, "pbl_pre")?;
    let resp = client
        .post(format!("{base}/app/sign-in"))
        .header("cookie", format!("pbl_pre={pre}"))
        .header("origin", base)
        .form(&[("csrf", pre.as_str()), ("username", username), ("password", password)])
        .send()
        .await
        .ok()?;
    cookie_of(&resp, "pbl_session").filter(|c| !c.is_empty())
}

/// Measures the dashboard over a ledger of about `events` events, `requests` pages and as
/// many `outcomeStats` answers, one client at a time.
pub async fn run(backend: Backend, events: usize, requests: usize) -> Measured {
    let n = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let name = super::section_name("dashboard", n);
    let what = "rendered dashboards";
    let failed = |why: String| Measured {
        section: Section::failed(name.clone(), what, why.clone()),
        row: (format!("dashboard ({n})"), format!("FAILED: {why}")),
        json: json!({"failure": why}),
    };
    let db = TestDb::new(backend).await;
    db.ensure_key();
    let pdb = match projections::Db::connect(&db.url, &projections::db::DbOptions::default()).await {
        Ok(p) => p,
        Err(e) => return failed(e.to_string()),
    };
    if let Err(e) = pdb.migrate().await {
        return failed(e.to_string());
    }
    if let Err(e) = synth::fill(&pdb, events).await {
        return failed(e.to_string());
    }
    // The synthetic events are all committed: wait until readers see them, then rebuild.
    tokio::time::sleep(Duration::from_millis(200)).await;
    if let Err(e) = projections::projector::rebuild(&pdb).await {
        return failed(format!("the rebuild failed: {e}"));
    }
    let cases = projections::store::list_cases(&pdb, &Default::default(), 1, None).await.map(|p| p.total).unwrap_or(0);
    pdb.close().await;
    let mut t = TestApp::spawn_as_served_on(db).await;
    let password = "bench auditor copper kettle";
    let input = api::app::accounts::NewAccount {
        account_id: None,
        name: "bench auditor".into(),
        role: domain::values::Role::Auditor,
        organization_id: None,
        lawyer_id: None,
        expires_at: None,
    };
    if let Err(e) = t.app.create_user(&api::app::Caller::system("bench"), input, "bench.auditor", password).await {
        return failed(format!("web user: {}", e.message()));
    }
    let auditor = t
        .ok(&t.admin, "mutation { createAccessToken(input: {name: \"a\", role: AUDITOR}) { token } }", json!({}))
        .await["createAccessToken"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => return failed(e.to_string()),
    };
    let base = format!("http://localhost:{}", listener.local_addr().map(|a| a.port()).unwrap_or_default());
    let opts = api::http::EdgeOptions { introspection: true, mutation_rate: None };
    let router = api::http::router_full(t.app.clone(), opts, api::http::WebOptions { require_totp: false });
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
    });
    let Some(cookie) = sign_in(&base, "bench.auditor", password).await else {
        server.abort();
        return failed("signing in to the web app failed".into());
    };
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_default();

    // The first page loads the statistics index: reported on its own, not in the p99.
    let mut errors = Errors::default();
    let (mut page_lat, mut stats_lat) = (Vec::with_capacity(requests), Vec::with_capacity(requests));
    let mut answers = 0u64;
    let mut first_ms = f64::NAN;
    for i in 0..=requests {
        let started = Instant::now();
        let reply = client
            .get(format!("{base}{}", PAGES[i % PAGES.len()]))
            .header("cookie", format!("pbl_session={cookie}"))
            .send()
            .await;
        let outcome = match reply {
            Ok(resp) => {
                let status = resp.status().as_u16();
                match resp.text().await {
                    Ok(body) if status == 200 && body.contains("<svg") && body.contains("<table") => Ok(()),
                    Ok(body) => Err((format!("HTTP {status}"), super::clip(&body, 200))),
                    Err(e) => Err(("transport".to_string(), e.to_string())),
                }
            }
            Err(e) => Err(("transport".to_string(), e.to_string())),
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match outcome {
            Ok(()) if i == 0 => first_ms = ms,
            Ok(()) => {
                answers += 1;
                page_lat.push(ms);
            }
            Err((kind, why)) => errors.add(kind, why),
        }
    }
    let mut baseline = 0u64;
    for i in 0..requests {
        let started = Instant::now();
        let (status, body) = match client
            .post(t.url("/graphql"))
            .bearer_auth(&auditor)
            .json(&json!({"query": QUERIES[i % QUERIES.len()]}))
            .send()
            .await
        {
            Ok(r) => {
                let s = r.status().as_u16();
                (s, r.bytes().await.map(|b| b.to_vec()).unwrap_or_default())
            }
            Err(e) => {
                errors.add("baseline transport", e.to_string());
                continue;
            }
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match super::graphql_data(status, &body) {
            Ok(d) if d["outcomeStats"]["groups"].is_array() => {
                baseline += 1;
                stats_lat.push(ms);
            }
            Ok(d) => errors.add("baseline unexpected data", super::clip(&d.to_string(), 200)),
            Err((kind, why)) => errors.add(format!("baseline {kind}"), why),
        }
    }
    server.abort();
    t.stop().await;
    let (pp99, sp99) = (percentile(&mut page_lat, 99.0), percentile(&mut stats_lat, 99.0));
    let ratio = pp99 / sp99;
    let mut section = Section::new(name, what);
    section.answers = answers;
    section.errors = errors;
    section.baseline_ops = Some(baseline);
    section.figures = vec![("dashboard_p99_ms", pp99), ("outcome_stats_p99_ms", sp99), ("ratio", ratio)];
    let json = json!({"cases": cases, "events": events, "requests": requests, "dashboard_p99_ms": pp99,
        "dashboard_p50_ms": percentile(&mut page_lat, 50.0), "first_page_ms": first_ms,
        "outcome_stats_p99_ms": sp99, "ratio": ratio, "errors": section.errors.total()});
    let row = (
        format!("dashboard page p99 over {cases} cases ({n}) / outcomeStats p99"),
        format!("{pp99:.1} ms / {sp99:.1} ms = {ratio:.2}  ({} errors)", section.errors.total()),
    );
    Measured { section, row, json }
}
