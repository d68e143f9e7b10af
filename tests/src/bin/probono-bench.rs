//! `probono-bench`: measures each figure of DESIGN.md §8 together with its baseline, in the
//! same process on the same machine, and reports ratios. `--quick` is CI's smoke test: it
//! checks the instrument works, not the targets. Every run, quick or full, exits non-zero
//! unless every section measured real, error-free answers (`tests::bench::verdict`): each
//! response is checked (HTTP 200, JSON, no `errors`, the data asked for), and a section
//! with errors, without answers, with an idle baseline or a ratio that is not a finite
//! positive number fails the run, naming the check.

use clap::Parser;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tests::anchors;
use tests::bench::{self, clip, graphql_data, section_name, Errors, Section};
use tests::{synth, Backend, TestApp, TestDb};

// The same allocator as `probono`, so in-process servers behave like the real one.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECTIONS: [&str; 8] = ["commands", "read", "web", "rebuild", "stats", "startup", "dashboard", "growth"];

/// Sections run only when named with `--only` (they take longer than the rest together).
const ON_REQUEST: [&str; 1] = ["growth"];

/// How long `probono serve` may take to answer `/readyz` with 200.
const READY_WITHIN: Duration = Duration::from_secs(60);

#[derive(Parser, Debug)]
#[command(
    name = "probono-bench",
    about = "Pro Bono Ledger benchmark: figures and same-run baselines",
    long_about = "Pro Bono Ledger benchmark: figures and same-run baselines.\n\nExits 0 only when every \
                  section measured real, error-free answers: no errors, at least one answer, a working \
                  baseline, every figure finite and positive, start-up measured. Otherwise it names the \
                  failed checks and exits 1."
)]
struct Args {
    /// Small sizes and short runs (under two minutes): checks the instrument, not the targets.
    #[arg(long)]
    quick: bool,
    /// Also write the results (and the verdict) as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Skip the PostgreSQL measurements.
    #[arg(long)]
    no_postgres: bool,
    /// Run only these sections; by default all but `growth` (rebuild and statistics at 1 M
    /// and 3 M events, which runs only when named here).
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(SECTIONS))]
    only: Vec<String>,
    /// The `probono` binary whose start-up is measured; by default the one built beside
    /// `probono-bench`.
    #[arg(long, value_name = "PATH")]
    probono_bin: Option<PathBuf>,
}

struct Sizes {
    run: Duration,
    clients: usize,
    /// Requests per load per round of the read section.
    read_requests: usize,
    /// Rounds of the read section, each a trivial and a case-detail load.
    read_rounds: usize,
    rebuild_events: usize,
    startup_events: usize,
    /// The ledger sizes of the growth section, smallest first.
    growth_events: [usize; 2],
    /// Cases (and the bare framework's aggregates) each command client takes in turn.
    cases_per_client: usize,
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

/// An error and its causes on one line ("error sending request: … : Connection refused").
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

type Answer = Result<Value, (String, String)>;

/// One GraphQL request over HTTP: the milliseconds until its whole body arrived, and its
/// `data`, or the kind of failure and why (`bench::graphql_data`).
async fn request(client: &reqwest::Client, url: &str, token: Option<&str>, query: &str, vars: &Value) -> (f64, Answer) {
    let started = Instant::now();
    let mut req = client.post(url).json(&json!({"query": query, "variables": vars}));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let reply = match req.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            r.bytes().await.map(|b| (status, b)).map_err(|e| ("transport".to_string(), chain(&e)))
        }
        Err(e) => Err(("transport".to_string(), chain(&e))),
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    (ms, reply.and_then(|(status, body)| graphql_data(status, &body)))
}

/// A real answer whose data also holds what was asked for.
fn expect(answer: Answer, holds: impl FnOnce(&Value) -> bool) -> Result<(), (String, String)> {
    let data = answer?;
    if holds(&data) {
        Ok(())
    } else {
        Err(("unexpected data".into(), clip(&data.to_string(), 200)))
    }
}

/// What a load produced: checked answers, the failures by kind, and every latency.
#[derive(Default)]
struct Load {
    answers: u64,
    errors: Errors,
    lat: Vec<f64>,
}

impl Load {
    fn record(&mut self, ms: f64, r: Result<(), (String, String)>) {
        self.lat.push(ms);
        match r {
            Ok(()) => self.answers += 1,
            Err((kind, why)) => self.errors.add(kind, why),
        }
    }

    /// Adds another load's answers, failures and latencies to this one.
    fn absorb(&mut self, l: Load) {
        self.answers += l.answers;
        self.errors.merge("", l.errors);
        self.lat.extend(l.lat);
    }

    /// The loads of all tasks together; a task that panicked is an error, not silence.
    async fn join(tasks: Vec<tokio::task::JoinHandle<Load>>) -> Load {
        let mut all = Load::default();
        for t in tasks {
            match t.await {
                Ok(l) => all.absorb(l),
                Err(e) => all.errors.add("load task failed", e),
            }
        }
        all
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
    // Intakes and acceptances sixteen at a time (a full run opens a few hundred cases);
    // assignments one by one, as each takes a slot of the same lawyer's capacity.
    let open_one = |i: usize| {
        let intake = &intake;
        async move {
            ok(t, intake, "mutation($i: OpenIntakeInput!) { openIntake(input: $i) { id } }", json!({"i": {
                "identifiedOn": "2020-01-15", "referralSource": "HOTLINE", "exploitationTypes": ["FORCED_LABOR"], "countryOfExploitation": "RU",
                "client": {"fullName": format!("Bench Client {i}"), "gender": "MALE", "ageAtIdentification": 30, "region": "OSH"},
                "consent": {"legalAid": true, "reportToPolice": true, "dataSharing": false}}}))
            .await["openIntake"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
    };
    let mut ids = vec![];
    let all: Vec<usize> = (0..=cases).collect();
    for chunk in all.chunks(16) {
        ids.extend(futures::future::join_all(chunk.iter().map(|&i| open_one(i))).await);
    }
    for c in &ids {
        ok(
            t,
            &coordinator,
            "mutation($c: ID!, $l: ID!) { assignLawyer(input: {caseId: $c, lawyerId: $l}) { id } }",
            json!({"c": c, "l": lawyer_id}),
        )
        .await;
    }
    for chunk in ids.chunks(16) {
        futures::future::join_all(chunk.iter().map(|c| {
            ok(t, &lawyer, "mutation($c: ID!) { acceptAssignment(input: {caseId: $c}) { id } }", json!({"c": c}))
        }))
        .await;
    }
    // A realistic detail for the read benchmark.
    let detail = ids.pop().unwrap_or_default();
    let c0 = &detail;
    let r = ok(t, &lawyer, "mutation($c: ID!) { filePoliceReport(input: {caseId: $c, filedOn: \"2020-02-01\", policeUnit: \"Osh city\"}) { policeReports { id } } }", json!({"c": c0})).await;
    let rid = r["filePoliceReport"]["policeReports"][0]["id"].clone();
    ok(t, &lawyer, "mutation($c: ID!, $r: ID!) { recordOffenseRegistration(input: {caseId: $c, reportId: $r, offenseCode: \"2021-209\", registeredOn: \"2022-02-03\"}) { id } }", json!({"c": c0, "r": rid})).await;
    ok(t, &lawyer, "mutation($c: ID!, $r: ID!) { reclassifyOffense(input: {caseId: $c, reportId: $r, offenseCode: \"2021-166\", decidedOn: \"2022-09-03\", decidedBy: PROSECUTOR, reason: \"review\"}) { id } }", json!({"c": c0, "r": rid})).await;
    (lawyer, auditor, ids, detail)
}

const RECORD_ACTION: &str = "mutation($c: ID!) { recordLegalAction(input: {caseId: $c, kind: CONSULTATION, takenOn: \"2020-03-01\"}) { version } }";

/// `clients` clients, each recording legal actions on its own cases in turn for `run` (so
/// the streams stay near a real case's length). An answer counts as acknowledged only when
/// it carries the case's new version; anything else is an error, counted by its code.
async fn command_load(t: &TestApp, lawyer: &str, cases: &[String], clients: usize, run: Duration) -> (Load, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = vec![];
    for c in 0..clients {
        let mine: Vec<Value> = cases.iter().skip(c).step_by(clients).map(|id| json!({"c": id})).collect();
        let (stop, url, token) = (stop.clone(), t.url("/graphql"), lawyer.to_string());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut load = Load::default();
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) && !mine.is_empty() {
                let vars = &mine[n % mine.len()];
                n += 1;
                let (ms, answer) = request(&client, &url, Some(&token), RECORD_ACTION, vars).await;
                load.record(ms, expect(answer, |d| d["recordLegalAction"]["version"].as_u64().is_some_and(|v| v > 0)));
            }
            load
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(run).await;
    stop.store(true, Ordering::Relaxed);
    let load = Load::join(tasks).await;
    (load, started.elapsed().as_secs_f64())
}

type AnchorFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<anchors::AnchorRun, String>> + 'a>>;

/// Runs one command anchor on a fresh, migrated database of backend `b` (the same server).
/// A failure to set it up is an error of the run, not a silent zero.
async fn anchor(b: Backend, run: impl for<'a> FnOnce(&'a projections::Db) -> AnchorFuture<'a>) -> anchors::AnchorRun {
    let db = fresh(b).await;
    let pool = match projections::Db::connect(&db.url, &projections::db::DbOptions::default()).await {
        Ok(p) => p,
        Err(e) => {
            let mut r = anchors::AnchorRun { secs: 1.0, ..Default::default() };
            r.errors.add("anchor database", e);
            return r;
        }
    };
    let out = match pool.migrate().await {
        Ok(()) => run(&pool).await,
        Err(e) => Err(format!("migrating the anchor's database: {e}")),
    };
    pool.close().await;
    out.unwrap_or_else(|why| {
        let mut r = anchors::AnchorRun { secs: 1.0, ..Default::default() };
        r.errors.add("anchor set-up", why);
        r
    })
}

async fn fresh(backend: Backend) -> TestDb {
    TestDb::new(backend).await
}

/// `total` requests over `conns` connections; each answer must be real and satisfy `holds`
/// (given the data and the request's variables).
async fn latency_load(
    url: String,
    token: Option<String>,
    query: &'static str,
    vars: Value,
    conns: usize,
    total: usize,
    holds: fn(&Value, &Value) -> bool,
) -> Load {
    let client = reqwest::Client::builder().pool_max_idle_per_host(conns).build().unwrap_or_default();
    let per = total.div_ceil(conns);
    let mut tasks = vec![];
    for _ in 0..conns {
        let (client, url, token, vars) = (client.clone(), url.clone(), token.clone(), vars.clone());
        tasks.push(tokio::spawn(async move {
            let mut load = Load { lat: Vec::with_capacity(per), ..Load::default() };
            for _ in 0..per {
                let (ms, answer) = request(&client, &url, token.as_deref(), query, &vars).await;
                load.record(ms, expect(answer, |d| holds(d, &vars)));
            }
            load
        }));
    }
    Load::join(tasks).await
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

/// The `probono` binary to start: the one given, or the one built beside `probono-bench`.
fn probono_binary(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = given {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(format!("the probono binary was not found at {}", p.display()))
        };
    }
    let built = tests::probono_path();
    if built.is_file() {
        Ok(built)
    } else {
        Err(format!(
            "the probono binary was not found at {} (build it with `cargo build --bins`, or pass --probono-bin)",
            built.display()
        ))
    }
}

/// The last lines of the server's standard error.
fn stderr_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return "(empty)".into();
    }
    let tail = lines[lines.len().saturating_sub(10)..].join(" | ");
    let skip = tail.chars().count().saturating_sub(1500);
    tail.chars().skip(skip).collect()
}

/// Starts `probono serve` on `db` at `port` (standard error to `log`) and waits until
/// `/readyz` answers 200: the running server and the milliseconds it took, or why not (it
/// exited first, or kept running without becoming ready within `READY_WITHIN`, with the
/// last `/readyz` answer and the tail of its standard error).
async fn serve_ready(db: &TestDb, bin: &Path, port: u16, log: &Path) -> Result<(std::process::Child, f64), String> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap_or_default();
    let url = format!("http://127.0.0.1:{port}/readyz");
    let stderr = std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let started = Instant::now();
    let mut child = std::process::Command::new(bin)
        .args(["serve", "--database-url", &db.url, "--bind", &format!("127.0.0.1:{port}")])
        .env("PROBONO_MASTER_KEY_FILE", &db.key_file)
        .env("PROBONO_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", bin.display()))?;
    let mut last = "none (nothing listened yet)".to_string();
    let ready = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Err(format!(
                "{} serve exited ({status}) before /readyz answered 200; last /readyz answer: {last}; stderr: {}",
                bin.display(),
                stderr_tail(log)
            ));
        }
        if started.elapsed() >= READY_WITHIN {
            break Err(format!(
                "the server started but never became ready within {} s; last /readyz answer: {last}; stderr: {}",
                READY_WITHIN.as_secs(),
                stderr_tail(log)
            ));
        }
        match client.get(&url).send().await {
            Ok(r) if r.status().is_success() => break Ok(started.elapsed().as_secs_f64() * 1000.0),
            Ok(r) => {
                let status = r.status().as_u16();
                last = format!("HTTP {status} {}", clip(&r.text().await.unwrap_or_default(), 300));
            }
            Err(e) => last = format!("no answer ({})", chain(&e)),
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    match ready {
        Ok(ms) => Ok((child, ms)),
        Err(why) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(why)
        }
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// The median of three starts of `probono serve` until `/readyz` answers 200, or why not.
async fn startup_ms(db: &TestDb, bin: &Path) -> Result<f64, String> {
    let port = free_port()?;
    let log = db.path().join("probono-serve.stderr");
    let mut runs = vec![];
    for _ in 0..3 {
        let (mut child, ms) = serve_ready(db, bin, port, &log).await?;
        let _ = child.kill();
        let _ = child.wait();
        runs.push(ms);
    }
    Ok(percentile(&mut runs, 50.0))
}

/// A process's resident memory now and at its peak (`VmRSS`, `VmHWM` of
/// `/proc/PID/status`), in MiB.
fn rss_mib(pid: u32) -> Result<(f64, f64), String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read /proc/{pid}/status: {e}"))?;
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| format!("no {key} in /proc/{pid}/status"))
    };
    Ok((kib("VmRSS:")? / 1024.0, kib("VmHWM:")? / 1024.0))
}

/// The real `probono serve` over `db`'s ledger of `cases` cases: its resident memory once
/// ready, and after one `outcomeStats` answer (the statistics index loaded), with how long
/// that first answer took after ready. The AUDITOR's token is made by the operator's CLI
/// (`probono token create`) before the server starts.
async fn serve_memory(db: &TestDb, bin: &Path, cases: i64) -> Result<Value, String> {
    let made = tokio::process::Command::new(bin)
        .args(["token", "create", "--role", "AUDITOR", "--name", "bench memory", "--database-url", &db.url])
        .env("PROBONO_MASTER_KEY_FILE", &db.key_file)
        .env("PROBONO_LOG", "warn")
        .output()
        .await
        .map_err(|e| format!("could not run {} token create: {e}", bin.display()))?;
    let token = String::from_utf8_lossy(&made.stdout).trim().to_string();
    if !made.status.success() || token.is_empty() {
        return Err(format!(
            "{} token create failed ({}): {}",
            bin.display(),
            made.status,
            clip(&String::from_utf8_lossy(&made.stderr), 300)
        ));
    }
    let port = free_port()?;
    let log = db.path().join("probono-serve-memory.stderr");
    let (mut child, ready_ms) = serve_ready(db, bin, port, &log).await?;
    let pid = child.id();
    let measured = async {
        let (ready_rss, ready_hwm) = rss_mib(pid)?;
        let client = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap_or_default();
        let url = format!("http://127.0.0.1:{port}/graphql");
        let (stats_ms, answer) = request(
            &client,
            &url,
            Some(&token),
            "{ outcomeStats(groupBy: [YEAR, REGION]) { totals { casesOpened } } }",
            &json!({}),
        )
        .await;
        expect(answer, |d| d["outcomeStats"]["totals"]["casesOpened"].as_i64() == Some(cases))
            .map_err(|(kind, why)| format!("outcomeStats: {kind}: {why}"))?;
        let (stats_rss, stats_hwm) = rss_mib(pid)?;
        Ok::<_, String>(json!({"cases": cases, "ready_ms": ready_ms, "first_stats_ms": stats_ms,
            "ready": ready_rss, "ready_peak": ready_hwm, "after_stats": stats_rss, "peak": stats_hwm}))
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    measured
}

/// The run's results: the JSON document, the printed table and the sections for the verdict.
struct Report {
    out: Value,
    table: Vec<(String, String)>,
    sections: Vec<Section>,
}

impl Report {
    fn row(&mut self, k: impl Into<String>, v: impl Into<String>) {
        self.table.push((k.into(), v.into()));
    }
}

/// Commands through GraphQL vs the bare database, then case detail at 64 connections vs a
/// trivial in-memory query, on one server.
async fn commands_and_read(r: &mut Report, b: Backend, sizes: &Sizes, commands: bool, read: bool, primary: bool) {
    let n = name(b);
    let mut t = TestApp::spawn_as_served(b).await;
    // The commands' hand-over to the projector's batch is on by default (ADR 0020); this
    // turns it off on PostgreSQL, to measure both with one binary.
    if b == Backend::Postgres && std::env::var("PROBONO_BENCH_PG_HAND_OVER").is_ok_and(|v| v == "off") {
        t.app.projector.hand_over_appends(false);
    }
    let (lawyer, auditor, cases, detail_case) = setup(&t, sizes.clients * sizes.cases_per_client).await;
    if commands {
        // Right before the project's load: the bare database, same server, same clients.
        let bare = anchor(b, |db| Box::pin(anchors::bare_db(db, sizes.clients, sizes.run))).await;
        let _ = t.app.projector.drain_event_lag_seconds();
        let _ = t.app.projector.drain_batch_seconds();
        let (mut system, secs) = command_load(&t, &lawyer, &cases, sizes.clients, sizes.run).await;
        let mut lag: Vec<f64> = t.app.projector.drain_event_lag_seconds().into_iter().map(|s| s * 1000.0).collect();
        // What the commands waited for: the projector's batches (each from its start to its commit).
        let mut batches: Vec<f64> = t.app.projector.drain_batch_seconds().into_iter().map(|s| s * 1000.0).collect();
        let events_per_batch = lag.len() as f64 / batches.len().max(1) as f64;
        // Right after it: the bare framework with one view.
        let fw =
            anchor(b, |db| Box::pin(anchors::bare_framework(db, sizes.clients, sizes.cases_per_client, sizes.run)))
                .await;
        let per_s = system.answers as f64 / secs;
        let (bare_s, fw_s) = (bare.per_s(), fw.per_s());
        let (vs_db, vs_fw) = (per_s / bare_s, per_s / fw_s);
        let p99 = percentile(&mut system.lat, 99.0);
        let lag_p99 = percentile(&mut lag, 99.0);
        let stream_len = 3.0 + system.answers as f64 / cases.len().max(1) as f64;
        let mut s = Section::new(section_name("commands", n), "acknowledged commands");
        s.answers = system.answers;
        s.errors = system.errors;
        s.errors.merge("bare database", bare.errors);
        s.errors.merge("bare framework", fw.errors);
        s.baseline_ops = Some(bare.ops.min(fw.ops));
        s.figures = vec![
            ("graphql_commands_per_s", per_s),
            ("bare_db_tx_per_s", bare_s),
            ("bare_framework_commands_per_s", fw_s),
            ("command_vs_bare_db", vs_db),
            ("command_vs_bare_framework", vs_fw),
            ("command_p99_ms", p99),
            ("projection_lag_p99_ms", lag_p99),
        ];
        r.out[format!("command_throughput_{n}")] = json!({"graphql_commands_per_s": per_s, "acknowledged": s.answers,
            "errors": s.errors.total(), "errors_by_kind": s.errors.by_kind, "command_p99_ms": p99, "clients": sizes.clients,
            "case_stream_events_at_end": stream_len,
            "bare_db": {"tx_per_s": bare_s, "tx": bare.ops, "stream_events_read": anchors::FIXED_STREAM_EVENTS,
                "what": "one transaction: read a stream of a fixed length, insert one event"},
            "bare_framework": {"commands_per_s": fw_s, "commands": fw.ops, "stream_events_at_end": fw.stream_len,
                "what": "cqrs-es CqrsFramework, one GenericQuery view"},
            "command_vs_bare_db": vs_db, "command_vs_bare_framework": vs_fw});
        let sfx = if b == Backend::Postgres { "" } else { "_sqlite" };
        r.out[format!("command_vs_bare_db{sfx}")] = json!(vs_db);
        r.out[format!("command_vs_bare_framework{sfx}")] = json!(vs_fw);
        r.row(
            format!("bare {n}: read {}-event stream + insert, tx/s", anchors::FIXED_STREAM_EVENTS),
            format!("{bare_s:.0}  ({} clients, just before)", sizes.clients),
        );
        r.row(
            format!("commands/s via GraphQL ({n}, {} clients)", sizes.clients),
            format!(
                "{per_s:.0} ({} acknowledged, {} errors; case streams reach {stream_len:.0} events)",
                s.answers,
                s.errors.total()
            ),
        );
        r.row(
            format!("bare cqrs-es + {n}-es + 1 view, commands/s"),
            format!("{fw_s:.0}  ({} clients, just after; streams reach {:.0} events)", sizes.clients, fw.stream_len),
        );
        r.row(format!("command ÷ bare framework ({n})"), format!("{vs_fw:.2}  (target ≥ 1.0)"));
        let db_target = if b == Backend::Postgres { "  (target ≥ 0.5)" } else { "" };
        r.row(format!("command ÷ bare database ({n})"), format!("{vs_db:.2}{db_target}"));
        let (batch_p50, batch_p99) = (percentile(&mut batches, 50.0), percentile(&mut batches, 99.0));
        r.out[format!("projection_lag_{n}")] = json!({"p50_ms": percentile(&mut lag, 50.0), "p99_ms": lag_p99,
            "events": lag.len(), "batches": batches.len(), "events_per_batch": events_per_batch,
            "batch_p50_ms": batch_p50, "batch_p99_ms": batch_p99});
        r.row(format!("projection lag p99 under load ({n})"), format!("{lag_p99:.1} ms  (target ≤ 20)"));
        r.row(
            format!("projector batches under load ({n})"),
            format!(
                "{} batches, {events_per_batch:.1} events each; p50 {batch_p50:.1} ms, p99 {batch_p99:.1} ms",
                batches.len()
            ),
        );
        if primary {
            r.out["projection_lag_p99_ms"] = json!(lag_p99);
        }
        r.sections.push(s);
    }
    if read {
        // The two loads alternate over several rounds (the order flips each round), so a
        // drift of the machine's speed during the section weighs on both alike; the figure is
        // the median of the rounds' ratios, with every round's ratio in the JSON.
        let trivial_url = trivial_server().await;
        let mut trivial = Load::default();
        let mut detail = Load::default();
        let mut round_ratios = Vec::with_capacity(sizes.read_rounds);
        for round in 0..sizes.read_rounds {
            let trivial_load = || {
                latency_load(trivial_url.clone(), None, "{ hello }", json!({}), 64, sizes.read_requests, |d, _| {
                    d["hello"] == "world"
                })
            };
            let detail_load = || {
                latency_load(
                    t.url("/graphql"),
                    Some(auditor.clone()),
                    CASE_DETAIL,
                    json!({"id": detail_case}),
                    64,
                    sizes.read_requests,
                    |d, vars| {
                        d["case"]["id"] == vars["id"]
                            && d["case"]["policeReports"][0]["reclassifications"][0]["to"]["code"] == "2021-166"
                    },
                )
            };
            let (mut tr, mut de) = if round % 2 == 0 {
                let tr = trivial_load().await;
                (tr, detail_load().await)
            } else {
                let de = detail_load().await;
                (trivial_load().await, de)
            };
            round_ratios.push(percentile(&mut de.lat, 99.0) / percentile(&mut tr.lat, 99.0));
            trivial.absorb(tr);
            detail.absorb(de);
        }
        let (tp99, dp99) = (percentile(&mut trivial.lat, 99.0), percentile(&mut detail.lat, 99.0));
        let read_ratio = percentile(&mut round_ratios.clone(), 50.0);
        let mut s = Section::new(section_name("read", n), "correct case-detail answers");
        s.answers = detail.answers;
        s.errors = detail.errors;
        s.errors.merge("baseline", trivial.errors);
        s.baseline_ops = Some(trivial.answers);
        s.figures = vec![("case_detail_p99_ms", dp99), ("trivial_p99_ms", tp99), ("ratio", read_ratio)];
        r.out[format!("read_{n}")] = json!({"case_detail_p99_ms": dp99, "case_detail_p50_ms": percentile(&mut detail.lat, 50.0),
            "trivial_p99_ms": tp99, "ratio": read_ratio, "round_ratios": round_ratios, "pooled_ratio": dp99 / tp99,
            "rounds": sizes.read_rounds, "requests": sizes.read_requests * sizes.read_rounds, "answers": s.answers,
            "baseline_answers": trivial.answers, "errors": s.errors.total(), "errors_by_kind": s.errors.by_kind});
        r.row(
            format!("case detail p99 @64 ({n}) / trivial p99"),
            format!(
                "{dp99:.2} ms / {tp99:.2} ms; {} {read_ratio:.2}  (target ≤ 2; {} errors)",
                if sizes.read_rounds == 1 {
                    "one round:".to_string()
                } else {
                    format!("median of {} rounds:", sizes.read_rounds)
                },
                s.errors.total()
            ),
        );
        if primary {
            r.out["read_p99_ratio"] = json!(read_ratio);
        }
        r.sections.push(s);
    }
    t.stop().await;
}

/// The web app's case page for an intake worker signed in with a session cookie, 16 users at
/// once, against the GraphQL case query in the same run (`web` section).
async fn web(r: &mut Report, b: Backend, sizes: &Sizes) {
    let n = name(b);
    let what = "correct case pages";
    let mut t = TestApp::spawn_as_served_on(fresh(b).await).await;
    let (lawyer, _, _, detail) = setup(&t, 4).await;
    let org = ok(&t, &lawyer, "query($c: ID!) { case(id: $c) { organization { id } } }", json!({"c": detail})).await;
    let org = org["case"]["organization"]["id"].as_str().unwrap_or_default().parse().ok();
    let password = "bench web user copper kettle";
    let input = api::app::accounts::NewAccount {
        account_id: None,
        name: "bench web intake".into(),
        role: domain::values::Role::IntakeWorker,
        organization_id: org,
        lawyer_id: None,
        expires_at: None,
    };
    if let Err(e) = t.app.create_user(&api::app::Caller::system("bench"), input, "bench.intake", password).await {
        r.sections.push(Section::failed(section_name("web", n), what, format!("web user: {}", e.message())));
        return;
    }
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => {
            r.sections.push(Section::failed(section_name("web", n), what, e.to_string()));
            return;
        }
    };
    let base = format!("http://localhost:{}", listener.local_addr().map(|a| a.port()).unwrap_or_default());
    let opts = api::http::EdgeOptions { introspection: true, mutation_rate: None };
    let router = api::http::router_full(t.app.clone(), opts, api::http::WebOptions { require_totp: false });
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
    });
    let Some(cookie) = web_sign_in(&base, "bench.intake", password).await else {
        r.sections.push(Section::failed(section_name("web", n), what, "signing in to the web app failed"));
        server.abort();
        return;
    };
    let total = sizes.read_requests / 4;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(sizes.clients)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default();
    let url = format!("{base}/app/cases/{detail}");
    let per = total.div_ceil(sizes.clients);
    let mut tasks = vec![];
    for _ in 0..sizes.clients {
        let (client, url, cookie) = (client.clone(), url.clone(), cookie.clone());
        tasks.push(tokio::spawn(async move {
            let mut load = Load { lat: Vec::with_capacity(per), ..Load::default() };
            for _ in 0..per {
                let started = Instant::now();
                let reply = client.get(&url).header("cookie", format!("pbl_session={cookie}")).send().await;
                let outcome = match reply {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        match resp.text().await {
                            Ok(body) if status == 200 && body.contains("<h1>") => Ok(()),
                            Ok(body) => Err((format!("status {status}"), clip(&body, 200))),
                            Err(e) => Err(("transport".to_string(), chain(&e))),
                        }
                    }
                    Err(e) => Err(("transport".to_string(), chain(&e))),
                };
                load.record(started.elapsed().as_secs_f64() * 1000.0, outcome);
            }
            load
        }));
    }
    let mut page = Load::join(tasks).await;
    let mut gql = latency_load(
        t.url("/graphql"),
        Some(lawyer.clone()),
        "query($id: ID!) { case(id: $id) { id status policeReports { id policeUnit } } }",
        json!({"id": detail}),
        sizes.clients,
        total,
        |d, v| d["case"]["id"] == v["id"],
    )
    .await;
    server.abort();
    let (wp99, gp99) = (percentile(&mut page.lat, 99.0), percentile(&mut gql.lat, 99.0));
    let ratio = wp99 / gp99;
    let mut s = Section::new(section_name("web", n), what);
    s.answers = page.answers;
    s.errors = page.errors;
    s.errors.merge("baseline", gql.errors);
    s.baseline_ops = Some(gql.answers);
    s.figures = vec![("case_page_p99_ms", wp99), ("graphql_case_p99_ms", gp99), ("ratio", ratio)];
    r.out[format!("web_{n}")] = json!({"case_page_p99_ms": wp99, "case_page_p50_ms": percentile(&mut page.lat, 50.0),
        "graphql_case_p99_ms": gp99, "ratio": ratio, "requests": total, "answers": s.answers, "errors": s.errors.total()});
    r.row(
        format!("web case page p99 @{} ({n}) / GraphQL case p99", sizes.clients),
        format!("{wp99:.2} ms / {gp99:.2} ms = {ratio:.2}  (target ≤ 50 ms; {} errors)", s.errors.total()),
    );
    r.sections.push(s);
    t.stop().await;
}

/// Signs in to the web app as a browser would; the session cookie's value.
async fn web_sign_in(base: &str, username: &str, password: &str) -> Option<String> {
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

/// Waits until every committed event is visible to readers (on PostgreSQL a transaction
/// open anywhere in the cluster hides later commits for a while).
async fn all_visible(db: &projections::Db, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    loop {
        let head = projections::log::committed_head(db).await.map_err(|e| e.to_string())?;
        let visible = projections::log::visible_head(db).await.map_err(|e| e.to_string())?;
        if visible >= head {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("committed events stayed invisible for {} s", within.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Rebuild from a synthetic ledger; then (if `stats`) statistics over the rebuilt read
/// models, through the server.
async fn rebuild_and_stats(r: &mut Report, b: Backend, sizes: &Sizes, stats: bool) {
    let n = name(b);
    let db = fresh(b).await;
    db.ensure_key();
    let pdb = projections::Db::connect(&db.url, &projections::db::DbOptions::default()).await.expect("connect");
    pdb.migrate().await.expect("migrate");
    let written = synth::fill(&pdb, sizes.rebuild_events).await.expect("synthetic ledger");
    let mut s = Section::new(section_name("rebuild", n), "replayed events");
    if let Err(why) = all_visible(&pdb, Duration::from_secs(20)).await {
        s.errors.add("events not visible", why);
    }
    let logged = projections::log::count(&pdb).await.expect("count the events");
    eprintln!("rebuild ({n}): rebuilding the read models from {logged} events");
    let started = Instant::now();
    let replayed = match projections::projector::rebuild(&pdb).await {
        Ok(replayed) => replayed,
        Err(e) => {
            r.row(format!("rebuild ({n})"), format!("FAILED: {e}"));
            r.sections.push(Section::failed(s.name, s.answers_are, format!("the rebuild failed: {e}")));
            pdb.close().await;
            return;
        }
    };
    let secs = started.elapsed().as_secs_f64();
    let eps = replayed as f64 / secs;
    if replayed as i64 != logged {
        s.errors
            .add("events not replayed", format!("the rebuild replayed {replayed} of the {logged} events in the log"));
    }
    let cases_n: i64 =
        projections::store::list_cases(&pdb, &Default::default(), 1, None).await.map(|p| p.total).unwrap_or(0);
    if cases_n <= 0 {
        s.errors.add("no cases", format!("the read models list no case after replaying {replayed} events"));
    }
    s.answers = replayed;
    s.figures = vec![("events_per_s", eps)];
    r.out["rebuild_events_per_s"][n] = json!(eps);
    r.out[format!("rebuild_{n}")] =
        json!({"events": written, "replayed": replayed, "seconds": secs, "events_per_s": eps, "cases": cases_n});
    r.row(format!("rebuild ({n}, {written} events)"), format!("{eps:.0} events/s in {secs:.1} s  (target ≥ 200000)"));
    r.sections.push(s);
    pdb.close().await;
    if !stats {
        return;
    }

    let (StatsRun { mut load, cold_ms, index }, _db) = stats_load(db, cases_n, sizes.stats_requests).await;
    let sp99 = percentile(&mut load.lat, 99.0);
    let index_json = index.as_ref().map(|i| {
        json!({"facts": i.facts, "rows": i.rows, "cases": i.cases, "bytes": i.bytes,
            "bytes_per_fact": i.bytes as f64 / i.facts.max(1) as f64})
    });
    let mut s = Section::new(section_name("stats", n), "statistics answers");
    s.answers = load.answers;
    s.errors = load.errors;
    s.figures = vec![("p99_ms", sp99), ("first_query_ms", cold_ms)];
    r.out["stats_p99_ms"][n] = json!(sp99);
    r.out[format!("stats_{n}")] = json!({"p50_ms": percentile(&mut load.lat, 50.0), "p99_ms": sp99, "cases": cases_n,
        "requests": sizes.stats_requests, "first_query_ms": cold_ms, "answers": s.answers, "errors": s.errors.total(),
        "index": index_json});
    r.row(
        format!("outcomeStats 2 dims over {cases_n} cases ({n})"),
        format!("p99 {sp99:.1} ms  (target ≤ 10 over 100,000 cases; {} errors)", s.errors.total()),
    );
    if let Some(i) = index {
        r.row(
            format!("statistics index ({n})"),
            format!(
                "{} facts, {:.1} MiB, {:.1} bytes per fact",
                i.facts,
                i.bytes as f64 / (1 << 20) as f64,
                i.bytes as f64 / i.facts.max(1) as f64
            ),
        );
    }
    r.sections.push(s);
}

/// `outcomeStats` answers over an in-process server on the read models of `db`.
struct StatsRun {
    /// The two-dimension queries after the first.
    load: Load,
    /// The first query, which loads the in-memory index (not in `load`).
    cold_ms: f64,
    /// What the in-memory index takes once loaded.
    index: Option<projections::stats::IndexSize>,
}

/// Serves `db` in-process and asks `outcomeStats`: once (loading the index; its totals must
/// count `cases_n` cases), then `requests` times grouped by two dimensions. Gives the
/// database back for what follows.
async fn stats_load(db: TestDb, cases_n: i64, requests: usize) -> (StatsRun, TestDb) {
    let mut t = TestApp::spawn_as_served_on(db).await;
    let auditor = t
        .ok(&t.admin, "mutation { createAccessToken(input: {name: \"a\", role: AUDITOR}) { token } }", json!({}))
        .await["createAccessToken"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let client = reqwest::Client::new();
    let url = t.url("/graphql");
    let mut load = Load::default();
    // The first query loads the in-memory index: reported on its own, not in the p99.
    let (cold_ms, answer) = request(
        &client,
        &url,
        Some(&auditor),
        "{ outcomeStats(groupBy: [YEAR]) { totals { casesOpened } } }",
        &json!({}),
    )
    .await;
    match expect(answer, |d| d["outcomeStats"]["totals"]["casesOpened"].as_i64() == Some(cases_n)) {
        Ok(()) => load.answers += 1,
        Err((kind, why)) => load.errors.add(kind, why),
    }
    for i in 0..requests {
        let q = if i % 2 == 0 {
            "{ outcomeStats(groupBy: [YEAR, REGION]) { groups { counts { registeredAsFraud reclassifiedToTip convictions } } } }"
        } else {
            "{ outcomeStats(groupBy: [OFFENSE_CODE, GENDER]) { groups { counts { registeredAsFraud reclassifiedToTip convictions } } } }"
        };
        let (ms, answer) = request(&client, &url, Some(&auditor), q, &json!({})).await;
        load.record(ms, expect(answer, |d| d["outcomeStats"]["groups"].as_array().is_some_and(|g| !g.is_empty())));
    }
    // What the in-memory index takes (the first query loaded it).
    let index = t.app.projector.cache().stats.size();
    t.stop().await;
    let TestApp { db, .. } = t;
    (StatsRun { load, cold_ms, index }, db)
}

/// Rebuild and statistics on one synthetic ledger grown through `sizes` events (`--only
/// growth`): at each size every event replayed (checked) and `outcomeStats` asked over the
/// rebuilt read models; then how the cost grew from the first size to the last, and the
/// rebuild of 10 M events extrapolated from it.
async fn growth(r: &mut Report, b: Backend, sizes: &[usize], stats_requests: usize) {
    let n = name(b);
    let mut db = fresh(b).await;
    db.ensure_key();
    let mut s = Section::new(section_name("growth", n), "replayed events and statistics answers");
    let mut held = (0usize, 0u64);
    let mut points: Vec<(f64, f64, f64, f64)> = vec![];
    let mut out = vec![];
    for &size in sizes {
        let pdb = projections::Db::connect(&db.url, &projections::db::DbOptions::default()).await.expect("connect");
        pdb.migrate().await.expect("migrate");
        held = if held.0 == 0 { synth::fill_cases(&pdb, size).await } else { synth::grow(&pdb, held, size).await }
            .expect("synthetic ledger");
        if let Err(why) = all_visible(&pdb, Duration::from_secs(20)).await {
            s.errors.add("events not visible", why);
        }
        let logged = projections::log::count(&pdb).await.expect("count the events");
        eprintln!("growth ({n}): rebuilding the read models from {logged} events");
        let started = Instant::now();
        let replayed = match projections::projector::rebuild(&pdb).await {
            Ok(replayed) => replayed,
            Err(e) => {
                r.row(format!("growth ({n})"), format!("FAILED: {e}"));
                r.sections.push(Section::failed(s.name, s.answers_are, format!("the rebuild failed: {e}")));
                pdb.close().await;
                return;
            }
        };
        let secs = started.elapsed().as_secs_f64();
        if replayed as i64 != logged {
            s.errors.add(
                "events not replayed",
                format!("the rebuild replayed {replayed} of the {logged} events in the log"),
            );
        }
        let cases_n: i64 =
            projections::store::list_cases(&pdb, &Default::default(), 1, None).await.map(|p| p.total).unwrap_or(0);
        pdb.close().await;
        let (StatsRun { mut load, cold_ms, .. }, back) = stats_load(db, cases_n, stats_requests).await;
        db = back;
        let (p50, p99) = (percentile(&mut load.lat, 50.0), percentile(&mut load.lat, 99.0));
        let eps = replayed as f64 / secs;
        s.answers += replayed + load.answers;
        s.errors.merge("statistics", load.errors);
        points.push((logged as f64, secs, p99, eps));
        out.push(json!({"events": logged, "cases": cases_n, "rebuild_seconds": secs, "events_per_s": eps,
            "stats_p50_ms": p50, "stats_p99_ms": p99, "stats_first_query_ms": cold_ms}));
        r.row(
            format!("growth ({n}): {logged} events, {cases_n} cases"),
            format!("rebuild {eps:.0} events/s in {secs:.1} s; outcomeStats p99 {p99:.1} ms (first {cold_ms:.0} ms)"),
        );
    }
    let (Some(first), Some(last)) = (points.first().copied(), points.last().copied()) else {
        r.sections.push(Section::failed(s.name, s.answers_are, "no size measured"));
        return;
    };
    // Cost per event at the last size over the first (1.0: linear), the exponent of the
    // rebuild time in the number of events, and 10 M events at that exponent (never less
    // than linear).
    let per_event = (last.1 / last.0) / (first.1 / first.0);
    let exponent = (last.1 / first.1).ln() / (last.0 / first.0).ln();
    let ten_m = last.1 * (10_000_000.0 / last.0).powf(exponent.max(1.0));
    let p99_ratio = last.2 / first.2;
    s.figures = vec![
        ("rebuild_cost_per_event_ratio", per_event),
        ("stats_p99_ratio", p99_ratio),
        ("rebuild_10m_events_s_extrapolated", ten_m),
    ];
    r.out[format!("growth_{n}")] = json!({"sizes": out, "rebuild_cost_per_event_ratio": per_event,
        "rebuild_time_exponent": exponent, "stats_p99_ratio": p99_ratio, "rebuild_10m_events_s_extrapolated": ten_m});
    r.row(
        format!("growth ({n}): {:.0}× the events", last.0 / first.0),
        format!(
            "rebuild cost per event ×{per_event:.2} (time ∝ events^{exponent:.2}); outcomeStats p99 ×{p99_ratio:.2}; \
             10 M events ≈ {ten_m:.0} s extrapolated (target: about a minute)"
        ),
    );
    r.sections.push(s);
}

/// Start-up of the real binary on the embedded default, `events` events already projected.
async fn startup(r: &mut Report, given: Option<&Path>, events: usize) {
    let section = section_name("startup", "sqlite");
    let what = "start-ups that reached /readyz";
    let bin = match probono_binary(given) {
        Ok(bin) => bin,
        Err(why) => {
            r.row("probono serve start-up", format!("FAILED: {why}"));
            r.sections.push(Section::failed(section, what, why));
            return;
        }
    };
    let db = fresh(Backend::Sqlite).await;
    db.ensure_key();
    let pdb = projections::Db::connect(&db.url, &projections::db::DbOptions::default()).await.expect("connect");
    pdb.migrate().await.expect("migrate");
    let n_events = synth::fill(&pdb, events).await.expect("ledger");
    projections::projector::rebuild(&pdb).await.expect("rebuild");
    let cases: i64 =
        projections::store::list_cases(&pdb, &Default::default(), 1, None).await.map(|p| p.total).unwrap_or(0);
    pdb.close().await;
    let ms = match startup_ms(&db, &bin).await {
        Ok(ms) => ms,
        Err(why) => {
            r.row("probono serve start-up", format!("FAILED: {why}"));
            r.sections.push(Section::failed(section, what, why));
            return;
        }
    };
    r.out["startup_ms"] = json!(ms);
    r.row(format!("probono serve to /readyz ({n_events} events, sqlite)"), format!("{ms:.0} ms  (target ≤ 1000)"));
    let mut s = Section { answers: 3, figures: vec![("startup_ms", ms)], ..Section::new(section, what) };
    match serve_memory(&db, &bin, cases).await {
        Ok(m) => {
            let f = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
            s.answers += 1;
            s.figures.extend([
                ("rss_mib_ready", f("ready")),
                ("rss_mib_after_stats", f("after_stats")),
                ("rss_mib_peak", f("peak")),
            ]);
            r.row(
                format!("probono serve resident memory ({cases} cases, sqlite)"),
                format!(
                    "{:.0} MiB ready, {:.0} MiB after outcomeStats (peak {:.0} MiB; first answer {:.0} ms after ready)  (target ≤ 512)",
                    f("ready"),
                    f("after_stats"),
                    f("peak"),
                    f("first_stats_ms")
                ),
            );
            r.out["rss_mib"] = m;
        }
        Err(why) => {
            r.row("probono serve resident memory", format!("FAILED: {why}"));
            s.errors.add("memory", why);
        }
    }
    r.sections.push(s);
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let sizes = if args.quick {
        Sizes {
            run: Duration::from_secs(2),
            clients: 16,
            read_requests: 1_600,
            read_rounds: 1,
            rebuild_events: 20_000,
            startup_events: 20_000,
            growth_events: [20_000, 60_000],
            cases_per_client: 2,
            stats_requests: 50,
        }
    } else {
        Sizes {
            run: Duration::from_secs(10),
            clients: 16,
            read_requests: 32_000,
            read_rounds: 5,
            rebuild_events: 1_100_000,
            // More than 1,000,000 events, and over 100,000 cases (102,355) for the memory
            // figure.
            startup_events: 1_100_000,
            growth_events: [1_000_000, 3_000_000],
            cases_per_client: 24,
            stats_requests: 300,
        }
    };
    let backends: Vec<Backend> =
        if args.no_postgres { vec![Backend::Sqlite] } else { vec![Backend::Postgres, Backend::Sqlite] };
    let want = |section: &str| {
        args.only.iter().any(|o| o == section) || (args.only.is_empty() && !ON_REQUEST.contains(&section))
    };
    // Start-up is measured on the embedded default only.
    let expected: Vec<String> = backends
        .iter()
        .flat_map(|&b| {
            SECTIONS
                .into_iter()
                .filter(move |&s| want(s) && (s != "startup" || b == Backend::Sqlite))
                .map(move |s| section_name(s, name(b)))
        })
        .collect();
    let mut r = Report { out: json!({"quick": args.quick, "machine": machine()}), table: vec![], sections: vec![] };

    let run_started = Instant::now();
    for &b in &backends {
        let primary = b == Backend::Postgres || backends.len() == 1;
        let n = name(b);
        let mut timed = Instant::now();
        let mut took = |r: &mut Report, part: &str| {
            r.out["seconds"][format!("{part}_{n}")] = json!(timed.elapsed().as_secs_f64());
            timed = Instant::now();
        };
        if want("commands") || want("read") {
            commands_and_read(&mut r, b, &sizes, want("commands"), want("read"), primary).await;
            took(&mut r, "commands_read");
        }
        if want("web") {
            web(&mut r, b, &sizes).await;
            took(&mut r, "web");
        }
        if want("rebuild") || want("stats") {
            rebuild_and_stats(&mut r, b, &sizes, want("stats")).await;
            took(&mut r, "rebuild_stats");
        }
        // The outcomes dashboard's render p99 against outcomeStats' (tests/src/bench/dashboard.rs).
        if want("dashboard") {
            let m = bench::dashboard::run(b, sizes.rebuild_events, sizes.stats_requests).await;
            r.row(m.row.0, m.row.1);
            r.out[format!("dashboard_{}", name(b))] = m.json;
            r.sections.push(m.section);
        }
        // Rebuild and statistics at 1 M and 3 M events (`--only growth`; 20,000 and 60,000
        // with `--quick`).
        if want("growth") {
            growth(&mut r, b, &sizes.growth_events, sizes.stats_requests).await;
            took(&mut r, "growth");
        }
        if b == Backend::Sqlite && want("startup") {
            startup(&mut r, args.probono_bin.as_deref(), sizes.startup_events).await;
            took(&mut r, "startup");
        }
    }
    r.out["seconds"]["total"] = json!(run_started.elapsed().as_secs_f64());
    r.row("the whole run", format!("{:.0} s", run_started.elapsed().as_secs_f64()));

    println!("\nPro Bono Ledger benchmark{} — {}", if args.quick { " (quick)" } else { "" }, r.out["machine"]);
    let w = r.table.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    for (k, v) in &r.table {
        println!("  {k:<w$}  {v}");
    }
    let verdict = bench::verdict(&expected, &r.sections);
    r.out["sections"] = r.sections.iter().map(Section::to_json).collect();
    r.out["verdict"] = json!({"passed": verdict.passed(), "expected": expected, "failures": verdict.failures});
    if let Some(path) = &args.json {
        if let Err(e) = std::fs::write(path, serde_json::to_string_pretty(&r.out).unwrap_or_default()) {
            eprintln!("cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
    if verdict.passed() {
        println!("\nverdict: PASS — {} section(s) measured real, error-free answers", r.sections.len());
    } else {
        println!("\nverdict: FAIL — {} check(s) failed (on standard error)", verdict.failures.len());
        for f in &verdict.failures {
            eprintln!("probono-bench: FAIL {f}");
        }
        std::process::exit(1);
    }
}
