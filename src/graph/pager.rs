//! One page of a Graph collection: its objects and exactly one of `@odata.nextLink` (more pages in this
//! round) or `@odata.deltaLink` (round finished). A page with neither ends a plain list.

use serde_json::Value;
use serde_json_borrow::OwnedValue;

use super::error::GraphError;
use super::json::{to_owned, Field, Json};

/// A parsed page. Its objects borrow their texts from the body it keeps, so a page costs one parse and
/// one `Vec` per object, not a map and a `String` per property.
#[derive(Debug)]
pub struct Page {
    body: OwnedValue,
    pub next_link: Option<String>,
    pub delta_link: Option<String>,
}

impl Page {
    /// Parses a 2xx body: a JSON object whose `value`, if any, is an array.
    pub fn from_body(body: String) -> Result<Page, GraphError> {
        let body = OwnedValue::from_string(body).map_err(|e| GraphError::Malformed(e.to_string()))?;
        if !body.is_object() {
            return Err(GraphError::Malformed("a collection page is not a JSON object".into()));
        }
        let link = |key: &str| -> Result<Option<String>, GraphError> {
            match body.field(key) {
                None | Some(Json::Null) => Ok(None),
                Some(Json::Str(s)) if !s.is_empty() => Ok(Some(s.to_string())),
                Some(_) => Err(GraphError::Malformed(format!("{key} is not a URL string"))),
            }
        };
        let next_link = link("@odata.nextLink")?;
        let delta_link = link("@odata.deltaLink")?;
        match body.field("value") {
            None | Some(Json::Null) | Some(Json::Array(_)) => Ok(Page { body, next_link, delta_link }),
            Some(_) => Err(GraphError::Malformed("`value` is not an array".into())),
        }
    }

    /// A page from an answer already read as a `serde_json::Value` (a POSTed action's first page).
    pub fn from_value(body: &Value) -> Result<Page, GraphError> {
        Page::from_body(body.to_string())
    }

    /// The page's objects.
    pub fn items(&self) -> &[Json<'_>] {
        self.body.get_value().field("value").and_then(Json::as_array).unwrap_or_default()
    }

    /// Owned copies of the objects, for callers that keep them beyond the page.
    pub fn owned_items(&self) -> Vec<Value> {
        self.items().iter().map(to_owned).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Page, GraphError> {
        Page::from_body(body.to_string())
    }

    #[test]
    fn pages_parse_and_reject_nonsense() {
        let p = parse(r#"{"value": [{"id": "1"}], "@odata.nextLink": "https://g/x"}"#).unwrap();
        assert_eq!((p.items().len(), p.next_link.as_deref(), p.delta_link.as_deref()), (1, Some("https://g/x"), None));
        assert_eq!(p.owned_items(), vec![serde_json::json!({"id": "1"})]);
        assert!(parse(r#"{"@odata.deltaLink": "https://g/d"}"#).is_ok_and(|p| p.items().is_empty()));
        assert!(parse("[]").is_err());
        assert!(parse(r#"{"value": 5}"#).is_err());
        assert!(parse(r#"{"value": [], "@odata.deltaLink": 7}"#).is_err());
        assert!(parse(r#"{"value": [{"id": "1"}"#).is_err(), "a body cut short");
    }
}
