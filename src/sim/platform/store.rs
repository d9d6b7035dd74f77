//! The emulated DevRev view: a record store keyed by (item_type, id) and the loader that applies uploaded
//! artifact lines to it (upsert-replace, soft delete via `deleted_in_source`, `remove_member_ids` removal).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

/// One record as DevRev would hold it after import.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRecord {
    pub id: String,
    pub created_date: Value,
    pub modified_date: Value,
    pub data: Value,
}

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

/// Snapshot-able store of everything the worker delivered.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecordStore {
    /// item_type → id → record.
    pub records: BTreeMap<String, BTreeMap<String, StoredRecord>>,
    /// The latest `external_domain_metadata` object.
    pub metadata: Option<Value>,
    /// External sync units, in arrival order, de-duplicated by id.
    pub external_sync_units: Vec<Value>,
    /// Lines of other special item types (`attachments`, `ssor_attachment`), raw.
    pub others: BTreeMap<String, Vec<Value>>,
    /// Body of the last initial-domain-mapping install.
    pub idm: Option<Value>,
    pub counters: LoadCounters,
}

/// Item types whose lines are not normalized records.
pub fn is_special_item_type(item_type: &str) -> bool {
    matches!(item_type, "external_domain_metadata" | "external_sync_units" | "attachments" | "ssor_attachment")
}

fn remove_member_ids(line: &Value) -> Option<&Vec<Value>> {
    line.get("remove_member_ids")
        .and_then(Value::as_array)
        .or_else(|| line.get("data").and_then(|d| d.get("remove_member_ids")).and_then(Value::as_array))
}

impl RecordStore {
    /// Records of one type (empty map when none).
    pub fn records_of(&self, item_type: &str) -> BTreeMap<String, StoredRecord> {
        self.records.get(item_type).cloned().unwrap_or_default()
    }

    /// One record.
    pub fn get(&self, item_type: &str, id: &str) -> Option<&StoredRecord> {
        self.records.get(item_type).and_then(|m| m.get(id))
    }

    /// Number of records of a type (deleted ones included).
    pub fn count(&self, item_type: &str) -> usize {
        self.records.get(item_type).map_or(0, BTreeMap::len)
    }

    /// Apply every line of one artifact. Returns the number of lines applied.
    pub fn apply_artifact(&mut self, item_type: &str, lines: &[Value]) -> usize {
        lines.iter().filter(|l| self.apply_line(item_type, l).is_ok()).count()
    }

    /// Apply one artifact line.
    pub fn apply_line(&mut self, item_type: &str, line: &Value) -> Result<(), String> {
        match item_type {
            "external_domain_metadata" => {
                self.metadata = Some(line.clone());
                return Ok(());
            }
            "external_sync_units" => {
                let id = line.get("id").cloned();
                if let Some(pos) =
                    self.external_sync_units.iter().position(|u| id.is_some() && u.get("id") == id.as_ref())
                {
                    self.external_sync_units[pos] = line.clone();
                } else {
                    self.external_sync_units.push(line.clone());
                }
                return Ok(());
            }
            t if is_special_item_type(t) => {
                self.others.entry(t.to_string()).or_default().push(line.clone());
                return Ok(());
            }
            _ => {}
        }
        let Some(id) = line.get("id").and_then(Value::as_str).map(str::to_string) else {
            self.counters.rejected += 1;
            return Err(format!("{item_type}: line without a string id"));
        };
        let table = self.records.entry(item_type.to_string()).or_default();
        let created = line.get("created_date").cloned().unwrap_or(Value::Null);
        let modified = line.get("modified_date").cloned().unwrap_or(Value::Null);
        let data = line.get("data").cloned().unwrap_or_else(|| Value::Object(Map::new()));

        if let Some(members) = remove_member_ids(line) {
            if !members.is_empty() {
                if table.remove(&id).is_some() {
                    self.counters.removals += 1;
                    self.counters.deletions += 1;
                }
                return Ok(());
            }
        }

        if data.get("deleted_in_source") == Some(&Value::Bool(true)) {
            match table.get_mut(&id) {
                Some(existing) => {
                    let already = existing.data.get("deleted_in_source") == Some(&Value::Bool(true))
                        && existing.data.get("deleted_reason") == data.get("deleted_reason");
                    if !existing.data.is_object() {
                        existing.data = Value::Object(Map::new());
                    }
                    if let Some(obj) = existing.data.as_object_mut() {
                        obj.insert("deleted_in_source".into(), Value::Bool(true));
                        obj.insert("deleted_reason".into(), data.get("deleted_reason").cloned().unwrap_or(Value::Null));
                    }
                    if already && existing.modified_date == modified {
                        self.counters.duplicates += 1;
                    } else {
                        self.counters.deletions += 1;
                    }
                    existing.modified_date = modified;
                }
                None => {
                    table.insert(id.clone(), StoredRecord { id, created_date: created, modified_date: modified, data });
                    self.counters.deletions += 1;
                }
            }
            return Ok(());
        }

        let record = StoredRecord { id: id.clone(), created_date: created, modified_date: modified, data };
        if table.get(&id) == Some(&record) {
            self.counters.duplicates += 1;
        } else {
            table.insert(id, record);
            self.counters.upserts += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(id: &str, data: Value) -> Value {
        json!({"id": id, "created_date": "2024-01-01T00:00:00Z", "modified_date": "2024-01-02T00:00:00Z", "data": data})
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
        let del = json!({"id": "u1", "created_date": "2024-01-01T00:00:00Z", "modified_date": "2024-02-01T00:00:00Z",
            "data": {"deleted_in_source": true, "deleted_reason": "changed"}});
        s.apply_line("users", &del).unwrap();
        let r = s.get("users", "u1").unwrap();
        assert_eq!(r.data["display_name"], "A");
        assert_eq!(r.data["deleted_in_source"], true);
        assert_eq!(r.data["deleted_reason"], "changed");
        assert_eq!(r.modified_date, json!("2024-02-01T00:00:00Z"));
        let del2 = json!({"id": "u9", "created_date": "2024-01-01T00:00:00Z", "modified_date": "2024-02-01T00:00:00Z",
            "data": {"deleted_in_source": true, "deleted_reason": "deleted"}});
        s.apply_line("users", &del2).unwrap();
        assert_eq!(s.get("users", "u9").unwrap().data["deleted_reason"], "deleted");
        assert_eq!(s.counters.deletions, 2);
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
        assert!(s.records.is_empty());
        assert!(s.apply_line("users", &json!({"x": 1})).is_err());
    }
}
