//! The directory part of the recycle bin: soft-deleted groups (Microsoft 365 groups only; security groups
//! are hard-deleted at once), applications and service principals, rendered as the list endpoints would.

use super::dir::Directory;
use super::model::Store;
use super::render::Obj;
use serde_json::{Map, Value};

/// Every soft-deleted directory object the recycle bin keeps, by id.
pub fn soft_ids(d: &Directory) -> Vec<u128> {
    let mut ids: Vec<u128> = d.groups.soft.values().map(Obj::id).collect();
    ids.extend(d.apps.soft.values().map(Obj::id));
    ids.extend(d.sps.soft.values().map(Obj::id));
    ids
}

fn rendered<T: Obj>(d: &Directory, s: &Store<T>) -> Vec<(u128, Map<String, Value>)> {
    s.soft.values().map(|o| (o.id(), o.render(&d.meta, None))).collect()
}

/// The soft-deleted objects of one recycle-bin type (`group`, `application`, `servicePrincipal`) with every
/// property; `None` for a type the directory part does not keep in a recycle bin.
pub fn bin_objects(d: &Directory, cast: &str) -> Option<Vec<(u128, Map<String, Value>)>> {
    match cast {
        "group" => Some(rendered(d, &d.groups)),
        "application" => Some(rendered(d, &d.apps)),
        "servicePrincipal" => Some(rendered(d, &d.sps)),
        _ => None,
    }
}
