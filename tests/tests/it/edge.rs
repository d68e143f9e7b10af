//! The hardened edge: limits on depth, size and rate; introspection off in production;
//! internal errors that say nothing about internals.

use serde_json::{json, Value};
use tests::fixtures::{open_case, world};
use tests::{Backend, TestApp};

async fn serve_with(t: &TestApp, opts: api::http::EdgeOptions) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    let router = api::http::router_with(t.app.clone(), opts);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    url
}

async fn post(url: &str, token: &str, query: &str) -> (u16, Value) {
    let r = reqwest::Client::new().post(url).bearer_auth(token).json(&json!({"query": query})).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_are_rate_limited_per_token() {
    let mut t = TestApp::spawn(Backend::Sqlite).await;
    let url = serve_with(&t, api::http::EdgeOptions { introspection: true, mutation_rate: Some((0.5, 3.0)) }).await;
    let q = "mutation { registerOrganization(input: {name: \"Burst NGO\", kind: NGO}) { id } }";
    for _ in 0..3 {
        let (status, body) = post(&url, &t.admin, q).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
    }
    let (status, body) = post(&url, &t.admin, q).await;
    assert_eq!(status, 429);
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert!(body["errors"][0]["extensions"]["retryAfterSeconds"].as_u64().unwrap() >= 1);
    // Reads are not limited, and other tokens have their own bucket.
    let (status, _) = post(&url, &t.admin, "{ me { id } }").await;
    assert_eq!(status, 200);
    let other = t
        .ok(&t.admin, "mutation { createAccessToken(input: {name: \"o\", role: ADMIN}) { token } }", json!({}))
        .await["createAccessToken"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = post(&url, &other, q).await;
    assert_eq!(status, 200);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_introspection_policy() {
    let mut t = TestApp::spawn(Backend::Sqlite).await;
    // Too deep: a typed error, never a 500.
    // (Data nests at most seven levels; only the schema's own types recurse: the standard
    // introspection query is allowed 24 levels, this asks for more.)
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
        "ofType { ".repeat(24),
        " }".repeat(24)
    );
    let deep = deep.as_str();
    assert_eq!(t.err(&t.admin, deep, json!({})).await, "BAD_USER_INPUT");
    // Too large: refused before it is parsed, and the server keeps answering.
    let huge = format!("{{ me {{ id }} }} #{}", "x".repeat(1024 * 1024));
    let sent =
        reqwest::Client::new().post(t.url("/graphql")).bearer_auth(&t.admin).json(&json!({"query": huge})).send().await;
    match sent {
        Ok(r) => assert!(matches!(r.status().as_u16(), 400 | 413), "status {}", r.status()),
        // The server may answer 413 from the announced length and close the connection
        // before the client has finished writing the body.
        Err(e) => assert!(e.is_request(), "{e}"),
    }
    t.ok(&t.admin, "{ me { id } }", json!({})).await;
    // Production: no introspection, by `__schema` or `__type`: a JSON answer with a typed
    // error (never a 500 or a page), and nothing of the schema in it.
    let url = serve_with(&t, api::http::EdgeOptions { introspection: false, mutation_rate: None }).await;
    let introspection = [
        ("__schema", "{ __schema { types { name } } }"),
        ("__type", "{ __type(name: \"Case\") { name fields { name } } }"),
        (
            "__type",
            "{ ...T } fragment T on QueryRoot { ... on QueryRoot { __type(name: \"Case\") { fields { name } } } }",
        ),
    ];
    for (field, q) in introspection {
        let (status, body) = post(&url, &t.admin, q).await;
        assert!(matches!(status, 200 | 400), "{field}: status {status}: {body}");
        assert!(body.is_object(), "{field}: the answer is a JSON object: {body}");
        let code = body["errors"][0]["extensions"]["code"].as_str();
        assert_eq!(code, Some("BAD_USER_INPUT"), "{field}: a typed error: {body}");
        assert!(body["data"].is_null() || body["data"][field].is_null(), "{field}: the schema is not revealed: {body}");
        assert!(!body.to_string().contains("policeReports"), "{field}: no field of Case in the answer: {body}");
    }
    for (field, q) in introspection {
        let (status, open) = post(&t.url("/graphql"), &t.admin, q).await;
        assert_eq!(status, 200, "{open}");
        assert!(open.get("errors").is_none(), "with introspection on, {field} answers: {open}");
    }
    let (_, open) = post(&t.url("/graphql"), &t.admin, "{ __type(name: \"Case\") { fields { name } } }").await;
    assert!(open["data"]["__type"]["fields"].as_array().unwrap().iter().any(|f| f["name"] == "policeReports"));
    // GraphiQL: no explorer without introspection, the explorer with it.
    let graphiql = |u: String| async move {
        let r = reqwest::Client::new().get(u).header("accept", "text/html").send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let (status, page) = graphiql(url.clone()).await;
    assert!(matches!(status, 404 | 405), "GET /graphql without introspection: {status}");
    assert!(!page.contains("GraphQL explorer"), "no explorer without introspection: {page}");
    let (status, _) = graphiql(url.replace("/graphql", "/graphql/explorer.js")).await;
    assert!(matches!(status, 404 | 405), "nor its script");
    let (status, page) = graphiql(t.url("/graphql")).await;
    assert_eq!(status, 200);
    assert!(page.contains("GraphQL explorer"), "the explorer is served with introspection on");
    // It loads nothing from another origin: its script and style come from this server.
    assert!(!page.contains("http://") && !page.contains("https://"), "{page}");
    for asset in ["/graphql/explorer.js", "/graphql/explorer.css"] {
        assert!(page.contains(asset));
        let r = reqwest::get(t.url(asset)).await.unwrap();
        assert_eq!(r.status(), 200, "{asset}");
        assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    }
    let (_, body) = post(&url, &t.admin, "{ me { id } }").await;
    assert!(body.get("errors").is_none(), "{body}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_errors_reveal_nothing() {
    let mut t = TestApp::spawn(Backend::Sqlite).await;
    let w = world(&t).await;
    let case = open_case(&t, &w, true).await;
    // A read-model row damaged behind the server's back.
    let projections::Db::Sqlite(pool) = &t.app.db else { unreachable!() };
    sqlx::query("UPDATE rm_case SET doc = 'SELECT * FROM secrets; not json' WHERE id = $1")
        .bind(&case)
        .execute(pool)
        .await
        .unwrap();
    t.app.projector.cache().clear();
    let body = t.gql(&w.auditor, "query($c: ID!) { case(id: $c) { id } }", json!({"c": case})).await;
    let e = &body["errors"][0];
    assert_eq!(e["extensions"]["code"], "INTERNAL");
    assert_eq!(e["message"], "internal error");
    // What the client reads: the message and the extensions (locations are the query's).
    let text = format!("{} {}", e["message"], e["extensions"]);
    for leak in ["SELECT", "secrets", "rm_case", "serde", "expected", "line"] {
        assert!(!text.contains(leak), "{leak:?} leaked: {text}");
    }
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_valid_prometheus_text() {
    use prometheus_parse::{LineInfo, SampleType, Scrape, Value as Sample};
    use std::collections::BTreeMap;
    let mut t = TestApp::spawn(Backend::Sqlite).await;
    // A few requests of each kind: a mutation, a query, a refused one, a probe.
    t.ok(
        &t.admin,
        "mutation { registerOrganization(input: {name: \"Zebra, \\\"Quoted\\\" NGO\", kind: NGO}) { id } }",
        json!({}),
    )
    .await;
    t.ok(&t.admin, "{ me { id } }", json!({})).await;
    assert_eq!(t.err("", "{ me { id } }", json!({})).await, "UNAUTHENTICATED");
    reqwest::get(t.url("/healthz")).await.unwrap();
    let resp = reqwest::Client::new().get(t.url("/metrics")).bearer_auth(&t.admin).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let body = resp.text().await.unwrap();

    // Line by line: every line is a HELP, a TYPE or a sample, and each family's HELP
    // comes right before its TYPE.
    let mut families: BTreeMap<String, SampleType> = BTreeMap::new();
    let mut help: Option<String> = None;
    for line in body.lines() {
        match LineInfo::parse(line) {
            LineInfo::Doc { metric_name, .. } => help = Some(metric_name.to_string()),
            LineInfo::Type { metric_name, metric_alias, sample_type } => {
                let name = metric_alias.unwrap_or(metric_name);
                assert_eq!(help.take().as_deref(), Some(name.as_str()), "TYPE {name} without its HELP");
                assert!(families.insert(name.clone(), sample_type).is_none(), "{name} declared twice");
            }
            LineInfo::Sample { metric_name, .. } => {
                let declared = families.iter().any(|(family, ty)| {
                    metric_name == family
                        || (*ty == SampleType::Histogram
                            && ["_bucket", "_sum", "_count"].iter().any(|s| metric_name == format!("{family}{s}")))
                });
                assert!(declared, "sample {metric_name} has no family declared before it");
            }
            other => panic!("not Prometheus text: {line:?} ({other:?})"),
        }
    }
    for (name, ty) in &families {
        assert!(matches!(ty, SampleType::Counter | SampleType::Gauge | SampleType::Histogram), "{name}: {ty:?}");
        assert_eq!(*ty == SampleType::Counter, name.ends_with("_total"), "{name} is a {ty:?}");
    }
    for (name, ty) in [
        ("probono_commands_total", SampleType::Counter),
        ("probono_command_duration_seconds", SampleType::Histogram),
        ("probono_http_requests_total", SampleType::Counter),
        ("probono_http_request_duration_seconds", SampleType::Histogram),
        ("probono_rate_limited_total", SampleType::Counter),
        ("probono_graphql_validation_reused_total", SampleType::Counter),
        ("probono_projection_batch_seconds", SampleType::Histogram),
        ("probono_projection_lag_seconds", SampleType::Histogram),
        ("probono_projection_lag_events", SampleType::Gauge),
        ("probono_projection_events_applied_total", SampleType::Counter),
        ("probono_projection_leader", SampleType::Gauge),
        ("probono_projection_caught_up", SampleType::Gauge),
        ("probono_build_info", SampleType::Gauge),
        ("process_cpu_seconds_total", SampleType::Counter),
        ("process_resident_memory_bytes", SampleType::Gauge),
        ("process_open_fds", SampleType::Gauge),
        ("process_start_time_seconds", SampleType::Gauge),
    ] {
        assert_eq!(families.get(name), Some(&ty), "{name} in\n{body}");
    }

    // The whole scrape, as a Prometheus text parser reads it.
    let scrape = Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).unwrap();
    for family in families.keys() {
        assert!(scrape.docs.get(family).is_some_and(|h| !h.is_empty()), "{family} has no HELP text");
    }
    let value = |name: &str, labels: &[(&str, &str)]| -> Option<Sample> {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
            .map(|s| s.value.clone())
    };
    let Some(Sample::Counter(n)) = value("probono_commands_total", &[("aggregate", "Organization"), ("outcome", "ok")])
    else {
        panic!("no counter of Organization commands in\n{body}")
    };
    assert!(n >= 1.0);
    let Some(Sample::Counter(n)) = value("probono_http_requests_total", &[("path", "/graphql"), ("status", "200")])
    else {
        panic!("no counter of GraphQL requests in\n{body}")
    };
    assert!(n >= 2.0);
    let Some(Sample::Histogram(buckets)) = value("probono_http_request_duration_seconds", &[("path", "/graphql")])
    else {
        panic!("no histogram of GraphQL request durations in\n{body}")
    };
    let inf = buckets.iter().find(|b| b.less_than.is_infinite()).expect("a +Inf bucket");
    assert!(inf.count >= 3.0 && buckets.windows(2).all(|w| w[0].count <= w[1].count), "{buckets:?}");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(value("probono_build_info", &[("version", version)]), Some(Sample::Gauge(1.0)), "{body}");
    let Some(Sample::Gauge(rss)) = value("process_resident_memory_bytes", &[]) else { panic!("no memory in\n{body}") };
    assert!(rss > 0.0);
    // What a client sent never becomes a label.
    assert!(!body.contains("Zebra") && !body.contains("Quoted"), "client data in the metrics:\n{body}");
    t.stop().await;
}
