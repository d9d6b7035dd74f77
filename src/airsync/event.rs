//! AirSync event types: incoming events in both spellings (old `EXTRACTION_DATA_START`, new
//! `START_EXTRACTING_DATA`), the answers we send (new spellings only), and parsing that never panics.

use serde_json::{Map, Value};

/// One incoming event type, after old names were translated to new ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Incoming {
    StartExtractingExternalSyncUnits,
    StartExtractingMetadata,
    StartExtractingData,
    ContinueExtractingData,
    StartDeletingExtractorState,
    StartExtractingAttachments,
    ContinueExtractingAttachments,
    StartDeletingExtractorAttachmentsState,
    StartLoadingData,
    ContinueLoadingData,
    StartLoadingAttachments,
    ContinueLoadingAttachments,
    StartDeletingLoaderState,
    StartDeletingLoaderAttachmentState,
}

/// The phase an incoming event belongs to; it decides which answers are legal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    ExternalSyncUnits,
    Metadata,
    Data,
    Attachments,
    DeleteState,
    DeleteAttachmentsState,
    LoadingData,
    LoadingAttachments,
    DeleteLoaderState,
    DeleteLoaderAttachmentState,
}

impl Incoming {
    /// Accepts both the new and the old (deprecated) spelling.
    pub fn parse(name: &str) -> Option<Incoming> {
        use Incoming::*;
        Some(match name {
            "START_EXTRACTING_EXTERNAL_SYNC_UNITS" | "EXTRACTION_EXTERNAL_SYNC_UNITS_START" => {
                StartExtractingExternalSyncUnits
            }
            "START_EXTRACTING_METADATA" | "EXTRACTION_METADATA_START" => StartExtractingMetadata,
            "START_EXTRACTING_DATA" | "EXTRACTION_DATA_START" => StartExtractingData,
            "CONTINUE_EXTRACTING_DATA" | "EXTRACTION_DATA_CONTINUE" => ContinueExtractingData,
            "START_DELETING_EXTRACTOR_STATE" | "EXTRACTION_DATA_DELETE" => StartDeletingExtractorState,
            "START_EXTRACTING_ATTACHMENTS" | "EXTRACTION_ATTACHMENTS_START" => StartExtractingAttachments,
            "CONTINUE_EXTRACTING_ATTACHMENTS" | "EXTRACTION_ATTACHMENTS_CONTINUE" => ContinueExtractingAttachments,
            "START_DELETING_EXTRACTOR_ATTACHMENTS_STATE" | "EXTRACTION_ATTACHMENTS_DELETE" => {
                StartDeletingExtractorAttachmentsState
            }
            "START_LOADING_DATA" => StartLoadingData,
            "CONTINUE_LOADING_DATA" => ContinueLoadingData,
            "START_LOADING_ATTACHMENTS" => StartLoadingAttachments,
            "CONTINUE_LOADING_ATTACHMENTS" => ContinueLoadingAttachments,
            "START_DELETING_LOADER_STATE" => StartDeletingLoaderState,
            "START_DELETING_LOADER_ATTACHMENT_STATE" => StartDeletingLoaderAttachmentState,
            _ => return None,
        })
    }

    pub fn phase(self) -> Phase {
        use Incoming::*;
        match self {
            StartExtractingExternalSyncUnits => Phase::ExternalSyncUnits,
            StartExtractingMetadata => Phase::Metadata,
            StartExtractingData | ContinueExtractingData => Phase::Data,
            StartExtractingAttachments | ContinueExtractingAttachments => Phase::Attachments,
            StartDeletingExtractorState => Phase::DeleteState,
            StartDeletingExtractorAttachmentsState => Phase::DeleteAttachmentsState,
            StartLoadingData | ContinueLoadingData => Phase::LoadingData,
            StartLoadingAttachments | ContinueLoadingAttachments => Phase::LoadingAttachments,
            StartDeletingLoaderState => Phase::DeleteLoaderState,
            StartDeletingLoaderAttachmentState => Phase::DeleteLoaderAttachmentState,
        }
    }

    /// Stateless events neither read nor write state (protocol §3.1).
    pub fn is_stateless(self) -> bool {
        matches!(
            self.phase(),
            Phase::ExternalSyncUnits
                | Phase::DeleteState
                | Phase::DeleteAttachmentsState
                | Phase::DeleteLoaderState
                | Phase::DeleteLoaderAttachmentState
        )
    }
}

/// What the worker tells the platform at the end of an invocation.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Done,
    Progress,
    Delayed { seconds: u64 },
    Error { message: String },
}

impl Phase {
    /// The outgoing event type (new spelling) for an outcome in this phase. PROGRESS and DELAYED are
    /// only legal for resumable phases; elsewhere they become the phase's ERROR (protocol §3.3).
    pub fn answer(self, outcome: &Outcome) -> &'static str {
        use Phase::*;
        let (done, progress, delayed, error) = match self {
            ExternalSyncUnits => {
                ("EXTERNAL_SYNC_UNIT_EXTRACTION_DONE", None, None, "EXTERNAL_SYNC_UNIT_EXTRACTION_ERROR")
            }
            Metadata => ("METADATA_EXTRACTION_DONE", None, None, "METADATA_EXTRACTION_ERROR"),
            Data => (
                "DATA_EXTRACTION_DONE",
                Some("DATA_EXTRACTION_PROGRESS"),
                Some("DATA_EXTRACTION_DELAYED"),
                "DATA_EXTRACTION_ERROR",
            ),
            Attachments => (
                "ATTACHMENT_EXTRACTION_DONE",
                Some("ATTACHMENT_EXTRACTION_PROGRESS"),
                Some("ATTACHMENT_EXTRACTION_DELAYED"),
                "ATTACHMENT_EXTRACTION_ERROR",
            ),
            DeleteState => ("EXTRACTOR_STATE_DELETION_DONE", None, None, "EXTRACTOR_STATE_DELETION_ERROR"),
            DeleteAttachmentsState => {
                ("EXTRACTOR_ATTACHMENTS_STATE_DELETION_DONE", None, None, "EXTRACTOR_ATTACHMENTS_STATE_DELETION_ERROR")
            }
            LoadingData => {
                ("DATA_LOADING_DONE", Some("DATA_LOADING_PROGRESS"), Some("DATA_LOADING_DELAYED"), "DATA_LOADING_ERROR")
            }
            LoadingAttachments => (
                "ATTACHMENT_LOADING_DONE",
                Some("ATTACHMENT_LOADING_PROGRESS"),
                Some("ATTACHMENT_LOADING_DELAYED"),
                "ATTACHMENT_LOADING_ERROR",
            ),
            DeleteLoaderState => ("LOADER_STATE_DELETION_DONE", None, None, "LOADER_STATE_DELETION_ERROR"),
            DeleteLoaderAttachmentState => {
                ("LOADER_ATTACHMENT_STATE_DELETION_DONE", None, None, "LOADER_ATTACHMENT_STATE_DELETION_ERROR")
            }
        };
        match outcome {
            Outcome::Done => done,
            Outcome::Progress => progress.unwrap_or(error),
            Outcome::Delayed { .. } => delayed.unwrap_or(error),
            Outcome::Error { .. } => error,
        }
    }

    pub fn is_extraction(self) -> bool {
        matches!(
            self,
            Phase::ExternalSyncUnits
                | Phase::Metadata
                | Phase::Data
                | Phase::Attachments
                | Phase::DeleteState
                | Phase::DeleteAttachmentsState
        )
    }

    pub fn is_loading(self) -> bool {
        !self.is_extraction()
    }
}

/// The parts of an incoming event the worker uses. `event_context` is kept whole, to be echoed back.
#[derive(Clone, Debug)]
pub struct Event {
    /// `None` when the type string is unknown (answered with `UNKNOWN_EVENT_TYPE`).
    pub kind: Option<Incoming>,
    pub raw_type: String,
    pub event_context: Map<String, Value>,
    pub service_account_token: String,
    pub devrev_endpoint: String,
    pub snap_in_id: String,
    pub snap_in_version_id: String,
    /// `payload.connection_data`: `org_id` (tenant) and `key` (`client_id|client_secret`).
    pub tenant: String,
    pub connection_key: String,
    pub mode: String,
}

/// Why an event cannot be answered at all: it has nowhere to send the answer.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct MalformedEvent {
    pub message: String,
}

fn text(map: &Map<String, Value>, key: &str) -> String {
    map.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

fn object<'a>(v: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    v.get(key).and_then(Value::as_object)
}

impl Event {
    /// Parses an event, tolerating unknown and missing fields. Only an event without a `callback_url`
    /// is refused here (there is nowhere to answer); everything else a phase needs is checked by the
    /// phase, which then answers its ERROR with a clear message.
    pub fn parse(value: &Value) -> Result<Event, MalformedEvent> {
        let bad = |message: &str| MalformedEvent { message: message.to_string() };
        if !value.is_object() {
            return Err(bad("the event is not a JSON object"));
        }
        let empty = Map::new();
        let payload = object(value, "payload").unwrap_or(&empty);
        let context = object(value, "context").unwrap_or(&empty);
        let event_context = payload.get("event_context").and_then(Value::as_object).cloned().unwrap_or_default();
        if text(&event_context, "callback_url").is_empty() {
            return Err(bad("the event has no `payload.event_context.callback_url`; there is nowhere to answer"));
        }
        let raw_type = payload.get("event_type").and_then(Value::as_str).unwrap_or_default().to_string();
        let token = context
            .get("secrets")
            .and_then(|s| s.get("service_account_token"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let exec = object(value, "execution_metadata");
        let connection = payload.get("connection_data").and_then(Value::as_object);
        let snap_in_version_id = match text(context, "snap_in_version_id") {
            v if v.is_empty() => text(&event_context, "snap_in_version_id"),
            v => v,
        };
        Ok(Event {
            kind: Incoming::parse(&raw_type),
            raw_type,
            service_account_token: token,
            devrev_endpoint: exec
                .map(|e| text(e, "devrev_endpoint"))
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string(),
            snap_in_id: text(context, "snap_in_id"),
            snap_in_version_id,
            tenant: connection.map(|c| text(c, "org_id")).unwrap_or_default(),
            connection_key: connection.map(|c| text(c, "key")).unwrap_or_default(),
            mode: text(&event_context, "mode"),
            event_context,
        })
    }

    /// What a stateful phase needs before it can start; a missing piece is answered as the phase's ERROR.
    pub fn check_stateful(&self) -> Result<(), String> {
        if self.service_account_token.is_empty() {
            return Err("the event has no `context.secrets.service_account_token`".into());
        }
        if self.devrev_endpoint.is_empty() {
            return Err("the event has no `execution_metadata.devrev_endpoint`".into());
        }
        if self.context_str("worker_data_url").is_empty() {
            return Err("the event has no `payload.event_context.worker_data_url`".into());
        }
        Ok(())
    }

    pub fn context_str(&self, key: &str) -> String {
        text(&self.event_context, key)
    }

    pub fn callback_url(&self) -> String {
        self.context_str("callback_url")
    }

    /// The phase to answer in; an unknown type has none (answer `UNKNOWN_EVENT_TYPE`).
    pub fn phase(&self) -> Option<Phase> {
        self.kind.map(Incoming::phase)
    }

    /// Splits `client_id|client_secret` (the prior connector's keyring format).
    pub fn credentials(&self) -> Result<(String, String), String> {
        let (id, secret) = self.connection_key.split_once('|').ok_or(
            "the connection key is not `client_id|client_secret`: check the connection's Client ID and Client Secret",
        )?;
        let (id, secret) = (id.trim(), secret.trim());
        if id.is_empty() || secret.is_empty() {
            return Err("the connection's Client ID or Client Secret is empty".into());
        }
        if self.tenant.trim().is_empty() {
            return Err("the connection has no Tenant ID (org_id)".into());
        }
        Ok((id.to_string(), secret.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: &str) -> Value {
        json!({"context": {"secrets": {"service_account_token": "t"}, "snap_in_version_id": "v1"},
               "execution_metadata": {"devrev_endpoint": "https://api.devrev.ai/"},
               "payload": {"event_type": kind, "connection_data": {"org_id": "tid", "key": "cid|sec"},
                           "event_context": {"callback_url": "https://api.devrev.ai/cb", "mode": "INITIAL", "extra": 1}}})
    }

    #[test]
    fn old_and_new_spellings_mean_the_same() {
        for (old, new) in [
            ("EXTRACTION_DATA_START", "START_EXTRACTING_DATA"),
            ("EXTRACTION_ATTACHMENTS_DELETE", "START_DELETING_EXTRACTOR_ATTACHMENTS_STATE"),
            ("EXTRACTION_EXTERNAL_SYNC_UNITS_START", "START_EXTRACTING_EXTERNAL_SYNC_UNITS"),
        ] {
            assert_eq!(Incoming::parse(old), Incoming::parse(new));
            assert!(Incoming::parse(new).is_some());
        }
        assert_eq!(Incoming::parse("SOMETHING_NEW"), None);
    }

    #[test]
    fn progress_is_illegal_outside_resumable_phases() {
        assert_eq!(Phase::Metadata.answer(&Outcome::Progress), "METADATA_EXTRACTION_ERROR");
        assert_eq!(Phase::Data.answer(&Outcome::Delayed { seconds: 3 }), "DATA_EXTRACTION_DELAYED");
    }

    #[test]
    fn parse_keeps_context_and_trims_endpoint() {
        let e = Event::parse(&event("EXTRACTION_DATA_CONTINUE")).unwrap();
        assert_eq!(e.kind, Some(Incoming::ContinueExtractingData));
        assert_eq!(e.devrev_endpoint, "https://api.devrev.ai");
        assert_eq!(e.event_context.get("extra"), Some(&json!(1)));
        assert_eq!(e.credentials().unwrap(), ("cid".into(), "sec".into()));
    }

    #[test]
    fn malformed_events_say_what_is_missing() {
        assert!(Event::parse(&json!([1])).unwrap_err().message.contains("not a JSON object"));
        let mut v = event("START_EXTRACTING_DATA");
        v["payload"]["event_context"].as_object_mut().unwrap().remove("callback_url");
        assert!(Event::parse(&v).unwrap_err().message.contains("callback_url"));
        let mut v = event("START_EXTRACTING_DATA");
        v["payload"].as_object_mut().unwrap().remove("event_type");
        assert_eq!(Event::parse(&v).unwrap().kind, None);
        assert!(Event::parse(&v).unwrap().check_stateful().unwrap_err().contains("worker_data_url"));
        let mut v = event("START_EXTRACTING_DATA");
        v["payload"]["connection_data"]["key"] = json!("no-pipe");
        assert!(Event::parse(&v).unwrap().credentials().is_err());
    }
}
