//! The web app in a real browser: Debian's Chromium driven over WebDriver (ChromeDriver,
//! fantoccini). A whole case in Russian by three users in three browser sessions, a stale
//! CSRF token, session expiry, an out-of-scope 404, no request to another origin, axe-core
//! with no serious or critical violation on any screen, and screenshots of each screen at
//! 360×740 and 1366×768 under `target/screenshots/`.
//!
//! `scripts/test` installs `chromium`, `chromium-driver` (apt) and axe-core (npm, into the
//! git-ignored `target/axe/`) when they are missing.

use super::{people, serve_web, PASSWORD};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tests::fixtures::CLIENT_NAME;
use tests::{Backend, TestApp};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A ChromeDriver of our own on a free port; stopped on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn driver() -> Driver {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
        "the browser tests need Debian's chromium and chromium-driver: run scripts/test, or apt-get install -y chromium chromium-driver"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver { child, url: format!("http://127.0.0.1:{port}") }
}

async fn browser(d: &Driver) -> Client {
    browser_saving_to(d, None).await
}

/// A browser session; with `downloads`, files it downloads are saved there without asking.
async fn browser_saving_to(d: &Driver, downloads: Option<&std::path::Path>) -> Client {
    let mut prefs = json!({ "intl.accept_languages": "ru" });
    if let Some(dir) = downloads {
        prefs["download.default_directory"] = json!(dir.display().to_string());
        prefs["download.prompt_for_download"] = json!(false);
    }
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=ru",
                     "--window-size=1366,768", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-default-apps"],
            "prefs": prefs
        }
    });
    let Value::Object(caps) = caps else { unreachable!() };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(caps).connect(&d.url).await.expect("a browser session")
}

/// One browser session with the checks every screen gets.
struct Tab {
    c: Client,
    base: String,
    shots: bool,
}

impl Tab {
    async fn go(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
        self.settle().await;
    }

    async fn settle(&self) {
        for _ in 0..100 {
            if self.c.execute("return document.readyState", vec![]).await.unwrap() == json!("complete") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn source(&self) -> String {
        self.c.source().await.unwrap()
    }

    async fn title(&self) -> String {
        self.c.title().await.unwrap()
    }

    async fn fill(&self, id: &str, value: &str) {
        let e = self.c.find(Locator::Id(id)).await.unwrap_or_else(|_| panic!("no field #{id}"));
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    /// Date inputs take their value from script: typing depends on the browser's locale.
    async fn date(&self, id: &str, iso: &str) {
        self.c
            .execute("document.getElementById(arguments[0]).value = arguments[1]", vec![json!(id), json!(iso)])
            .await
            .unwrap();
    }

    async fn select(&self, id: &str, value: &str) {
        let e = self.c.find(Locator::Id(id)).await.unwrap_or_else(|_| panic!("no select #{id}"));
        e.select_by_value(value).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.c.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("nothing matches {css}")).click().await.unwrap();
        self.settle().await;
    }

    /// Clicks something that loads a new page, and waits until the new page has loaded.
    async fn navigate(&self, css: &str) {
        self.c.execute("window.__before = true", vec![]).await.unwrap();
        self.c.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("nothing matches {css}")).click().await.unwrap();
        for _ in 0..200 {
            let state = self
                .c
                .execute("return window.__before === undefined && document.readyState === 'complete'", vec![])
                .await;
            if matches!(state, Ok(Value::Bool(true))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no new page after clicking {css}");
    }

    async fn submit(&self, action: &str) {
        self.navigate(&format!("form[action=\"{action}\"] button[type=submit]")).await;
    }

    async fn sign_in(&self, username: &str) {
        self.go("/app/sign-in").await;
        self.fill("username", username).await;
        self.fill("password", PASSWORD).await;
        self.submit("/app/sign-in").await;
        let title = self.title().await;
        assert!(
            !title.starts_with("Вход") && !title.starts_with("Не удалось"),
            "{username} is signed in: {}",
            self.source().await
        );
    }

    /// Every request the page made went to this server (the resource timing log), and the
    /// page has no script at all.
    async fn same_origin_only(&self, name: &str) {
        let entries = self.c.execute("return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource')).map(e => e.name)", vec![]).await.unwrap();
        let entries: Vec<String> = serde_json::from_value(entries).unwrap();
        assert!(!entries.is_empty());
        for e in &entries {
            assert!(e.starts_with(&self.base), "{name}: a request to another origin: {e}");
        }
        let scripts = self.c.execute("return document.scripts.length", vec![]).await.unwrap();
        assert_eq!(scripts, json!(0), "{name}: no script");
    }

    /// axe-core in the page: no serious or critical violation.
    async fn accessible(&self, name: &str) {
        let path = std::env::var("PROBONO_AXE_JS")
            .map(PathBuf::from)
            .unwrap_or_else(|_| workspace().join("target/axe/node_modules/axe-core/axe.min.js"));
        let axe = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!("axe-core is missing at {}: run scripts/test (it installs it with npm)", path.display())
        });
        self.c.execute(&axe, vec![]).await.unwrap();
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ['violations'] })
              .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
              .catch(e => done(['axe failed: ' + e]));";
        let found = self.c.execute_async(script, vec![]).await.unwrap();
        let found: Vec<String> = serde_json::from_value(found).unwrap();
        assert!(found.is_empty(), "{name}: accessibility violations: {found:#?}");
    }

    /// Checks the screen, and on the first backend writes its screenshots.
    async fn screen(&self, name: &str) {
        self.same_origin_only(name).await;
        if !self.shots {
            return;
        }
        self.accessible(name).await;
        let dir = workspace().join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        for (w, h) in [(360, 740), (1366, 768)] {
            self.c.set_window_size(w, h).await.unwrap();
            // A page opened at an anchor stays at it in both sizes.
            self.c
                .execute("if (location.hash) { document.querySelector(location.hash)?.scrollIntoView(); }", vec![])
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(150)).await;
            // A screen about one part of a long page names it in `window.__shot`.
            let scroll = "if (window.__shot) { document.querySelector(window.__shot).scrollIntoView(); }";
            self.c.execute(scroll, vec![]).await.unwrap();
            let png = self.c.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}-{w}x{h}.png")), png).unwrap();
        }
        self.c.set_window_size(1366, 768).await.unwrap();
    }
}

async fn whole_case_in_a_browser(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let p = people(&t).await;
    let base = serve_web(&t, false).await;
    let d = driver().await;
    let shots = backend == Backend::Sqlite;
    let intake = Tab { c: browser(&d).await, base: base.clone(), shots };
    let coordinator = Tab { c: browser(&d).await, base: base.clone(), shots };
    let lawyer = Tab { c: browser(&d).await, base: base.clone(), shots };

    // The intake worker, in Russian, on a phone-sized screen too.
    intake.go("/app/sign-in?lang=ru").await;
    assert!(intake.source().await.contains("lang=\"ru\""));
    intake.screen("sign-in").await;
    intake.sign_in("intake").await;
    intake.go("/app/intake/new").await;
    assert_eq!(intake.title().await, "Новое обращение — Pro Bono Ledger");
    intake.screen("intake-form").await;
    // Sent empty, the form comes back with a summary linked to the fields.
    intake.submit("/app/intake/new").await;
    assert!(intake.source().await.contains("Исправьте, пожалуйста, следующее"));
    intake.screen("intake-form-errors").await;
    intake.date("identifiedOn", "2024-03-05").await;
    intake.select("referralSource", "HOTLINE").await;
    intake.click("#exploitationTypes-0").await;
    intake.fill("countryOfExploitation", "RU").await;
    intake.fill("fullName", CLIENT_NAME).await;
    intake.select("gender", "FEMALE").await;
    intake.fill("ageAtIdentification", "24").await;
    intake.select("region", "OSH").await;
    intake.click("#legalAid").await;
    intake.click("#reportToPolice").await;
    intake.submit("/app/intake/new").await;
    let url = intake.c.current_url().await.unwrap();
    assert!(url.path().starts_with("/app/cases/"), "{url}");
    let case = url.path().to_string();
    let page = intake.source().await;
    assert!(page.contains("Сохранено.") && page.contains("Ждёт адвоката"));
    assert!(!page.contains(CLIENT_NAME), "the identity is hidden until asked for");
    intake.screen("case-intake").await;
    intake.select("purpose", "CONTACT_CLIENT").await;
    intake.submit(&format!("{case}/identity")).await;
    assert!(intake.source().await.contains(CLIENT_NAME));
    intake.go("/app/cases").await;
    intake.screen("cases").await;

    // The coordinator assigns a lawyer.
    coordinator.sign_in("coordinator").await;
    coordinator.go("/app/coordinator").await;
    assert!(coordinator.source().await.contains(&case));
    coordinator.screen("coordinator").await;
    coordinator.go("/app/lawyers").await;
    coordinator.screen("lawyers").await;
    coordinator.go(&case).await;
    coordinator.select("lawyerId", &p.w.lawyer_a_id).await;
    coordinator.submit(&format!("{case}/assign")).await;
    assert!(coordinator.source().await.contains("Адвокат назначен"));

    // The lawyer answers and takes the case to a verdict.
    lawyer.sign_in("lawyer.a").await;
    lawyer.go("/app/assignments").await;
    assert!(lawyer.source().await.contains(&case));
    lawyer.screen("assignments").await;
    lawyer.go(&case).await;
    lawyer.screen("case-lawyer-answer").await;
    lawyer.submit(&format!("{case}/accept")).await;
    lawyer.date("filedOn", "2024-03-10").await;
    lawyer.fill("policeUnit", "ОВД Октябрьского района").await;
    lawyer.submit(&format!("{case}/police-report")).await;
    assert!(lawyer.source().await.contains("ОВД Октябрьского района"));
    lawyer.select("offenseCode", "2021-166").await;
    lawyer.date("registeredOn", "2024-03-12").await;
    lawyer.submit(&format!("{case}/registration")).await;
    lawyer.screen("case-lawyer-steps").await;
    lawyer.select("outcome", "SENT_TO_COURT").await;
    lawyer.date("decidedOn", "2024-06-01").await;
    lawyer.submit(&format!("{case}/outcome")).await;
    lawyer.select("outcome", "CONVICTED").await;
    lawyer.date("decidedOn", "2024-09-01").await;
    lawyer.submit(&format!("{case}/verdict")).await;
    let done = lawyer.source().await;
    assert!(done.contains("Обвинительный приговор") && done.contains("Решение вынесено"), "{done}");
    lawyer.screen("case-decided").await;

    // A stale CSRF token: the form from before signing in again is refused.
    intake.go("/app/intake/new").await;
    let old = intake.c.execute("return document.querySelector('input[name=csrf]').value", vec![]).await.unwrap();
    intake.navigate("header form[action=\"/app/sign-out\"] button").await;
    assert!(intake.title().await.starts_with("Вход"));
    intake.sign_in("intake").await;
    intake.go("/app/intake/new").await;
    intake
        .c
        .execute(
            "document.querySelector('form[action=\"/app/intake/new\"] input[name=csrf]').value = arguments[0]",
            vec![old],
        )
        .await
        .unwrap();
    intake.submit("/app/intake/new").await;
    assert!(intake.source().await.contains("форма устарела"), "the stale token is refused");

    // Session expiry: idle for more than 30 minutes, the next page asks to sign in.
    let old = (chrono::Utc::now() - chrono::Duration::minutes(31)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    projections::on_db!(&t.app.db, p => sqlx::query("UPDATE web_sessions SET last_seen_at = $1").bind(&old).execute(p).await.map(|_| ()).unwrap());
    lawyer.go(&case).await;
    assert!(lawyer.title().await.starts_with("Вход"), "an idle session has expired");

    // Out of scope: another lawyer sees the plain 404.
    lawyer.sign_in("lawyer.b").await;
    lawyer.go(&case).await;
    assert!(lawyer.title().await.starts_with("Страница не найдена"));
    lawyer.screen("not-found").await;

    // Kyrgyz, remembered once chosen (the idle session above ended too: the choice survives
    // the way through signing in).
    intake.go("/app/cases?lang=ky").await;
    assert!(intake.title().await.starts_with("Кирүү"));
    intake.sign_in("intake").await;
    intake.go("/app/cases").await;
    let lang = intake.c.execute("return document.documentElement.lang", vec![]).await.unwrap();
    assert_eq!(lang, json!("ky"), "{}", intake.source().await);
    assert_eq!(intake.title().await, "Иштер — Pro Bono Ledger");
    intake.screen("cases-ky").await;
    intake.go("/app/intake/new").await;
    assert_eq!(intake.title().await, "Жаңы кайрылуу — Pro Bono Ledger");

    // The auditor sees every sign-in, failure and sign-out, and who read an identity.
    coordinator.navigate("header form[action=\"/app/sign-out\"] button").await;
    coordinator.sign_in("auditor").await;
    coordinator.go("/app/audit").await;
    let dash = coordinator.source().await;
    assert!(dash.contains("Выход") && dash.contains("Связь с клиентом"), "{dash}");
    coordinator.screen("dashboard").await;

    // An ADMIN invites an intake worker; the link works once.
    coordinator.navigate("header form[action=\"/app/sign-out\"] button").await;
    super::user(&t, "admin", domain::values::Role::Admin, None, None).await;
    coordinator.sign_in("admin").await;
    coordinator.go("/app/admin").await;
    coordinator.screen("admin").await;
    coordinator.fill("name", "Айгуль").await;
    coordinator.select("role", "INTAKE_WORKER").await;
    coordinator.fill("organizationId", &p.w.org).await;
    coordinator.submit("/app/admin").await;
    let made = coordinator.source().await;
    let link =
        made.split("/app/invitations/").nth(1).expect("an invitation link").split('<').next().unwrap().to_string();
    coordinator.navigate("header form[action=\"/app/sign-out\"] button").await;
    coordinator.go(&format!("/app/invitations/{link}")).await;
    coordinator.screen("invitation").await;
    coordinator.fill("username", "aigul").await;
    coordinator.fill("password", PASSWORD).await;
    coordinator.submit(&format!("/app/invitations/{link}")).await;
    coordinator.sign_in("aigul").await;
    assert!(coordinator.source().await.contains("aigul"));
    coordinator.navigate("header form[action=\"/app/sign-out\"] button").await;
    // A second ADMIN approves the invited worker's account on the Approvals page.
    super::user(&t, "chief", domain::values::Role::Admin, None, None).await;
    coordinator.sign_in("chief").await;
    coordinator.go("/app/approvals").await;
    let page = coordinator.source().await;
    assert!(page.contains("Айгуль"), "{page}");
    coordinator.screen("approvals").await;
    // The approve form in Айгуль's row.
    let row = &page[page.find("Айгуль").unwrap()..];
    let id = row.split("action=\"/app/approvals/").nth(1).expect("an approve form").split('"').next().unwrap();
    coordinator.submit(&format!("/app/approvals/{id}")).await;
    let after = coordinator.source().await;
    assert!(!after.contains("Айгуль"), "approved, so no longer waiting: {after}");
    coordinator.navigate("header form[action=\"/app/sign-out\"] button").await;
    coordinator.go(&format!("/app/invitations/{link}")).await;
    assert!(coordinator.title().await.starts_with("Страница не найдена"), "the link works once");

    for tab in [intake, coordinator, lawyer] {
        let _ = tab.c.close().await;
    }
}

tests::on_both_backends!(whole_case_in_a_browser);

/// Waits for a download of the browser to finish in `dir`; its contents.
async fn downloaded(dir: &std::path::Path) -> (String, String) {
    for _ in 0..200 {
        let done: Vec<PathBuf> =
            std::fs::read_dir(dir).map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
        // Chromium writes `.org.chromium.*` and `*.crdownload` while it downloads.
        let partial = |p: &PathBuf| {
            p.extension().is_some_and(|e| e == "crdownload" || e == "tmp")
                || p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
        };
        if let (false, Some(file)) = (done.iter().any(partial), done.first()) {
            if let Ok(text) = std::fs::read_to_string(file) {
                if !text.is_empty() {
                    return (file.file_name().unwrap().to_string_lossy().into_owned(), text);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no finished download in {}", dir.display());
}

/// A published-statistics CSV as a publisher may print it: no count from 1 to 4 is shown,
/// each such cell reads `<5`; returns how many cells were suppressed.
fn suppressed_cells(csv: &str) -> usize {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    assert!(header.len() > 1, "{csv}");
    let mut suppressed = 0;
    for line in lines {
        for cell in line.split(',') {
            if cell == "<5" {
                suppressed += 1;
            } else if let Ok(n) = cell.parse::<i64>() {
                assert!(n == 0 || n >= 5, "a count under 5 is published: {line}");
            }
        }
    }
    suppressed
}

/// An auditor in Kyrgyz filters the outcomes dashboard, downloads its CSV (cells under 5
/// suppressed), finds the seed report's three official series beside the ledger's count,
/// drills into a number; no identity on any of it; axe-core and screenshots of each screen.
async fn the_auditors_dashboard_in_kyrgyz(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    crate::dashboard::seed_demo(&t).await;
    // A planted client whose name must appear nowhere on the auditor's screens.
    let w = tests::fixtures::world(&t).await;
    tests::fixtures::open_case(&t, &w, true).await;
    super::user(&t, "auditor", domain::values::Role::Auditor, None, None).await;
    let base = serve_web(&t, false).await;
    let d = driver().await;
    let downloads = tempfile::tempdir().unwrap();
    let tab = Tab {
        c: browser_saving_to(&d, Some(downloads.path())).await,
        base: base.clone(),
        shots: backend == Backend::Sqlite,
    };
    tab.go("/app/sign-in?lang=ky").await;
    tab.sign_in("auditor").await;
    tab.go("/app/dashboard").await;
    assert_eq!(tab.title().await, "Иштердин жыйынтыктары — Pro Bono Ledger");
    let page = tab.source().await;
    assert!(page.contains("Алдамчылык катары катталды") && page.contains("<svg"), "charts labelled in Kyrgyz");
    tab.screen("outcomes-dashboard").await;

    // Filters: women, in the years 2018 to 2020.
    tab.date("from", "2018-01-01").await;
    tab.date("to", "2020-12-31").await;
    tab.select("gender", "FEMALE").await;
    tab.navigate("form.filters button[type=submit]").await;
    let url = tab.c.current_url().await.unwrap();
    assert!(url.query().unwrap_or("").contains("gender=FEMALE"), "{url}");
    let filtered = tab.source().await;
    assert!(filtered.contains("2018") && filtered.contains("Аял"), "the filters are shown on the report");
    tab.screen("outcomes-dashboard-filtered").await;

    // The CSV of the years view, downloaded by the browser with the filters kept: counts
    // under 5 suppressed, as `probono export stats` publishes them.
    assert!(filtered.contains("export.csv?from=2018-01-01&amp;to=2020-12-31&amp;gender=FEMALE"), "{filtered}");
    tab.click("a[href*=\"export.csv\"][href*=\"view=years\"]").await;
    let (name, csv) = downloaded(downloads.path()).await;
    assert!(name.ends_with(".csv"), "{name}");
    assert!(csv.starts_with("year,"), "{csv}");
    assert!(suppressed_cells(&csv) > 0, "the filtered years have small cells, shown as <5: {csv}");
    assert!(!csv.contains(CLIENT_NAME) && !csv.contains("Demo Client"), "no identity in the CSV");

    // The three official series stand beside the ledger's count, differences marked.
    for s in ["National Statistics Committee", "MOI/GPO", "US TIP Report", "реестрден айырмаланат"]
    {
        assert!(filtered.contains(s), "{s}");
    }
    tab.go("/app/dashboard#figures-h").await;
    tab.screen("official-figures").await;

    // A number of the funnel opens the list of cases behind it: references, never names.
    tab.navigate("a[href*=\"/app/dashboard/cases\"]").await;
    let behind = tab.source().await;
    assert!(tab.c.current_url().await.unwrap().path() == "/app/dashboard/cases", "{behind}");
    let refs: Vec<&str> =
        behind.split("<td><a href=\"/app/cases/").skip(1).filter_map(|r| r.split(['<', '>']).nth(1)).collect();
    let distinct: std::collections::BTreeSet<&&str> = refs.iter().collect();
    assert!(refs.len() > 10 && distinct.len() == refs.len(), "each case has a reference of its own: {refs:?}");
    tab.screen("outcomes-dashboard-cases").await;
    // The case behind a number: its timeline, not its client.
    tab.navigate("main td a[href^=\"/app/cases/\"]").await;
    let timeline = tab.source().await;
    assert!(!tab.title().await.starts_with("Барак табылган жок"), "{timeline}");
    tab.screen("outcomes-dashboard-case").await;
    for (what, html) in [("dashboard", &page), ("filtered", &filtered), ("drill-down", &behind), ("case", &timeline)] {
        assert!(!html.contains(CLIENT_NAME) && !html.contains("Demo Client"), "no identity on the {what} page");
    }
    let _ = tab.c.close().await;
}

tests::on_both_backends!(the_auditors_dashboard_in_kyrgyz);

/// The auditor's audit screens and the ADMIN's administration, in a real browser: an
/// auditor (Russian) verifies a case's hash chain, checks a signed checkpoint and reads the
/// identity-read log and an account's activity, never seeing a name; an ADMIN (English)
/// adds an article to the offence catalogue with its source and retires it, and asks for a
/// client's data to be erased, which they cannot approve themselves; a second ADMIN approves
/// it and the identity is gone for good.
async fn oversight_and_administration_in_a_browser(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let p = people(&t).await;
    let case = tests::fixtures::represented_case(&t, &p.w).await;
    super::user(&t, "admin", domain::values::Role::Admin, None, None).await;
    super::user(&t, "chief", domain::values::Role::Admin, None, None).await;
    let base = serve_web(&t, false).await;
    let d = driver().await;
    let shots = backend == Backend::Sqlite;
    let intake = Tab { c: browser(&d).await, base: base.clone(), shots };
    let auditor = Tab { c: browser(&d).await, base: base.clone(), shots };
    let admin = Tab { c: browser(&d).await, base: base.clone(), shots };

    // The intake worker reads the client's identity, which is on record for the auditor.
    intake.sign_in("intake").await;
    intake.go(&format!("/app/cases/{case}")).await;
    intake.select("purpose", "CONTACT_CLIENT").await;
    intake.submit(&format!("/app/cases/{case}/identity")).await;
    assert!(intake.source().await.contains(CLIENT_NAME));

    // The auditor: the identity-read log, the case's trail, "verify", a signed checkpoint.
    auditor.sign_in("auditor").await;
    auditor.go("/app/audit").await;
    let log = auditor.source().await;
    assert!(log.contains("Связь с клиентом") && log.contains("intake (test)"), "who read, why: {log}");
    auditor.fill("case", &case).await;
    auditor.navigate("form[action=\"/app/audit\"] button[type=submit]").await;
    let by_case = auditor.source().await;
    assert!(by_case.contains(&format!("/app/audit/cases/{case}")), "{by_case}");
    auditor.screen("audit-identity-reads").await;
    auditor.go(&format!("/app/audit/cases/{case}")).await;
    auditor.navigate(&format!("form[action=\"/app/audit/cases/{case}\"] button[type=submit]")).await;
    let verified = auditor.source().await;
    assert!(verified.contains("Запись не изменена"), "{verified}");
    auditor.screen("audit-trail-verified").await;
    let dir = t.db.path();
    let key = dir.join("audit.key").display().to_string();
    let cp = dir.join("checkpoint.json").display().to_string();
    let k = tests::run_probono(&["audit", "keygen", "--out", &key]).await;
    assert_eq!(k.code, Some(0), "{k:?}");
    let public = k.stdout.trim().to_string();
    let run =
        tests::run_probono(&["audit", "checkpoint", "--signing-key", &key, "--out", &cp, "--database-url", &t.db.url])
            .await;
    assert_eq!(run.code, Some(0), "{run:?}");
    let checkpoint = std::fs::read_to_string(&cp).unwrap();
    auditor
        .c
        .execute("document.getElementById('checkpoint').value = arguments[0]", vec![json!(checkpoint)])
        .await
        .unwrap();
    auditor.fill("publicKey", &public).await;
    auditor.submit(&format!("/app/audit/cases/{case}/checkpoint")).await;
    let checked = auditor.source().await;
    assert!(checked.contains("Подпись контрольной точки верна"), "{checked}");
    auditor.screen("audit-checkpoint-checked").await;
    auditor.go("/app/audit").await;
    auditor.navigate("a[href^=\"/app/audit/accounts/\"]").await;
    let activity = auditor.source().await;
    auditor.screen("audit-account-activity").await;
    for (what, html) in
        [("log", &log), ("by case", &by_case), ("trail", &verified), ("checkpoint", &checked), ("activity", &activity)]
    {
        assert!(!html.contains(CLIENT_NAME), "no identity on the auditor's {what} page");
    }

    // The ADMIN, in English: the offence catalogue, an article added with its source and
    // retired again.
    admin.go("/app/sign-in?lang=en").await;
    admin.sign_in("admin").await;
    admin.go("/app/admin").await;
    admin.navigate("a[href=\"/app/admin/offenses\"]").await;
    assert_eq!(admin.title().await, "Offence catalogue — Pro Bono Ledger");
    admin.screen("admin-offense-catalogue").await;
    // Sent without a source, the form says so and keeps what was typed.
    admin.fill("edition", "2021").await;
    admin.fill("article", "999").await;
    admin.fill("title", "Test offence of the catalogue screen").await;
    admin.select("category", "OTHER").await;
    admin.submit("/app/admin/offenses").await;
    let refused = admin.source().await;
    assert!(refused.contains("error-summary") && refused.contains("Test offence of the catalogue screen"), "{refused}");
    admin.fill("source", "Official text, art. 999 (test citation)").await;
    admin.submit("/app/admin/offenses").await;
    assert_eq!(admin.c.current_url().await.unwrap().path(), "/app/admin/offenses/2021-999");
    admin.screen("admin-offense").await;
    admin.fill("reason", "Added by mistake").await;
    admin.submit("/app/admin/offenses/2021-999/retire").await;
    assert!(admin.source().await.contains("Retired"));
    let listed = t.ok(&p.w.auditor, "{ offenses { code retired source } }", json!({})).await;
    let entry = listed["offenses"].as_array().unwrap().iter().find(|o| o["code"] == "2021-999").cloned();
    assert_eq!(
        entry,
        Some(json!({"code": "2021-999", "retired": true, "source": "Official text, art. 999 (test citation)"}))
    );

    // An erasure, asked for by the ADMIN (a client may ask by phone), with a reason: the
    // ADMIN who asked cannot approve it; a second ADMIN does.
    admin.go(&format!("/app/cases/{case}/erasure")).await;
    admin.screen("erasure-request-form").await;
    admin.fill("reason", "The client withdrew consent in writing").await;
    admin.submit(&format!("/app/cases/{case}/erasure")).await;
    admin.go("/app/admin").await;
    admin.navigate("a[href^=\"/app/admin/erasures/\"]").await;
    let request = admin.c.current_url().await.unwrap().path().to_string();
    let own = admin.source().await;
    assert!(own.contains("The client withdrew consent in writing") && own.contains("another administrator"), "{own}");
    assert!(!own.contains(&format!("{request}/approve")), "no approve button for the one who asked: {own}");
    admin.screen("erasure-request-own").await;
    admin.navigate("header form[action=\"/app/sign-out\"] button").await;
    admin.sign_in("chief").await;
    admin.go(&request).await;
    admin.screen("erasure-request").await;
    admin.submit(&format!("{request}/approve")).await;
    let after = t.ok(&p.w.auditor, "{ erasureRequests { status } }", json!({})).await;
    assert_eq!(after["erasureRequests"][0]["status"], "APPROVED", "{after}");
    // The identity is gone: the intake worker can no longer read it.
    intake.go(&format!("/app/cases/{case}")).await;
    let page = intake.source().await;
    assert!(!page.contains(CLIENT_NAME), "{page}");
    intake.screen("case-erased").await;
    for tab in [intake, auditor, admin] {
        let _ = tab.c.close().await;
    }
}

tests::on_both_backends!(oversight_and_administration_in_a_browser);
/// A lawyer in Kyrgyz sets a court hearing for a day ahead, records it postponed, and finds
/// it under "What is due this week" with a link back to the case; axe-core and screenshots
/// of each screen, at phone and desktop sizes.
async fn a_hearing_postponed_and_due_this_week_in_kyrgyz(backend: Backend) {
    use tests::fixtures::{case_mutation, represented_case};
    let t = TestApp::spawn(backend).await;
    let p = people(&t).await;
    let case_id = represented_case(&t, &p.w).await;
    let lawyer = &p.w.lawyer_a;
    let input = json!({"caseId": case_id, "filedOn": "2024-03-10", "policeUnit": "Ош шаардык ИИБ"});
    case_mutation(&t, lawyer, "filePoliceReport", "FilePoliceReportInput", input).await;
    let view = t.app.case_view(case_id.parse().unwrap()).await.unwrap().unwrap();
    let report = view.reports[0].id.to_string();
    let input = json!({"caseId": case_id, "reportId": report, "offenseCode": "2021-166", "registeredOn": "2024-03-12"});
    case_mutation(&t, lawyer, "recordOffenseRegistration", "RecordOffenseRegistrationInput", input).await;
    let input = json!({"caseId": case_id, "reportId": report, "outcome": "SENT_TO_COURT", "decidedOn": "2024-06-01"});
    case_mutation(&t, lawyer, "recordInvestigationOutcome", "RecordInvestigationOutcomeInput", input).await;

    let base = serve_web(&t, false).await;
    let d = driver().await;
    let tab = Tab { c: browser(&d).await, base: base.clone(), shots: backend == Backend::Sqlite };
    tab.go("/app/sign-in?lang=ky").await;
    tab.sign_in("lawyer.a").await;
    let case = format!("/app/cases/{case_id}");
    tab.go(&case).await;
    assert_eq!(tab.c.execute("return document.documentElement.lang", vec![]).await.unwrap(), json!("ky"));
    assert!(tab.source().await.contains("Сот отурумдары"));
    let show = |css: String| {
        let c = tab.c.clone();
        async move {
            c.execute("window.__shot = arguments[0]", vec![json!(css)]).await.unwrap();
        }
    };
    show(format!("#hearings-{report}")).await;
    tab.screen("case-court-ky").await;

    // Sent without a court, the form comes back with the reason in Kyrgyz and the date kept.
    let today = t.app.clock.today();
    let ahead = today.checked_add_days(chrono::Days::new(2)).unwrap();
    let later = today.checked_add_days(chrono::Days::new(6)).unwrap();
    let sec = format!("hearing-{report}");
    tab.date(&format!("on--{sec}"), &ahead.to_string()).await;
    tab.submit(&format!("{case}/hearing")).await;
    let page = tab.source().await;
    assert!(page.contains("Бул талааны толтуруңуз.") || page.contains("field-error"), "{page}");
    assert!(page.contains(&format!("value=\"{ahead}\"")), "the date typed stays");
    show(format!("#hearings-{report} ~ .error-summary")).await;
    tab.screen("case-court-ky-errors").await;
    tab.fill(&format!("court--{sec}"), "Ош шаардык соту").await;
    tab.submit(&format!("{case}/hearing")).await;
    let page = tab.source().await;
    assert!(page.contains("Кийинки сот отуруму") && page.contains(&ahead.format("%d.%m.%Y").to_string()), "{page}");

    // The court moves it: postponed to six days ahead.
    let hid = t.app.case_view(case_id.parse().unwrap()).await.unwrap().unwrap().reports[0].hearings[0].id;
    let psec = format!("hearing-postponed-{hid}");
    tab.click("details.hearing-actions summary").await;
    tab.date(&format!("to--{psec}"), &later.to_string()).await;
    tab.fill(&format!("reason--{psec}"), "күбөнүн келбей калышы").await;
    tab.submit(&format!("{case}/hearing-postponed")).await;
    let page = tab.source().await;
    let moved = later.format("%d.%m.%Y").to_string();
    assert!(page.contains(&format!("{} күндөн {moved} күнгө жылдырылды", ahead.format("%d.%m.%Y"))), "{page}");
    show(".next-hearing".into()).await;
    tab.screen("case-hearing-postponed-ky").await;

    // What is due this week: the hearing on its new day, linking to the case.
    tab.go("/app/assignments").await;
    let page = tab.source().await;
    assert!(page.contains("Ушул жумада эмне кылуу керек") && page.contains("Процесстик мөөнөттөр орнотулган эмес"));
    let due = &page[page.find("due-h").unwrap()..page.find("pending-h").unwrap()];
    assert!(due.contains(&moved) && due.contains("Сот отуруму: Ош шаардык соту"), "{due}");
    tab.screen("due-this-week-ky").await;
    tab.navigate(&format!("#due-h ~ .table-wrap a[href=\"{case}\"]")).await;
    assert_eq!(tab.c.current_url().await.unwrap().path(), case);
    let _ = tab.c.close().await;
}

tests::on_both_backends!(a_hearing_postponed_and_due_this_week_in_kyrgyz);

/// The case page's newer parts in a browser, in Russian and Kyrgyz: an intake worker records
/// a minor client's profile for the IOM data standard (refused first, with the reason in
/// Russian and the input kept) and a parent's consent; the coordinator transfers the case to
/// another organisation (refused until the client's agreement is confirmed). axe-core and
/// screenshots of each screen at phone and desktop sizes.
async fn the_profile_and_a_transfer_in_a_browser(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let p = people(&t).await;
    let q = "mutation($i: OpenIntakeInput!) { openIntake(input: $i) { id } }";
    let d = t
        .ok(
            &p.w.intake,
            q,
            json!({ "i": {
                "identifiedOn": "2024-03-05", "referralSource": "HOTLINE", "exploitationTypes": ["SEXUAL"],
                "client": { "fullName": CLIENT_NAME, "gender": "FEMALE", "ageAtIdentification": 15 },
                "consent": { "legalAid": false, "reportToPolice": false, "dataSharing": true } } }),
        )
        .await;
    let case_id = d["openIntake"]["id"].as_str().unwrap().to_string();
    let case = format!("/app/cases/{case_id}");
    let base = serve_web(&t, false).await;
    let d = driver().await;
    let shots = backend == Backend::Sqlite;
    let shot_at = |tab: &Tab, css: &str| {
        let c = tab.c.clone();
        let css = css.to_string();
        async move {
            c.execute("window.__shot = arguments[0]", vec![json!(css)]).await.unwrap();
        }
    };

    // The intake worker: a place of recruitment that is neither a region nor a country.
    let tab = Tab { c: browser(&d).await, base: base.clone(), shots };
    tab.sign_in("intake").await;
    tab.go(&case).await;
    assert!(tab.source().await.contains("Профиль пока не заполнен."));
    tab.click("#profile-form summary").await;
    tab.click("#recruitment-0").await;
    tab.click("#meansOfControl-15").await;
    tab.fill("placeOfRecruitment", "Атлантида").await;
    tab.fill("primaryLanguage", "ky").await;
    tab.submit(&format!("{case}/profile")).await;
    let page = tab.source().await;
    assert!(page.contains("Укажите область Кыргызстана (например, OSH, BATKEN)"), "{page}");
    assert!(page.contains("value=\"Атлантида\""), "the place typed stays");
    shot_at(&tab, "#profile-form .error-summary").await;
    tab.screen("case-profile-errors-ru").await;
    tab.fill("placeOfRecruitment", "OSH").await;
    tab.submit(&format!("{case}/profile")).await;
    let page = tab.source().await;
    assert!(page.contains("Предложение работы") && page.contains("Отобраны документы"), "{page}");
    // A parent's consent for the minor.
    tab.click("#guardian-form summary").await;
    tab.select("guardianGivenBy", "PARENT").await;
    tab.date("guardianGivenOn", "2024-03-07").await;
    tab.submit(&format!("{case}/guardian-consent")).await;
    assert!(tab.source().await.contains("Родитель, 07.03.2024"));
    shot_at(&tab, "#profile-h").await;
    tab.screen("case-profile-ru").await;
    tab.go(&format!("{case}?lang=ky")).await;
    let page = tab.source().await;
    assert!(page.contains("ЭМУнун маалымат стандарты үчүн кардардын профили") && page.contains("Ата-эне, 07.03.2024"));
    tab.click("#profile-form summary").await;
    shot_at(&tab, "#profile-h").await;
    tab.screen("case-profile-ky").await;
    let _ = tab.c.close().await;

    // The coordinator transfers the case; unconfirmed, the form comes back in Russian.
    let tab = Tab { c: browser(&d).await, base: base.clone(), shots };
    tab.sign_in("coordinator").await;
    tab.go(&case).await;
    let other = {
        let d = t.ok(&t.admin, "{ organizations { id name } }", json!({})).await;
        d["organizations"].as_array().unwrap().iter().find(|o| o["name"] == "Other NGO").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    tab.click("#transfer-form summary").await;
    tab.select("organizationId--transfer", &other).await;
    tab.fill("reason--transfer", "клиентка переехала в Бишкек").await;
    tab.submit(&format!("{case}/transfer")).await;
    let page = tab.source().await;
    assert!(page.contains("Подтвердите, что клиент согласен на передачу."), "{page}");
    assert!(page.contains("value=\"клиентка переехала в Бишкек\""), "the reason typed stays");
    shot_at(&tab, "#transfer-h").await;
    tab.screen("case-transfer-errors-ru").await;
    tab.click("#clientConsent--transfer").await;
    tab.submit(&format!("{case}/transfer")).await;
    let page = tab.source().await;
    assert!(page.contains("из организации «Oasis» в «Other NGO»"), "{page}");
    shot_at(&tab, "#transfer-h").await;
    tab.screen("case-transfer-ru").await;
    tab.go(&format!("{case}?lang=ky")).await;
    let page = tab.source().await;
    assert!(page.contains("«Oasis» уюмунан «Other NGO» уюмуна"), "{page}");
    tab.click("#transfer-form summary").await;
    shot_at(&tab, "#transfer-h").await;
    tab.screen("case-transfer-ky").await;
    let _ = tab.c.close().await;
}

tests::on_both_backends!(the_profile_and_a_transfer_in_a_browser);
