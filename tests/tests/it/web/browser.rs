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
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=ru",
                     "--window-size=1366,768", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-default-apps"],
            "prefs": { "intl.accept_languages": "ru" }
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

/// An auditor in Kyrgyz filters the outcomes dashboard and finds its CSV links and the seed
/// report's three official series beside the ledger's count; no identity; axe-core and
/// screenshots of each screen.
async fn the_auditors_dashboard_in_kyrgyz(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    crate::dashboard::seed_demo(&t).await;
    // A planted client whose name must appear nowhere on the auditor's screens.
    let w = tests::fixtures::world(&t).await;
    tests::fixtures::open_case(&t, &w, true).await;
    super::user(&t, "auditor", domain::values::Role::Auditor, None, None).await;
    let base = serve_web(&t, false).await;
    let d = driver().await;
    let tab = Tab { c: browser(&d).await, base: base.clone(), shots: backend == Backend::Sqlite };
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

    // The CSV links keep the filters (the download itself is checked over HTTP in
    // `dashboard`); the three official series stand beside the ledger's count.
    assert!(filtered.contains("export.csv?from=2018-01-01&amp;to=2020-12-31&amp;gender=FEMALE"), "{filtered}");
    for s in ["National Statistics Committee", "MOI/GPO", "US TIP Report", "реестрден айырмаланат"]
    {
        assert!(filtered.contains(s), "{s}");
    }
    assert!(!filtered.contains(CLIENT_NAME), "no identity on the dashboard");
    let _ = tab.c.close().await;
}

tests::on_both_backends!(the_auditors_dashboard_in_kyrgyz);

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
    assert!(
        page.contains(&format!("{} күндөн {moved} күнгө кийинкиге калтырылды", ahead.format("%d.%m.%Y"))),
        "{page}"
    );
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
