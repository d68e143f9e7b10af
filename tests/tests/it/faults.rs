//! Fault injection (DESIGN.md §9): concurrent writers with deliberate conflicts, `kill -9` of
//! the real `probono serve` under load, PostgreSQL stopped and started under load, and
//! PostgreSQL stopped in immediate mode (its crash) under load with `fsync` on.
//!
//! Every command a test issues carries a marker of its own (a police unit or a referral
//! provider, which the events keep in clear), so that the log and the read models can be
//! searched for exactly the commands the server acknowledged: each acknowledged one must be
//! there exactly once, each refused as a conflict nowhere, and each whose outcome the client
//! never learned (connection lost, database down) at most once. No case may be half-applied:
//! its version in the read model equals the length of its stream, whose hash chain holds.

use projections::{log, store, Db};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tests::{fixtures, on_both_backends, Backend, Client, Remote, Server, ServerProcess, TestApp, TestDb};

/// What a client is told while the database is down (`api::error::ApiError::Unavailable`).
const UNAVAILABLE: &str = "the database is unavailable; retry shortly";

/// The people (the shared fixture's) and the cases the load works on.
struct World {
    people: fixtures::World,
    cases: Vec<String>,
}

impl World {
    fn intake(&self) -> &str {
        &self.people.intake
    }
    fn lawyer(&self) -> &str {
        &self.people.lawyer_a
    }
}

/// The shared fixture's organisation and people, and `cases` cases that lawyer A has
/// accepted, with consent to report to the police.
async fn world(t: &impl Server, cases: usize) -> World {
    let people = fixtures::world(t).await;
    let mut ids = vec![];
    for _ in 0..cases {
        ids.push(fixtures::represented_case(t, &people).await);
    }
    World { people, cases: ids }
}

// ---------------------------------------------------------------- commands and their outcomes

/// Two commands whose effect can be found again by a marker of their own: a police report
/// (the lawyer's, marker = police unit) and a referral (the intake worker's, marker = provider).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Report,
    Referral,
}

#[derive(Debug, Clone)]
enum Outcome {
    /// 200 without errors; for a report, the id the response shows for it.
    Acked(Option<String>),
    /// A typed error: the HTTP status, `extensions.code` and the message.
    Refused(u16, String, String),
    /// No answer (connection refused or cut): the client cannot know what happened.
    Lost(String),
}

#[derive(Debug, Clone)]
struct Attempt {
    case: String,
    kind: Kind,
    marker: String,
    outcome: Outcome,
    started: Instant,
    elapsed: Duration,
}

impl Attempt {
    fn acked(&self) -> bool {
        matches!(self.outcome, Outcome::Acked(_))
    }
}

async fn attempt(c: &Client, w: &World, case: &str, kind: Kind, marker: String) -> Attempt {
    let started = Instant::now();
    let answer = match kind {
        Kind::Report => {
            c.post(
                w.lawyer(),
                "mutation($i: FilePoliceReportInput!) { filePoliceReport(input: $i) { id policeReports { id policeUnit } } }",
                json!({ "i": { "caseId": case, "filedOn": "2020-04-01", "policeUnit": marker } }),
            )
            .await
        }
        Kind::Referral => {
            c.post(
                w.intake(),
                "mutation($i: ReferToServiceInput!) { referToService(input: $i) { id } }",
                json!({ "i": { "caseId": case, "service": "SHELTER", "referredOn": "2020-04-02", "provider": marker } }),
            )
            .await
        }
    };
    let outcome = match answer {
        Err(e) => Outcome::Lost(e),
        Ok((status, body)) => match body["errors"].as_array().and_then(|e| e.first()) {
            None if status == 200 => Outcome::Acked(
                body["data"]["filePoliceReport"]["policeReports"]
                    .as_array()
                    .and_then(|rs| rs.iter().find(|r| r["policeUnit"] == marker.as_str()))
                    .and_then(|r| r["id"].as_str())
                    .map(str::to_string),
            ),
            None => panic!("status {status} without errors: {body}"),
            Some(e) => match e["extensions"]["code"].as_str() {
                Some(code) => {
                    Outcome::Refused(status, code.to_string(), e["message"].as_str().unwrap_or("").to_string())
                }
                None => panic!("an error without extensions.code (status {status}): {body}"),
            },
        },
    };
    Attempt { case: case.to_string(), kind, marker, outcome, started, elapsed: started.elapsed() }
}

// ---------------------------------------------------------------- what the log and read models hold

/// What the log holds for the tracked commands: marker → (case, report id or "").
type Found = BTreeMap<String, Vec<(String, String)>>;

/// Reads every case's stream; checks that it is whole (sequences 1..=n, hash chain
/// intact) and collects the markers in it. Returns the markers and each stream's length.
async fn read_streams(db: &Db, cases: &[String]) -> (Found, BTreeMap<String, i64>) {
    let mut found = Found::new();
    let mut lengths = BTreeMap::new();
    for case in cases {
        let events = log::read_stream(db, "Case", case).await.expect("read stream");
        let mut prev = domain::chain::GENESIS.to_string();
        for (i, e) in events.iter().enumerate() {
            assert_eq!(e.sequence, i as i64 + 1, "case {case}: the stream has a gap or a duplicate sequence");
            assert_eq!(e.prev_hash, prev, "case {case}: the hash chain breaks at sequence {}", e.sequence);
            prev = e.hash.clone();
            let p = &e.payload;
            let (marker, id) = match e.event_type.as_str() {
                "PoliceReportFiled" => (&p["PoliceReportFiled"]["police_unit"], &p["PoliceReportFiled"]["report_id"]),
                "ReferredToService" => (&p["ReferredToService"]["provider"], &Value::Null),
                _ => continue,
            };
            let marker = marker.as_str().unwrap_or_else(|| panic!("unexpected payload shape: {p}"));
            found.entry(marker.to_string()).or_default().push((case.clone(), id.as_str().unwrap_or("").to_string()));
        }
        lengths.insert(case.clone(), events.len() as i64);
    }
    (found, lengths)
}

/// The whole verdict on a run: see the module comment. Returns how many commands were
/// acknowledged, and how many of those whose outcome the client never learned are in the log.
async fn verify(db: &Db, cases: &[String], attempts: &[Attempt], report_ids_required: bool) -> (usize, usize) {
    let (found, lengths) = read_streams(db, cases).await;
    let tracked: BTreeSet<&str> = attempts.iter().map(|a| a.marker.as_str()).collect();
    for marker in found.keys() {
        assert!(tracked.contains(marker.as_str()), "the log holds {marker:?}, which no client sent");
    }
    let (mut acked, mut unknown_landed) = (0, 0);
    for a in attempts {
        let copies = found.get(&a.marker).map(Vec::as_slice).unwrap_or_default();
        match &a.outcome {
            Outcome::Acked(report_id) => {
                acked += 1;
                assert_eq!(copies.len(), 1, "acknowledged {:?} must be in the log exactly once: {copies:?}", a.marker);
                assert_eq!(copies[0].0, a.case, "{:?} landed in another case", a.marker);
                if report_ids_required && a.kind == Kind::Report {
                    assert!(report_id.is_some(), "the response to {:?} did not show its own report", a.marker);
                }
                if let Some(id) = report_id {
                    assert_eq!(&copies[0].1, id, "the acknowledged report id of {:?} is not the logged one", a.marker);
                }
            }
            Outcome::Refused(_, code, _) if code == "CONFLICT" => {
                assert!(copies.is_empty(), "{:?} was refused as a conflict yet is in the log", a.marker)
            }
            Outcome::Refused(..) | Outcome::Lost(_) => {
                assert!(copies.len() <= 1, "{:?} (outcome unknown to the client) is in the log twice", a.marker);
                unknown_landed += copies.len();
            }
        }
    }
    // The read models show exactly what the log holds, and no case is half-applied.
    for case in cases {
        let view = store::case_by_id(db, case.parse().expect("a case id"))
            .await
            .expect("read model")
            .expect("the case is in the read models");
        assert_eq!(view.version, lengths[case], "case {case}: read-model version ≠ stream length");
        let in_log = |want_report: bool| -> BTreeSet<String> {
            found
                .iter()
                .flat_map(|(m, copies)| copies.iter().map(move |(c, id)| (m, c, id)))
                .filter(|(_, c, id)| *c == case && id.is_empty() != want_report)
                .map(|(m, _, _)| m.clone())
                .collect()
        };
        let reports: BTreeSet<String> = view.reports.iter().map(|r| r.police_unit.clone()).collect();
        assert_eq!(reports.len(), view.reports.len(), "case {case}: a report is shown twice");
        assert_eq!(reports, in_log(true), "case {case}: the read model's reports differ from the log");
        let referrals: BTreeSet<String> = view.referrals.iter().filter_map(|r| r.provider.clone()).collect();
        assert_eq!(referrals, in_log(false), "case {case}: the read model's referrals differ from the log");
        let rows: Vec<String> = projections::on_db!(db, p => sqlx::query_scalar("SELECT report_id FROM rm_report WHERE case_id = $1")
            .bind(case).fetch_all(p).await.expect("rm_report"));
        let logged_ids: BTreeSet<String> =
            found.values().flatten().filter(|(c, id)| c == case && !id.is_empty()).map(|(_, id)| id.clone()).collect();
        assert_eq!(rows.len(), logged_ids.len(), "case {case}: rm_report has duplicates or gaps");
        assert_eq!(
            rows.into_iter().collect::<BTreeSet<_>>(),
            logged_ids,
            "case {case}: rm_report differs from the log"
        );
    }
    (acked, unknown_landed)
}

fn summary(name: &str, attempts: &[Attempt]) {
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for a in attempts {
        let k = match &a.outcome {
            Outcome::Acked(_) => "acknowledged".to_string(),
            Outcome::Refused(s, c, m) => format!("{c} ({s}: {m})"),
            Outcome::Lost(_) => "no answer".to_string(),
        };
        *by.entry(k).or_default() += 1;
    }
    eprintln!("{name}: {} commands: {by:?}", attempts.len());
}

// ---------------------------------------------------------------- 1. concurrent writers

const WRITERS: usize = 8;
const ROUNDS: usize = 16;

/// Eight writers, each with its own client, start every round together on the same three
/// cases (lawyer reports and intake-worker referrals mixed), so that most rounds collide.
/// The server's projector runs on its own thread, as `probono serve` runs it.
async fn concurrent_writers_lose_nothing_and_duplicate_nothing(backend: Backend) {
    let mut t = TestApp::spawn_as_served(backend).await;
    let c = t.client().clone();
    let w = Arc::new(world(&t, 3).await);
    let barrier = Arc::new(tokio::sync::Barrier::new(WRITERS));
    let mut tasks = vec![];
    for writer in 0..WRITERS {
        let (w, barrier, c) = (w.clone(), barrier.clone(), Client::new(&c.base));
        tasks.push(tokio::spawn(async move {
            let mut done = vec![];
            for round in 0..ROUNDS {
                let case = w.cases[(writer + round) % w.cases.len()].clone();
                let kind = if writer % 4 == 3 { Kind::Referral } else { Kind::Report };
                barrier.wait().await;
                done.push(attempt(&c, &w, &case, kind, format!("writer {writer} round {round}")).await);
            }
            done
        }));
    }
    let mut attempts = vec![];
    for task in tasks {
        attempts.extend(task.await.expect("writer task"));
    }
    summary("concurrent writers", &attempts);
    for a in &attempts {
        match &a.outcome {
            Outcome::Acked(_) => {}
            Outcome::Refused(200, code, _) if code == "CONFLICT" => {}
            other => panic!("{:?}: a concurrent writer may only succeed or get CONFLICT, got {other:?}", a.marker),
        }
    }
    let conflicts = attempts.iter().filter(|a| !a.acked()).count();
    assert!(conflicts > 0, "the writers were meant to collide; no CONFLICT means the test proved nothing");
    for case in &w.cases {
        assert!(attempts.iter().any(|a| &a.case == case && a.acked()), "no write to {case} ever won");
    }
    tests::wait_projected(&t.app).await;
    let (acked, _) = verify(&t.app.db, &w.cases, &attempts, true).await;
    assert_eq!(acked + conflicts, WRITERS * ROUNDS);
    // And the clients see the same through the API.
    for case in &w.cases {
        let d = c.ok(w.lawyer(), "query($id: ID!) { case(id: $id) { version } }", json!({ "id": case })).await;
        let len = log::read_stream(&t.app.db, "Case", case).await.expect("stream").len() as i64;
        assert_eq!(d["case"]["version"].as_i64(), Some(len));
    }
    t.stop().await;
}

// ---------------------------------------------------------------- 2. kill -9 under load

/// Runs `load` tasks against `base`, each alternating reports and referrals on its own
/// rotation of the cases, until `stop` is set or a request gets no answer.
fn start_load(base: &str, w: &Arc<World>, tasks: usize, tag: &str, stop: &Arc<AtomicBool>) -> LoadHandle {
    let out = Arc::new(Mutex::new(Vec::<Attempt>::new()));
    let mut handles = vec![];
    for task in 0..tasks {
        let (c, w, stop, out, tag) = (Client::new(base), w.clone(), stop.clone(), out.clone(), tag.to_string());
        handles.push(tokio::spawn(async move {
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let case = w.cases[(task + n) % w.cases.len()].clone();
                let kind = if n % 3 == 2 { Kind::Referral } else { Kind::Report };
                let a = attempt(&c, &w, &case, kind, format!("{tag} task {task} #{n}")).await;
                let lost = matches!(a.outcome, Outcome::Lost(_));
                out.lock().expect("attempts").push(a);
                n += 1;
                if lost {
                    break;
                }
            }
        }));
    }
    LoadHandle { out, handles }
}

struct LoadHandle {
    out: Arc<Mutex<Vec<Attempt>>>,
    handles: Vec<tokio::task::JoinHandle<()>>,
}

impl LoadHandle {
    fn acked(&self) -> usize {
        self.out.lock().expect("attempts").iter().filter(|a| a.acked()).count()
    }

    fn snapshot(&self) -> Vec<Attempt> {
        self.out.lock().expect("attempts").clone()
    }

    async fn wait_acked(&self, n: usize, within: Duration, what: &str) {
        let deadline = Instant::now() + within;
        while self.acked() < n {
            assert!(
                Instant::now() < deadline,
                "{what}: only {} of {n} commands acknowledged in {within:?}",
                self.acked()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn join(self) -> Vec<Attempt> {
        for h in self.handles {
            h.await.expect("load task");
        }
        Arc::try_unwrap(self.out)
            .map(|m| m.into_inner().expect("attempts"))
            .unwrap_or_else(|a| a.lock().expect("attempts").clone())
    }
}

async fn kill_9_under_load_loses_no_acknowledged_command(backend: Backend) {
    let db = TestDb::new(backend).await;
    db.ensure_key();
    // The first tokens come from the command line, as in production.
    let admin = tests::probono(&db, &["token", "create", "--role", "ADMIN", "--name", "root"]).await.trim().to_string();
    assert!(admin.starts_with("pbl_") && !admin.contains(char::is_whitespace), "stdout is only the token: {admin:?}");

    let mut server = ServerProcess::start(&db).await;
    let remote = Remote { client: Client::new(&format!("http://{}", server.addr)), admin };
    let c = remote.client.clone();
    let w = Arc::new(world(&remote, 4).await);
    let stop = Arc::new(AtomicBool::new(false));
    let load = start_load(&c.base, &w, 6, "before the kill", &stop);
    load.wait_acked(60, Duration::from_secs(60), "load before the kill").await;
    server.kill();
    let before = load.join().await;
    let in_flight = before.iter().filter(|a| matches!(a.outcome, Outcome::Lost(_))).count();
    summary("kill -9: before the kill", &before);
    for a in &before {
        if let Outcome::Refused(status, code, _) = &a.outcome {
            assert!(*status == 200 && code == "CONFLICT", "{:?}: unexpected refusal {status} {code}", a.marker);
        }
    }
    assert!(in_flight > 0, "every load task ends on a lost connection");

    // The restarted server catches up before it listens, then takes new commands.
    let mut server = ServerProcess::start(&db).await;
    let c = Client::new(&format!("http://{}", server.addr));
    let mut attempts = before;
    let after = attempt(&c, &w, &w.cases[0], Kind::Report, "after the restart".into()).await;
    assert!(after.acked(), "a command after the restart must succeed: {after:?}\n{}", server.log());
    attempts.push(after);

    let store = db.store_args();
    let opts = projections::db::DbOptions { max_connections: 4, ..Default::default() };
    let probe = Db::connect(&store.database_url, &opts).await.expect("connect to the test database");
    tests::wait_read_models(&probe, Duration::from_secs(10)).await;
    let (acked, landed) = verify(&probe, &w.cases, &attempts, true).await;
    eprintln!(
        "kill -9: {acked} acknowledged commands all present after the restart; \
         {landed} of {in_flight} without an answer had been committed"
    );

    // What the live projector built equals a rebuild from the log.
    server.kill();
    let live = tests::read_model_rows(&probe).await;
    assert!(live["rm_report"].len() >= 20, "the comparison must cover real data");
    projections::projector::rebuild(&probe).await.expect("rebuild");
    let rebuilt = tests::read_model_rows(&probe).await;
    for (table, rows) in &live {
        assert!(rows == &rebuilt[table], "{table} differs between the live read models and a rebuild");
    }
    probe.close().await;
}

on_both_backends!(
    concurrent_writers_lose_nothing_and_duplicate_nothing,
    kill_9_under_load_loses_no_acknowledged_command
);

// ---------------------------------------------------------------- 3. PostgreSQL stopped and started

/// A PostgreSQL cluster of the test's own, in a temporary folder, on a free loopback port
/// (never the shared server the other tests use). PostgreSQL refuses to run as root, so as
/// root its tools run as the `postgres` user. Dropping it stops the server (immediately) and
/// removes the folder, on every path.
struct PrivateCluster {
    dir: tempfile::TempDir,
    port: u16,
    bin: std::path::PathBuf,
    /// `fsync` on: a commit is on disk when PostgreSQL acknowledges it.
    durable: bool,
}

impl PrivateCluster {
    fn tool(bin: &std::path::Path, name: &str) -> std::process::Command {
        let path = bin.join(name);
        let as_root = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
        if as_root.unwrap_or(false) {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            std::process::Command::new(path)
        }
    }

    fn run(&self, name: &str, args: &[&str]) -> Result<(), String> {
        let out = Self::tool(&self.bin, name).args(args).output().map_err(|e| format!("{name}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{name} {args:?} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// Where `initdb` and `pg_ctl` are: on PATH, else the newest Debian-packaged version.
    fn find_bin() -> Option<std::path::PathBuf> {
        let on_path = std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file());
        let packaged = || {
            let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path().join("bin"))
                .filter(|d| d.join("initdb").is_file())
                .collect();
            dirs.sort();
            dirs.pop()
        };
        on_path.or_else(packaged)
    }

    /// A new cluster, started; `None` (and the reason printed) when this machine has no
    /// PostgreSQL server binaries.
    fn start(durable: bool) -> Option<PrivateCluster> {
        let Some(bin) = Self::find_bin() else {
            eprintln!("SKIPPED: no initdb and pg_ctl (on PATH or in /usr/lib/postgresql/*/bin) for a private cluster");
            return None;
        };
        let dir = tempfile::Builder::new().prefix("probono-pg-").tempdir().expect("temporary folder");
        let cluster = PrivateCluster { port: tests::free_port(), bin, dir, durable };
        let as_root = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
        if as_root.unwrap_or(false) {
            let ids = std::process::Command::new("id").args(["-u", "postgres"]).output().expect("id -u postgres");
            let uid: u32 = String::from_utf8_lossy(&ids.stdout).trim().parse().expect("a postgres OS user");
            std::os::unix::fs::chown(cluster.dir.path(), Some(uid), None).expect("chown the cluster folder");
        }
        let data = cluster.data();
        let mut initdb = vec!["-D", &data, "-U", "postgres", "--auth=trust"];
        if !durable {
            initdb.push("--no-sync");
        }
        cluster.run("initdb", &initdb).expect("initdb");
        cluster.pg_start().expect("start the private cluster");
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn pg_start(&self) -> Result<(), String> {
        let fsync = if self.durable { "on" } else { "off" };
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync={fsync} -c synchronous_commit=on -c full_page_writes=on",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log").display().to_string();
        self.run("pg_ctl", &["-D", &self.data(), "-o", &opts, "-l", &log, "-w", "-t", "30", "start"])
    }

    fn pg_stop(&self, mode: &str) -> Result<(), String> {
        self.run("pg_ctl", &["-D", &self.data(), "-m", mode, "-w", "-t", "30", "stop"])
    }

    fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = self.pg_stop("immediate");
    }
}

/// Polls `path` until it answers `want`; returns how long that took.
async fn wait_status(c: &Client, path: &str, want: u16, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if c.status(path).await == Some(want) {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "{path} did not answer {want} within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_started_under_load_the_server_stays_up_and_recovers() {
    let Some(cluster) = PrivateCluster::start(false) else { return };
    let db = TestDb::postgres_on(&cluster.admin_url()).await;
    let mut t = TestApp::spawn_on(db).await;
    let c = t.client().clone();
    let w = Arc::new(world(&t, 3).await);
    assert_eq!(c.status("/readyz").await, Some(200));

    // Load, then the database goes away under it.
    let stop = Arc::new(AtomicBool::new(false));
    let load = start_load(&c.base, &w, 6, "outage", &stop);
    load.wait_acked(20, Duration::from_secs(30), "load before the stop").await;
    let stopped_at = Instant::now();
    cluster.pg_stop("fast").expect("pg_ctl stop -m fast");

    let to_unready = wait_status(&c, "/readyz", 503, Duration::from_secs(5)).await;
    assert_eq!(c.status("/healthz").await, Some(200), "the server stays up while the database is down");
    // Requests during the outage get typed errors, promptly.
    let deadline = Instant::now() + Duration::from_secs(20);
    while load.snapshot().iter().filter(|a| a.started > stopped_at && !a.acked()).count() < 6 {
        assert!(Instant::now() < deadline, "requests during the outage did not come back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let outage = load.join().await;
    assert_eq!(c.status("/healthz").await, Some(200));
    assert_eq!(c.status("/readyz").await, Some(503));

    // The database comes back; with no traffic at all the server notices on its own.
    cluster.pg_start().expect("pg_ctl start");
    let to_ready = wait_status(&c, "/readyz", 200, Duration::from_secs(20)).await;

    // New commands succeed, from every load task.
    let stop = Arc::new(AtomicBool::new(false));
    let load = start_load(&c.base, &w, 6, "after", &stop);
    load.wait_acked(20, Duration::from_secs(30), "load after the restart").await;
    stop.store(true, Ordering::Relaxed);
    let after = load.join().await;

    summary("postgres restart: around the stop", &outage);
    summary("postgres restart: after the start", &after);
    eprintln!("postgres restart: /readyz 503 after {to_unready:?}, 200 again {to_ready:?} after the start");
    let mut during = 0;
    for a in &outage {
        assert!(
            a.elapsed < api::http::REQUEST_TIMEOUT,
            "{:?} took {:?}: longer than the request time-out",
            a.marker,
            a.elapsed
        );
        match &a.outcome {
            Outcome::Acked(_) => {}
            Outcome::Refused(status, code, message) => {
                assert_ne!(*status, 500, "{:?}: a 500", a.marker);
                assert!(matches!(code.as_str(), "INTERNAL" | "CONFLICT"), "{:?}: unexpected code {code}", a.marker);
                if code == "INTERNAL" {
                    assert_eq!(message, UNAVAILABLE, "{:?}: an outage is reported as such", a.marker);
                    during += 1;
                }
            }
            Outcome::Lost(e) => panic!("{:?}: the server dropped a request: {e}", a.marker),
        }
    }
    assert!(during > 0, "some requests met the outage");
    for a in &after {
        assert!(
            a.acked() || matches!(&a.outcome, Outcome::Refused(200, code, _) if code == "CONFLICT"),
            "after recovery only success or CONFLICT: {a:?}"
        );
    }
    assert!(after.iter().any(|a| a.started > stopped_at && a.acked()));

    let mut attempts = outage;
    attempts.extend(after);
    tests::wait_projected(&t.app).await;
    let (acked, landed) = verify(&t.app.db, &w.cases, &attempts, false).await;
    eprintln!(
        "postgres restart: {acked} acknowledged commands, each in the log and read models exactly once; \
         {landed} refused during the outage had been committed"
    );

    // Once more while idle: the projector is caught up, meets the outage, and after the
    // start there is no new event whose projection would clear its failure. Readiness must
    // come back anyway.
    cluster.pg_stop("fast").expect("pg_ctl stop -m fast (idle)");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = c.http.get(format!("{}/readyz", c.base)).send().await.expect("/readyz answers");
        assert_eq!(r.status().as_u16(), 503);
        let body: Value = r.json().await.expect("/readyz body");
        if body["projector"]["failing"] == true {
            break;
        }
        assert!(Instant::now() < deadline, "the projector never noticed the outage: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cluster.pg_start().expect("pg_ctl start (idle)");
    let to_ready = wait_status(&c, "/readyz", 200, Duration::from_secs(20)).await;
    eprintln!("postgres restart while idle: /readyz 200 again {to_ready:?} after the start");
    let last = attempt(&c, &w, &w.cases[0], Kind::Report, "after the idle restart".into()).await;
    assert!(last.acked(), "{last:?}");
    t.stop().await;
    drop(t);
    drop(cluster);
}

// ---------------------------------------------------------------- 4. PostgreSQL crashes

/// Opens intakes one after another until `stop` is set: the ids of those acknowledged, and
/// how many were refused (typed) meanwhile.
fn start_intakes(c: &Client, w: &Arc<World>, stop: &Arc<AtomicBool>) -> tokio::task::JoinHandle<(Vec<String>, usize)> {
    let (c, w, stop) = (Client::new(&c.base), w.clone(), stop.clone());
    tokio::spawn(async move {
        let (mut acked, mut refused) = (vec![], 0);
        while !stop.load(Ordering::Relaxed) {
            let answer = c
                .post(
                    w.intake(),
                    "mutation($i: OpenIntakeInput!) { openIntake(input: $i) { id } }",
                    json!({ "i": {
                        "identifiedOn": "2020-03-02", "referralSource": "HOTLINE", "exploitationTypes": ["FORCED_LABOR"],
                        "client": { "fullName": "Crash Test Client", "gender": "MALE" },
                        "consent": { "legalAid": true, "reportToPolice": true, "dataSharing": true } } }),
                )
                .await;
            match answer {
                Ok((200, body)) if body.get("errors").is_none() => {
                    acked.push(body["data"]["openIntake"]["id"].as_str().expect("a case id").to_string())
                }
                Ok((status, body)) => {
                    let code = body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default().to_string();
                    assert!(status != 500 && code == "INTERNAL", "an intake during the crash: {status} {body}");
                    assert_eq!(body["errors"][0]["message"], UNAVAILABLE, "a crash is reported as an outage");
                    refused += 1;
                }
                Err(e) => panic!("the server dropped an intake: {e}"),
            }
        }
        (acked, refused)
    })
}

/// PostgreSQL with `fsync` on crashes (`pg_ctl stop -m immediate`: no checkpoint, no
/// orderly shutdown) while reports, referrals and intakes are being written; after its crash
/// recovery every command the server acknowledged is in the log exactly once and in the read
/// models, no stream is torn, and `probono audit verify` finds every chain intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_crashing_under_load_with_fsync_on_loses_no_acknowledged_command() {
    let Some(cluster) = PrivateCluster::start(true) else { return };
    let settings: Vec<(String, String)> = {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&cluster.admin_url()).await.expect("connect");
        sqlx::query_as(
            "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit') ORDER BY name",
        )
        .fetch_all(&mut conn)
        .await
        .expect("pg_settings")
    };
    assert_eq!(settings, [("fsync".into(), "on".into()), ("synchronous_commit".into(), "on".into())]);
    let db = TestDb::postgres_on(&cluster.admin_url()).await;
    let mut t = TestApp::spawn_on(db).await;
    let c = t.client().clone();
    let w = Arc::new(world(&t, 3).await);

    let stop = Arc::new(AtomicBool::new(false));
    let load = start_load(&c.base, &w, 5, "crash", &stop);
    let intakes = start_intakes(&c, &w, &stop);
    load.wait_acked(30, Duration::from_secs(30), "load before the crash").await;
    let crashed_at = Instant::now();
    cluster.pg_stop("immediate").expect("pg_ctl stop -m immediate");
    // Requests meet the crash and get typed errors; then the load stops.
    let deadline = Instant::now() + Duration::from_secs(20);
    while load.snapshot().iter().filter(|a| a.started > crashed_at && !a.acked()).count() < 5 {
        assert!(Instant::now() < deadline, "requests during the crash did not come back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut attempts = load.join().await;
    let (opened, intakes_refused) = intakes.await.expect("intake task");
    summary("postgres crash: around the crash", &attempts);
    for a in &attempts {
        match &a.outcome {
            Outcome::Acked(_) => {}
            Outcome::Refused(200, code, _) if code == "CONFLICT" => {}
            Outcome::Refused(status, code, message) => {
                assert!(*status != 500 && code == "INTERNAL", "{:?}: unexpected {status} {code}", a.marker);
                assert_eq!(message, UNAVAILABLE, "{:?}: a crash is reported as an outage", a.marker);
            }
            Outcome::Lost(e) => panic!("{:?}: the server dropped a request: {e}", a.marker),
        }
    }

    // Crash recovery, then the server is ready and takes commands again.
    cluster.pg_start().expect("pg_ctl start after the crash");
    let to_ready = wait_status(&c, "/readyz", 200, Duration::from_secs(30)).await;
    let after = attempt(&c, &w, &w.cases[0], Kind::Report, "after the crash".into()).await;
    assert!(after.acked(), "a command after the recovery must succeed: {after:?}");
    attempts.push(after);
    let acked_before_crash = attempts.iter().filter(|a| a.acked() && a.started < crashed_at).count();
    assert!(acked_before_crash >= 30 && !opened.is_empty(), "the crash must meet real load");

    tests::wait_projected(&t.app).await;
    let (acked, landed) = verify(&t.app.db, &w.cases, &attempts, false).await;
    for id in &opened {
        let events = log::read_stream(&t.app.db, "Case", id).await.expect("read stream");
        assert_eq!(
            events.first().map(|e| e.event_type.as_str()),
            Some("IntakeOpened"),
            "acknowledged intake {id} is not in the log"
        );
        let view = store::case_by_id(&t.app.db, id.parse().expect("a case id")).await.expect("read model");
        assert_eq!(view.map(|v| v.version), Some(events.len() as i64), "intake {id}: read model ≠ log");
    }
    let run = tests::run_probono(&["audit", "verify", "--database-url", &t.db.url]).await;
    assert_eq!(run.code, Some(0), "audit verify after the crash: {run:?}");
    assert!(run.stdout.contains("every chain holds"), "{run:?}");
    eprintln!(
        "postgres crash (fsync on): {acked} acknowledged commands and {} intakes all there after recovery \
         ({landed} refused ones had been committed; {intakes_refused} intakes refused); ready {to_ready:?} after the start",
        opened.len()
    );
    t.stop().await;
    drop(t);
    drop(cluster);
}
