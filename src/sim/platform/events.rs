//! AirSync event vocabulary for the emulator: incoming names (new and old spelling, §3.1), the valid answers per
//! incoming event (§3.3), stateless events, and the builder of complete incoming events shaped like §2.10.

use serde_json::{json, Value};

/// Incoming event types: (new spelling, old spelling or "" when there is none).
pub const INCOMING: &[(&str, &str)] = &[
    ("START_EXTRACTING_EXTERNAL_SYNC_UNITS", "EXTRACTION_EXTERNAL_SYNC_UNITS_START"),
    ("START_EXTRACTING_METADATA", "EXTRACTION_METADATA_START"),
    ("START_EXTRACTING_DATA", "EXTRACTION_DATA_START"),
    ("CONTINUE_EXTRACTING_DATA", "EXTRACTION_DATA_CONTINUE"),
    ("START_DELETING_EXTRACTOR_STATE", "EXTRACTION_DATA_DELETE"),
    ("START_EXTRACTING_ATTACHMENTS", "EXTRACTION_ATTACHMENTS_START"),
    ("CONTINUE_EXTRACTING_ATTACHMENTS", "EXTRACTION_ATTACHMENTS_CONTINUE"),
    ("START_DELETING_EXTRACTOR_ATTACHMENTS_STATE", "EXTRACTION_ATTACHMENTS_DELETE"),
    ("START_LOADING_DATA", ""),
    ("CONTINUE_LOADING_DATA", ""),
    ("START_LOADING_ATTACHMENTS", ""),
    ("CONTINUE_LOADING_ATTACHMENTS", ""),
    ("START_DELETING_LOADER_STATE", ""),
    ("START_DELETING_LOADER_ATTACHMENT_STATE", ""),
];

/// Outgoing extractor event types (new spelling): these must carry `event_data.artifacts`.
pub const EXTRACTOR_ANSWERS: &[&str] = &[
    "EXTERNAL_SYNC_UNIT_EXTRACTION_DONE",
    "EXTERNAL_SYNC_UNIT_EXTRACTION_ERROR",
    "METADATA_EXTRACTION_DONE",
    "METADATA_EXTRACTION_ERROR",
    "DATA_EXTRACTION_PROGRESS",
    "DATA_EXTRACTION_DELAYED",
    "DATA_EXTRACTION_DONE",
    "DATA_EXTRACTION_ERROR",
    "EXTRACTOR_STATE_DELETION_DONE",
    "EXTRACTOR_STATE_DELETION_ERROR",
    "ATTACHMENT_EXTRACTION_PROGRESS",
    "ATTACHMENT_EXTRACTION_DELAYED",
    "ATTACHMENT_EXTRACTION_DONE",
    "ATTACHMENT_EXTRACTION_ERROR",
    "EXTRACTOR_ATTACHMENTS_STATE_DELETION_DONE",
    "EXTRACTOR_ATTACHMENTS_STATE_DELETION_ERROR",
];

/// Translate an incoming event type to the new spelling (unknown names are returned unchanged).
pub fn to_new(name: &str) -> String {
    INCOMING
        .iter()
        .find(|(new, old)| *new == name || (!old.is_empty() && *old == name))
        .map(|(new, _)| (*new).to_string())
        .unwrap_or_else(|| name.to_string())
}

/// Translate an incoming event type to the old spelling when it has one (else the new name).
pub fn to_old(name: &str) -> String {
    INCOMING
        .iter()
        .find(|(new, old)| *new == name || (!old.is_empty() && *old == name))
        .map(|(new, old)| if old.is_empty() { *new } else { *old })
        .unwrap_or(name)
        .to_string()
}

/// Stateless incoming events: no state GET/POST, no IDM (§3.1).
/// An unknown type is answered `UNKNOWN_EVENT_TYPE` before any state is read (protocol §1.4 step 2),
/// so it counts as stateless too.
pub fn is_stateless(incoming_new: &str) -> bool {
    valid_answers(incoming_new) == ["UNKNOWN_EVENT_TYPE"]
        || matches!(
            incoming_new,
            "START_EXTRACTING_EXTERNAL_SYNC_UNITS"
                | "START_DELETING_EXTRACTOR_STATE"
                | "START_DELETING_EXTRACTOR_ATTACHMENTS_STATE"
                | "START_DELETING_LOADER_STATE"
                | "START_DELETING_LOADER_ATTACHMENT_STATE"
        )
}

/// Valid answers (new spelling) to an incoming event given in the new spelling (§3.3).
pub fn valid_answers(incoming_new: &str) -> &'static [&'static str] {
    match incoming_new {
        "START_EXTRACTING_EXTERNAL_SYNC_UNITS" => {
            &["EXTERNAL_SYNC_UNIT_EXTRACTION_DONE", "EXTERNAL_SYNC_UNIT_EXTRACTION_ERROR"]
        }
        "START_EXTRACTING_METADATA" => &["METADATA_EXTRACTION_DONE", "METADATA_EXTRACTION_ERROR"],
        "START_EXTRACTING_DATA" | "CONTINUE_EXTRACTING_DATA" => {
            &["DATA_EXTRACTION_DONE", "DATA_EXTRACTION_PROGRESS", "DATA_EXTRACTION_DELAYED", "DATA_EXTRACTION_ERROR"]
        }
        "START_EXTRACTING_ATTACHMENTS" | "CONTINUE_EXTRACTING_ATTACHMENTS" => &[
            "ATTACHMENT_EXTRACTION_DONE",
            "ATTACHMENT_EXTRACTION_PROGRESS",
            "ATTACHMENT_EXTRACTION_DELAYED",
            "ATTACHMENT_EXTRACTION_ERROR",
        ],
        "START_DELETING_EXTRACTOR_STATE" => &["EXTRACTOR_STATE_DELETION_DONE", "EXTRACTOR_STATE_DELETION_ERROR"],
        "START_DELETING_EXTRACTOR_ATTACHMENTS_STATE" => {
            &["EXTRACTOR_ATTACHMENTS_STATE_DELETION_DONE", "EXTRACTOR_ATTACHMENTS_STATE_DELETION_ERROR"]
        }
        "START_LOADING_DATA" | "CONTINUE_LOADING_DATA" => {
            &["DATA_LOADING_DONE", "DATA_LOADING_PROGRESS", "DATA_LOADING_DELAYED", "DATA_LOADING_ERROR"]
        }
        "START_LOADING_ATTACHMENTS" | "CONTINUE_LOADING_ATTACHMENTS" => &[
            "ATTACHMENT_LOADING_DONE",
            "ATTACHMENT_LOADING_PROGRESS",
            "ATTACHMENT_LOADING_DELAYED",
            "ATTACHMENT_LOADING_ERROR",
        ],
        "START_DELETING_LOADER_STATE" => &["LOADER_STATE_DELETION_DONE", "LOADER_STATE_DELETION_ERROR"],
        "START_DELETING_LOADER_ATTACHMENT_STATE" => {
            &["LOADER_ATTACHMENT_STATE_DELETION_DONE", "LOADER_ATTACHMENT_STATE_DELETION_ERROR"]
        }
        _ => &["UNKNOWN_EVENT_TYPE"],
    }
}

/// Whether an outgoing event type is an extractor event (carries `artifacts`).
pub fn is_extractor_answer(answer: &str) -> bool {
    EXTRACTOR_ANSWERS.contains(&answer)
}

/// Everything that varies between events of one connection (the rest is fixed illustrative text).
#[derive(Debug, Clone)]
pub struct EventParams {
    pub base_url: String,
    pub service_account_token: String,
    pub event_type: String,
    pub mode: String,
    pub org_id: String,
    pub org_name: String,
    pub key: String,
    pub request_id: String,
    pub request_id_adaas: String,
    pub run_id: String,
    pub sync_unit: String,
    pub external_sync_unit_id: String,
    pub external_sync_unit_name: String,
    pub snap_in_id: String,
    pub snap_in_slug: String,
    pub snap_in_version_id: String,
    pub import_slug: String,
}

const DEVO: &str = "don:identity:dvrv-us-1:devo/sim";

/// Build one complete incoming event (§2.10 field set).
pub fn build_event(p: &EventParams) -> Value {
    let incoming_new = to_new(&p.event_type);
    let mut ctx = json!({
        "callback_url": format!("{}/internal/airdrop.external-extractor.message", p.base_url),
        "dev_oid": DEVO, "dev_org": "DEV-sim", "dev_org_id": "DEV-sim",
        "dev_uid": format!("{DEVO}:devu/1"), "dev_user": "DEVU-1", "dev_user_id": "DEVU-1",
        "event_type_adaas": incoming_new,
        "external_sync_unit": p.external_sync_unit_id,
        "external_sync_unit_id": p.external_sync_unit_id,
        "external_sync_unit_name": p.external_sync_unit_name,
        "external_system": p.org_id, "external_system_id": p.org_id,
        "external_system_name": p.org_name, "external_system_type": "ADaaS",
        "import_slug": p.import_slug,
        "mode": p.mode,
        "request_id": p.request_id,
        "request_id_adaas": p.request_id_adaas,
        "run_id": p.run_id, "sequence_version": "1",
        "snap_in_slug": p.snap_in_slug,
        "snap_in_version_id": p.snap_in_version_id,
        "sync_run": p.run_id, "sync_run_id": p.run_id, "sync_tier": "sim",
        "sync_unit": p.sync_unit, "sync_unit_id": p.sync_unit,
        "uuid": p.request_id_adaas,
        "worker_data_url": format!("{}/internal/airdrop.external-worker", p.base_url),
    });
    if incoming_new != "START_EXTRACTING_EXTERNAL_SYNC_UNITS" {
        if let Some(obj) = ctx.as_object_mut() {
            if p.mode == "INCREMENTAL" {
                obj.insert("extraction_start_time".into(), json!({"type": "workers_newest"}));
                obj.insert("reset_extract_from".into(), json!(false));
            } else {
                obj.insert("extraction_start_time".into(), json!({"type": "unbounded"}));
                obj.insert("initial_sync_scope".into(), json!("full-history"));
            }
            obj.insert("extraction_end_time".into(), json!({"type": "current_time"}));
        }
    }
    json!({
        "context": {
            "dev_oid": DEVO, "source_id": "sim-source",
            "snap_in_id": p.snap_in_id,
            "snap_in_version_id": p.snap_in_version_id,
            "service_account_id": format!("{DEVO}:svcacc/1"),
            "secrets": {"service_account_token": p.service_account_token}
        },
        "execution_metadata": {
            "request_id": uuid::Uuid::new_v4().to_string(),
            "function_name": "extraction",
            "event_type": "sim:airsync",
            "devrev_endpoint": p.base_url
        },
        "input_data": {"global_values": {}, "event_sources": {}, "keyrings": {}, "resources": {}},
        "payload": {
            "connection_data": {
                "org_id": p.org_id, "org_name": p.org_name,
                "key": p.key, "key_type": "oauth-secret"
            },
            "event_type": p.event_type,
            "event_data": {},
            "event_context": ctx
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling_round_trip() {
        assert_eq!(to_old("START_EXTRACTING_DATA"), "EXTRACTION_DATA_START");
        assert_eq!(to_new("EXTRACTION_DATA_START"), "START_EXTRACTING_DATA");
        assert_eq!(to_old("START_LOADING_DATA"), "START_LOADING_DATA");
        assert_eq!(to_new("BOGUS"), "BOGUS");
        assert!(valid_answers("CONTINUE_EXTRACTING_DATA").contains(&"DATA_EXTRACTION_DELAYED"));
        assert_eq!(valid_answers("BOGUS"), &["UNKNOWN_EVENT_TYPE"]);
        assert!(is_stateless("START_EXTRACTING_EXTERNAL_SYNC_UNITS"));
        assert!(!is_stateless("START_EXTRACTING_DATA"));
    }
}
