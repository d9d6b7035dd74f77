//! The tenant's ground truth key by key (docs/contracts.md §1): each list rendered one object at a time for
//! the readers that stream it ([`Truth`]), and the whole truth object (`/_sim/truth`) assembled from the same.

use serde_json::{Map, Value};

use super::state::Shared;
use super::{directory, policies, GraphSim};
use crate::sim::truth::Truth;

fn is_list(key: &str) -> bool {
    key == "users" || directory::TRUTH_LISTS.contains(&key) || policies::TRUTH_LISTS.contains(&key)
}

fn each(sh: &Shared, key: &str, f: &mut dyn FnMut(&Value)) {
    if key == "users" {
        if let Ok(t) = sh.tenant.read() {
            t.each_live_json(f);
        }
    } else if !directory::truth_each(sh, key, f) {
        policies::truth_each(sh, key, f);
    }
}

/// `deleted.<key>`: the objects gone from the tenant, with the delta reason (`changed` or `deleted`).
fn deleted(sh: &Shared) -> Value {
    let mut del = Map::new();
    if let Ok(t) = sh.tenant.read() {
        del.insert("users".into(), Value::Array(t.deleted_json()));
    }
    directory::truth_deleted_into(sh, &mut del);
    Value::Object(del)
}

fn value(sh: &Shared, key: &str) -> Option<Value> {
    if key == "deleted" {
        return Some(deleted(sh));
    }
    if is_list(key) {
        let mut items = Vec::new();
        each(sh, key, &mut |v| items.push(v.clone()));
        return Some(Value::Array(items));
    }
    policies::truth_value(sh, key)
}

/// Every key of the truth.
fn keys() -> impl Iterator<Item = &'static str> {
    ["users", "deleted"]
        .into_iter()
        .chain(directory::TRUTH_LISTS.iter().copied())
        .chain(policies::TRUTH_LISTS.iter().copied())
        .chain(policies::TRUTH_VALUES.iter().copied())
}

/// The whole truth object.
pub fn whole(sh: &Shared) -> Value {
    Value::Object(keys().filter_map(|k| Some((k.to_string(), value(sh, k)?))).collect())
}

impl Truth for GraphSim {
    fn has(&self, key: &str) -> bool {
        keys().any(|k| k == key)
    }

    fn value(&self, key: &str) -> Value {
        value(&self.shared, key).unwrap_or(Value::Null)
    }

    fn each(&self, key: &str, f: &mut dyn FnMut(&Value)) {
        each(&self.shared, key, f)
    }
}
