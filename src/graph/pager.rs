//! One page of a Graph collection: its objects and exactly one of `@odata.nextLink` (more pages in this
//! round) or `@odata.deltaLink` (round finished). A page with neither ends a plain list.

use serde_json::Value;

use super::error::GraphError;

#[derive(Debug, Default)]
pub struct Page {
    pub items: Vec<Value>,
    pub next_link: Option<String>,
    pub delta_link: Option<String>,
}

impl Page {
    pub fn parse(mut body: Value) -> Result<Page, GraphError> {
        let Some(obj) = body.as_object_mut() else {
            return Err(GraphError::Malformed("a collection page is not a JSON object".into()));
        };
        let link = |obj: &mut serde_json::Map<String, Value>, key: &str| -> Result<Option<String>, GraphError> {
            match obj.remove(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
                Some(_) => Err(GraphError::Malformed(format!("{key} is not a URL string"))),
            }
        };
        let next_link = link(obj, "@odata.nextLink")?;
        let delta_link = link(obj, "@odata.deltaLink")?;
        let items = match obj.remove("value") {
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => Vec::new(),
            Some(_) => return Err(GraphError::Malformed("`value` is not an array".into())),
        };
        Ok(Page { items, next_link, delta_link })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_parse_and_reject_nonsense() {
        let p = Page::parse(json!({"value": [{"id": "1"}], "@odata.nextLink": "https://g/x"})).unwrap();
        assert_eq!((p.items.len(), p.next_link.as_deref(), p.delta_link), (1, Some("https://g/x"), None));
        assert!(Page::parse(json!([])).is_err());
        assert!(Page::parse(json!({"value": 5})).is_err());
        assert!(Page::parse(json!({"value": [], "@odata.deltaLink": 7})).is_err());
    }
}
