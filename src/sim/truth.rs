//! The tenant's ground truth (docs/contracts.md §1) as its readers take it — the verifier, the bench's
//! bound: small values whole, lists one object at a time, so no reader needs all of it in memory at once.

use serde_json::Value;

/// A source of the ground truth: the whole JSON object, or the Graph simulator rendering it key by key.
pub trait Truth {
    /// Whether the truth has `key` at all.
    fn has(&self, key: &str) -> bool;

    /// The value at `key`, whole (`Null` when absent). For the small keys.
    fn value(&self, key: &str) -> Value;

    /// Every item of the list at `key`, in order (none when absent or not a list).
    fn each(&self, key: &str, f: &mut dyn FnMut(&Value));

    /// Number of items of the list at `key`.
    fn count(&self, key: &str) -> usize {
        let mut n = 0;
        self.each(key, &mut |_| n += 1);
        n
    }

    /// The items of the list at `key`, copied (for the small lists).
    fn list(&self, key: &str) -> Vec<Value> {
        let mut items = Vec::new();
        self.each(key, &mut |v| items.push(v.clone()));
        items
    }
}

impl Truth for Value {
    fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn value(&self, key: &str) -> Value {
        self.get(key).cloned().unwrap_or(Value::Null)
    }

    fn each(&self, key: &str, f: &mut dyn FnMut(&Value)) {
        for item in self.get(key).and_then(Value::as_array).into_iter().flatten() {
            f(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_json_object_is_a_truth() {
        let t = json!({"users": [{"id": "u1"}, {"id": "u2"}], "licence": "P1"});
        assert!(t.has("users") && !t.has("groups"));
        assert_eq!(t.count("users"), 2);
        assert_eq!(t.count("licence"), 0, "not a list");
        assert_eq!(t.value("licence"), "P1");
        assert_eq!(t.value("groups"), Value::Null);
        assert_eq!(t.list("users")[1]["id"], "u2");
    }
}
