//! Prometheus metrics on `prometheus-client` (the Prometheus project's Rust client): one
//! registry per [`Metrics`], rendered in the Prometheus text format 0.0.4.
//!
//! Recording takes no process-wide lock: counters are atomics; a labelled family finds its
//! series under a shared read lock (written only the first time a label set is seen); a
//! histogram series guards its buckets with its own short lock, so only observations of
//! the same series (say, commands on `Case`) ever meet. Label sets are typed below, and
//! every label value is a compile-time name (`&'static str`) or one of a fixed set: no
//! label can carry a client's data.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The `Content-Type` of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds (seconds) of every latency histogram's buckets.
const BUCKETS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// What became of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandOutcome {
    /// Its events were recorded.
    Ok,
    /// The domain or a guard refused it.
    Rejected,
    /// Another write to the same aggregate won.
    Conflict,
    /// Anything else (storage, serialisation).
    Error,
}

impl CommandOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandOutcome::Ok => "ok",
            CommandOutcome::Rejected => "rejected",
            CommandOutcome::Conflict => "conflict",
            CommandOutcome::Error => "error",
        }
    }
}

impl EncodeLabelValue for CommandOutcome {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> std::fmt::Result {
        encoder.write_str(self.as_str())
    }
}

/// The routes HTTP requests are counted by; any other path is `other`, so that a client
/// cannot mint label values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    Graphql,
    Healthz,
    Readyz,
    Metrics,
    Other,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Graphql => "/graphql",
            Route::Healthz => "/healthz",
            Route::Readyz => "/readyz",
            Route::Metrics => "/metrics",
            Route::Other => "other",
        }
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> std::fmt::Result {
        encoder.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CommandLabels {
    aggregate: &'static str,
    outcome: CommandOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct AggregateLabels {
    aggregate: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    path: Route,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    path: Route,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RoleLabels {
    role: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// The projector's state, read at scrape time.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProjectionState {
    /// Events recorded but not yet projected; -1 when the log cannot be read.
    pub lag_events: i64,
    /// Events this process has projected since it started.
    pub events_applied: u64,
    pub leader: bool,
    pub caught_up: bool,
}

pub struct Metrics {
    registry: Registry,
    commands: Family<CommandLabels, Counter>,
    command_duration: Histograms<AggregateLabels>,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: Histograms<RouteLabels>,
    identity_reads: Family<RoleLabels, Counter>,
    rate_limited: Counter,
    validation_reused: Counter,
    projection_batch: Histogram,
    projection_lag: Histogram,
    lag_events: Gauge,
    events_applied: Counter,
    leader: Gauge,
    caught_up: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let m = Metrics {
            registry: Registry::default(),
            commands: Family::default(),
            command_duration: Family::new_with_constructor(latency_histogram),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(latency_histogram),
            identity_reads: Family::default(),
            rate_limited: Counter::default(),
            validation_reused: Counter::default(),
            projection_batch: latency_histogram(),
            projection_lag: latency_histogram(),
            lag_events: Gauge::default(),
            events_applied: Counter::default(),
            leader: Gauge::default(),
            caught_up: Gauge::default(),
        };
        m.registered()
    }
}

impl Metrics {
    /// Registers every family (names as exposed; counters gain `_total`, units their
    /// suffix).
    fn registered(mut self) -> Self {
        let r = &mut self.registry;
        r.register(
            "probono_build",
            "The running build: its version as a label, the value always 1",
            Info::new(BuildLabels { version: env!("CARGO_PKG_VERSION") }),
        );
        r.register(
            "probono_commands",
            "Commands executed, by aggregate type and outcome (ok, rejected, conflict, error)",
            self.commands.clone(),
        );
        r.register_with_unit(
            "probono_command_duration",
            "Time to execute a command and record its events, by aggregate type",
            Unit::Seconds,
            self.command_duration.clone(),
        );
        r.register(
            "probono_http_requests",
            "HTTP requests answered, by route and status code",
            self.http_requests.clone(),
        );
        r.register_with_unit(
            "probono_http_request_duration",
            "Time to answer an HTTP request, by route",
            Unit::Seconds,
            self.http_duration.clone(),
        );
        r.register(
            "probono_identity_reads",
            "Client identities read, by the reader's role",
            self.identity_reads.clone(),
        );
        r.register("probono_rate_limited", "Mutations refused by the per-token rate limit", self.rate_limited.clone());
        r.register(
            "probono_graphql_validation_reused",
            "GraphQL queries run without the validation rules that their exact text already passed",
            self.validation_reused.clone(),
        );
        r.register_with_unit(
            "probono_projection_batch",
            "Time to project one batch of events into the read models",
            Unit::Seconds,
            self.projection_batch.clone(),
        );
        r.register_with_unit(
            "probono_projection_lag",
            "Time from an event's command to the commit that made it visible in the read models",
            Unit::Seconds,
            self.projection_lag.clone(),
        );
        r.register(
            "probono_projection_lag_events",
            "Events recorded but not yet in the read models (-1 when the event log cannot be read)",
            self.lag_events.clone(),
        );
        r.register(
            "probono_projection_events_applied",
            "Events this process has projected into the read models",
            self.events_applied.clone(),
        );
        r.register(
            "probono_projection_leader",
            "1 when this process is the one projecting events, else 0",
            self.leader.clone(),
        );
        r.register(
            "probono_projection_caught_up",
            "1 when the read models show every recorded event, else 0",
            self.caught_up.clone(),
        );
        #[cfg(target_os = "linux")]
        r.register_collector(Box::new(process::ProcessCollector));
        self
    }

    /// One command on an aggregate of type `aggregate` (`Aggregate::TYPE`).
    pub fn command(&self, aggregate: &'static str, outcome: CommandOutcome, took: Duration) {
        self.commands.get_or_create(&CommandLabels { aggregate, outcome }).inc();
        self.command_duration.get_or_create(&AggregateLabels { aggregate }).observe(took.as_secs_f64());
    }

    /// One HTTP request answered with `status`.
    pub fn http_request(&self, path: Route, status: u16, took: Duration) {
        self.http_requests.get_or_create(&RequestLabels { path, status }).inc();
        self.http_duration.get_or_create(&RouteLabels { path }).observe(took.as_secs_f64());
    }

    /// One client identity read by a caller of `role` (`Role::as_str`).
    pub fn identity_read(&self, role: &'static str) {
        self.identity_reads.get_or_create(&RoleLabels { role }).inc();
    }

    /// One mutation refused by the rate limit.
    pub fn rate_limited(&self) {
        self.rate_limited.inc();
    }

    /// One query run without the validation rules its text already passed.
    pub fn validation_reused(&self) {
        self.validation_reused.inc();
    }

    /// How long the projector took for one batch.
    pub fn projection_batch(&self, seconds: f64) {
        self.projection_batch.observe(seconds);
    }

    /// How long one event waited to become visible in the read models.
    pub fn projection_lag(&self, seconds: f64) {
        self.projection_lag.observe(seconds);
    }

    /// Renders the text exposition format ([`CONTENT_TYPE`]) with the projector's state
    /// as of now.
    pub fn render(&self, projection: &ProjectionState) -> String {
        self.lag_events.set(projection.lag_events);
        // The projector's count only grows; a concurrent scrape with an older reading
        // cannot move the counter back.
        self.events_applied.inner().fetch_max(projection.events_applied, Ordering::Relaxed);
        self.leader.set(i64::from(projection.leader));
        self.caught_up.set(i64::from(projection.caught_up));
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "encoding the metrics failed");
        }
        out
    }
}

/// The standard process metrics (as the Go client names them), read from `/proc` at
/// scrape time.
#[cfg(target_os = "linux")]
mod process {
    use prometheus_client::collector::Collector;
    use prometheus_client::encoding::{DescriptorEncoder, EncodeGaugeValue, EncodeMetric};
    use prometheus_client::metrics::counter::ConstCounter;
    use prometheus_client::metrics::gauge::ConstGauge;
    use prometheus_client::registry::Unit;

    #[derive(Debug)]
    pub(super) struct ProcessCollector;

    fn gauge<N>(e: &mut DescriptorEncoder, name: &str, help: &str, unit: Option<&Unit>, v: N) -> std::fmt::Result
    where
        N: EncodeGaugeValue + std::fmt::Debug + Send + Sync + 'static,
    {
        let g = ConstGauge::new(v);
        g.encode(e.encode_descriptor(name, help, unit, g.metric_type())?)
    }

    impl Collector for ProcessCollector {
        fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
            let Ok(me) = procfs::process::Process::myself() else { return Ok(()) };
            if let Ok(stat) = me.stat() {
                let ticks = procfs::ticks_per_second().max(1) as f64;
                let cpu = ConstCounter::new((stat.utime + stat.stime) as f64 / ticks);
                cpu.encode(e.encode_descriptor(
                    "process_cpu",
                    "Total user and system CPU time spent in seconds.",
                    Some(&Unit::Seconds),
                    cpu.metric_type(),
                )?)?;
                let rss = stat.rss.saturating_mul(procfs::page_size());
                gauge(&mut e, "process_resident_memory", "Resident memory size in bytes.", Some(&Unit::Bytes), rss)?;
                let vsize = stat.vsize;
                gauge(&mut e, "process_virtual_memory", "Virtual memory size in bytes.", Some(&Unit::Bytes), vsize)?;
                if let Ok(boot) = procfs::boot_time_secs() {
                    let start = boot as f64 + stat.starttime as f64 / ticks;
                    let help = "Start time of the process since unix epoch in seconds.";
                    gauge(&mut e, "process_start_time", help, Some(&Unit::Seconds), start)?;
                }
                gauge(&mut e, "process_threads", "Number of OS threads in the process.", None, stat.num_threads)?;
            }
            if let Ok(n) = me.fd_count() {
                gauge(&mut e, "process_open_fds", "Number of open file descriptors.", None, n as u64)?;
            }
            if let Ok(limits) = me.limits() {
                if let procfs::process::LimitValue::Value(max) = limits.max_open_files.soft_limit {
                    gauge(&mut e, "process_max_fds", "Maximum number of open file descriptors.", None, max)?;
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let m = Metrics::default();
        m.command("Case", CommandOutcome::Ok, Duration::from_millis(2));
        m.command("Case", CommandOutcome::Ok, Duration::from_millis(3));
        m.http_request(Route::Graphql, 200, Duration::from_millis(3));
        m.projection_lag(0.02);
        let state = ProjectionState { lag_events: 2, events_applied: 7, leader: true, caught_up: false };
        let text = m.render(&state);
        for line in [
            "# TYPE probono_commands_total counter",
            "probono_commands_total{aggregate=\"Case\",outcome=\"ok\"} 2",
            "# TYPE probono_command_duration_seconds histogram",
            "probono_command_duration_seconds_count{aggregate=\"Case\"} 2",
            "probono_http_requests_total{path=\"/graphql\",status=\"200\"} 1",
            "probono_http_request_duration_seconds_bucket{path=\"/graphql\",le=\"0.001\"} 0",
            "probono_http_request_duration_seconds_bucket{path=\"/graphql\",le=\"0.005\"} 1",
            "probono_http_request_duration_seconds_bucket{path=\"/graphql\",le=\"+Inf\"} 1",
            "probono_projection_lag_seconds_bucket{le=\"0.025\"} 1",
            "probono_rate_limited_total 0",
            "probono_projection_lag_events 2",
            "probono_projection_events_applied_total 7",
            "probono_projection_leader 1",
            "probono_projection_caught_up 0",
            concat!("probono_build_info{version=\"", env!("CARGO_PKG_VERSION"), "\"} 1"),
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        // An older reading of the projector never moves its counter back.
        let text = m.render(&ProjectionState { events_applied: 5, ..state });
        assert!(text.contains("\nprobono_projection_events_applied_total 7\n"), "{text}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn process_metrics_are_exposed() {
        let text = Metrics::default().render(&ProjectionState::default());
        for name in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
            "process_max_fds",
            "process_start_time_seconds",
        ] {
            assert!(text.contains(&format!("# TYPE {name} ")), "no {name} in\n{text}");
            let value: f64 = text
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no value for {name}"));
            assert!(value >= 0.0, "{name} = {value}");
        }
    }
}
