//! Directory extension definitions (`extensionProperty`): the users' `extension_<hex>_costCenter`, a
//! synced `employeeNumber` and a group-only one, owned by two applications; and their JSON.

use super::super::gen::{fmt_guid, parse_guid, Mix};
use super::super::model::TenantMeta;
use serde_json::{json, Value};

/// An application that owns directory extensions (the directory generator may list it too).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtensionApp {
    /// Application object id (`/applications/{id}`).
    pub object_id: String,
    pub app_id: String,
    pub display_name: String,
}

#[derive(Clone, Debug)]
pub struct ExtensionDef {
    pub id: String,
    /// Index into [`extension_apps`].
    pub app: usize,
    pub name: String,
    pub data_type: &'static str,
    pub multi: bool,
    pub synced: bool,
    pub targets: &'static [&'static str],
}

fn hex_of_ext_name(meta: &TenantMeta) -> String {
    meta.ext_name.strip_prefix("extension_").and_then(|s| s.split('_').next()).unwrap_or("").to_string()
}

/// The two extension-owning apps: the HR connector (owner of `costCenter`) and the tenant schema
/// extension app of on-premises sync.
pub fn extension_apps(seed: u64, meta: &TenantMeta) -> Vec<ExtensionApp> {
    let mut r = Mix::new(seed, 0x4558_5441);
    let hex = hex_of_ext_name(meta);
    let hr_app_id = u128::from_str_radix(&hex, 16).map(fmt_guid).unwrap_or_else(|_| fmt_guid(r.guid()));
    vec![
        ExtensionApp {
            object_id: fmt_guid(r.guid()),
            app_id: hr_app_id,
            display_name: "Contoso Sim HR Connector".into(),
        },
        ExtensionApp {
            object_id: fmt_guid(r.guid()),
            app_id: fmt_guid(r.guid()),
            display_name: "Tenant Schema Extension App".into(),
        },
    ]
}

pub fn definitions(seed: u64, meta: &TenantMeta) -> Vec<ExtensionDef> {
    let apps = extension_apps(seed, meta);
    let mut r = Mix::new(seed, 0x4558_5444);
    let hex = |i: usize| apps[i].app_id.replace('-', "");
    vec![
        ExtensionDef {
            id: fmt_guid(r.guid()),
            app: 0,
            name: meta.ext_name.clone(),
            data_type: "String",
            multi: false,
            synced: false,
            targets: &["User"],
        },
        ExtensionDef {
            id: fmt_guid(r.guid()),
            app: 1,
            name: format!("extension_{}_employeeNumber", hex(1)),
            data_type: "String",
            multi: false,
            synced: true,
            targets: &["User"],
        },
        ExtensionDef {
            id: fmt_guid(r.guid()),
            app: 0,
            name: format!("extension_{}_groupTag", hex(0)),
            data_type: "String",
            multi: false,
            synced: false,
            targets: &["Group"],
        },
    ]
}

pub fn render(d: &ExtensionDef, apps: &[ExtensionApp]) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.extensionProperty",
        "id": d.id,
        "deletedDateTime": null,
        "appDisplayName": apps.get(d.app).map(|a| a.display_name.as_str()).unwrap_or(""),
        "name": d.name,
        "dataType": d.data_type,
        "isMultiValued": d.multi,
        "isSyncedFromOnPremises": d.synced,
        "targetObjects": d.targets,
    })
}

/// Find the app addressed by `/applications/{key}`: an object id, or `(appId='…')` / `appId=…`.
pub fn find_app<'a>(apps: &'a [ExtensionApp], key: &str) -> Option<(usize, &'a ExtensionApp)> {
    let by_app_id = key
        .strip_prefix("(appId=")
        .or_else(|| key.strip_prefix("appId="))
        .map(|s| s.trim_end_matches(')').trim_matches('\'').to_string());
    let wanted = by_app_id.as_deref().unwrap_or(key);
    parse_guid(wanted)?;
    apps.iter().enumerate().find(|(_, a)| {
        if by_app_id.is_some() {
            a.app_id.eq_ignore_ascii_case(wanted)
        } else {
            a.object_id.eq_ignore_ascii_case(wanted)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::graph::gen::gen_meta;

    #[test]
    fn cost_center_belongs_to_the_hr_app() {
        let meta = gen_meta(4);
        let apps = extension_apps(4, &meta);
        let defs = definitions(4, &meta);
        assert_eq!(defs[0].name, meta.ext_name);
        assert!(meta.ext_name.contains(&apps[0].app_id.replace('-', "")));
        assert!(find_app(&apps, &apps[1].object_id).is_some());
        assert_eq!(find_app(&apps, &format!("(appId='{}')", apps[0].app_id)).map(|x| x.0), Some(0));
        assert!(find_app(&apps, "nope").is_none());
    }
}
