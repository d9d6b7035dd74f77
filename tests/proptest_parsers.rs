//! Bad input never panics: arbitrary JSON and text go through every parser that sees outside data (the
//! event parser, the stored-state parser, Graph pages, the extraction window, token errors, host policy,
//! Retry-After), and each either accepts or returns a clear error.

use entra_airsync::airsync::event::Event;
use entra_airsync::airsync::state::WorkerState;
use entra_airsync::airsync::window;
use entra_airsync::graph::client::parse_retry_after;
use entra_airsync::graph::error::classify_token_error;
use entra_airsync::graph::pager::Page;
use entra_airsync::net::HostPolicy;
use proptest::prelude::*;
use serde_json::{json, Value};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        ".{0,24}".prop_map(Value::String),
        prop_oneof![
            Just("START_EXTRACTING_DATA"),
            Just("EXTRACTION_DATA_CONTINUE"),
            Just("https://api.devrev.ai/x"),
            Just("@odata.nextLink"),
            Just("2026-01-01T00:00:00Z"),
            Just("workers_newest"),
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop_oneof![
            Just("payload".to_string()),
            Just("context".to_string()),
            Just("event_context".to_string()),
            Just("event_type".to_string()),
            Just("callback_url".to_string()),
            Just("value".to_string()),
            Just("type".to_string()),
            Just("@odata.deltaLink".to_string()),
            "[a-z_@.]{1,12}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An event skeleton with arbitrary values in the places the worker reads.
fn arb_event() -> impl Strategy<Value = Value> {
    (arb_json(), arb_json(), arb_json(), arb_json()).prop_map(|(ctx, exec, conn, extra)| {
        json!({"context": ctx, "execution_metadata": exec,
               "payload": {"event_type": extra, "connection_data": conn,
                           "event_context": {"callback_url": "https://api.devrev.ai/cb", "mode": extra}}})
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn events_never_panic(v in arb_json(), e in arb_event()) {
        let _ = Event::parse(&v).map(|ev| (ev.credentials(), ev.check_stateful(), ev.phase()));
        let ev = Event::parse(&e).expect("has a callback");
        let _ = (ev.credentials(), ev.check_stateful(), ev.phase());
    }

    #[test]
    fn stored_state_never_panics(text in ".{0,200}", v in arb_json()) {
        let _ = WorkerState::parse(&text);
        if let Ok(s) = WorkerState::parse(&v.to_string()) {
            // Whatever was stored, what we write back parses again.
            prop_assert!(WorkerState::parse(&s.to_text()).is_ok());
        }
    }

    #[test]
    fn graph_pages_never_panic(v in arb_json(), text in ".{0,200}") {
        let _ = Page::from_value(&v);
        let _ = Page::from_body(text);
    }

    #[test]
    fn extraction_windows_never_panic(start in arb_json(), end in arb_json(), stored in arb_json(), meta in any::<bool>()) {
        let mut ctx = serde_json::Map::new();
        ctx.insert("extraction_start_time".into(), start);
        ctx.insert("extraction_end_time".into(), end);
        let mut state = WorkerState::parse(&stored.to_string()).unwrap_or_else(|_| WorkerState::initial());
        let _ = window::apply(&mut ctx, &mut state, meta, chrono::Utc::now());
        window::complete_run(&ctx, &mut state);
    }

    #[test]
    fn text_parsers_never_panic(s in ".{0,120}") {
        let _ = classify_token_error(&s);
        let _ = HostPolicy::parse("*.devrev.ai,127.0.0.1").check(&s);
        let _ = HostPolicy::parse(&s).check("https://api.devrev.ai/");
        let _ = parse_retry_after(&s);
    }
}
