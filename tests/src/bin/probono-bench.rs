//! `probono-bench`: measures each figure of DESIGN.md §8 together with its baseline, in the
//! same process on the same machine, and reports ratios. `--quick` is CI's smoke test: it
//! checks the instrument works, not the targets.

use clap::Parser;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tests::{synth, Backend, TestApp, TestDb};

// The same allocator as `probono`, so in-process servers behave like the real one.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(name = "probono-bench", about = "Pro Bono Ledger benchmark: figures and same-run baselines")]
struct Args {
    /// Small sizes and short runs (under two minutes): checks the instrument, not the targets.
    #[arg(long)]
    quick: bool,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Skip the PostgreSQL measurements.
    #[arg(long)]
    no_postgres: bool,
    /// Run only these sections (commands, read, rebuild, stats, startup); all by default.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

struct Sizes {
    run: Duration,
    clients: usize,
    read_requests: usize,
    rebuild_events: usize,
    stats_requests: usize,
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((p / 100.0) * (v.len() as f64 - 1.0)).round() as usize;
    v[i.min(v.len() - 1)]
}

fn name(b: Backend) -> &'static str {
    match b {
        Backend::Postgres => "postgres",
        Backend::Sqlite => "sqlite",
    }
}

async fn gql(client: &reqwest::Client, url: &str, token: &str, query: &str, vars: Value) -> Value {
    match client.post(url).bearer_auth(token).json(&json!({"query": query, "variables": vars})).send().await {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

async fn ok(t: &TestApp, token: &str, query: &str, vars: Value) -> Value {
    t.ok(token, query, vars).await
}

/// Organisation, tokens, one lawyer and `cases` accepted cases for the command load, plus
/// one more with a realistic history for the read benchmark (the load would grow its stream
/// far beyond a real case's).
async fn setup(t: &TestApp, cases: usize) -> (String, String, Vec<String>, String) {
    let org =
        ok(t, &t.admin, "mutation { registerOrganization(input: {name: \"Bench NGO\", kind: NGO}) { id } }", json!({}))
            .await["registerOrganization"]["id"]
            .clone();
    let token = |role: &str, extra: Value| {
        let mut input = json!({"name": format!("bench {role}"), "role": role});
        if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
            i.extend(e.clone());
        }
        async move {
            ok(
                t,
                &t.admin,
                "mutation($i: CreateAccessTokenInput!) { createAccessToken(input: $i) { token } }",
                json!({"i": input}),
            )
            .await["createAccessToken"]["token"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
    };
    let intake = token("INTAKE_WORKER", json!({"organizationId": org})).await;
    let coordinator = token("COORDINATOR", json!({})).await;
    let auditor = token("AUDITOR", json!({})).await;
    let lawyer_id = ok(
        t,
        &coordinator,
        "mutation { registerLawyer(input: {fullName: \"Bench Lawyer\", gender: FEMALE, status: PROFESSIONAL, region: OSH}) { id } }",
        json!({}),
    )
    .await["registerLawyer"]["id"]
        .clone();
    let lawyer = token("LAWYER", json!({"lawyerId": lawyer_id})).await;
    let mut ids = vec![];
    for i in 0..=cases {
        let c = ok(t, &intake, "mutation($i: OpenIntakeInput!) { openIntake(input: $i) { id } }", json!({"i": {
            "identifiedOn": "2020-01-15", "referralSource": "HOTLINE", "exploitationTypes": ["FORCED_LABOR"], "countryOfExploitation": "RU",
            "client": {"fullName": format!("Bench Client {i}"), "gender": "MALE", "ageAtIdentification": 30, "region": "OSH"},
            "consent": {"legalAid": true, "reportToPolice": true, "dataSharing": false}}}))
        .await["openIntake"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        ok(
            t,
            &coordinator,
            "mutation($c: ID!, $l: ID!) { assignLawyer(input: {caseId: $c, lawyerId: $l}) { id } }",
            json!({"c": c, "l": lawyer_id}),
        )
        .await;
        ok(t, &lawyer, "mutation($c: ID!) { acceptAssignment(input: {caseId: $c}) { id } }", json!({"c": c})).await;
        ids.push(c);
    }
    // A realistic detail for the read benchmark.
    let detail = ids.pop().unwrap_or_default();
    let c0 = &detail;
    let r = ok(t, &lawyer, "mutation($c: ID!) { filePoliceReport(input: {caseId: $c, filedOn: \"2020-02-01\", policeUnit: \"Osh city\"}) { policeReports { id } } }", json!({"c": c0})).await;
    let rid = r["filePoliceReport"]["policeReports"][0]["id"].clone();
    ok(t, &lawyer, "mutation($c: ID!, $r: ID!) { recordOffenseRegistration(input: {caseId: $c, reportId: $r, offenseCode: \"2021-209\", registeredOn: \"2020-02-03\"}) { id } }", json!({"c": c0, "r": rid})).await;
    ok(t, &lawyer, "mutation($c: ID!, $r: ID!) { reclassifyOffense(input: {caseId: $c, reportId: $r, offenseCode: \"2021-166\", decidedOn: \"2020-09-03\", decidedBy: PROSECUTOR, reason: \"review\"}) { id } }", json!({"c": c0, "r": rid})).await;
    (lawyer, auditor, ids, detail)
}

struct Throughput {
    per_s: f64,
    ok: u64,
    errors: u64,
    p99_ms: f64,
}

/// 16 clients, each recording legal actions on its own case for `run`.
async fn command_load(t: &TestApp, lawyer: &str, cases: &[String], run: Duration) -> Throughput {
    let stop = Arc::new(AtomicBool::new(false));
    let (okc, errc) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut tasks = vec![];
    for case in cases.iter().map(String::clone) {
        let (stop, okc, errc, url, token) =
            (stop.clone(), okc.clone(), errc.clone(), t.url("/graphql"), lawyer.to_string());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut lat = vec![];
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let v = gql(&client, &url, &token, "mutation($c: ID!) { recordLegalAction(input: {caseId: $c, kind: CONSULTATION, takenOn: \"2020-03-01\"}) { version } }", json!({"c": case})).await;
                lat.push(started.elapsed().as_secs_f64() * 1000.0);
                if v.get("errors").is_none() && !v.is_null() {
                    okc.fetch_add(1, Ordering::Relaxed);
                } else {
                    errc.fetch_add(1, Ordering::Relaxed);
                }
            }
            lat
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(run).await;
    stop.store(true, Ordering::Relaxed);
    let mut lat = vec![];
    for task in tasks {
        lat.extend(task.await.unwrap_or_default());
    }
    let secs = started.elapsed().as_secs_f64();
    let ok = okc.load(Ordering::Relaxed);
    Throughput { per_s: ok as f64 / secs, ok, errors: errc.load(Ordering::Relaxed), p99_ms: percentile(&mut lat, 99.0) }
}

/// The bare database doing the same storage work: per transaction, read one stream and append
/// one event to it; `clients` concurrent writers on their own streams.
async fn baseline(db: &projections::Db, clients: usize, run: Duration) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let mut tasks = vec![];
    for c in 0..clients {
        let (db, stop, count) = (db.clone(), stop.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            let id = format!("baseline-{c}");
            let payload = json!({"LegalActionRecorded": {"kind": "CONSULTATION", "taken_on": "2020-03-01", "note": null}});
            let metadata = json!({"actor_id": "x", "actor_role": "LAWYER", "correlation_id": "bench", "recorded_at": "2020-03-01T00:00:00Z"});
            let mut seq: i64 = 0;
            while !stop.load(Ordering::Relaxed) {
                let r: Result<(), sqlx::Error> = async {
                    match &db {
                        projections::Db::Postgres(p) => {
                            let mut tx = p.begin().await?;
                            let rows = sqlx::query("SELECT sequence, payload, metadata FROM events WHERE aggregate_type = 'Bench' AND aggregate_id = $1 ORDER BY sequence").bind(&id).fetch_all(&mut *tx).await?;
                            seq = rows.len() as i64 + 1;
                            sqlx::query("INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) VALUES ('Bench', $1, $2, 'LegalActionRecorded', '1.0', $3, $4)")
                                .bind(&id).bind(seq).bind(&payload).bind(&metadata).execute(&mut *tx).await?;
                            tx.commit().await
                        }
                        projections::Db::Sqlite(p) => {
                            let mut tx = p.begin_with("BEGIN IMMEDIATE").await?;
                            let rows = sqlx::query("SELECT sequence, payload, metadata FROM events WHERE aggregate_type = 'Bench' AND aggregate_id = $1 ORDER BY sequence").bind(&id).fetch_all(&mut *tx).await?;
                            seq = rows.len() as i64 + 1;
                            sqlx::query("INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) VALUES ('Bench', $1, $2, 'LegalActionRecorded', '1.0', $3, $4)")
                                .bind(&id).bind(seq).bind(payload.to_string()).bind(metadata.to_string()).execute(&mut *tx).await?;
                            tx.commit().await
                        }
                    }
                }
                .await;
                if r.is_ok() {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
            seq
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(run).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn fresh(backend: Backend) -> TestDb {
    TestDb::new(backend).await
}

async fn latency_load(
    url: String,
    token: Option<String>,
    query: &'static str,
    vars: Value,
    conns: usize,
    total: usize,
) -> Vec<f64> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(conns).build().unwrap_or_default();
    let per = total.div_ceil(conns);
    let mut tasks = vec![];
    for _ in 0..conns {
        let (client, url, token, vars) = (client.clone(), url.clone(), token.clone(), vars.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per);
            for _ in 0..per {
                let started = Instant::now();
                let mut req = client.post(&url).json(&json!({"query": query, "variables": vars}));
                if let Some(t) = &token {
                    req = req.bearer_auth(t);
                }
                if let Ok(r) = req.send().await {
                    let _ = r.bytes().await;
                }
                lat.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            lat
        }));
    }
    let mut all = vec![];
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    all
}

/// A trivial async-graphql server answering from memory: the read baseline.
async fn trivial_server() -> String {
    struct Q;
    #[async_graphql::Object]
    impl Q {
        async fn hello(&self) -> &'static str {
            "world"
        }
    }
    let schema = async_graphql::Schema::new(Q, async_graphql::EmptyMutation, async_graphql::EmptySubscription);
    let app = axum::Router::new().route(
        "/graphql",
        axum::routing::post(move |req: async_graphql_axum::GraphQLRequest| {
            let schema = schema.clone();
            async move { async_graphql_axum::GraphQLResponse::from(schema.execute(req.into_inner()).await) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/graphql")
}

const CASE_DETAIL: &str = "query($id: ID!) { case(id: $id) { id status identifiedOn exploitationTypes countryOfExploitation
  client { gender ageGroup region } assignedLawyer { fullName status } consent { legalAid reportToPolice }
  policeReports { id filedOn policeUnit initialOffense { code category } currentOffense { code category } currentCategory
  registrationRefused reclassifications { decidedBy reason to { code } } investigationOutcome verdict } } }";

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    json!({"cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), "cpu": cpu, "git_commit": commit})
}

fn probono_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    [dir.join("probono"), dir.join("../probono")].into_iter().find(|p| p.exists())
}

async fn startup_ms(db: &TestDb) -> Option<f64> {
    let bin = probono_binary()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
    let mut runs = vec![];
    for _ in 0..3 {
        let started = Instant::now();
        let mut child = std::process::Command::new(&bin)
            .args(["serve", "--database-url", &db.url, "--bind", &format!("127.0.0.1:{port}")])
            .env("PROBONO_MASTER_KEY_FILE", &db.key_file)
            .env("PROBONO_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let client = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}/readyz");
        let mut ready = None;
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(r) = client.get(&url).send().await {
                if r.status().is_success() {
                    ready = Some(started.elapsed().as_secs_f64() * 1000.0);
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        runs.push(ready?);
    }
    Some(percentile(&mut runs, 50.0))
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let sizes = if args.quick {
        Sizes {
            run: Duration::from_secs(3),
            clients: 16,
            read_requests: 3_200,
            rebuild_events: 100_000,
            stats_requests: 50,
        }
    } else {
        Sizes {
            run: Duration::from_secs(10),
            clients: 16,
            read_requests: 32_000,
            rebuild_events: 1_100_000,
            stats_requests: 300,
        }
    };
    let backends: Vec<Backend> =
        if args.no_postgres { vec![Backend::Sqlite] } else { vec![Backend::Postgres, Backend::Sqlite] };
    let mut out = json!({"quick": args.quick, "machine": machine()});
    let mut table: Vec<(String, String)> = vec![];

    let want = |section: &str| args.only.is_empty() || args.only.iter().any(|o| o == section);
    for &b in &backends {
        let n = name(b);
        if want("commands") || want("read") {
            // Commands through GraphQL vs the bare database.
            let t = TestApp::spawn(b).await;
            let (lawyer, auditor, cases, detail_case) = setup(&t, sizes.clients).await;
            let _ = t.app.projector.drain_event_lag_seconds();
            let system = command_load(&t, &lawyer, &cases, sizes.run).await;
            let mut lag: Vec<f64> = t.app.projector.drain_event_lag_seconds().into_iter().map(|s| s * 1000.0).collect();
            let base_db = fresh(b).await;
            let pool = projections::Db::connect(&base_db.url, &projections::db::DbOptions::default())
                .await
                .expect("baseline database");
            pool.migrate().await.expect("migrate baseline");
            let base = baseline(&pool, sizes.clients, sizes.run).await;
            pool.close().await;
            let ratio = system.per_s / base;
            out[format!("command_throughput_{n}")] = json!({"graphql_commands_per_s": system.per_s, "acknowledged": system.ok, "errors": system.errors,
            "command_p99_ms": system.p99_ms, "baseline_tx_per_s": base, "ratio": ratio, "clients": sizes.clients});
            table.push((
                format!("commands/s via GraphQL ({n}, {} clients)", sizes.clients),
                format!("{:.0} ({} errors)", system.per_s, system.errors),
            ));
            table.push((format!("bare {n}: stream read + insert tx/s"), format!("{base:.0}")));
            table.push((format!("command throughput ratio ({n})"), format!("{ratio:.2}  (target ≥ 0.50)")));
            let lag_p99 = percentile(&mut lag, 99.0);
            out[format!("projection_lag_{n}")] =
                json!({"p50_ms": percentile(&mut lag, 50.0), "p99_ms": lag_p99, "events": lag.len()});
            table.push((format!("projection lag p99 under load ({n})"), format!("{lag_p99:.1} ms  (target ≤ 50)")));
            if b == Backend::Postgres || backends.len() == 1 {
                out["command_throughput_ratio"] = json!(ratio);
                out["projection_lag_p99_ms"] = json!(lag_p99);
            } else {
                out["command_throughput_ratio_sqlite"] = json!(ratio);
            }

            // Case detail at 64 connections vs a trivial in-memory query.
            let trivial_url = trivial_server().await;
            let mut trivial = latency_load(trivial_url, None, "{ hello }", json!({}), 64, sizes.read_requests).await;
            let mut detail = latency_load(
                t.url("/graphql"),
                Some(auditor.clone()),
                CASE_DETAIL,
                json!({"id": detail_case}),
                64,
                sizes.read_requests,
            )
            .await;
            let (tp99, dp99) = (percentile(&mut trivial, 99.0), percentile(&mut detail, 99.0));
            let read_ratio = dp99 / tp99;
            out[format!("read_{n}")] = json!({"case_detail_p99_ms": dp99, "case_detail_p50_ms": percentile(&mut detail, 50.0), "trivial_p99_ms": tp99, "ratio": read_ratio, "requests": sizes.read_requests});
            table.push((
                format!("case detail p99 @64 ({n}) / trivial p99"),
                format!("{dp99:.2} ms / {tp99:.2} ms = {read_ratio:.2}  (target ≤ 2)"),
            ));
            if b == Backend::Postgres || backends.len() == 1 {
                out["read_p99_ratio"] = json!(read_ratio);
            }
            let mut t = t;
            t.stop().await;
            drop(t);
        }
        if !(want("rebuild") || want("stats")) {
            continue;
        }

        // Rebuild from a synthetic ledger.
        let db = fresh(b).await;
        db.ensure_key();
        let pdb = projections::Db::connect(&db.url, &projections::db::DbOptions::default()).await.expect("connect");
        pdb.migrate().await.expect("migrate");
        let written = synth::fill(&pdb, sizes.rebuild_events).await.expect("synthetic ledger");
        let started = Instant::now();
        let replayed = projections::projector::rebuild(&pdb).await.expect("rebuild");
        let secs = started.elapsed().as_secs_f64();
        let eps = replayed as f64 / secs;
        let cases_n: i64 =
            projections::store::list_cases(&pdb, &Default::default(), 1, None).await.map(|p| p.total).unwrap_or(0);
        out["rebuild_events_per_s"][n] = json!(eps);
        out[format!("rebuild_{n}")] =
            json!({"events": written, "seconds": secs, "events_per_s": eps, "cases": cases_n});
        table.push((
            format!("rebuild ({n}, {written} events)"),
            format!("{eps:.0} events/s in {secs:.1} s  (target ≥ 100000)"),
        ));
        pdb.close().await;

        // Statistics over the rebuilt read models, through the server.
        let t = TestApp::spawn_on(db).await;
        let auditor = t
            .ok(&t.admin, "mutation { createAccessToken(input: {name: \"a\", role: AUDITOR}) { token } }", json!({}))
            .await["createAccessToken"]["token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let client = reqwest::Client::new();
        // The first query loads the in-memory index: reported on its own, not in the p99.
        let started = Instant::now();
        gql(
            &client,
            &t.url("/graphql"),
            &auditor,
            "{ outcomeStats(groupBy: [YEAR]) { totals { casesOpened } } }",
            json!({}),
        )
        .await;
        let cold_ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut lat = vec![];
        for i in 0..sizes.stats_requests {
            let q = if i % 2 == 0 {
                "{ outcomeStats(groupBy: [YEAR, REGION]) { groups { counts { registeredAsFraud reclassifiedToTip convictions } } } }"
            } else {
                "{ outcomeStats(groupBy: [OFFENSE_CODE, GENDER]) { groups { counts { registeredAsFraud reclassifiedToTip convictions } } } }"
            };
            let started = Instant::now();
            let v = gql(&client, &t.url("/graphql"), &auditor, q, json!({})).await;
            lat.push(started.elapsed().as_secs_f64() * 1000.0);
            if v.get("errors").is_some() {
                eprintln!("stats error: {v}");
            }
        }
        let sp99 = percentile(&mut lat, 99.0);
        out["stats_p99_ms"][n] = json!(sp99);
        out[format!("stats_{n}")] = json!({"p50_ms": percentile(&mut lat, 50.0), "p99_ms": sp99, "cases": cases_n, "requests": sizes.stats_requests, "first_query_ms": cold_ms});
        table.push((
            format!("outcomeStats 2 dims over {cases_n} cases ({n})"),
            format!("p99 {sp99:.1} ms  (target ≤ 50)"),
        ));
        let mut t = t;
        t.stop().await;

        // Start-up of the real binary on the embedded default, 100,000 events.
        if b == Backend::Sqlite && want("startup") {
            let db2 = fresh(b).await;
            db2.ensure_key();
            let pdb =
                projections::Db::connect(&db2.url, &projections::db::DbOptions::default()).await.expect("connect");
            pdb.migrate().await.expect("migrate");
            let n_events = synth::fill(&pdb, 100_000).await.expect("ledger");
            projections::projector::rebuild(&pdb).await.expect("rebuild");
            pdb.close().await;
            match startup_ms(&db2).await {
                Some(ms) => {
                    out["startup_ms"] = json!(ms);
                    table.push((
                        format!("probono serve to /readyz ({n_events} events, sqlite)"),
                        format!("{ms:.0} ms  (target ≤ 1000)"),
                    ));
                }
                None => table
                    .push(("probono serve start-up".into(), "binary not found next to probono-bench: build it".into())),
            }
        }
    }

    println!("\nPro Bono Ledger benchmark{} — {}", if args.quick { " (quick)" } else { "" }, out["machine"]);
    let w = table.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    for (k, v) in &table {
        println!("  {k:<w$}  {v}");
    }
    if let Some(path) = &args.json {
        if let Err(e) = std::fs::write(path, serde_json::to_string_pretty(&out).unwrap_or_default()) {
            eprintln!("cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
}
