//! Ground truth of this module (docs/contracts.md §1 keys, only what the licence allows) and the
//! SKU rendering shared with `/subscribedSkus`.

use super::super::state::Shared;
use super::{authmethods, extensions, logs, routes, workflows, Licence};
use serde_json::{json, Value};

/// The SKUs as `/subscribedSkus` shows them now.
pub(super) fn skus_now(sh: &Shared) -> Vec<Value> {
    let prepaid = sh.policies.data.read().map(|d| d.prepaid.clone()).unwrap_or_default();
    match sh.tenant.read() {
        Ok(t) => routes::skus_render(sh, &t, &prepaid),
        Err(_) => Vec::new(),
    }
}

/// Add this module's keys of `docs/contracts.md` §1 to the truth object (only what the licence allows).
pub fn truth_into(sh: &Shared, truth: &mut Value) {
    let Some(obj) = truth.as_object_mut() else { return };
    let lic = sh.opts.licence;
    let skus = skus_now(sh);
    let (Ok(t), Ok(d)) = (sh.tenant.read(), sh.policies.data.read()) else { return };
    let users = t.users_after(None, usize::MAX);
    let admins = d.admin_ids();
    let mut methods = Vec::new();
    let mut rows = Vec::new();
    for u in &users {
        let m = d.methods(u);
        if lic.allows(Licence::P1) {
            rows.push(authmethods::registration_row(
                &t.meta,
                u,
                &m,
                d.methods_updated(u),
                admins.contains(&u.id_str()),
            ));
        }
        let uid = u.id_str();
        methods.extend(m.into_iter().map(|method| json!({"userId": uid, "method": method})));
    }
    let cut = logs::cutoff(sh);
    let gated = |ok: bool, v: &[Value]| if ok { Value::Array(v.to_vec()) } else { json!([]) };
    let workflows: Vec<Value> = d.workflows.iter().map(|w| workflows::listed(w, true)).collect();
    let mut extensions = Vec::new();
    for e in d.ext_defs.iter().filter(|e| e.targets.contains(&"User")) {
        extensions.push(extensions::render(e, &d.ext_apps));
    }
    obj.insert("authenticationMethods".into(), Value::Array(methods));
    obj.insert("userRegistrationDetails".into(), Value::Array(rows));
    obj.insert("authenticationMethodsPolicy".into(), d.methods_policy.clone());
    obj.insert("conditionalAccessPolicies".into(), gated(lic.allows(Licence::P1), &d.ca));
    obj.insert("roleEligibilitySchedules".into(), gated(lic.allows(Licence::P2), &d.pim));
    obj.insert("workflows".into(), gated(lic.allows(Licence::Governance), &workflows));
    obj.insert("subscribedSkus".into(), Value::Array(skus));
    obj.insert("directoryAudits".into(), Value::Array(logs::all(&d.audits, cut)));
    let sign_ins = if lic.allows(Licence::P1) { logs::all(&d.signins, cut) } else { Vec::new() };
    obj.insert("signIns".into(), Value::Array(sign_ins));
    obj.insert("extensionProperties".into(), Value::Array(extensions));
    obj.insert("licence".into(), json!(lic.as_str()));
}
