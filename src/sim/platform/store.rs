//! The emulated DevRev view: a record store keyed by (item_type, id), records kept compact, and the loader
//! that applies digested artifact lines to it (upsert-replace, soft delete via `deleted_in_source`, removals).

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::line::{digest, Line};
use super::record::{Compact, Shapes, StoredRecord};

/// What the loader did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoadCounters {
    /// Records created or replaced.
    pub upserts: u64,
    /// Soft deletions (`deleted_in_source`) plus relation removals.
    pub deletions: u64,
    /// Relation records removed through `remove_member_ids`.
    pub removals: u64,
    /// Lines identical to what the store already held (same id, same content).
    pub duplicates: u64,
    /// Lines the loader could not apply (no string id, not an object, ...).
    pub rejected: u64,
}

/// id → record, of one item type.
type Table = BTreeMap<Box<str>, Compact>;

/// Snapshot-able store of everything the worker delivered.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecordStore {
    /// item_type → id → record (serialized decoded, as [`StoredRecord`]s).
    #[serde(serialize_with = "decoded")]
    records: BTreeMap<String, Table>,
    /// The latest `external_domain_metadata` object.
    pub metadata: Option<Value>,
    /// External sync units, in arrival order, de-duplicated by id.
    pub external_sync_units: Vec<Value>,
    /// Lines of other special item types (`attachments`, `ssor_attachment`), raw.
    pub others: BTreeMap<String, Vec<Value>>,
    /// Body of the last initial-domain-mapping install.
    pub idm: Option<Value>,
    pub counters: LoadCounters,
    #[serde(skip)]
    shapes: Shapes,
}

fn decoded<S: Serializer>(records: &BTreeMap<String, Table>, s: S) -> Result<S::Ok, S::Error> {
    struct Decoded<'a>(&'a Table);
    impl Serialize for Decoded<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|(id, r)| (id, r.decode(id))))
        }
    }
    s.collect_map(records.iter().map(|(t, table)| (t, Decoded(table))))
}

impl RecordStore {
    /// Records of one type, decoded (empty map when none).
    pub fn records_of(&self, item_type: &str) -> BTreeMap<String, StoredRecord> {
        self.iter(item_type).map(|(id, r)| (id.to_string(), r)).collect()
    }

    /// Every record of one type, decoded, in id order, with its id as the store holds it.
    pub fn iter<'a>(&'a self, item_type: &str) -> impl Iterator<Item = (&'a str, StoredRecord)> + 'a {
        self.records.get(item_type).into_iter().flatten().map(|(id, r)| (&**id, r.decode(id)))
    }

    /// The ids of one type, in order.
    pub fn ids<'a>(&'a self, item_type: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.records.get(item_type).into_iter().flatten().map(|(id, _)| &**id)
    }

    /// One record, decoded.
    pub fn get(&self, item_type: &str, id: &str) -> Option<StoredRecord> {
        self.records.get(item_type)?.get(id).map(|r| r.decode(id))
    }

    /// The id of a record as the store holds it (to keep in a set while verifying).
    pub fn key<'a>(&'a self, item_type: &str, id: &str) -> Option<&'a str> {
        self.records.get(item_type)?.get_key_value(id).map(|(held, _)| &**held)
    }

    /// Number of records of a type (deleted ones included).
    pub fn count(&self, item_type: &str) -> usize {
        self.records.get(item_type).map_or(0, BTreeMap::len)
    }

    /// Record count per item type that has received a record line.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.records.iter().map(|(t, table)| (t.clone(), table.len())).collect()
    }

    /// Store a record as given (replacing any), outside the loader: for tests that doctor the view.
    pub fn put(&mut self, item_type: &str, record: StoredRecord) {
        let compact = self.shapes.encode(&record.created_date, &record.modified_date, &record.data);
        self.records.entry(item_type.to_string()).or_default().insert(record.id.into(), compact);
    }

    /// Change one record in place (nothing when absent), outside the loader.
    pub fn patch(&mut self, item_type: &str, id: &str, f: impl FnOnce(&mut StoredRecord)) {
        if let Some(mut record) = self.get(item_type, id) {
            f(&mut record);
            self.put(item_type, record);
        }
    }

    /// Remove one record, outside the loader.
    pub fn remove(&mut self, item_type: &str, id: &str) -> Option<StoredRecord> {
        self.records.get_mut(item_type)?.remove(id).map(|r| r.decode(id))
    }

    /// Apply every line of one artifact. Returns the number of lines applied.
    pub fn apply_artifact(&mut self, item_type: &str, lines: Vec<Line>) -> usize {
        lines.into_iter().map(|l| self.apply(item_type, l)).filter(Result::is_ok).count()
    }

    /// Apply one artifact line.
    pub fn apply_line(&mut self, item_type: &str, line: &Value) -> Result<(), String> {
        let line = digest(item_type, line.clone(), &mut self.shapes);
        self.apply(item_type, line)
    }

    /// Apply one digested line (digested for `item_type`, or for a type as special as it).
    pub fn apply(&mut self, item_type: &str, line: Line) -> Result<(), String> {
        let (id, record) = match line {
            Line::Special(value) => {
                self.apply_special(item_type, value);
                return Ok(());
            }
            Line::NoId => {
                self.counters.rejected += 1;
                return Err(format!("{item_type}: line without a string id"));
            }
            Line::Remove { id } => {
                let table = self.records.entry(item_type.to_string()).or_default();
                if table.remove(&id).is_some() {
                    self.counters.removals += 1;
                    self.counters.deletions += 1;
                }
                return Ok(());
            }
            Line::Delete { id, record } => {
                self.soft_delete(item_type, id, record);
                return Ok(());
            }
            Line::Upsert { id, record } => (id, record),
        };
        let table = self.records.entry(item_type.to_string()).or_default();
        if table.get(&id).is_some_and(|held| held.same_as(&record)) {
            self.counters.duplicates += 1;
        } else {
            table.insert(id, record);
            self.counters.upserts += 1;
        }
        Ok(())
    }

    fn apply_special(&mut self, item_type: &str, line: Value) {
        match item_type {
            "external_domain_metadata" => self.metadata = Some(line),
            "external_sync_units" => {
                let id = line.get("id").cloned();
                match self.external_sync_units.iter().position(|u| id.is_some() && u.get("id") == id.as_ref()) {
                    Some(pos) => self.external_sync_units[pos] = line,
                    None => self.external_sync_units.push(line),
                }
            }
            t => self.others.entry(t.to_string()).or_default().push(line),
        }
    }

    /// A soft deletion: merged into the record held (its data kept, `deleted_in_source` and `deleted_reason`
    /// set, its modified date replaced), or stored as sent when the store has none.
    fn soft_delete(&mut self, item_type: &str, id: Box<str>, record: Compact) {
        let table = self.records.entry(item_type.to_string()).or_default();
        let Some(existing) = table.get_mut(&id) else {
            table.insert(id, record);
            self.counters.deletions += 1;
            return;
        };
        let (created, held_modified, mut data) = existing.parts();
        let (_, modified, sent) = record.parts();
        let already = data.get("deleted_in_source") == Some(&Value::Bool(true))
            && data.get("deleted_reason") == sent.get("deleted_reason");
        if !data.is_object() {
            data = Value::Object(Map::new());
        }
        if let Some(obj) = data.as_object_mut() {
            obj.insert("deleted_in_source".into(), Value::Bool(true));
            obj.insert("deleted_reason".into(), sent.get("deleted_reason").cloned().unwrap_or(Value::Null));
        }
        if already && held_modified == modified {
            self.counters.duplicates += 1;
        } else {
            self.counters.deletions += 1;
        }
        *existing = self.shapes.encode(&created, &modified, &data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(id: &str, data: Value) -> Value {
        json!({"id": id, "created_date": "2024-01-01T00:00:00Z", "modified_date": "2024-01-02T00:00:00Z", "data": data})
    }

    /// A deletion line with this reason, modified on 2024-02-01.
    fn deletion(id: &str, reason: &str) -> Value {
        json!({"id": id, "created_date": "2024-01-01T00:00:00Z", "modified_date": "2024-02-01T00:00:00Z",
            "data": {"deleted_in_source": true, "deleted_reason": reason}})
    }

    #[test]
    fn upsert_replaces_not_merges() {
        let mut s = RecordStore::default();
        s.apply_line("users", &line("u1", json!({"a": 1, "b": 2}))).unwrap();
        s.apply_line("users", &line("u1", json!({"a": 3}))).unwrap();
        let r = s.get("users", "u1").unwrap();
        assert_eq!(r.data, json!({"a": 3}));
        assert_eq!(s.counters.upserts, 2);
        s.apply_line("users", &line("u1", json!({"a": 3}))).unwrap();
        assert_eq!(s.counters.duplicates, 1);
    }

    #[test]
    fn soft_delete_merges_and_creates() {
        let mut s = RecordStore::default();
        s.apply_line("users", &line("u1", json!({"display_name": "A"}))).unwrap();
        let del = deletion("u1", "changed");
        s.apply_line("users", &del).unwrap();
        let r = s.get("users", "u1").unwrap();
        assert_eq!(r.data["display_name"], "A");
        assert_eq!(r.data["deleted_in_source"], true);
        assert_eq!(r.data["deleted_reason"], "changed");
        assert_eq!(r.modified_date, json!("2024-02-01T00:00:00Z"));
        let del2 = deletion("u9", "deleted");
        s.apply_line("users", &del2).unwrap();
        assert_eq!(s.get("users", "u9").unwrap().data["deleted_reason"], "deleted");
        assert_eq!(s.counters.deletions, 2);
    }

    #[test]
    fn a_repeated_soft_delete_is_a_duplicate() {
        let mut s = RecordStore::default();
        s.apply_line("users", &line("u1", json!({"display_name": "A"}))).unwrap();
        let del = deletion("u1", "changed");
        s.apply_line("users", &del).unwrap();
        s.apply_line("users", &del).unwrap();
        assert_eq!((s.counters.deletions, s.counters.duplicates), (1, 1));
        let mut later = del.clone();
        later["modified_date"] = json!("2024-03-01T00:00:00Z");
        s.apply_line("users", &later).unwrap();
        assert_eq!((s.counters.deletions, s.counters.duplicates), (2, 1));
        let r = s.get("users", "u1").unwrap();
        assert_eq!(r.created_date, json!("2024-01-01T00:00:00Z"));
        assert_eq!(r.modified_date, json!("2024-03-01T00:00:00Z"));
        assert_eq!(r.data, json!({"display_name": "A", "deleted_in_source": true, "deleted_reason": "changed"}));
    }

    #[test]
    fn serializes_decoded_records() {
        let mut s = RecordStore::default();
        s.apply_line("users", &line("u1", json!({"a": 1}))).unwrap();
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v["records"]["users"]["u1"],
            json!({"id": "u1", "created_date": "2024-01-01T00:00:00Z",
            "modified_date": "2024-01-02T00:00:00Z", "data": {"a": 1}})
        );
    }

    #[test]
    fn remove_member_ids_removes_relation() {
        let mut s = RecordStore::default();
        s.apply_line("group_members", &line("g_u", json!({"group_id": "g", "member_id": "u"}))).unwrap();
        let rm = json!({"id": "g_u", "created_date": "2024-01-01T00:00:00Z", "modified_date": "2024-02-01T00:00:00Z",
            "data": {"group_id": "g"}, "remove_member_ids": ["u"]});
        s.apply_line("group_members", &rm).unwrap();
        assert!(s.get("group_members", "g_u").is_none());
        s.apply_line("group_members", &line("g_v", json!({"group_id": "g"}))).unwrap();
        s.apply_line("group_members", &line("g_v", json!({"remove_member_ids": ["v"]}))).unwrap();
        assert!(s.get("group_members", "g_v").is_none());
        assert_eq!(s.counters.removals, 2);
    }

    #[test]
    fn special_types_kept_apart() {
        let mut s = RecordStore::default();
        s.apply_line("external_domain_metadata", &json!({"schema_version": "v0.2.0"})).unwrap();
        s.apply_line("external_sync_units", &json!({"id": "t", "name": "T"})).unwrap();
        s.apply_line("external_sync_units", &json!({"id": "t", "name": "T2"})).unwrap();
        assert_eq!(s.external_sync_units.len(), 1);
        assert!(s.metadata.is_some());
        assert!(s.counts().is_empty());
        assert!(s.apply_line("users", &json!({"x": 1})).is_err());
    }
}
