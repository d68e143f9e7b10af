//! The proceedings on the lawyer's case page over plain HTTP, in Russian: a hearing set for a
//! day ahead, then postponed, shown first on the page and under "What is due this week";
//! defendants under the era rule; a verdict appealed and the appeal instance's verdict in
//! force; compensation claimed, awarded and (not over-)paid; a complaint against a refusal
//! and its decision. Every bad input comes back as a sentence in Russian, with the form as
//! typed, and nothing is recorded; another lawyer gets the plain 404.

use super::{people, serve_web, signed_in};
use chrono::Days;
use tests::fixtures::{represented_case, CLIENT_NAME};
use tests::{Backend, TestApp};

async fn the_court_steps_of_a_case_in_russian(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let p = people(&t).await;
    let base = serve_web(&t, false).await;
    let case_id: uuid::Uuid = represented_case(&t, &p.w).await.parse().unwrap();
    let case = format!("/app/cases/{case_id}");
    let mut lawyer = signed_in(&base, "lawyer.a").await;
    let today = t.app.clock.today();
    let ahead = today.checked_add_days(Days::new(3)).unwrap().to_string();
    let later = today.checked_add_days(Days::new(5)).unwrap().to_string();
    let events = |t: &TestApp| {
        let app = t.app.clone();
        async move { app.case_view(case_id).await.unwrap().unwrap().version }
    };

    let r = lawyer
        .submit(&case, &format!("{case}/police-report"), &[("filedOn", "2021-01-10"), ("policeUnit", "УВД г. Ош")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let report = t.app.case_view(case_id).await.unwrap().unwrap().reports[0].id.to_string();
    let rid = report.as_str();
    for (action, fields) in [
        ("registration", vec![("offenseCode", "2017-173"), ("registeredOn", "2021-01-20")]),
        ("outcome", vec![("outcome", "SENT_TO_COURT"), ("decidedOn", "2021-06-01")]),
    ] {
        let mut f = vec![("reportId", rid)];
        f.extend(fields);
        let r = lawyer.submit(&case, &format!("{case}/{action}"), &f).await;
        assert_eq!(r.status, 303, "{action}: {}", r.body);
    }

    // A hearing: the court is required and the date must be a date; what was typed stays.
    let page = lawyer.get(&case).await;
    assert!(page.body.contains("Записать судебное заседание, назначенное судом"), "{}", page.body);
    assert!(!page.body.contains("Ближайшее судебное заседание"), "no hearing yet");
    let before = events(&t).await;
    let hearing = format!("{case}/hearing");
    let r = lawyer
        .submit(
            &case,
            &hearing,
            &[("reportId", rid), ("on", "31.02.2026"), ("court", ""), ("instance", "FIRST_INSTANCE")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Введите дату в виде дд.мм.гггг.") && r.body.contains("Заполните это поле."), "{}", r.body);
    assert!(r.body.contains("value=\"31.02.2026\""), "the typed date stays");
    assert!(r.body.contains(&format!("href=\"#court--hearing-{rid}\"")), "the summary links to the field");
    let r = lawyer
        .submit(
            &case,
            &hearing,
            &[("reportId", rid), ("on", &ahead), ("court", "Ошский городской суд"), ("instance", "WHATEVER")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Выберите один из вариантов.") && r.body.contains("value=\"Ошский городской суд\""));
    assert_eq!(events(&t).await, before, "nothing was recorded");
    // A day ahead is allowed for a hearing.
    let r = lawyer
        .submit(
            &case,
            &hearing,
            &[("reportId", rid), ("on", &ahead), ("court", "Ошский городской суд"), ("instance", "FIRST_INSTANCE")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let view = t.app.case_view(case_id).await.unwrap().unwrap();
    let h = view.reports[0].hearings[0].clone();
    assert_eq!(h.on.to_string(), ahead);
    let page = lawyer.get(&case).await;
    let shown = format!("{} — Ошский городской суд (суд первой инстанции)", h.on.format("%d.%m.%Y"));
    assert!(page.body.contains("Ближайшее судебное заседание") && page.body.contains(&shown), "{}", page.body);
    // Not held before its day: the page does not offer it, and a post of it anyway is refused.
    assert!(!page.body.contains(&format!("action=\"{case}/hearing-held\"")), "not offered before its day");
    let hid = h.id.to_string();
    let (csrf, key) = super::hidden_fields(&page.body, &format!("{case}/hearing-postponed"));
    let r = lawyer
        .post(
            &format!("{case}/hearing-held"),
            &[("csrf", &csrf), ("idempotencyKey", &key), ("reportId", rid), ("hearingId", &hid)],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("День заседания ещё не наступил."), "{}", r.body);
    // Postponed: not to a day before the decision to postpone; then to five days ahead.
    let postpone = format!("{case}/hearing-postponed");
    let r = lawyer.submit(&case, &postpone, &[("reportId", rid), ("hearingId", &hid), ("to", "2021-01-15")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Дата раньше предыдущего шага по делу."), "{}", r.body);
    let r = lawyer
        .submit(
            &case,
            &postpone,
            &[("reportId", rid), ("hearingId", &hid), ("to", &later), ("reason", "неявка свидетеля")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = lawyer.get(&case).await;
    let moved = chrono::NaiveDate::parse_from_str(&later, "%Y-%m-%d").unwrap().format("%d.%m.%Y").to_string();
    assert!(page.body.contains(&format!("Отложено с {} на {moved}", h.on.format("%d.%m.%Y"))), "{}", page.body);

    // What is due this week: the hearing, linking to its case; the page says no time limit is configured.
    let due = lawyer.get("/app/assignments").await;
    assert!(due.body.contains("Что нужно сделать на этой неделе"), "{}", due.body);
    let table = &due.body[due.body.find("due-h").unwrap()..due.body.find("pending-h").unwrap()];
    assert!(table.contains(&moved) && table.contains("Судебное заседание: Ошский городской суд"), "{table}");
    assert!(table.contains(&format!("href=\"{case}\"")), "{table}");
    assert!(due.body.contains("Процессуальные сроки не настроены"), "{}", due.body);
    assert!(!table.contains("просрочено"));

    // Defendants: no name field; the era rule refuses a 2021-Code article on a 2021-06 charge.
    assert!(!page.body.contains("name=\"fullName\""), "no defendant names");
    let defendant = format!("{case}/defendant");
    let base_fields = [("reportId", rid), ("role", "ORGANISER"), ("gender", "MALE")];
    let mut f = base_fields.to_vec();
    f.extend([("ageAtOffense", "сорок"), ("citizenship", "KG")]);
    let r = lawyer.submit(&case, &defendant, &f).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Введите целое число.") && r.body.contains("value=\"сорок\""), "{}", r.body);
    let mut f = base_fields.to_vec();
    f.extend([("ageAtOffense", "40"), ("citizenship", "Kyrgyzstan")]);
    let r = lawyer.submit(&case, &defendant, &f).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Укажите две латинские буквы"), "{}", r.body);
    let mut f = base_fields.to_vec();
    f.extend([("ageAtOffense", "40"), ("citizenship", "KG"), ("chargedWith", "2021-166"), ("chargedOn", "2021-06-01")]);
    let r = lawyer.submit(&case, &defendant, &f).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("на выбранную дату ещё не вступил в силу"), "{}", r.body);
    let mut f = base_fields.to_vec();
    f.extend([("ageAtOffense", "40"), ("citizenship", "KG"), ("chargedWith", "2017-173"), ("chargedOn", "2021-06-01")]);
    let r = lawyer.submit(&case, &defendant, &f).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let view = t.app.case_view(case_id).await.unwrap().unwrap();
    let d = &view.reports[0].defendants[0];
    assert_eq!((d.age_at_offense, d.charged_with.as_ref().map(|o| o.code.as_str())), (Some(40), Some("2017-173")));
    let did = d.id.to_string();
    let r = lawyer
        .submit(
            &case,
            &format!("{case}/defendant-verdict"),
            &[
                ("reportId", rid),
                ("defendantId", &did),
                ("outcome", "CONVICTED"),
                ("decidedOn", "2022-03-01"),
                ("sentenceMonths", "60"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    // The verdict, an appeal of it (only to a higher instance), the appeal instance's verdict in force.
    let r = lawyer
        .submit(
            &case,
            &format!("{case}/verdict"),
            &[("reportId", rid), ("outcome", "ACQUITTED"), ("decidedOn", "2022-03-01")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = lawyer.get(&case).await;
    assert!(page.body.contains("Обжаловать приговор"), "{}", page.body);
    let appeal = format!("{case}/appeal");
    let r = lawyer
        .submit(&case, &appeal, &[("reportId", rid), ("instance", "FIRST_INSTANCE"), ("filedOn", "2022-03-10")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Жалоба подаётся в инстанцию выше той, чей приговор действует."), "{}", r.body);
    let r =
        lawyer.submit(&case, &appeal, &[("reportId", rid), ("instance", "APPEAL"), ("filedOn", "2022-03-10")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = lawyer.get(&case).await;
    assert!(page.body.contains("инстанция: апелляционная инстанция") && page.body.contains("ожидает решения"));
    let r = lawyer
        .submit(
            &case,
            &format!("{case}/verdict"),
            &[
                ("reportId", rid),
                ("instance", "APPEAL"),
                ("outcome", "CONVICTED"),
                ("decidedOn", "2022-06-01"),
                ("sentenceMonths", "60"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let view = t.app.case_view(case_id).await.unwrap().unwrap();
    let verdict = view.reports[0].verdict.as_ref().unwrap();
    assert_eq!((verdict.instance.as_str(), verdict.outcome.as_str()), ("APPEAL", "CONVICTED"));
    assert_eq!(view.reports[0].verdicts.len(), 2);
    let page = lawyer.get(&case).await;
    let history = &page.body[page.body.find("ol class=\"verdicts\"").unwrap()..];
    let history = &history[..history.find("</ol>").unwrap()];
    assert!(history.contains("суд первой инстанции: Оправдательный приговор"), "{history}");
    assert!(history.rfind("действующий").unwrap() > history.find("апелляционная инстанция: Обвинительный").unwrap());

    // Compensation: claimed, awarded in the claim's currency, never paid beyond the award.
    let comp = format!("{case}/compensation");
    let step = |s: &'static str, amount: &'static str, currency: &'static str| {
        vec![("reportId", rid), ("step", s), ("amount", amount), ("currency", currency), ("on", "2022-06-01")]
    };
    let r = lawyer.submit(&case, &comp, &step("CLAIMED", "0", "KGS")).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Укажите сумму больше нуля"), "{}", r.body);
    for (s, amount, currency, status) in [
        ("CLAIMED", "200000", "KGS", 303),
        ("AWARDED", "150000", "USD", 422),
        ("AWARDED", "150000", "KGS", 303),
        ("PAID", "160000", "KGS", 422),
        ("PAID", "50000", "KGS", 303),
    ] {
        let r = lawyer.submit(&case, &comp, &step(s, amount, currency)).await;
        assert_eq!(r.status, status, "{s} {amount} {currency}: {}", r.body);
    }
    let page = lawyer.get(&case).await;
    assert!(page.body.contains("200000 KGS") && page.body.contains("150000 KGS") && page.body.contains("50000 KGS"));
    let c = t.app.case_view(case_id).await.unwrap().unwrap().reports[0].compensation.clone().unwrap();
    assert_eq!((c.claimed, c.awarded.map(|a| a.0), c.paid()), (200_000, Some(150_000), 50_000));

    // A second report, refused: a complaint against the refusal (not against a termination
    // there was none of), then its decision.
    let r = lawyer
        .submit(&case, &format!("{case}/police-report"), &[("filedOn", "2022-07-01"), ("policeUnit", "ОВД Кара-Суу")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let view = t.app.case_view(case_id).await.unwrap().unwrap();
    let second = view.reports.iter().find(|r| r.police_unit == "ОВД Кара-Суу").unwrap().id.to_string();
    let r = lawyer
        .submit(
            &case,
            &format!("{case}/refusal"),
            &[("reportId", &second), ("decidedOn", "2022-07-10"), ("reason", "нет состава")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let complaint = format!("{case}/complaint");
    let r = lawyer
        .submit(
            &case,
            &complaint,
            &[
                ("reportId", &second),
                ("against", "TERMINATION"),
                ("filedWith", "PROSECUTOR"),
                ("filedOn", "2022-07-15"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("нет такого решения, которое можно обжаловать"), "{}", r.body);
    let r = lawyer
        .submit(
            &case,
            &complaint,
            &[
                ("reportId", &second),
                ("against", "REFUSAL_TO_REGISTER"),
                ("filedWith", "PROSECUTOR"),
                ("filedOn", "2022-07-15"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let view = t.app.case_view(case_id).await.unwrap().unwrap();
    let cid = view.reports.iter().find(|r| r.id.to_string() == second).unwrap().complaints[0].id.to_string();
    let r = lawyer
        .submit(
            &case,
            &format!("{case}/complaint-decision"),
            &[("reportId", &second), ("complaintId", &cid), ("outcome", "UPHELD"), ("decidedOn", "2022-08-01")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = lawyer.get(&case).await;
    assert!(
        page.body.contains("Жалоба на: отказ в регистрации заявления; подана: Прокурор, 15.07.2022"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Жалоба удовлетворена, 01.08.2022"));
    // In Kyrgyz, the same page in the official terms.
    let ky = lawyer.get(&format!("{case}?lang=ky")).await;
    assert!(
        ky.body.contains("Сот отурумдары")
            && ky.body.contains("Айыпталуучулар")
            && ky.body.contains("апелляциялык инстанция")
    );
    // Field ids are unique on a page with many forms.
    let ids: Vec<&str> = page.body.split(" id=\"").skip(1).map(|s| &s[..s.find('"').unwrap()]).collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "duplicate ids on the case page");

    // Another lawyer cannot touch the case: the plain 404.
    let mut other = signed_in(&base, "lawyer.b").await;
    let own = other.get("/app/assignments").await;
    let (csrf, key) = super::hidden_fields(&own.body, "/app/sign-out");
    let r = other
        .post(
            &hearing,
            &[
                ("csrf", &csrf),
                ("idempotencyKey", &key),
                ("reportId", rid),
                ("on", &ahead),
                ("court", "x"),
                ("instance", "FIRST_INSTANCE"),
            ],
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let mine = other.get(&case).await;
    assert_eq!(mine.status, 404);
    assert!(!tests::dump_database(&t.app.db).await.contains(CLIENT_NAME), "no identity in clear anywhere");
}

tests::on_both_backends!(the_court_steps_of_a_case_in_russian);

/// The demo seed shows the proceedings to the demo lawyer: a hearing postponed to a day
/// after the seed's today, due within the week; an acquittal appealed and the appeal
/// instance's conviction in force under a 2017-Code article; a complaint against a refusal,
/// upheld; defendants and a compensation award.
async fn the_demo_seed_shows_the_proceedings(backend: Backend) {
    use api::app::cases::CaseListFilter;
    use api::app::Caller;
    let t = TestApp::spawn(backend).await;
    let clock = std::sync::Arc::new(domain::ManualClock::new(chrono::NaiveDate::from_ymd_opt(2016, 1, 1).unwrap()));
    let seeder = api::app::App::open_with_clock(&t.db.store_args(), clock.clone()).await.unwrap();
    api::demo::seed(&seeder, &clock).await.unwrap();
    seeder.projector.catch_up().await.unwrap();
    let system = Caller::system("t");
    // The seed's today: its clock is left on it.
    let today = domain::Clock::today(clock.as_ref());
    let due = seeder.deadlines(&system, None, Some(7)).await.unwrap();
    let ahead: Vec<_> = due.iter().filter(|d| !d.overdue && d.due_on > today).collect();
    assert_eq!(ahead.len(), 1, "one hearing due this week: {due:?}");
    let case = seeder.case_view(ahead[0].case_id).await.unwrap().unwrap();
    let report = &case.reports[0];
    assert_eq!(report.registration.as_ref().unwrap().offense.code, "2021-166");
    assert!(report.hearings.iter().any(|h| h.held), "a hearing held before");
    assert!(report.hearings.iter().any(|h| !h.postponements.is_empty() && h.on == ahead[0].due_on), "postponed");
    assert_eq!(report.defendants.len(), 2);
    let lawyer_id = case.assignment.as_ref().unwrap().lawyer_id;

    let filter = CaseListFilter { lawyer_id: Some(lawyer_id), ..Default::default() };
    let mine = seeder.cases(&system, filter, 100, None).await.unwrap().cases;
    let appealed = mine
        .iter()
        .flat_map(|c| c.reports.iter())
        .find(|r| r.verdict.as_ref().is_some_and(|v| v.instance.as_str() == "APPEAL"))
        .expect("an appealed verdict");
    assert_eq!(appealed.registration.as_ref().unwrap().offense.code, "2017-173");
    let outcomes: Vec<&str> = appealed.verdicts.iter().map(|v| v.outcome.as_str()).collect();
    assert_eq!(outcomes, ["ACQUITTED", "CONVICTED"], "the appeal instance's verdict is the one in force");
    let award = appealed.compensation.as_ref().unwrap();
    assert!(award.awarded.is_some() && award.paid() > 0);
    let complained = mine
        .iter()
        .flat_map(|c| c.reports.iter())
        .find(|r| r.complaints.iter().any(|c| c.against.as_str() == "REFUSAL_TO_REGISTER"))
        .expect("a complaint against a refusal");
    assert!(complained.refused.as_ref().unwrap().0 < chrono::NaiveDate::from_ymd_opt(2019, 1, 1).unwrap(), "1997 era");
    assert_eq!(complained.complaints[0].decision.map(|d| d.0.as_str()), Some("UPHELD"));
}

tests::on_both_backends!(the_demo_seed_shows_the_proceedings);

/// Around the case, in Russian: the intake worker records what came of a referral; the
/// lawyer records the formal decision on victim status (the deciding body is required).
async fn referral_outcomes_and_the_victim_status_decision(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let p = people(&t).await;
    let base = serve_web(&t, false).await;
    let case_id: uuid::Uuid = represented_case(&t, &p.w).await.parse().unwrap();
    let case = format!("/app/cases/{case_id}");
    let mut intake = signed_in(&base, "intake").await;
    let r = intake
        .submit(&case, &format!("{case}/referral"), &[("service", "SHELTER"), ("referredOn", "2020-03-05")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let outcome = format!("{case}/referral-outcome");
    let r = intake.submit(&case, &outcome, &[("referral", "0"), ("outcome", "SOMETHING"), ("on", "2020-03-20")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Выберите один из вариантов."), "{}", r.body);
    let r = intake
        .submit(&case, &outcome, &[("referral", "7"), ("outcome", "SERVICE_PROVIDED"), ("on", "2020-03-20")])
        .await;
    assert_eq!(r.status, 422, "no referral number 7: {}", r.body);
    let r = intake
        .submit(&case, &outcome, &[("referral", "0"), ("outcome", "SERVICE_PROVIDED"), ("on", "2020-03-20")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = intake.get(&case).await;
    assert!(page.body.contains("Помощь оказана, 20.03.2020"), "{}", page.body);

    let mut lawyer = signed_in(&base, "lawyer.a").await;
    let status = format!("{case}/victim-status");
    let r =
        lawyer.submit(&case, &status, &[("granted", "GRANTED"), ("decidedBy", ""), ("decidedOn", "2020-04-01")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Заполните это поле.") && r.body.contains("value=\"2020-04-01\""), "{}", r.body);
    let r = lawyer
        .submit(
            &case,
            &status,
            &[("granted", "GRANTED"), ("decidedBy", "Следователь УВД г. Ош"), ("decidedOn", "2020-04-01")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let view = t.app.case_view(case_id).await.unwrap().unwrap();
    let s = view.victim_status.clone().unwrap();
    assert!(s.granted && s.decided_by == "Следователь УВД г. Ош");
    let page = lawyer.get(&case).await;
    assert!(page.body.contains("Признан(а) потерпевшим</strong>: Следователь УВД г. Ош, 01.04.2020"), "{}", page.body);
}

tests::on_both_backends!(referral_outcomes_and_the_victim_status_decision);
