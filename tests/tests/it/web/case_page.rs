//! The case page over plain HTTP, in Russian: transferring a case to another organisation
//! (the coordinator and the assigned lawyer may; the client's consent confirmed and on
//! record), the client's profile for the IOM data standard and a guardian's consent for a
//! minor (shown to those who work with the client, never to an auditor), and a defendant's
//! relationship to the client. Every refusal is a sentence in Russian with the form as typed,
//! and records nothing.

use super::{hidden_fields, people, serve_web, signed_in};
use serde_json::json;
use tests::fixtures::{case_mutation, represented_case, CLIENT_NAME};
use tests::{Backend, TestApp};

async fn version(t: &TestApp, case_id: uuid::Uuid) -> i64 {
    t.app.case_view(case_id).await.unwrap().unwrap().version
}

async fn a_case_is_transferred_on_its_page_with_the_clients_consent(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let p = people(&t).await;
    let base = serve_web(&t, false).await;
    let case_id: uuid::Uuid = represented_case(&t, &p.w).await.parse().unwrap();
    let case = format!("/app/cases/{case_id}");
    let transfer = format!("{case}/transfer");
    let d = t.ok(&t.admin, "{ organizations { id name } }", json!({})).await;
    let other = d["organizations"].as_array().unwrap().iter().find(|o| o["name"] == "Other NGO").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let fields = |consent: bool| {
        let mut f = vec![
            ("organizationId", other.clone()),
            ("transferredOn", "2020-04-01".to_string()),
            ("reason", "клиент переехал в Бишкек".to_string()),
        ];
        if consent {
            f.push(("clientConsent", "true".to_string()));
        }
        f
    };
    let borrowed = |f: &[(&'static str, String)]| f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();

    // The intake worker of the case's organisation sees the case but no transfer form; a
    // post anyway is refused in Russian (403), not hidden behind a 404.
    let mut intake = signed_in(&base, "intake").await;
    let page = intake.get(&case).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(&format!("action=\"{transfer}\"")), "no transfer form for an intake worker");
    let (csrf, key) = hidden_fields(&page.body, &format!("{case}/consent"));
    let mut form = vec![("csrf", csrf.clone()), ("idempotencyKey", key)];
    form.extend(borrowed(&fields(true)));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let before = version(&t, case_id).await;
    let r = intake.post(&transfer, &form).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("Это может сделать только координатор или адвокат, назначенный по делу."), "{}", r.body);
    assert_eq!(version(&t, case_id).await, before, "nothing recorded");

    // The coordinator: the form is on the page; a post with a stale CSRF token is refused.
    let mut coordinator = signed_in(&base, "coordinator").await;
    let page = coordinator.get(&case).await;
    assert!(page.body.contains(&format!("action=\"{transfer}\"")), "{}", page.body);
    assert!(page.body.contains("Передача дела другой организации") && page.body.contains("Other NGO"));
    let mut stale = vec![("csrf", "not-the-token".to_string())];
    stale.extend(borrowed(&fields(true)));
    let stale: Vec<(&str, &str)> = stale.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = coordinator.post(&transfer, &stale).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(version(&t, case_id).await, before, "nothing recorded");

    // The client's agreement must be confirmed; what was typed stays.
    let typed = fields(false);
    let r = coordinator
        .submit(&case, &transfer, &borrowed(&typed).iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Подтвердите, что клиент согласен на передачу."), "{}", r.body);
    assert!(r.body.contains("value=\"клиент переехал в Бишкек\""), "the reason typed stays");
    assert!(r.body.contains(&format!("value=\"{other}\" selected")), "the organisation chosen stays");

    // Without the client's consent to data sharing on record the domain refuses, in Russian.
    let consent = |scopes: &str| json!({"caseId": case_id.to_string(), "scopes": [scopes], "on": "2020-03-20"});
    case_mutation(&t, &p.w.intake, "withdrawConsent", "ConsentChangeInput", consent("DATA_SHARING")).await;
    let with_consent = fields(true);
    let all: Vec<(&str, &str)> = with_consent.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = coordinator.get(&case).await;
    assert!(page.body.contains("Согласие клиента на передачу данных не записано"), "{}", page.body);
    let before = version(&t, case_id).await;
    let r = coordinator.submit(&case, &transfer, &all).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Клиент не дал согласия на передачу своих данных другой организации"), "{}", r.body);
    assert!(r.body.contains("value=\"клиент переехал в Бишкек\""));
    assert_eq!(version(&t, case_id).await, before, "nothing recorded");
    case_mutation(&t, &p.w.intake, "giveConsent", "ConsentChangeInput", consent("DATA_SHARING")).await;

    // Transferred: the page shows the move; the old organisation's intake worker no longer
    // sees the case, the new one's does.
    let r = coordinator.submit(&case, &transfer, &all).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let view = t.app.case_view(case_id).await.unwrap().unwrap();
    assert_eq!(view.organization_id.to_string(), other);
    let page = coordinator.get(&case).await;
    assert!(page.body.contains("01.04.2020: из организации «Oasis» в «Other NGO»"), "{}", page.body);
    assert_eq!(intake.get(&case).await.status, 404);
    let mut intake_b = signed_in(&base, "intake.b").await;
    assert_eq!(intake_b.get(&case).await.status, 200);
    // The assigned lawyer may transfer it too: the form is on their page.
    let mut lawyer = signed_in(&base, "lawyer.a").await;
    assert!(lawyer.get(&case).await.body.contains(&format!("action=\"{transfer}\"")));
    assert!(!tests::dump_database(&t.app.db).await.contains(CLIENT_NAME), "no identity in clear anywhere");
}

tests::on_both_backends!(a_case_is_transferred_on_its_page_with_the_clients_consent);

/// Opens a minor's case (15 at identification): no consent to legal aid until a parent,
/// guardian or representative consents too.
async fn minor_case(t: &TestApp, intake: &str) -> uuid::Uuid {
    let q = "mutation($i: OpenIntakeInput!) { openIntake(input: $i) { id } }";
    let d = t
        .ok(
            intake,
            q,
            json!({ "i": {
                "identifiedOn": "2024-03-05", "referralSource": "HOTLINE", "exploitationTypes": ["SEXUAL"],
                "client": { "fullName": CLIENT_NAME, "gender": "FEMALE", "ageAtIdentification": 15 },
                "consent": { "legalAid": false, "reportToPolice": false, "dataSharing": false } } }),
        )
        .await;
    d["openIntake"]["id"].as_str().unwrap().parse().unwrap()
}

async fn the_profile_and_a_guardians_consent_on_the_case_page(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let p = people(&t).await;
    let base = serve_web(&t, false).await;
    let case_id = minor_case(&t, &p.w.intake).await;
    let case = format!("/app/cases/{case_id}");
    let mut intake = signed_in(&base, "intake").await;
    let page = intake.get(&case).await;
    assert!(
        page.body.contains("Профиль клиента для стандарта данных МОМ")
            && page.body.contains("Профиль пока не заполнен.")
    );
    assert!(page.body.contains("Согласие родителя, опекуна или представителя не записано."), "{}", page.body);

    // A place that is neither a region nor a country: refused in Russian, everything kept.
    let profile = format!("{case}/profile");
    let before = version(&t, case_id).await;
    let mut f = vec![
        ("recruitment", "JOB_OFFER"),
        ("recruitment", "ONLINE"),
        ("meansOfControl", "WITHHOLDS_DOCUMENTS"),
        ("recruiterRelationship", "FRIEND"),
        ("placeOfRecruitment", "Атлантида"),
        ("primaryLanguage", "ky"),
        ("recordedOn", "2024-03-06"),
    ];
    let r = intake.submit(&case, &profile, &f).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Укажите область Кыргызстана (например, OSH, BATKEN)"), "{}", r.body);
    assert!(r.body.contains("value=\"Атлантида\"") && r.body.contains("value=\"ONLINE\" checked"), "{}", r.body);
    assert_eq!(version(&t, case_id).await, before, "nothing recorded");
    f[4] = ("placeOfRecruitment", "osh");
    let r = intake.submit(&case, &profile, &f).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let view = t.app.case_view(case_id).await.unwrap().unwrap();
    assert_eq!(view.profile.recruitment.len(), 2);
    assert_eq!(view.profile.place_of_recruitment.as_ref().map(|p| p.label()), Some("OSH".to_string()));
    assert_eq!(view.profile_recorded_on.map(|d| d.to_string()), Some("2024-03-06".into()));
    let page = intake.get(&case).await;
    let recorded = "Записан профиль для стандарта данных МОМ";
    for shown in ["Предложение работы", "Отобраны документы", "Друг или знакомый", "06.03.2024", recorded]
    {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    // The form opens with what is recorded: saving it unchanged keeps the profile.
    assert!(page.body.contains("value=\"WITHHOLDS_DOCUMENTS\" checked") && page.body.contains("value=\"OSH\""));

    // A guardian's consent: who gave it is required; then it is on the page.
    let guardian = format!("{case}/guardian-consent");
    let r = intake.submit(&case, &guardian, &[("guardianGivenOn", "2024-03-07")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Выберите один из вариантов.") && r.body.contains("value=\"2024-03-07\""), "{}", r.body);
    let r = intake.submit(&case, &guardian, &[("guardianGivenBy", "PARENT"), ("guardianGivenOn", "2024-03-07")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(intake.get(&case).await.body.contains("Родитель, 07.03.2024"));
    // In Kyrgyz.
    let ky = intake.get(&format!("{case}?lang=ky")).await;
    assert!(ky.body.contains("ЭМУнун маалымат стандарты үчүн кардардын профили") && ky.body.contains("Жумуш сунушу"));
    assert!(ky.body.contains("Ата-эне, 07.03.2024"), "{}", ky.body);

    // The coordinator sees the profile but may not change it; the auditor's page shows none of it.
    let mut coordinator = signed_in(&base, "coordinator").await;
    let page = coordinator.get(&case).await;
    assert!(page.body.contains("Предложение работы") && !page.body.contains(&format!("action=\"{profile}\"")));
    assert!(!page.body.contains(&format!("action=\"{guardian}\"")));
    let mut auditor = signed_in(&base, "auditor").await;
    let page = auditor.get(&case).await;
    assert_eq!(page.status, 200);
    for hidden in ["Профиль клиента", "Предложение работы", "Отобраны документы", "Родитель, 07.03.2024"]
    {
        assert!(!page.body.contains(hidden), "an auditor's page shows {hidden}");
    }
    // Someone else's organisation: the plain 404, and a post records nothing.
    let mut other = signed_in(&base, "intake.b").await;
    assert_eq!(other.get(&case).await.status, 404);
    let own = other.get("/app/cases").await;
    let (csrf, key) = hidden_fields(&own.body, "/app/sign-out");
    let before = version(&t, case_id).await;
    let r = other.post(&profile, &[("csrf", &csrf), ("idempotencyKey", &key), ("recordedOn", "2024-03-08")]).await;
    assert_eq!(r.status, 404);
    assert_eq!(version(&t, case_id).await, before);
}

tests::on_both_backends!(the_profile_and_a_guardians_consent_on_the_case_page);

/// The lawyer records a defendant's relationship to the client with the other facts of an
/// accused person; it is on the page in the user's language.
async fn a_defendants_relationship_to_the_client_on_the_case_page(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let p = people(&t).await;
    let base = serve_web(&t, false).await;
    let case_id = represented_case(&t, &p.w).await;
    let lawyer = &p.w.lawyer_a;
    let input = json!({"caseId": case_id, "filedOn": "2024-03-10", "policeUnit": "УВД г. Ош"});
    case_mutation(&t, lawyer, "filePoliceReport", "FilePoliceReportInput", input).await;
    let id: uuid::Uuid = case_id.parse().unwrap();
    let report = t.app.case_view(id).await.unwrap().unwrap().reports[0].id.to_string();
    let input = json!({"caseId": case_id, "reportId": report, "offenseCode": "2021-166", "registeredOn": "2024-03-12"});
    case_mutation(&t, lawyer, "recordOffenseRegistration", "RecordOffenseRegistrationInput", input).await;
    let case = format!("/app/cases/{case_id}");
    let mut web = signed_in(&base, "lawyer.a").await;
    let page = web.get(&case).await;
    assert!(page.body.contains("Кем приходится клиенту") && page.body.contains("Незнакомый человек"));
    let defendant = format!("{case}/defendant");
    let base_fields =
        [("reportId", report.as_str()), ("role", "RECRUITER"), ("gender", "MALE"), ("chargedOn", "2024-03-15")];
    let mut f = base_fields.to_vec();
    f.push(("relationship", "NEIGHBOUR"));
    let r = web.submit(&case, &defendant, &f).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Выберите один из вариантов."), "{}", r.body);
    let mut f = base_fields.to_vec();
    f.push(("relationship", "EMPLOYER"));
    let r = web.submit(&case, &defendant, &f).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let view = t.app.case_view(id).await.unwrap().unwrap();
    assert_eq!(view.reports[0].defendants[0].relationship.map(|r| r.as_str()), Some("EMPLOYER"));
    let page = web.get(&case).await;
    assert!(page.body.contains("Кем приходится клиенту: Работодатель"), "{}", page.body);
    let ky = web.get(&format!("{case}?lang=ky")).await;
    assert!(ky.body.contains("Кардарга ким болот: Иш берүүчүсү"), "{}", ky.body);
}

tests::on_both_backends!(a_defendants_relationship_to_the_client_on_the_case_page);
