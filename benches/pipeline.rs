//! Criterion: the worker's CPU path per record type — parse a Graph page, normalize each object through the
//! schema, and write the gzip JSON Lines artifact — in objects per second. Pages are fixtures repeated to 1,000.

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};

use entra_airsync::airsync::artifacts::Batch;
use entra_airsync::airsync::line::Record;
use entra_airsync::extract::{apps, authmethods, devices, groups, logs, users};
use entra_airsync::graph::json::Json;
use entra_airsync::graph::pager::Page;
use entra_airsync::schema::custom_fields::{from_extension_property, user_custom_fields};
use entra_airsync::schema::CustomField;

const OBJECTS: usize = 1000;

fn fixture(path: &str) -> Value {
    let file = format!("{}/fixtures/graph/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The fixture's objects repeated to `OBJECTS`, each with its own id, as one page's bytes.
fn page(path: &str) -> Vec<u8> {
    let items = fixture(path)["value"].as_array().cloned().unwrap_or_default();
    assert!(!items.is_empty(), "{path}: no objects");
    let value: Vec<Value> = (0..OBJECTS)
        .map(|i| {
            let mut o = items[i % items.len()].clone();
            o["id"] = json!(format!("{:08x}-0000-4000-8000-{:012x}", i, i));
            o
        })
        .collect();
    serde_json::to_vec(&json!({ "value": value })).unwrap_or_default()
}

fn sync_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

type Normalize = Box<dyn Fn(&Json) -> Vec<Record>>;

fn one(r: Option<impl Into<Record>>) -> Vec<Record> {
    r.into_iter().map(Into::into).collect()
}

fn many(rs: Vec<(&'static str, impl Into<Record>)>) -> Vec<Record> {
    rs.into_iter().map(|(_, r)| r.into()).collect()
}

fn cases() -> Vec<(&'static str, &'static str, Normalize)> {
    let t = sync_time();
    let discovered: Vec<_> = fixture("custom_fields/available_extension_properties.json")["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(from_extension_property)
        .collect();
    let custom: Vec<CustomField> = user_custom_fields(&discovered);
    vec![
        (
            "users",
            "custom_fields/users_with_extensions.json",
            Box::new(move |o| one(users::normalize_at(o, t, &custom))),
        ),
        ("groups+members", "groups/delta_page.json", Box::new(move |o| many(groups::normalize_at(o, t)))),
        (
            "service_principals+app_roles",
            "service_principals/delta_page.json",
            Box::new(move |o| many(apps::service_principal_at(o, t))),
        ),
        ("devices", "devices/delta_page.json", Box::new(move |o| one(devices::device_at(o, None, t)))),
        (
            "authentication_methods",
            "authentication_methods/user_methods.json",
            Box::new(move |o| {
                one(authmethods::normalize_method(
                    "5e0b7c1a-2d3f-4a5b-8c6d-7e8f9a0b1c2d",
                    Some("a@contoso.example"),
                    o,
                    t,
                ))
            }),
        ),
        (
            "directory_audit_logs",
            "directory_audit_logs/audits_page.json",
            Box::new(move |o| one(logs::normalize_audit(o, t))),
        ),
        ("sign_in_logs", "sign_in_logs/sign_ins_page.json", Box::new(move |o| one(logs::normalize_sign_in(o, t)))),
    ]
}

/// Parse (as the worker does: borrowing from the body) → normalize → gzip, the whole per-page CPU path;
/// returns the artifact's size.
fn run(bytes: &[u8], normalize: &Normalize) -> usize {
    let Ok(page) = String::from_utf8(bytes.to_vec())
        .map_err(|e| e.to_string())
        .and_then(|body| Page::from_body(body).map_err(|e| e.to_string()))
    else {
        return 0;
    };
    let mut batch = Batch::new();
    for obj in page.items() {
        for record in normalize(obj) {
            batch.add_record(&record).unwrap_or_default();
        }
    }
    batch.finish().map(|b| b.len()).unwrap_or_default()
}

fn pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_normalize_gzip");
    group.throughput(Throughput::Elements(OBJECTS as u64));
    for (name, path, normalize) in cases() {
        let bytes = page(path);
        let size = run(&bytes, &normalize);
        assert!(size > 0, "{name}: nothing written");
        // The artifact's size, to weigh the gzip settings against the CPU they cost.
        eprintln!("{name}: {} JSON bytes in, {size} gzip bytes out", bytes.len());
        group.bench_with_input(BenchmarkId::from_parameter(name), &bytes, |b, bytes| b.iter(|| run(bytes, &normalize)));
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
