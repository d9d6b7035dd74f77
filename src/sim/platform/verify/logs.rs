//! Checks of the log types (directory audits, sign-ins): every event inside retention present, dated at its
//! event time, with its main field; nothing from the sign-in log of a Free tenant.

use serde_json::Value;

use super::common::{counts_for, field_eq};
use super::policies::{pol_at, pol_second};
use super::{Mismatches, TypeCounts};
use crate::sim::platform::store::RecordStore;
use crate::sim::truth::Truth;

/// A log type: every event in the truth (inside retention) present, dated at its event time (to the
/// second), with its main field; older events may stay (they fell out of retention).
fn pol_log(
    store: &RecordStore,
    truth: &dyn Truth,
    (key, item_type): (&str, &str),
    time: &str,
    field: (&'static str, &str),
    mm: &mut Mismatches,
) -> TypeCounts {
    let mut events = 0;
    truth.each(key, &mut |e| {
        events += 1;
        let Some(id) = e.get("id").and_then(Value::as_str) else { return };
        let tag = format!("{item_type}/{id}");
        let Some(rec) = store.get(item_type, id) else {
            mm.push(format!("{tag}: missing from the store"));
            return;
        };
        field_eq(&tag, &rec, field.0, &pol_at(e, field.1), mm);
        let want = e.get(time).and_then(pol_second);
        if pol_second(&rec.created_date) != want || pol_second(&rec.modified_date) != want {
            mm.push(format!(
                "{tag}: dated {} / {}, expected the event time {}",
                rec.created_date, rec.modified_date, e[time]
            ));
        }
    });
    counts_for(store, item_type, events)
}

/// directory_audit_logs: every audit event inside retention (7 days Free, 30 days P1/P2).
pub fn check_directory_audit_logs(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let field = ("activity_display_name", "/activityDisplayName");
    pol_log(store, truth, ("directoryAudits", "directory_audit_logs"), "activityDateTime", field, mm)
}

/// sign_in_logs: every sign-in inside retention (P1/P2); none at all on a Free tenant.
pub fn check_sign_in_logs(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let field = ("user_principal_name", "/userPrincipalName");
    let counts = pol_log(store, truth, ("signIns", "sign_in_logs"), "createdDateTime", field, mm);
    if truth.value("licence") == "Free" && store.count("sign_in_logs") > 0 {
        mm.push(format!("sign_in_logs: {} records on a Free tenant", store.count("sign_in_logs")));
    }
    counts
}
