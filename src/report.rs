//! `report.html` for `demo` and `sync`: one self-contained page (inline CSS and SVG, no network) with
//! per-record-type counts, skipped types and why, Graph requests/RU/429s per throttling bucket, and a
//! timeline of when each record type ran. `History` collects what the page shows.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use crate::engine::TypeReport;
use crate::graph::client::ResourceUsage;

/// What the worker did, invocation by invocation.
#[derive(Default)]
pub struct History {
    reports: Mutex<Vec<TypeReport>>,
    usage: Mutex<BTreeMap<String, ResourceUsage>>,
}

impl History {
    pub fn record(&self, reports: &[TypeReport], usage: &BTreeMap<String, ResourceUsage>) {
        self.reports.lock().unwrap_or_else(|p| p.into_inner()).extend(reports.iter().cloned());
        let mut all = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        for (resource, u) in usage {
            let e = all.entry(resource.clone()).or_default();
            e.requests += u.requests;
            e.ru += u.ru;
            e.throttled += u.throttled;
        }
    }

    pub fn reports(&self) -> Vec<TypeReport> {
        self.reports.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn usage(&self) -> BTreeMap<String, ResourceUsage> {
        self.usage.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The throttling bucket a Graph resource draws from.
pub fn bucket_of(resource: &str) -> &'static str {
    match resource {
        "auditLogs" | "reports" => "reports (5 requests / 10 s)",
        "identity" | "identityProtection" => "conditional access (1 request / s)",
        _ => "identity (resource units)",
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const COLOURS: [&str; 8] = ["#2f6fde", "#1a9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#e6ab02"];

/// The timeline: one row per record type, one bar per invocation it ran in.
fn timeline_svg(reports: &[TypeReport]) -> String {
    let runs: Vec<&TypeReport> = reports.iter().filter(|r| r.started_unix_ms > 0).collect();
    let (Some(t0), Some(t1)) =
        (runs.iter().map(|r| r.started_unix_ms).min(), runs.iter().map(|r| r.finished_unix_ms).max())
    else {
        return "<p>No record type ran.</p>".into();
    };
    let span = (t1 - t0).max(1) as f64;
    let mut types: Vec<&str> = runs.iter().map(|r| r.record_type.as_str()).collect();
    types.dedup();
    types.sort();
    types.dedup();
    // Room for the longest label (about 7 px per character at the label's size).
    let longest = types.iter().map(|t| t.chars().count()).max().unwrap_or(0) as f64;
    let (left, width, row) = ((16.0 + 7.0 * longest).max(190.0), 700.0, 26.0);
    let height = row * types.len() as f64 + 40.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" role="img" aria-label="timeline of record types">"#,
        left + width + 20.0
    );
    for (i, t) in types.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end" class="label">{}</text>"#,
            left - 8.0,
            y + 15.0,
            esc(t)
        );
        for r in runs.iter().filter(|r| r.record_type == *t) {
            let x = left + (r.started_unix_ms - t0) as f64 / span * width;
            let w = ((r.finished_unix_ms - r.started_unix_ms) as f64 / span * width).max(2.0);
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y}" width="{w:.1}" height="18" rx="3" fill="{}"><title>{}: {} items in {} ms ({})</title></rect>"#,
                COLOURS[i % COLOURS.len()],
                esc(t),
                r.items,
                r.elapsed_ms,
                esc(&r.status)
            );
        }
    }
    let axis_y = height - 22.0;
    let _ = write!(svg, r##"<line x1="{left}" y1="{axis_y}" x2="{}" y2="{axis_y}" stroke="#888"/>"##, left + width);
    for k in 0..=4 {
        let x = left + width * k as f64 / 4.0;
        let _ = write!(
            svg,
            r#"<text x="{x:.1}" y="{}" text-anchor="middle" class="tick">{:.1} s</text>"#,
            axis_y + 16.0,
            span / 1000.0 * k as f64 / 4.0
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Renders the page. `counts`: record type → (items sent, records in the destination).
pub fn render(title: &str, subtitle: &str, history: &History, counts: &BTreeMap<String, (u64, Option<u64>)>) -> String {
    let reports = history.reports();
    let mut html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{t}</title><style>
body{{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#1d1d1f;max-width:980px}}
h1{{font-size:1.5rem;margin-bottom:.2rem}} .sub{{color:#555;margin-top:0}}
table{{border-collapse:collapse;margin:1rem 0}} th,td{{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:right}}
th:first-child,td:first-child{{text-align:left}} .skipped{{color:#a15c00}} .label{{font-size:12px}} .tick{{font-size:11px;fill:#555}}
</style></head><body><h1>{t}</h1><p class="sub">{s}</p>"#,
        t = esc(title),
        s = esc(subtitle)
    );
    html.push_str("<h2>Record types</h2><table><tr><th>record type</th><th>items sent</th><th>in destination</th><th>status</th></tr>");
    let mut last_status: BTreeMap<&str, &TypeReport> = BTreeMap::new();
    for r in &reports {
        last_status.insert(r.record_type.as_str(), r);
    }
    let mut names: Vec<&String> = counts.keys().collect();
    for r in last_status.keys() {
        if !counts.contains_key(*r) {
            names.push(&last_status[r].record_type);
        }
    }
    for name in names {
        let (sent, dest) = counts.get(name).copied().unwrap_or((0, None));
        let status = last_status.get(name.as_str()).map_or("", |r| r.status.as_str());
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{sent}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            dest.map_or("–".into(), |d| d.to_string()),
            esc(status)
        );
    }
    html.push_str("</table>");
    let skipped: Vec<&&TypeReport> = last_status.values().filter(|r| r.status == "skipped").collect();
    if !skipped.is_empty() {
        html.push_str("<h2>Skipped record types</h2><ul>");
        for r in skipped {
            let _ = write!(
                html,
                r#"<li class="skipped"><b>{}</b>: {}</li>"#,
                esc(&r.record_type),
                esc(r.reason.as_deref().unwrap_or(""))
            );
        }
        html.push_str("</ul>");
    }
    html.push_str("<h2>Microsoft Graph usage by throttling bucket</h2><table><tr><th>bucket</th><th>requests</th><th>resource units</th><th>429s</th></tr>");
    let mut buckets: BTreeMap<&str, ResourceUsage> = BTreeMap::new();
    for (resource, u) in history.usage() {
        let b = buckets.entry(bucket_of(&resource)).or_default();
        b.requests += u.requests;
        b.ru += u.ru;
        b.throttled += u.throttled;
    }
    for (bucket, u) in &buckets {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(bucket),
            u.requests,
            u.ru,
            u.throttled
        );
    }
    html.push_str("</table><h2>Timeline</h2>");
    html.push_str(&timeline_svg(&reports));
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(rt: &str, start: i64, ms: u64, status: &str) -> TypeReport {
        TypeReport {
            record_type: rt.into(),
            status: status.into(),
            items: 10,
            elapsed_ms: ms,
            started_unix_ms: start,
            finished_unix_ms: start + ms as i64,
            reason: (status == "skipped").then(|| "permission denied".into()),
            skip: None,
        }
    }

    #[test]
    fn the_page_is_self_contained_and_shows_the_timeline() {
        let h = History::default();
        let mut usage = BTreeMap::new();
        usage.insert("users".to_string(), ResourceUsage { requests: 7, ru: 7, throttled: 1 });
        usage.insert("auditLogs".to_string(), ResourceUsage { requests: 2, ru: 2, throttled: 0 });
        h.record(&[report("users", 1_000, 400, "done"), report("groups<script>", 1_100, 200, "skipped")], &usage);
        let mut counts = BTreeMap::new();
        counts.insert("users".to_string(), (10, Some(10)));
        let page = render("Demo", "a test", &h, &counts);
        assert!(page.contains("<svg") && page.contains("<rect"));
        assert!(!page.contains("http://") || page.contains("http://www.w3.org/2000/svg"));
        assert!(!page.contains("https://"), "no network references");
        assert!(!page.contains("<script>"), "names are escaped");
        assert!(page.contains("reports (5 requests / 10 s)") && page.contains("permission denied"));
    }
}
