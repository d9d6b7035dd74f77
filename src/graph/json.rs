//! Graph's JSON as read: values that borrow their texts from the response body (one `Vec` per object,
//! no copied keys or strings), with `serde_json`'s lookup semantics (`field`) and JSON pointers.

use std::borrow::Cow;

/// A JSON value read from a Graph response; strings without escapes point into the body.
pub type Json<'a> = serde_json_borrow::Value<'a>;

/// An object's property as `serde_json::Value::get` gives it: `None` when absent (or not an object),
/// `Some(Null)` for an explicit null.
pub trait Field<'a> {
    fn field(&self, key: &str) -> Option<&Json<'a>>;
}

impl<'a> Field<'a> for Json<'a> {
    #[inline]
    fn field(&self, key: &str) -> Option<&Json<'a>> {
        self.as_object()?.get(key)
    }
}

/// The value at a JSON pointer (RFC 6901: `/conditions/users/includeUsers`, `~1` for `/`, `~0` for `~`,
/// array indices without sign or leading zero), as `serde_json::Value::pointer` reads it.
pub fn pointer<'v, 'a>(value: &'v Json<'a>, pointer: &str) -> Option<&'v Json<'a>> {
    if pointer.is_empty() {
        return Some(value);
    }
    let path = pointer.strip_prefix('/')?;
    let mut current = value;
    for token in path.split('/') {
        let token: Cow<str> =
            if token.contains('~') { token.replace("~1", "/").replace("~0", "~").into() } else { token.into() };
        current = match current {
            Json::Object(map) => map.get(&token)?,
            Json::Array(items) => items.get(array_index(&token)?)?,
            _ => return None,
        };
    }
    Some(current)
}

fn array_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// A borrowed view of an owned `serde_json::Value` (tests, `$batch` bodies, built entries).
pub fn view(value: &serde_json::Value) -> Json<'_> {
    Json::from(value)
}

/// Borrowed views of owned values.
pub fn views(values: &[serde_json::Value]) -> Vec<Json<'_>> {
    values.iter().map(Json::from).collect()
}

/// An owned copy, for what outlives the page it came from.
pub fn to_owned(value: &Json<'_>) -> serde_json::Value {
    serde_json::Value::from(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_and_pointers_read_as_serde_json_does() {
        let owned = json!({"a": {"b/c": [10, {"d~e": "x"}]}, "n": null, "s": "t"});
        let v = view(&owned);
        assert_eq!(v.field("s").and_then(Json::as_str), Some("t"));
        assert_eq!(v.field("n"), Some(&Json::Null), "an explicit null is present");
        assert_eq!(v.field("missing"), None);
        assert_eq!(Json::from("text").field("s"), None, "a non-object has no fields");
        for p in [
            "",
            "/a",
            "/a/b~1c",
            "/a/b~1c/0",
            "/a/b~1c/1/d~0e",
            "/a/b~1c/01",
            "/a/b~1c/+1",
            "/a/b~1c/9",
            "/n",
            "/x/y",
            "a",
        ] {
            assert_eq!(pointer(&v, p).map(to_owned).as_ref(), owned.pointer(p), "pointer {p:?}");
        }
    }

    #[test]
    fn texts_borrow_from_the_body_unless_escaped() {
        let body = r#"{"plain": "abc", "escaped": "a\"b"}"#;
        let v: Json = serde_json::from_str(body).unwrap_or_default();
        assert!(matches!(v.field("plain"), Some(Json::Str(Cow::Borrowed("abc")))));
        assert_eq!(v.field("escaped").and_then(Json::as_str), Some("a\"b"));
    }
}
