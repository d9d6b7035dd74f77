//! Licence assignments from the users delta: one record per user and SKU (`<userId>_<skuId>`), named from
//! one `/subscribedSkus` read per invocation (kept in memory, never in state); removals are inferred.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use tokio::sync::OnceCell;

use super::delta::{Normalize, PageNormalizer, Records, Round};
use super::line::LineWriter;
use super::record::{deletion, str_prop};
use super::{ExtractCtx, ExtractError};
use crate::airsync::line::Line;
use crate::graph::json::{Field, Json};
use crate::graph::GraphError;

pub const ITEM_TYPE: &str = "license_assignments";

/// The tenant's SKUs: id → part number (e.g. `ENTERPRISEPREMIUM`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Skus {
    by_id: BTreeMap<String, Option<String>>,
}

impl Skus {
    pub fn from_items(items: &[Json<'_>]) -> Skus {
        let mut skus = Skus::default();
        skus.add(items);
        skus
    }

    /// Adds one page of `subscribedSkus`.
    fn add(&mut self, items: &[Json<'_>]) {
        for s in items {
            if let Some(id) = str_prop(s, "skuId") {
                self.by_id.insert(id.to_string(), str_prop(s, "skuPartNumber").map(str::to_string));
            }
        }
    }

    pub fn name(&self, sku_id: &str) -> Option<&str> {
        self.by_id.get(sku_id).and_then(|n| n.as_deref())
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.by_id.keys().map(String::as_str)
    }
}

/// Reads `/subscribedSkus` (all pages). A lasting refusal (permission, licence, not found, rejected) leaves
/// the names unknown with a warning instead of failing the users extraction; throttling and outages fail.
pub async fn load(ctx: &ExtractCtx) -> Result<Option<Skus>, ExtractError> {
    let mut skus = Skus::default();
    let mut url = "/v1.0/subscribedSkus".to_string();
    let mut is_link = false;
    loop {
        match ctx.graph.get_page(&url, is_link).await {
            Ok(page) => {
                skus.add(page.items());
                match page.next_link {
                    Some(next) => {
                        url = next;
                        is_link = true;
                    }
                    None => break,
                }
            }
            Err(
                e @ (GraphError::Permission { .. }
                | GraphError::Licence { .. }
                | GraphError::NotFound(_)
                | GraphError::Rejected { .. }),
            ) => {
                tracing::warn!(error = %e, "subscribedSkus cannot be read: licence names stay empty and removed licences are not detected");
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Some(skus))
}

fn record_id(user_id: &str, sku_id: &str) -> String {
    format!("{user_id}_{sku_id}")
}

fn live(user_id: &str, licence: &Json, skus: Option<&Skus>, sync_time: DateTime<Utc>) -> Option<Line> {
    let sku_id = str_prop(licence, "skuId")?;
    let mut w = LineWriter::new(&record_id(user_id, sku_id), None, sync_time);
    w.str("user_id", Some(user_id));
    w.str("sku_id", Some(sku_id));
    w.str("sku_part_number", skus.and_then(|s| s.name(sku_id)));
    match licence.field("disabledPlans").and_then(Json::as_array) {
        Some(plans) => w.strs("disabled_plan_ids", plans.iter().filter_map(Json::as_str)),
        None => w.null("disabled_plan_ids"),
    }
    Some(w.live())
}

/// The licence records one users-delta entry carries.
///
/// Removals without state: Graph returns a changed user with its *full* `assignedLicenses`, and a tenant has
/// few SKUs, so in a round that continues an earlier sync every tenant SKU a changed user does not hold is
/// sent as a deletion of `<userId>_<skuId>` (harmless where it never existed), and a removed user's SKUs
/// likewise. A first round (initial import) sends only what users hold. No list of old licences is kept.
pub fn records(user: &Json, skus: Option<&Skus>, round: Round, sync_time: DateTime<Utc>) -> Records {
    let Some(user_id) = str_prop(user, "id") else { return Vec::new() };
    let mut out = Records::new();
    if let Some(removed) = user.field("@removed") {
        if let (true, Some(skus)) = (round.incremental, skus) {
            out.extend(
                skus.ids().map(|sku| (ITEM_TYPE, deletion(&record_id(user_id, sku), removed, sync_time).into())),
            );
        }
        return out;
    }
    // Without the property the entry says nothing about licences.
    let Some(assigned) = user.field("assignedLicenses").and_then(Json::as_array) else { return out };
    out.extend(assigned.iter().filter_map(|l| live(user_id, l, skus, sync_time)).map(|r| (ITEM_TYPE, r.into())));
    if let (true, Some(skus)) = (round.incremental, skus) {
        let held: Vec<&str> = assigned.iter().filter_map(|l| str_prop(l, "skuId")).collect();
        out.extend(skus.ids().filter(|sku| !held.contains(sku)).map(|sku| {
            (ITEM_TYPE, LineWriter::new(&record_id(user_id, sku), None, sync_time).deleted("deleted").into())
        }));
    }
    out
}

/// The users delta's page normalizer: each user's own records (`per_user`) plus its licence records. The
/// tenant's SKUs are read once per invocation, when a page first needs them.
pub struct WithLicences {
    per_user: Normalize,
    skus: OnceCell<Option<Skus>>,
}

impl WithLicences {
    pub fn new(per_user: Normalize) -> WithLicences {
        WithLicences { per_user, skus: OnceCell::new() }
    }
}

#[async_trait::async_trait]
impl PageNormalizer for WithLicences {
    async fn page(&self, ctx: &ExtractCtx, round: Round, items: &[Json<'_>]) -> Result<Records, ExtractError> {
        let needs_skus = items.iter().any(|u| u.field("assignedLicenses").is_some() || u.field("@removed").is_some());
        let skus = match needs_skus {
            true => self.skus.get_or_try_init(|| load(ctx)).await?.as_ref(),
            false => None,
        };
        let mut out = Vec::with_capacity(items.len() * 2);
        for user in items {
            out.extend((self.per_user)(user, ctx));
            out.extend(records(user, skus, round, ctx.sync_time));
        }
        Ok(out)
    }
}
