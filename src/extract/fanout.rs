//! Reading one sub-collection per parent (device owners, app role assignments) through `$batch`, 20 per
//! envelope, following any `@odata.nextLink` inside a sub-response with direct GETs.

use serde_json::Value;

use super::{ExtractCtx, ExtractError};
use crate::graph::GraphError;

/// Every item of each URL's collection, in the order of `urls`; `None` where the parent no longer exists
/// (404: deleted between the page and this read). Any other failure fails the whole read, never one item.
pub async fn collect_all(ctx: &ExtractCtx, urls: &[String]) -> Result<Vec<Option<Vec<Value>>>, ExtractError> {
    let mut out = Vec::with_capacity(urls.len());
    for result in ctx.graph.batch_get(urls).await {
        let body = match result {
            Ok(body) => body,
            Err(GraphError::NotFound(_)) => {
                out.push(None);
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let mut items = match body.get("value") {
            Some(Value::Array(items)) => items.clone(),
            _ => return Err(GraphError::Malformed("a batched collection has no `value` array".into()).into()),
        };
        let mut next = body.get("@odata.nextLink").and_then(Value::as_str).map(str::to_string);
        while let Some(link) = next {
            let page = ctx.graph.get_page(&link, false).await?;
            items.extend(page.owned_items());
            next = page.next_link;
        }
        out.push(Some(items));
    }
    Ok(out)
}
