//! Devices: a full read lists `/devices` with `$expand=registeredOwners` (owners in the page, no read per
//! device), then `/devices/delta` rounds whose changed devices get their owners' ids through `$batch`.

use chrono::{DateTime, Utc};

use super::delta::{PageNormalizer, Records, Round};
use super::fanout::collect_all;
use super::record::{deletion, live_writer, select_list, str_prop, time_of};
use super::{DeltaPages, ExtractCtx, ExtractError};
use crate::airsync::line::Line;
use crate::graph::json::{view, Field, Json};
use crate::schema::DEVICES;

pub const ITEM: &str = "devices";

pub fn extractor() -> DeltaPages {
    // `createdDateTime` dates the record; `device` is an open type, so selecting it is safe where absent.
    let select = select_list(&["id", "createdDateTime"], &DEVICES);
    DeltaPages {
        record_type: ITEM,
        initial_path: format!("/v1.0/devices/delta?$select={select}"),
        pages: Box::new(DevicePages),
        full_list: Some(format!("/v1.0/devices?$select={select}&$expand=registeredOwners($select=id)&$top=999")),
    }
}

/// The related objects one `$expand` returns at most (graph-api.md §2.3): a device listing this many owners
/// may have more, so its owners are read in full.
const EXPAND_CAP: usize = 100;

/// The owners' ids a listed device carries (`$expand`), unless the list may be cut short.
fn expanded_owners(device: &Json) -> Option<Vec<String>> {
    let owners = device.field("registeredOwners")?.as_array()?;
    (owners.len() < EXPAND_CAP).then(|| owners.iter().filter_map(|o| str_prop(o, "id")).map(str::to_string).collect())
}

struct DevicePages;

#[async_trait::async_trait]
impl PageNormalizer for DevicePages {
    async fn page(&self, ctx: &ExtractCtx, _: Round, items: &[Json<'_>]) -> Result<Records, ExtractError> {
        let live: Vec<&str> = items
            .iter()
            .filter(|d| d.field("@removed").is_none() && expanded_owners(d).is_none())
            .filter_map(|d| str_prop(d, "id"))
            .collect();
        let urls: Vec<String> = live.iter().map(|id| format!("/devices/{id}/registeredOwners?$select=id")).collect();
        let owners = collect_all(ctx, &urls).await?;
        let owners_of = |id: &str| -> Option<Vec<String>> {
            let i = live.iter().position(|l| *l == id)?;
            let list = owners.get(i)?.as_ref()?;
            Some(list.iter().filter_map(|o| str_prop(&view(o), "id").map(str::to_string)).collect())
        };
        Ok(items
            .iter()
            .filter_map(|d| {
                let owners = expanded_owners(d).or_else(|| str_prop(d, "id").and_then(owners_of));
                device_at(d, owners, ctx.sync_time)
            })
            .map(|r| (ITEM, r.into()))
            .collect())
    }
}

/// One devices-delta entry and its owners' ids (None when they could not be read: the device is gone).
pub fn device_at(obj: &Json, owners: Option<Vec<String>>, sync_time: DateTime<Utc>) -> Option<Line> {
    let id = str_prop(obj, "id")?;
    if let Some(removed) = obj.field("@removed") {
        return Some(deletion(id, removed, sync_time));
    }
    // Where a device has no `createdDateTime`, its registration is when it came into being.
    let created = time_of(obj, "createdDateTime").or_else(|| time_of(obj, "registrationDateTime"));
    let mut w = live_writer(&DEVICES, id, created, sync_time, obj);
    match owners {
        Some(owners) => w.strs("registered_owner_ids", owners.iter().map(String::as_str)),
        None => w.null("registered_owner_ids"),
    }
    Some(w.live())
}
