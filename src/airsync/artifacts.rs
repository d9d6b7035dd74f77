//! Artifacts: per-record-type batches of at most `batch_size` items, encoded as gzip JSON Lines and handed
//! to an `ArtifactStore` (the DevRev platform, or a directory in local mode), with the descriptors the
//! answer lists (`id`, `item_type`, `item_count`, date ranges).

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::Serialize;
use serde_json::Value;

use super::line::Record;

/// The protocol's budget for the artifact list inside one answer (80 % of 200,000 bytes, §4.6).
pub const EVENT_ARTIFACT_BUDGET_BYTES: usize = 160_000;

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("artifact upload of {item_type} failed: {message}")]
    Upload { item_type: String, message: String },
    #[error("artifact encoding of {item_type} failed: {message}")]
    Encode { item_type: String, message: String },
}

/// Where finished artifacts go. Returns the artifact id.
#[async_trait::async_trait]
pub trait ArtifactStore: Send + Sync {
    async fn put(&self, item_type: &str, gzip_jsonl: bytes::Bytes, confirm: bool) -> Result<String, String>;
}

#[async_trait::async_trait]
impl ArtifactStore for super::platform::Platform {
    async fn put(&self, item_type: &str, gzip_jsonl: bytes::Bytes, confirm: bool) -> Result<String, String> {
        self.upload_artifact(&format!("{item_type}.jsonl.gz"), gzip_jsonl, confirm).await.map_err(|e| e.to_string())
    }
}

/// One uploaded artifact as listed in `event_data.artifacts`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Descriptor {
    pub id: String,
    pub item_type: String,
    pub item_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_created_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_created_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_modified_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_modified_date: Option<String>,
}

#[derive(Default)]
struct Range {
    min: Option<DateTime<Utc>>,
    max: Option<DateTime<Utc>>,
    /// The last date text counted: records in a row often share one (the sync time), and parsing is dear.
    last: String,
}

impl Range {
    fn add(&mut self, text: Option<&str>) {
        let Some(text) = text else { return };
        if text == self.last {
            return;
        }
        let Ok(t) = DateTime::parse_from_rfc3339(text) else { return };
        self.last.clear();
        self.last.push_str(text);
        let t = t.with_timezone(&Utc);
        self.min = Some(self.min.map_or(t, |m| m.min(t)));
        self.max = Some(self.max.map_or(t, |m| m.max(t)));
    }
}

/// Bytes of lines handed to the compressor at once.
const CHUNK: usize = 32 * 1024;

/// One artifact being built: records gzip-compressed as they arrive (a full batch of 2,000 records
/// weighs a few hundred KB instead of several MB of JSON values), with its count and date ranges.
pub struct Batch {
    gz: GzEncoder<Vec<u8>>,
    /// Lines not compressed yet: the encoder gets them `CHUNK` bytes at a time, as a call per line (a few
    /// hundred bytes) costs the compressor more than the bytes themselves.
    pending: Vec<u8>,
    count: usize,
    created: Range,
    modified: Range,
}

impl Default for Batch {
    fn default() -> Batch {
        Batch::new()
    }
}

impl Batch {
    pub fn new() -> Batch {
        Batch {
            gz: GzEncoder::new(Vec::new(), Compression::fast()),
            pending: Vec::new(),
            count: 0,
            created: Range::default(),
            modified: Range::default(),
        }
    }

    /// Adds one record as a JSON line: a value is serialized, a written line goes in as it is.
    pub fn add_record(&mut self, record: &Record) -> std::io::Result<()> {
        self.created.add(record.created_date());
        self.modified.add(record.modified_date());
        if self.count > 0 {
            self.pending.push(b'\n');
        }
        match record {
            Record::Value(v) => serde_json::to_writer(&mut self.pending, v)?,
            Record::Line(line) => self.pending.extend_from_slice(&line.json),
        }
        self.count += 1;
        if self.pending.len() >= CHUNK {
            self.gz.write_all(&self.pending)?;
            self.pending.clear();
        }
        Ok(())
    }

    /// The finished gzip JSON Lines file.
    pub fn finish(mut self) -> std::io::Result<Vec<u8>> {
        self.gz.write_all(&self.pending)?;
        self.gz.finish()
    }
}

fn iso(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Collects records per item type and uploads a batch whenever one is full; `flush` uploads the rest.
pub struct ArtifactSink {
    store: Arc<dyn ArtifactStore>,
    batch_size: usize,
    buffers: Mutex<HashMap<String, Batch>>,
    uploaded: Mutex<Vec<Descriptor>>,
    listed_bytes: AtomicUsize,
    /// Set when an upload failed: records were lost from this invocation, so its cursors must not be saved.
    failed: std::sync::atomic::AtomicBool,
    /// Told of every record pushed (local mode draws progress bars with it).
    observer: Option<Observer>,
    /// Ids of the live records pushed per tracked item type (snapshot types), up to a cap each.
    tracked: Mutex<HashMap<String, TrackedIds>>,
}

/// Ids of the live records of one item type pushed since they were last taken; stops growing at `cap`.
#[derive(Debug, Default)]
pub struct TrackedIds {
    pub ids: Vec<String>,
    /// More than `cap` ids were pushed: `ids` is incomplete.
    pub overflow: bool,
    cap: usize,
}

/// Called with the item type of every record pushed.
pub type Observer = Arc<dyn Fn(&str) + Send + Sync>;

impl ArtifactSink {
    pub fn new(store: Arc<dyn ArtifactStore>, batch_size: usize) -> ArtifactSink {
        ArtifactSink {
            store,
            batch_size: batch_size.max(1),
            buffers: Mutex::new(HashMap::new()),
            uploaded: Mutex::new(Vec::new()),
            listed_bytes: AtomicUsize::new(0),
            failed: std::sync::atomic::AtomicBool::new(false),
            observer: None,
            tracked: Mutex::new(HashMap::new()),
        }
    }

    /// Starts keeping the ids of live records pushed for `item_type` (at most `cap` of them).
    pub fn track_ids(&self, item_type: &str, cap: usize) {
        let mut tracked = self.tracked.lock().unwrap_or_else(|p| p.into_inner());
        tracked.entry(item_type.to_string()).or_insert_with(|| TrackedIds { cap, ..TrackedIds::default() });
    }

    /// The ids tracked for `item_type` since the last call (tracking goes on).
    pub fn take_ids(&self, item_type: &str) -> TrackedIds {
        let mut tracked = self.tracked.lock().unwrap_or_else(|p| p.into_inner());
        match tracked.get_mut(item_type) {
            Some(t) => {
                let cap = t.cap;
                let taken = std::mem::take(t);
                t.cap = cap;
                taken
            }
            None => TrackedIds::default(),
        }
    }

    fn note_id(&self, item_type: &str, record: &Record) {
        let mut tracked = self.tracked.lock().unwrap_or_else(|p| p.into_inner());
        let Some(t) = tracked.get_mut(item_type) else { return };
        if !record.is_live() {
            return;
        }
        match record.id() {
            Some(_) if t.ids.len() >= t.cap => t.overflow = true,
            Some(id) => t.ids.push(id.to_string()),
            None => {}
        }
    }

    pub fn with_observer(mut self, observer: Observer) -> ArtifactSink {
        self.observer = Some(observer);
        self
    }

    /// Adds one normalized record; uploads a batch when `batch_size` are waiting.
    pub async fn push(&self, item_type: &str, record: impl Into<Record>) -> Result<(), ArtifactError> {
        let record = record.into();
        if let Some(observe) = &self.observer {
            observe(item_type);
        }
        self.note_id(item_type, &record);
        let encode = |e: std::io::Error| ArtifactError::Encode { item_type: item_type.into(), message: e.to_string() };
        let full = {
            let mut buffers = self.buffers.lock().unwrap_or_else(|p| p.into_inner());
            // Looked up before inserting: `entry` would allocate the key on every record.
            if !buffers.contains_key(item_type) {
                buffers.insert(item_type.to_string(), Batch::new());
            }
            let batch = buffers.get_mut(item_type).ok_or_else(|| encode(std::io::Error::other("no batch")))?;
            batch.add_record(&record).map_err(encode)?;
            if batch.count >= self.batch_size {
                buffers.remove(item_type)
            } else {
                None
            }
        };
        match full {
            Some(batch) => self.upload(item_type, batch, true).await,
            None => Ok(()),
        }
    }

    /// Uploads a single-line artifact right away (metadata, sync units).
    pub async fn put_single(&self, item_type: &str, items: Vec<Value>, confirm: bool) -> Result<(), ArtifactError> {
        let mut batch = Batch::new();
        for item in items {
            batch
                .add_record(&Record::Value(item))
                .map_err(|e| ArtifactError::Encode { item_type: item_type.into(), message: e.to_string() })?;
        }
        self.upload(item_type, batch, confirm).await
    }

    /// Uploads every partial batch. Called before answering.
    pub async fn flush(&self) -> Result<(), ArtifactError> {
        let pending: Vec<(String, Batch)> = {
            let mut buffers = self.buffers.lock().unwrap_or_else(|p| p.into_inner());
            let mut all: Vec<_> = buffers.drain().filter(|(_, b)| b.count > 0).collect();
            all.sort_by(|a, b| a.0.cmp(&b.0));
            all
        };
        for (item_type, batch) in pending {
            self.upload(&item_type, batch, true).await?;
        }
        Ok(())
    }

    async fn upload(&self, item_type: &str, batch: Batch, confirm: bool) -> Result<(), ArtifactError> {
        if batch.count == 0 {
            return Ok(());
        }
        let (count, created, modified) =
            (batch.count, (batch.created.min, batch.created.max), (batch.modified.min, batch.modified.max));
        let encoded = batch
            .finish()
            .map_err(|e| ArtifactError::Encode { item_type: item_type.into(), message: e.to_string() })?;
        let id = match self.store.put(item_type, bytes::Bytes::from(encoded), confirm).await {
            Ok(id) => id,
            Err(message) => {
                self.failed.store(true, Ordering::SeqCst);
                return Err(ArtifactError::Upload { item_type: item_type.into(), message });
            }
        };
        let descriptor = Descriptor {
            id,
            item_type: item_type.to_string(),
            item_count: count,
            oldest_created_date: iso(created.0),
            newest_created_date: iso(created.1),
            oldest_modified_date: iso(modified.0),
            newest_modified_date: iso(modified.1),
        };
        let size = serde_json::to_string(&descriptor).map(|s| s.len()).unwrap_or(0);
        self.listed_bytes.fetch_add(size, Ordering::Relaxed);
        tracing::debug!(item_type, items = count, artifact = %descriptor.id, "artifact uploaded");
        self.uploaded.lock().unwrap_or_else(|p| p.into_inner()).push(descriptor);
        Ok(())
    }

    /// The artifacts uploaded so far, in upload order.
    pub fn descriptors(&self) -> Vec<Descriptor> {
        self.uploaded.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// True when an upload failed in this invocation (its records are lost unless the cursors stay put).
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// True once the artifact list is too big for one answer: stop and answer PROGRESS (§4.6).
    pub fn over_event_budget(&self) -> bool {
        self.listed_bytes.load(Ordering::Relaxed) > EVENT_ARTIFACT_BUDGET_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use serde_json::json;
    use std::io::Read;

    #[derive(Default)]
    struct Memory(Mutex<Vec<(String, Vec<u8>, bool)>>);

    #[async_trait::async_trait]
    impl ArtifactStore for Memory {
        async fn put(&self, item_type: &str, bytes: bytes::Bytes, confirm: bool) -> Result<String, String> {
            let mut all = self.0.lock().unwrap();
            all.push((item_type.to_string(), bytes.to_vec(), confirm));
            Ok(format!("artifact/{}", all.len()))
        }
    }

    fn lines(gz: &[u8]) -> Vec<Value> {
        let mut text = String::new();
        GzDecoder::new(gz).read_to_string(&mut text).unwrap();
        assert!(!text.ends_with('\n'));
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    #[tokio::test]
    async fn batches_split_at_batch_size_and_flush_the_rest() {
        let store = Arc::new(Memory::default());
        let sink = ArtifactSink::new(store.clone(), 3);
        for i in 0..7 {
            let rec = json!({"id": i.to_string(), "created_date": format!("2024-01-0{}T00:00:00Z", i + 1),
                             "modified_date": "2025-01-01T00:00:00Z", "data": {}});
            sink.push("users", rec).await.unwrap();
        }
        assert_eq!(sink.descriptors().len(), 2);
        sink.flush().await.unwrap();
        let d = sink.descriptors();
        assert_eq!(d.iter().map(|d| d.item_count).collect::<Vec<_>>(), vec![3, 3, 1]);
        assert_eq!(d[0].oldest_created_date.as_deref(), Some("2024-01-01T00:00:00.000Z"));
        assert_eq!(d[0].newest_created_date.as_deref(), Some("2024-01-03T00:00:00.000Z"));
        let stored = store.0.lock().unwrap();
        let ids: Vec<Value> = stored.iter().flat_map(|(_, b, _)| lines(b)).map(|v| v["id"].clone()).collect();
        assert_eq!(ids.len(), 7);
        assert!(stored.iter().all(|(t, _, c)| t == "users" && *c));
    }

    #[tokio::test]
    async fn date_ranges_hold_when_records_repeat_a_date() {
        let store = Arc::new(Memory::default());
        let sink = ArtifactSink::new(store, 2000);
        for created in ["2024-05-01T00:00:00Z", "2024-05-01T00:00:00Z", "2023-01-01T00:00:00Z", "2024-05-01T00:00:00Z"]
        {
            let rec = json!({"id": "x", "created_date": created, "modified_date": created, "data": {}});
            sink.push("users", rec).await.unwrap();
        }
        sink.flush().await.unwrap();
        let d = &sink.descriptors()[0];
        assert_eq!(d.oldest_created_date.as_deref(), Some("2023-01-01T00:00:00.000Z"));
        assert_eq!(d.newest_modified_date.as_deref(), Some("2024-05-01T00:00:00.000Z"));
    }

    #[tokio::test]
    async fn descriptors_of_dateless_items_have_no_ranges() {
        let store = Arc::new(Memory::default());
        let sink = ArtifactSink::new(store, 2000);
        sink.put_single("external_domain_metadata", vec![json!({"schema_version": "v0.2.0"})], true).await.unwrap();
        let text = serde_json::to_string(&sink.descriptors()[0]).unwrap();
        assert!(!text.contains("date"));
    }
}
