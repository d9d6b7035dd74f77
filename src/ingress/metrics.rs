//! A small in-process metrics registry (counters and gauges with labels) and its
//! Prometheus text exposition (format 0.0.4), served by the ingress at `GET /metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// The kind of a metric family, as written on its `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Monotonic counter (`incr`).
    Counter,
    /// Value that goes up and down (`set`, `add`).
    Gauge,
}

impl MetricKind {
    fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
        }
    }
}

#[derive(Debug)]
struct Family {
    kind: MetricKind,
    help: Option<String>,
    /// Series keyed by their sorted label pairs.
    series: BTreeMap<Vec<(String, String)>, f64>,
}

/// A registry of labelled counters and gauges, rendered as Prometheus text.
///
/// Thread-safe and cheap enough for per-request and per-record-type updates. Invalid metric or
/// label names are ignored (logged at debug level) rather than panicking, so a typo can never
/// take the worker down. Label values are escaped when rendered.
#[derive(Debug, Default)]
pub struct Metrics {
    families: Mutex<BTreeMap<String, Family>>,
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Declare a family with its kind and help text (optional: `incr` creates counters and
    /// `set` gauges on first use). Re-describing keeps existing series and updates the help.
    pub fn describe(&self, name: &str, kind: MetricKind, help: &str) {
        if !valid_metric_name(name) {
            tracing::debug!(metric = name, "ignoring invalid metric name");
            return;
        }
        let mut families = self.lock();
        let family =
            families.entry(name.to_owned()).or_insert_with(|| Family { kind, help: None, series: BTreeMap::new() });
        family.kind = kind;
        family.help = Some(help.to_owned());
    }

    /// Add `by` to the counter `name{labels}` (created at 0 on first use).
    pub fn incr(&self, name: &str, labels: &[(&str, &str)], by: u64) {
        self.update(name, labels, MetricKind::Counter, |v| *v += by as f64);
    }

    /// Set the gauge `name{labels}` to `value`.
    pub fn set(&self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.update(name, labels, MetricKind::Gauge, |v| *v = value);
    }

    /// Add `delta` (may be negative) to the gauge `name{labels}`.
    pub fn add(&self, name: &str, labels: &[(&str, &str)], delta: f64) {
        self.update(name, labels, MetricKind::Gauge, |v| *v += delta);
    }

    /// Current value of one series, if it exists (for tests and diagnostics).
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let key = label_key(labels)?;
        self.lock().get(name)?.series.get(&key).copied()
    }

    /// The whole registry in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let families = self.lock();
        let mut out = String::new();
        for (name, family) in families.iter() {
            if let Some(help) = &family.help {
                let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
            }
            let _ = writeln!(out, "# TYPE {name} {}", family.kind.as_str());
            for (labels, value) in &family.series {
                out.push_str(name);
                if !labels.is_empty() {
                    out.push('{');
                    for (i, (k, v)) in labels.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "{k}=\"{}\"", escape_label_value(v));
                    }
                    out.push('}');
                }
                let _ = writeln!(out, " {}", format_value(*value));
            }
        }
        out
    }

    fn update(&self, name: &str, labels: &[(&str, &str)], kind: MetricKind, f: impl FnOnce(&mut f64)) {
        if !valid_metric_name(name) {
            tracing::debug!(metric = name, "ignoring invalid metric name");
            return;
        }
        let Some(key) = label_key(labels) else {
            tracing::debug!(metric = name, "ignoring metric update with invalid label names");
            return;
        };
        let mut families = self.lock();
        let family =
            families.entry(name.to_owned()).or_insert_with(|| Family { kind, help: None, series: BTreeMap::new() });
        f(family.series.entry(key).or_insert(0.0));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Family>> {
        // A panic while holding this lock cannot leave the map inconsistent (every update is a
        // single insert or arithmetic step), so a poisoned lock is safe to keep using.
        self.families.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn label_key(labels: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
    let mut key: Vec<(String, String)> = Vec::with_capacity(labels.len());
    for (k, v) in labels {
        if !valid_label_name(k) {
            return None;
        }
        key.push(((*k).to_owned(), (*v).to_owned()));
    }
    key.sort();
    key.dedup_by(|a, b| a.0 == b.0);
    Some(key)
}

fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    !name.starts_with("__")
        && matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn escape_label_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_gauges_with_escaped_labels() {
        let m = Metrics::new();
        m.describe("x_total", MetricKind::Counter, "Things.");
        m.incr("x_total", &[("b", "2"), ("a", "q\"\\\n")], 3);
        m.incr("x_total", &[("a", "q\"\\\n"), ("b", "2")], 1);
        m.set("g", &[], 1.5);
        m.add("g", &[], -0.5);
        let text = m.render();
        assert!(text.contains("# HELP x_total Things.\n# TYPE x_total counter\n"));
        assert!(text.contains("x_total{a=\"q\\\"\\\\\\n\",b=\"2\"} 4\n"), "{text}");
        assert!(text.contains("# TYPE g gauge\ng 1\n"), "{text}");
        assert_eq!(m.get("x_total", &[("b", "2"), ("a", "q\"\\\n")]), Some(4.0));
    }

    #[test]
    fn ignores_invalid_names() {
        let m = Metrics::new();
        m.incr("bad name", &[], 1);
        m.incr("ok", &[("__reserved", "x")], 1);
        m.incr("ok", &[("1abc", "x")], 1);
        assert_eq!(m.render(), "");
    }
}
