//! `subscribedSkus`: one SKU per skuId that the user generator assigns (`TenantMeta::skus`), the last
//! one carrying the tenant's Entra licence; consumed units are counted from live users.

use super::super::gen::{fmt_guid, Mix};
use super::super::model::TenantMeta;
use super::licence::Licence;
use serde_json::{json, Value};

/// (skuPartNumber, service plans) of SKU slot `i`.
fn sku_shape(i: usize, licence: Licence) -> (&'static str, &'static [&'static str]) {
    match i {
        0 => ("ENTERPRISEPACK", &["EXCHANGE_S_ENTERPRISE", "SHAREPOINTENTERPRISE", "MCOSTANDARD", "TEAMS1"]),
        1 => ("POWER_BI_STANDARD", &["BI_AZURE_P0"]),
        2 => ("FLOW_FREE", &["FLOW_P2_VIRAL"]),
        _ => match licence {
            Licence::Free => ("VISIOCLIENT", &["VISIO_CLIENT_SUBSCRIPTION"]),
            Licence::P1 => ("AAD_PREMIUM", &["AAD_PREMIUM", "MFA_PREMIUM"]),
            Licence::P2 => ("AAD_PREMIUM_P2", &["AAD_PREMIUM", "AAD_PREMIUM_P2", "MFA_PREMIUM"]),
            Licence::Governance => (
                "Microsoft_Entra_ID_Governance",
                &["AAD_PREMIUM", "AAD_PREMIUM_P2", "MFA_PREMIUM", "Entra_Identity_Governance"],
            ),
        },
    }
}

/// Prepaid seats per SKU, fixed when the tenant is generated (consumed + 10 % + 5).
pub fn prepaid_for(consumed: &[usize]) -> Vec<usize> {
    consumed.iter().map(|c| c + c / 10 + 5).collect()
}

/// The `subscribedSkus` objects.
pub fn render(seed: u64, meta: &TenantMeta, licence: Licence, consumed: &[usize], prepaid: &[usize]) -> Vec<Value> {
    meta.skus
        .iter()
        .enumerate()
        .map(|(i, sku)| {
            let (part, plans) = sku_shape(i, licence);
            let mut r = Mix::new(seed, 0x534B_5500 + i as u64);
            let subscription = fmt_guid(r.guid());
            let plans: Vec<Value> = plans
                .iter()
                .map(|p| {
                    let mut pr = Mix::new(seed ^ 0x504C_414E, p.bytes().fold(0u64, |h, b| h.wrapping_mul(31) + b as u64));
                    json!({"servicePlanId": fmt_guid(pr.guid()), "servicePlanName": p, "provisioningStatus": "Success", "appliesTo": "User"})
                })
                .collect();
            let used = consumed.get(i).copied().unwrap_or(0);
            json!({
                "accountName": meta.display_name,
                "accountId": meta.tenant_id,
                "appliesTo": "User",
                "capabilityStatus": "Enabled",
                "consumedUnits": used,
                "id": format!("{}_{}", meta.tenant_id, sku),
                "prepaidUnits": {"enabled": prepaid.get(i).copied().unwrap_or(0).max(used), "lockedOut": 0, "suspended": 0, "warning": 0},
                "servicePlans": plans,
                "skuId": sku,
                "skuPartNumber": part,
                "subscriptionIds": [subscription],
            })
        })
        .collect()
}
