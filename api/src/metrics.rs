//! Prometheus metrics, kept small and dependency-free: counters and histograms with fixed
//! labels. No label ever carries a client's data (only operation names and outcomes).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default, Clone)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, v: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS.len()];
        }
        for (i, b) in BUCKETS.iter().enumerate() {
            if v <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += v;
        self.count += 1;
    }
}

#[derive(Default)]
struct Inner {
    counters: BTreeMap<(String, String), u64>,
    histograms: BTreeMap<(String, String), Histogram>,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

fn labels(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}=\"{}\"", v.replace(['"', '\\', '\n'], "_"))).collect::<Vec<_>>().join(",")
}

impl Metrics {
    pub fn inc(&self, name: &str, pairs: &[(&str, &str)]) {
        if let Ok(mut m) = self.inner.lock() {
            *m.counters.entry((name.to_string(), labels(pairs))).or_default() += 1;
        }
    }

    pub fn observe(&self, name: &str, pairs: &[(&str, &str)], seconds: f64) {
        if let Ok(mut m) = self.inner.lock() {
            m.histograms.entry((name.to_string(), labels(pairs))).or_default().observe(seconds);
        }
    }

    /// Renders the text exposition format, followed by `gauges` computed at scrape time.
    pub fn render(&self, gauges: &[(&str, f64)]) -> String {
        let mut out = String::new();
        let Ok(m) = self.inner.lock() else { return out };
        let mut last = String::new();
        for ((name, l), v) in &m.counters {
            if *name != last {
                let _ = writeln!(out, "# TYPE {name} counter");
                last = name.clone();
            }
            let _ = writeln!(out, "{name}{{{l}}} {v}");
        }
        for ((name, l), h) in &m.histograms {
            if *name != last {
                let _ = writeln!(out, "# TYPE {name} histogram");
                last = name.clone();
            }
            let sep = if l.is_empty() { "" } else { "," };
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(out, "{name}_bucket{{{l}{sep}le=\"{b}\"}} {}", h.counts.get(i).copied().unwrap_or(0));
            }
            let _ = writeln!(out, "{name}_bucket{{{l}{sep}le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "{name}_sum{{{l}}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{{l}}} {}", h.count);
        }
        for (name, v) in gauges {
            let _ = writeln!(out, "# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let m = Metrics::default();
        m.inc("probono_commands_total", &[("aggregate", "Case"), ("outcome", "ok")]);
        m.inc("probono_commands_total", &[("aggregate", "Case"), ("outcome", "ok")]);
        m.observe("probono_http_request_duration_seconds", &[("path", "/graphql")], 0.003);
        let text = m.render(&[("probono_projection_lag_events", 2.0)]);
        assert!(text.contains("probono_commands_total{aggregate=\"Case\",outcome=\"ok\"} 2"));
        assert!(text.contains("probono_http_request_duration_seconds_bucket{path=\"/graphql\",le=\"0.005\"} 1"));
        assert!(text.contains("probono_http_request_duration_seconds_bucket{path=\"/graphql\",le=\"0.001\"} 0"));
        assert!(text.contains("probono_projection_lag_events 2"));
    }
}
