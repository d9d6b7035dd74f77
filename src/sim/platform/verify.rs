//! The verifier: compares the emulated DevRev view (the record store) with the simulated tenant's ground truth,
//! through a table of per-record-type checks keyed by truth keys (one function per type).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use serde_json::Value;

use super::record::StoredRecord;
use super::store::RecordStore;

/// Mismatch messages kept (the count is always exact).
const MAX_MESSAGES: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TypeCounts {
    /// Live objects in the truth.
    pub expected: usize,
    /// Store records not marked `deleted_in_source`.
    pub present: usize,
    /// Store records marked `deleted_in_source`.
    pub deleted: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub per_type: BTreeMap<String, TypeCounts>,
    /// The first ~50 mismatch messages.
    pub mismatches: Vec<String>,
    /// Total number of mismatches found.
    pub mismatch_count: usize,
}

/// Collects mismatches (capped messages, exact count).
#[derive(Debug, Default)]
pub struct Mismatches {
    pub messages: Vec<String>,
    pub count: usize,
}

impl Mismatches {
    pub fn push(&mut self, msg: String) {
        self.count += 1;
        if self.messages.len() < MAX_MESSAGES {
            self.messages.push(msg);
        }
    }
}

/// A per-type check: (store, whole truth, mismatches) → counts.
pub type TypeCheck = fn(&RecordStore, &Value, &mut Mismatches) -> TypeCounts;

/// Truth key → (store item type, check). Add a row per record type.
pub const CHECKS: &[(&str, &str, TypeCheck)] = &[
    ("users", "users", check_users),
    // Directory record types (ex-directory).
    ("groups", "groups", check_groups),
    ("groupMembers", "group_members", check_group_members),
    ("directoryRoles", "directory_roles", check_directory_roles),
    ("directoryRoleMembers", "role_members", check_role_members),
    ("applications", "applications", check_applications),
    ("servicePrincipals", "service_principals", check_service_principals),
    ("servicePrincipals", "app_roles", check_app_roles),
    ("appRoleAssignments", "app_role_assignments", check_app_role_assignments),
    ("devices", "devices", check_devices),
    ("contacts", "org_contacts", check_org_contacts),
    ("users", "license_assignments", check_license_assignments),
    // Policies, reports, logs, custom fields (ex-policies).
    ("authenticationMethods", "authentication_methods", check_authentication_methods),
    ("userRegistrationDetails", "user_registration_details", check_user_registration_details),
    ("authenticationMethodsPolicy", "authentication_methods_policy", check_authentication_methods_policy),
    ("conditionalAccessPolicies", "conditional_access_policies", check_conditional_access_policies),
    ("roleEligibilitySchedules", "pim_eligible_roles", check_pim_eligible_roles),
    ("workflows", "lifecycle_workflows", check_lifecycle_workflows),
    ("directoryAudits", "directory_audit_logs", check_directory_audit_logs),
    ("signIns", "sign_in_logs", check_sign_in_logs),
    ("extensionProperties", "user_custom_fields", check_user_custom_fields),
];

/// Compare the store with the truth.
pub fn verify(store: &RecordStore, truth: &Value) -> VerifyReport {
    let mut mm = Mismatches::default();
    let mut per_type = BTreeMap::new();
    for (truth_key, item_type, check) in CHECKS {
        if truth.get(*truth_key).is_none() {
            continue;
        }
        let counts = check(store, truth, &mut mm);
        per_type.insert((*item_type).to_string(), counts);
    }
    VerifyReport { ok: mm.count == 0, per_type, mismatches: mm.messages, mismatch_count: mm.count }
}

fn parse_time(v: &Value) -> Option<DateTime<FixedOffset>> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok())
}

fn is_deleted(r: &StoredRecord) -> bool {
    r.data.get("deleted_in_source") == Some(&Value::Bool(true))
}

/// `deleted.<key>` of the truth: id → reason.
fn deleted_reasons(truth: &Value, key: &str) -> HashMap<String, String> {
    truth
        .pointer(&format!("/deleted/{key}"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|d| {
                    let id = d.get("id").and_then(Value::as_str)?;
                    let reason = d.get("reason").and_then(Value::as_str).unwrap_or("");
                    Some((id.to_string(), reason.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Dates every record must satisfy: parseable, created == truth created (when the truth has one),
/// modified >= created, modified not the epoch.
fn check_dates(tag: &str, rec: &StoredRecord, truth_created: Option<&Value>, mm: &mut Mismatches) {
    let created = parse_time(&rec.created_date);
    let modified = parse_time(&rec.modified_date);
    if created.is_none() {
        mm.push(format!("{tag}: created_date {} does not parse", rec.created_date));
    }
    match modified {
        None => mm.push(format!("{tag}: modified_date {} does not parse", rec.modified_date)),
        Some(m) => {
            if m.timestamp() == 0 {
                mm.push(format!("{tag}: modified_date is the Unix epoch"));
            }
            if let Some(c) = created {
                if m < c {
                    mm.push(format!("{tag}: modified_date {m} is earlier than created_date {c}"));
                }
            }
        }
    }
    if let (Some(tc), Some(c)) = (truth_created.and_then(parse_time), created) {
        if tc != c {
            mm.push(format!("{tag}: created_date {c} differs from the truth's {tc}"));
        }
    }
}

/// Records of `item_type` that are not live truth objects must be soft-deleted with the truth's reason.
fn check_gone(
    store: &RecordStore,
    truth: &Value,
    item_type: &str,
    truth_key: &str,
    live: &HashMap<&str, &Value>,
    mm: &mut Mismatches,
) {
    let reasons = deleted_reasons(truth, truth_key);
    for (id, rec) in store.iter(item_type) {
        if live.contains_key(id) {
            continue;
        }
        if !is_deleted(&rec) {
            mm.push(format!("{item_type}/{id}: not in the tenant but not marked deleted_in_source"));
            continue;
        }
        if let Some(reason) = reasons.get(id) {
            let got = rec.data.get("deleted_reason").and_then(Value::as_str);
            if got != Some(reason.as_str()) {
                mm.push(format!("{item_type}/{id}: deleted_reason {got:?}, expected {reason:?}"));
            }
        }
    }
}

fn counts_for(store: &RecordStore, item_type: &str, expected: usize) -> TypeCounts {
    let deleted = store.iter(item_type).filter(|(_, r)| is_deleted(r)).count();
    let total = store.count(item_type);
    TypeCounts { expected, present: total - deleted, deleted }
}

/// Compare one data field with a truth value (missing in data counts as null).
fn field_eq(tag: &str, rec: &StoredRecord, field: &str, want: &Value, mm: &mut Mismatches) {
    let got = rec.data.get(field).unwrap_or(&Value::Null);
    if got != want {
        mm.push(format!("{tag}: data.{field} is {got}, expected {want}"));
    }
}

/// users: every tenant user present and equal on the contract fields; the rest soft-deleted.
pub fn check_users(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let users: Vec<&Value> =
        truth.get("users").and_then(Value::as_array).map(|l| l.iter().collect()).unwrap_or_default();
    let live: HashMap<&str, &Value> =
        users.iter().filter_map(|u| u.get("id").and_then(Value::as_str).map(|id| (id, *u))).collect();
    for (id, u) in &live {
        let tag = format!("users/{id}");
        let Some(rec) = store.get("users", id) else {
            mm.push(format!("{tag}: missing from the store"));
            continue;
        };
        let rec = &rec;
        if is_deleted(rec) {
            mm.push(format!("{tag}: exists in the tenant but is marked deleted_in_source"));
        }
        let null = Value::Null;
        for (field, key) in
            [("display_name", "displayName"), ("user_principal_name", "userPrincipalName"), ("user_type", "userType")]
        {
            field_eq(&tag, rec, field, u.get(key).unwrap_or(&null), mm);
        }
        field_eq(&tag, rec, "email", u.get("mail").unwrap_or(&null), mm);
        if let Some(e) = rec.data.get("email").and_then(Value::as_str) {
            if e.contains("#EXT#") {
                mm.push(format!("{tag}: data.email is a guest #EXT# UPN: {e}"));
            }
        }
        let enabled = rec.data.get("account_enabled").unwrap_or(&null);
        let want = u.get("accountEnabled").unwrap_or(&null);
        if !enabled.is_boolean() && !want.is_null() {
            mm.push(format!("{tag}: data.account_enabled is {enabled}, not a JSON bool"));
        } else if enabled != want {
            mm.push(format!("{tag}: data.account_enabled is {enabled}, expected {want}"));
        }
        let truth_created = u.get("createdDateTime").filter(|v| !v.is_null());
        check_dates(&tag, rec, truth_created, mm);
    }
    check_gone(store, truth, "users", "users", &live, mm);
    counts_for(store, "users", live.len())
}

// ---- Directory record types (ex-directory): groups, memberships, roles, apps, devices, contacts, licences.

/// Contract fields a record must carry: data key → expected value.
type Fields = Vec<(&'static str, Value)>;
/// Expected snapshot records: id → (fields, truth creation time).
type Snapshot = HashMap<String, (Fields, Option<Value>)>;

fn truth_list<'a>(truth: &'a Value, key: &str) -> Vec<&'a Value> {
    truth.get(key).and_then(Value::as_array).map(|l| l.iter().collect()).unwrap_or_default()
}

fn id_map<'a>(list: &[&'a Value]) -> HashMap<&'a str, &'a Value> {
    list.iter().filter_map(|o| o.get("id").and_then(Value::as_str).map(|id| (id, *o))).collect()
}

fn text(v: &Value, key: &str) -> Value {
    v.get(key).filter(|x| x.is_string()).cloned().unwrap_or(Value::Null)
}

/// A truth timestamp cut to whole seconds, as the worker sends dates.
fn to_second(v: Option<&Value>) -> Option<Value> {
    let t = v.and_then(parse_time)?;
    Some(Value::String(t.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%SZ").to_string()))
}

/// Live objects of a delta type: present, not deleted, the contract fields equal (Graph property → data
/// field), honest dates; every other record of the type soft-deleted with the truth's reason.
fn check_objects(
    store: &RecordStore,
    truth: &Value,
    (item_type, truth_key, deleted_key): (&str, &str, &str),
    fields: &[(&str, &str)],
    extra: &dyn Fn(&str, &StoredRecord, &Value, &mut Mismatches),
    mm: &mut Mismatches,
) -> TypeCounts {
    let list = truth_list(truth, truth_key);
    let live = id_map(&list);
    for (id, obj) in &live {
        let tag = format!("{item_type}/{id}");
        let Some(rec) = store.get(item_type, id) else {
            mm.push(format!("{tag}: missing from the store"));
            continue;
        };
        let rec = &rec;
        if is_deleted(rec) {
            mm.push(format!("{tag}: exists in the tenant but is marked deleted_in_source"));
        }
        for (field, prop) in fields {
            field_eq(&tag, rec, field, obj.get(*prop).unwrap_or(&Value::Null), mm);
        }
        extra(&tag, rec, obj, mm);
        check_dates(&tag, rec, to_second(obj.get("createdDateTime")).as_ref(), mm);
    }
    check_gone(store, truth, item_type, deleted_key, &live, mm);
    counts_for(store, item_type, live.len())
}

/// Every expected record is in the store, live, with equal fields and sane dates. `live_phrase` words the
/// message for a record the tenant has but the store marks deleted ("<phrase> marked deleted_in_source").
fn check_expected_live(
    store: &RecordStore,
    item_type: &str,
    expected: &HashMap<String, Fields>,
    live_phrase: &str,
    mm: &mut Mismatches,
) {
    for (id, fields) in expected {
        let tag = format!("{item_type}/{id}");
        let Some(rec) = store.get(item_type, id) else {
            mm.push(format!("{tag}: missing from the store"));
            continue;
        };
        let rec = &rec;
        if is_deleted(rec) {
            mm.push(format!("{tag}: {live_phrase} marked deleted_in_source"));
        }
        for (field, want) in fields {
            field_eq(&tag, rec, field, want, mm);
        }
        check_dates(&tag, rec, None, mm);
    }
}

/// Relation records (`<parent>_<child>` ids): exactly the expected ones present and live, with equal
/// fields. A record outside the set is accepted only when its parent (`parent_field` → `parent_type`)
/// has left the tenant and is marked deleted in the store: Graph reports a removed parent, not its links.
fn check_relations(
    store: &RecordStore,
    item_type: &str,
    expected: &HashMap<String, Fields>,
    (parent_field, parent_type, live_parents): (&str, &str, &HashSet<&str>),
    skip: &dyn Fn(&str) -> bool,
    mm: &mut Mismatches,
) {
    check_expected_live(store, item_type, expected, "exists in the tenant but is", mm);
    for (id, rec) in store.iter(item_type) {
        if expected.contains_key(id) || skip(id) {
            continue;
        }
        let parent = rec.data.get(parent_field).and_then(Value::as_str).unwrap_or_default();
        let parent_gone =
            !live_parents.contains(parent) && store.get(parent_type, parent).is_some_and(|r| is_deleted(&r));
        if !parent_gone {
            mm.push(format!("{item_type}/{id}: not in the tenant but still in the store"));
        }
    }
}

/// The newest `modified_date` of the records `pick` selects: the time of the latest snapshot.
fn latest_snapshot(store: &RecordStore, item_type: &str, pick: &dyn Fn(&str) -> bool) -> Option<DateTime<FixedOffset>> {
    store.iter(item_type).filter(|(id, _)| pick(id)).filter_map(|(_, r)| parse_time(&r.modified_date)).max()
}

/// Snapshot records (`pick`): the expected ones present with equal fields; the others deleted or older than
/// the latest snapshot (absent from it, which DevRev reads as deleted for an `is_snapshot` type).
fn check_snapshot(
    store: &RecordStore,
    item_type: &str,
    expected: &Snapshot,
    pick: &dyn Fn(&str) -> bool,
    mm: &mut Mismatches,
) {
    for (id, (fields, created)) in expected {
        let tag = format!("{item_type}/{id}");
        let Some(rec) = store.get(item_type, id) else {
            mm.push(format!("{tag}: missing from the store"));
            continue;
        };
        let rec = &rec;
        if is_deleted(rec) {
            mm.push(format!("{tag}: exists in the tenant but is marked deleted_in_source"));
        }
        for (field, want) in fields {
            field_eq(&tag, rec, field, want, mm);
        }
        check_dates(&tag, rec, created.as_ref(), mm);
    }
    let latest = latest_snapshot(store, item_type, pick);
    for (id, rec) in store.iter(item_type) {
        if !pick(id) || expected.contains_key(id) || is_deleted(&rec) {
            continue;
        }
        if parse_time(&rec.modified_date) >= latest {
            mm.push(format!("{item_type}/{id}: in the latest snapshot but not in the tenant"));
        }
    }
}

fn relation_counts(store: &RecordStore, item_type: &str, expected: usize, pick: &dyn Fn(&str) -> bool) -> TypeCounts {
    let recs: Vec<StoredRecord> = store.iter(item_type).filter(|(id, _)| pick(id)).map(|(_, r)| r).collect();
    let deleted = recs.iter().filter(|r| is_deleted(r)).count();
    TypeCounts { expected, present: recs.len() - deleted, deleted }
}

fn live_ids<'a>(truth: &'a Value, key: &str) -> HashSet<&'a str> {
    truth_list(truth, key).iter().filter_map(|o| o.get("id").and_then(Value::as_str)).collect()
}

fn no_extra(_: &str, _: &StoredRecord, _: &Value, _: &mut Mismatches) {}

/// groups: the contract fields (`display_name`, `mail`, `security_enabled`, `mail_enabled`, `group_types`).
pub fn check_groups(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let fields = [
        ("display_name", "displayName"),
        ("mail", "mail"),
        ("security_enabled", "securityEnabled"),
        ("mail_enabled", "mailEnabled"),
        ("group_types", "groupTypes"),
    ];
    check_objects(store, truth, ("groups", "groups", "groups"), &fields, &no_extra, mm)
}

/// group_members: exactly the live memberships `<groupId>_<memberId>` (removed ones absent).
pub fn check_group_members(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let mut expected = HashMap::new();
    for m in truth_list(truth, "groupMembers") {
        let (g, member) = (text(m, "groupId"), text(m, "memberId"));
        let id = format!("{}_{}", g.as_str().unwrap_or_default(), member.as_str().unwrap_or_default());
        expected.insert(id, vec![("group_id", g), ("member_id", member), ("member_type", text(m, "memberType"))]);
    }
    let groups = live_ids(truth, "groups");
    check_relations(store, "group_members", &expected, ("group_id", "groups", &groups), &|_| false, mm);
    relation_counts(store, "group_members", expected.len(), &|_| true)
}

/// directory_roles: `display_name`, `role_template_id`.
pub fn check_directory_roles(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let fields = [("display_name", "displayName"), ("role_template_id", "roleTemplateId")];
    check_objects(store, truth, ("directory_roles", "directoryRoles", "directoryRoles"), &fields, &no_extra, mm)
}

fn is_rbac(id: &str) -> bool {
    id.starts_with("rbac_")
}

/// role_members: the activated roles' memberships `<roleId>_<memberId>` exactly, and the unified RBAC
/// assignments `rbac_<id>` as of the latest snapshot.
pub fn check_role_members(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let mut members = HashMap::new();
    for m in truth_list(truth, "directoryRoleMembers") {
        let (r, member) = (text(m, "roleId"), text(m, "memberId"));
        let id = format!("{}_{}", r.as_str().unwrap_or_default(), member.as_str().unwrap_or_default());
        members.insert(id, vec![("role_id", r), ("member_id", member), ("member_type", text(m, "memberType"))]);
    }
    let roles = live_ids(truth, "directoryRoles");
    check_relations(store, "role_members", &members, ("role_id", "directory_roles", &roles), &is_rbac, mm);
    let mut rbac = HashMap::new();
    for a in truth_list(truth, "roleAssignments") {
        let fields = vec![
            ("member_id", text(a, "principalId")),
            ("role_definition_id", text(a, "roleDefinitionId")),
            ("directory_scope_id", text(a, "directoryScopeId")),
        ];
        rbac.insert(format!("rbac_{}", a.get("id").and_then(Value::as_str).unwrap_or_default()), (fields, None));
    }
    check_snapshot(store, "role_members", &rbac, &is_rbac, mm);
    let mut counts = relation_counts(store, "role_members", members.len(), &|id| !is_rbac(id));
    let latest = latest_snapshot(store, "role_members", &is_rbac);
    let current =
        store.iter("role_members").filter(|(id, r)| is_rbac(id) && parse_time(&r.modified_date) >= latest).count();
    counts.expected += rbac.len();
    counts.present += current;
    counts
}

/// applications: `display_name`, `app_id`.
pub fn check_applications(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let fields = [("display_name", "displayName"), ("app_id", "appId")];
    check_objects(store, truth, ("applications", "applications", "applications"), &fields, &no_extra, mm)
}

/// service_principals: `display_name`, `app_id`.
pub fn check_service_principals(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let fields = [("display_name", "displayName"), ("app_id", "appId")];
    let keys = ("service_principals", "servicePrincipals", "servicePrincipals");
    check_objects(store, truth, keys, &fields, &no_extra, mm)
}

/// app_roles: every live service principal's `appRoles` as `<spId>_<appRoleId>`.
pub fn check_app_roles(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let mut expected = HashMap::new();
    for sp in truth_list(truth, "servicePrincipals") {
        let sp_id = text(sp, "id");
        for role in sp.get("appRoles").and_then(Value::as_array).into_iter().flatten() {
            let id = format!(
                "{}_{}",
                sp_id.as_str().unwrap_or_default(),
                role.get("id").and_then(Value::as_str).unwrap_or_default()
            );
            let fields = vec![
                ("service_principal_id", sp_id.clone()),
                ("display_name", text(role, "displayName")),
                ("value", text(role, "value")),
                ("is_enabled", role.get("isEnabled").cloned().unwrap_or(Value::Null)),
            ];
            expected.insert(id, fields);
        }
    }
    let sps = live_ids(truth, "servicePrincipals");
    check_relations(
        store,
        "app_roles",
        &expected,
        ("service_principal_id", "service_principals", &sps),
        &|_| false,
        mm,
    );
    relation_counts(store, "app_roles", expected.len(), &|_| true)
}

/// app_role_assignments (a delta type): every live assignment present and equal with its creation date; every
/// other record deleted (removed in Graph, or gone with its principal or resource; no `deleted` list: any reason).
pub fn check_app_role_assignments(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let fields = [
        ("principal_id", "principalId"),
        ("principal_type", "principalType"),
        ("resource_id", "resourceId"),
        ("app_role_id", "appRoleId"),
    ];
    let keys = ("app_role_assignments", "appRoleAssignments", "appRoleAssignments");
    check_objects(store, truth, keys, &fields, &no_extra, mm)
}

/// devices: `display_name`, `device_id`, `account_enabled`, `is_compliant`; `registered_owner_ids` = the
/// device's owners in `deviceOwners` (as a set).
pub fn check_devices(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let mut owners: HashMap<&str, Vec<&str>> = HashMap::new();
    for o in truth_list(truth, "deviceOwners") {
        if let (Some(d), Some(u)) =
            (o.get("deviceId").and_then(Value::as_str), o.get("ownerId").and_then(Value::as_str))
        {
            owners.entry(d).or_default().push(u);
        }
    }
    let check_owners = |tag: &str, rec: &StoredRecord, obj: &Value, mm: &mut Mismatches| {
        let id = obj.get("id").and_then(Value::as_str).unwrap_or_default();
        let mut want: Vec<&str> = owners.get(id).cloned().unwrap_or_default();
        want.sort_unstable();
        let mut got: Vec<&str> = match rec.data.get("registered_owner_ids") {
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
            other => {
                mm.push(format!("{tag}: data.registered_owner_ids is {other:?}, expected a list"));
                return;
            }
        };
        got.sort_unstable();
        if got != want {
            mm.push(format!("{tag}: data.registered_owner_ids is {got:?}, expected {want:?}"));
        }
    };
    let fields = [
        ("display_name", "displayName"),
        ("device_id", "deviceId"),
        ("account_enabled", "accountEnabled"),
        ("is_compliant", "isCompliant"),
    ];
    check_objects(store, truth, ("devices", "devices", "devices"), &fields, &check_owners, mm)
}

/// org_contacts: `display_name`, and `email` = `mail` when it is a real address (never `#EXT#`, never "").
pub fn check_org_contacts(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let email = |tag: &str, rec: &StoredRecord, obj: &Value, mm: &mut Mismatches| {
        let want = match obj.get("mail").and_then(Value::as_str) {
            Some(m) if m.contains('@') && !m.contains("#EXT#") => Value::String(m.to_string()),
            _ => Value::Null,
        };
        field_eq(tag, rec, "email", &want, mm);
    };
    check_objects(
        store,
        truth,
        ("org_contacts", "contacts", "contacts"),
        &[("display_name", "displayName")],
        &email,
        mm,
    )
}

/// license_assignments: one live `<userId>_<skuId>` per live user's `assignedLicenses` entry, named from
/// `subscribedSkus`; every other record deleted. Without SKUs in the truth the worker cannot name them
/// nor infer removals, so only the live ones are checked.
pub fn check_license_assignments(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let skus: Option<HashMap<&str, &Value>> = truth.get("subscribedSkus").and_then(Value::as_array).map(|list| {
        list.iter()
            .filter_map(|s| {
                Some((s.get("skuId").and_then(Value::as_str)?, s.get("skuPartNumber").unwrap_or(&Value::Null)))
            })
            .collect()
    });
    let mut expected: HashMap<String, Fields> = HashMap::new();
    for u in truth_list(truth, "users") {
        let user = text(u, "id");
        for l in u.get("assignedLicenses").and_then(Value::as_array).into_iter().flatten() {
            let sku = text(l, "skuId");
            let id = format!("{}_{}", user.as_str().unwrap_or_default(), sku.as_str().unwrap_or_default());
            let mut fields = vec![("user_id", user.clone()), ("sku_id", sku.clone())];
            if let Some(names) = &skus {
                let name = sku.as_str().and_then(|s| names.get(s)).map_or(Value::Null, |n| (*n).clone());
                fields.push(("sku_part_number", name));
            }
            expected.insert(id, fields);
        }
    }
    check_expected_live(store, "license_assignments", &expected, "assigned in the tenant but", mm);
    if skus.is_some() {
        for (id, rec) in store.iter("license_assignments") {
            if !expected.contains_key(id) && !is_deleted(&rec) {
                mm.push(format!("license_assignments/{id}: no longer assigned but not marked deleted_in_source"));
            }
        }
    }
    counts_for(store, "license_assignments", expected.len())
}

// ---- end of the directory record types (ex-directory).

// ------------------------------------------------------------- policies, reports, logs, custom fields
// Conventions: a snapshot type's records are dated at their sync, so the newest `modified_date` is the
// latest snapshot and a record older than it is absent from it (deleted, for an `is_snapshot` type);
// authentication methods are a snapshot per user read (the same rule per user); logs are append-only.

fn pol_list<'a>(truth: &'a Value, key: &str) -> Vec<&'a Value> {
    truth.get(key).and_then(Value::as_array).map(|l| l.iter().collect()).unwrap_or_default()
}

fn pol_at(v: &Value, pointer: &str) -> Value {
    v.pointer(pointer).cloned().unwrap_or(Value::Null)
}

/// A list of strings, sorted (order carries no meaning in these fields); null stays null.
fn pol_sorted(v: &Value) -> Value {
    match v.as_array() {
        Some(items) => {
            let mut items: Vec<Value> = items.iter().filter(|i| i.is_string()).cloned().collect();
            items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            Value::Array(items)
        }
        None => Value::Null,
    }
}

fn pol_second(v: &Value) -> Option<i64> {
    parse_time(v).map(|t| t.timestamp())
}

/// `(id → (expected fields, truth createdDateTime))` of a snapshot type.
type PolExpected = BTreeMap<String, (Vec<(&'static str, Value)>, Option<Value>)>;

/// A snapshot type: every expected record present, live and equal; any other record older than the
/// latest snapshot (when nothing is expected, no record at all).
fn pol_snapshot(store: &RecordStore, item_type: &str, expected: &PolExpected, mm: &mut Mismatches) -> TypeCounts {
    for (id, (fields, created)) in expected {
        let tag = format!("{item_type}/{id}");
        let Some(rec) = store.get(item_type, id) else {
            mm.push(format!("{tag}: missing from the store"));
            continue;
        };
        let rec = &rec;
        if is_deleted(rec) {
            mm.push(format!("{tag}: exists in the tenant but is marked deleted_in_source"));
        }
        for (field, want) in fields {
            let got = rec.data.get(*field).unwrap_or(&Value::Null);
            if want.is_array() && got.is_array() && pol_sorted(got) == pol_sorted(want) {
                continue; // lists compare as sets
            }
            field_eq(&tag, rec, field, want, mm);
        }
        check_dates(&tag, rec, created.as_ref(), mm);
    }
    let latest = store.iter(item_type).filter_map(|(_, r)| parse_time(&r.modified_date)).max();
    for (id, rec) in store.iter(item_type) {
        if !expected.contains_key(id) && !is_deleted(&rec) && parse_time(&rec.modified_date) >= latest {
            mm.push(format!("{item_type}/{id}: in the latest snapshot but not in the tenant"));
        }
    }
    counts_for(store, item_type, expected.len())
}

/// The time of the first full read of a per-user type (its oldest record): users created later are read
/// when an audit event names them ("Add user", security-info events); none named: not expected yet.
fn pol_first_read(store: &RecordStore, item_type: &str) -> Option<DateTime<FixedOffset>> {
    store.iter(item_type).filter_map(|(_, r)| parse_time(&r.modified_date)).min()
}

/// Whether a user was created after `t` (to the second: Graph's `createdDateTime` has no fraction).
fn pol_created_after(user: Option<&&Value>, t: Option<DateTime<FixedOffset>>) -> bool {
    match (user.and_then(|u| u.get("createdDateTime")).and_then(parse_time), t) {
        (Some(c), Some(t)) => c.timestamp() >= t.timestamp(),
        _ => false,
    }
}

/// authentication_methods: each live user's methods present with their type and safe fields, no secret; per
/// user, a record older than that user's latest read is gone from it. Where the registration report was read
/// (the store has its rows), the methods are its `methodsRegistered` (`<userId>_<reportName>`), else the
/// per-user API's (`<userId>_<methodId>`). Methods of users no longer in the tenant are not checked.
pub fn check_authentication_methods(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let item_type = "authentication_methods";
    let users: HashMap<&str, &Value> = pol_list(truth, "users")
        .into_iter()
        .filter_map(|u| u.get("id").and_then(Value::as_str).map(|id| (id, u)))
        .collect();
    let first_read = pol_first_read(store, item_type);
    let from_report = store.count("user_registration_details") > 0;
    let mut expected: HashMap<String, &Value> = HashMap::new();
    let mut report_types: HashMap<String, String> = HashMap::new();
    if from_report {
        for row in pol_list(truth, "userRegistrationDetails") {
            let Some(user) = row.get("id").and_then(Value::as_str) else { continue };
            for name in row.get("methodsRegistered").and_then(Value::as_array).into_iter().flatten() {
                let Some(name) = name.as_str() else { continue };
                let kind = crate::schema::REGISTERED_METHODS.iter().find(|(n, _, _)| *n == name).map_or(name, |m| m.1);
                expected.insert(format!("{user}_{name}"), row);
                report_types.insert(format!("{user}_{name}"), kind.to_string());
            }
        }
    } else {
        for entry in pol_list(truth, "authenticationMethods") {
            let (Some(user), Some(method)) = (entry.get("userId").and_then(Value::as_str), entry.get("method")) else {
                continue;
            };
            let Some(mid) = method.get("id").and_then(Value::as_str) else { continue };
            expected.insert(format!("{user}_{mid}"), method);
        }
    }
    let read_users: std::collections::HashSet<&str> =
        store.iter(item_type).map(|(id, _)| id.split('_').next().unwrap_or("")).collect();
    for (id, method) in &expected {
        let user = id.split('_').next().unwrap_or("");
        let tag = format!("{item_type}/{id}");
        let Some(rec) = store.get(item_type, id) else {
            if !read_users.contains(user) && pol_created_after(users.get(user), first_read) {
                continue; // created after the full read and never named by an audit event
            }
            mm.push(format!("{tag}: missing from the store"));
            continue;
        };
        let rec = &rec;
        if is_deleted(rec) {
            mm.push(format!("{tag}: exists in the tenant but is marked deleted_in_source"));
        }
        let kind = match report_types.get(id.as_str()) {
            Some(kind) => kind.as_str(),
            None => {
                let kind = method.get("@odata.type").and_then(Value::as_str).unwrap_or("");
                kind.rsplit('.').next().unwrap_or(kind)
            }
        };
        field_eq(&tag, rec, "method_type", &Value::String(kind.to_string()), mm);
        field_eq(&tag, rec, "user_id", &Value::String(user.to_string()), mm);
        for (field, prop) in [("phone_number", "phoneNumber"), ("email_address", "emailAddress"), ("model", "model")] {
            if let Some(v) = method.get(prop).filter(|v| !v.is_null()) {
                field_eq(&tag, rec, field, v, mm);
            }
        }
        if let (Some(title), Some(phone)) =
            (rec.data.get("display_name").and_then(Value::as_str), method.get("phoneNumber").and_then(Value::as_str))
        {
            if title.contains(phone) {
                mm.push(format!("{tag}: the phone number is in the title"));
            }
        }
        for secret in ["password", "secretKey", "temporaryAccessPass"] {
            if rec.data.get(secret).is_some() {
                mm.push(format!("{tag}: carries {secret}"));
            }
        }
        let created = if from_report { None } else { method.get("createdDateTime").filter(|v| !v.is_null()) };
        check_dates(&tag, rec, created, mm);
    }
    let mut latest: HashMap<&str, Option<DateTime<FixedOffset>>> = HashMap::new();
    for (id, rec) in store.iter(item_type) {
        let user = id.split('_').next().unwrap_or("");
        let t = parse_time(&rec.modified_date);
        let e = latest.entry(user).or_insert(t);
        *e = (*e).max(t);
    }
    for (id, rec) in store.iter(item_type) {
        let user = id.split('_').next().unwrap_or("");
        if expected.contains_key(id) || is_deleted(&rec) || !users.contains_key(user) {
            continue;
        }
        if parse_time(&rec.modified_date) >= latest.get(user).copied().flatten() {
            mm.push(format!("{item_type}/{id}: in the latest read of user {user} but not in the tenant"));
        }
    }
    counts_for(store, item_type, expected.len())
}

/// user_registration_details (id = user id): the report rows (only where the licence allows the report).
pub fn check_user_registration_details(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let item_type = "user_registration_details";
    let users: HashMap<&str, &Value> = pol_list(truth, "users")
        .into_iter()
        .filter_map(|u| u.get("id").and_then(Value::as_str).map(|id| (id, u)))
        .collect();
    let first_read = pol_first_read(store, item_type);
    let rows = pol_list(truth, "userRegistrationDetails");
    let mut expected = std::collections::HashSet::new();
    for row in &rows {
        let Some(id) = row.get("id").and_then(Value::as_str) else { continue };
        expected.insert(id);
        let tag = format!("{item_type}/{id}");
        let Some(rec) = store.get(item_type, id) else {
            if !pol_created_after(users.get(id), first_read) {
                mm.push(format!("{tag}: missing from the store"));
            }
            continue;
        };
        let rec = &rec;
        for (field, prop) in [
            ("user_principal_name", "userPrincipalName"),
            ("is_mfa_registered", "isMfaRegistered"),
            ("is_admin", "isAdmin"),
            ("is_sspr_registered", "isSsprRegistered"),
            ("user_type", "userType"),
        ] {
            field_eq(&tag, rec, field, &pol_at(row, &format!("/{prop}")), mm);
        }
        let got = pol_sorted(rec.data.get("methods_registered").unwrap_or(&Value::Null));
        let want = pol_sorted(&pol_at(row, "/methodsRegistered"));
        if got != want {
            mm.push(format!("{tag}: data.methods_registered is {got}, expected {want}"));
        }
        field_eq(&tag, rec, "user_id", &Value::String(id.to_string()), mm);
        check_dates(&tag, rec, None, mm);
    }
    for (id, rec) in store.iter(item_type) {
        if !expected.contains(id) && !is_deleted(&rec) && (rows.is_empty() || users.contains_key(id)) {
            mm.push(format!("{item_type}/{id}: not a report row of the tenant (licence {})", truth["licence"]));
        }
    }
    counts_for(store, item_type, expected.len())
}

/// authentication_methods_policy: the singleton, with its enabled and disabled method configurations.
pub fn check_authentication_methods_policy(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let policy = &truth["authenticationMethodsPolicy"];
    let mut expected = PolExpected::new();
    if let Some(id) = policy.get("id").and_then(Value::as_str) {
        let configs = pol_list(policy, "authenticationMethodConfigurations");
        let with = |state: &str| {
            let ids: Vec<Value> = configs
                .iter()
                .filter(|c| c.get("state").and_then(Value::as_str) == Some(state))
                .filter_map(|c| c.get("id").cloned())
                .collect();
            pol_sorted(&Value::Array(ids))
        };
        let fields = vec![
            ("display_name", pol_at(policy, "/displayName")),
            ("policy_version", pol_at(policy, "/policyVersion")),
            ("enabled_methods", with("enabled")),
            ("disabled_methods", with("disabled")),
            ("method_configuration_count", Value::from(configs.len() as u64)),
        ];
        expected.insert(id.to_string(), (fields, None));
    }
    pol_snapshot(store, "authentication_methods_policy", &expected, mm)
}

/// Expected records of a snapshot type whose checked fields are each one JSON pointer into the truth object.
fn pol_by_pointers(truth: &Value, key: &str, fields: &[(&'static str, &str)]) -> PolExpected {
    pol_list(truth, key)
        .iter()
        .filter_map(|o| {
            let id = o.get("id").and_then(Value::as_str)?;
            let fields = fields.iter().map(|(field, pointer)| (*field, pol_at(o, pointer))).collect();
            Some((id.to_string(), (fields, o.get("createdDateTime").filter(|v| !v.is_null()).cloned())))
        })
        .collect()
}

/// conditional_access_policies: every policy (only with P1 or more) with its state and main conditions.
pub fn check_conditional_access_policies(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let fields = [
        ("display_name", "/displayName"),
        ("state", "/state"),
        ("include_users", "/conditions/users/includeUsers"),
        ("exclude_users", "/conditions/users/excludeUsers"),
        ("include_roles", "/conditions/users/includeRoles"),
        ("grant_built_in_controls", "/grantControls/builtInControls"),
    ];
    let expected = pol_by_pointers(truth, "conditionalAccessPolicies", &fields);
    pol_snapshot(store, "conditional_access_policies", &expected, mm)
}

/// pim_eligible_roles: every eligibility schedule (only with P2 or Governance).
pub fn check_pim_eligible_roles(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let fields = [
        ("principal_id", "/principalId"),
        ("role_definition_id", "/roleDefinitionId"),
        ("directory_scope_id", "/directoryScopeId"),
        ("member_type", "/memberType"),
        ("status", "/status"),
    ];
    let expected = pol_by_pointers(truth, "roleEligibilitySchedules", &fields);
    pol_snapshot(store, "pim_eligible_roles", &expected, mm)
}

/// lifecycle_workflows: every workflow (only with Governance), trigger read from its nested object, tasks.
pub fn check_lifecycle_workflows(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let expected: PolExpected = pol_list(truth, "workflows")
        .iter()
        .filter_map(|w| {
            let id = w.get("id").and_then(Value::as_str)?;
            let tasks = pol_list(w, "tasks");
            let names: Vec<Value> = tasks.iter().filter_map(|t| t.get("displayName").cloned()).collect();
            let fields = vec![
                ("display_name", pol_at(w, "/displayName")),
                ("category", pol_at(w, "/category")),
                ("is_enabled", pol_at(w, "/isEnabled")),
                ("trigger_time_based_attribute", pol_at(w, "/executionConditions/trigger/timeBasedAttribute")),
                ("trigger_offset_in_days", pol_at(w, "/executionConditions/trigger/offsetInDays")),
                ("scope_rule", pol_at(w, "/executionConditions/scope/rule")),
                ("task_count", Value::from(tasks.len() as u64)),
                ("task_names", Value::Array(names)),
            ];
            Some((id.to_string(), (fields, w.get("createdDateTime").filter(|v| !v.is_null()).cloned())))
        })
        .collect();
    pol_snapshot(store, "lifecycle_workflows", &expected, mm)
}

/// A log type: every event in the truth (inside retention) present, dated at its event time (to the
/// second), with its main field; older events may stay (they fell out of retention). `exclusive`: the
/// store may hold nothing but the truth's events (a type the licence does not allow).
fn pol_log(
    store: &RecordStore,
    truth: &Value,
    key: &str,
    item_type: &str,
    time: &str,
    field: (&'static str, &str),
    mm: &mut Mismatches,
) -> TypeCounts {
    let events = pol_list(truth, key);
    for e in &events {
        let Some(id) = e.get("id").and_then(Value::as_str) else { continue };
        let tag = format!("{item_type}/{id}");
        let Some(rec) = store.get(item_type, id) else {
            mm.push(format!("{tag}: missing from the store"));
            continue;
        };
        let rec = &rec;
        field_eq(&tag, rec, field.0, &pol_at(e, field.1), mm);
        let want = e.get(time).and_then(pol_second);
        if pol_second(&rec.created_date) != want || pol_second(&rec.modified_date) != want {
            mm.push(format!(
                "{tag}: dated {} / {}, expected the event time {}",
                rec.created_date, rec.modified_date, e[time]
            ));
        }
    }
    counts_for(store, item_type, events.len())
}

/// directory_audit_logs: every audit event inside retention (7 days Free, 30 days P1/P2).
pub fn check_directory_audit_logs(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let field = ("activity_display_name", "/activityDisplayName");
    pol_log(store, truth, "directoryAudits", "directory_audit_logs", "activityDateTime", field, mm)
}

/// sign_in_logs: every sign-in inside retention (P1/P2); none at all on a Free tenant.
pub fn check_sign_in_logs(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let field = ("user_principal_name", "/userPrincipalName");
    let counts = pol_log(store, truth, "signIns", "sign_in_logs", "createdDateTime", field, mm);
    if truth["licence"] == "Free" && store.count("sign_in_logs") > 0 {
        mm.push(format!("sign_in_logs: {} records on a Free tenant", store.count("sign_in_logs")));
    }
    counts
}

/// Custom fields on users: `ext_attr_1..15` from `onPremisesExtensionAttributes`, and one `ext_…` key per
/// user-targeted directory extension, equal to the user's value (null when the user has none).
pub fn check_user_custom_fields(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    use crate::schema::custom_fields::{from_extension_property, user_custom_fields, value_of};
    let discovered: Vec<_> =
        pol_list(truth, "extensionProperties").into_iter().filter_map(from_extension_property).collect();
    let fields = user_custom_fields(&discovered);
    let users = pol_list(truth, "users");
    let mut checked = 0;
    for u in &users {
        let Some(id) = u.get("id").and_then(Value::as_str) else { continue };
        let Some(rec) = store.get("users", id) else { continue };
        let rec = &rec;
        checked += 1;
        for f in &fields {
            let tag = format!("users/{id}");
            match rec.data.get(&f.key) {
                None => mm.push(format!("{tag}: custom field {} not sent", f.key)),
                Some(got) => {
                    let want = value_of(f, u);
                    if got != &want {
                        mm.push(format!("{tag}: custom field {} is {got}, expected {want}", f.key));
                    }
                }
            }
        }
    }
    TypeCounts { expected: users.len(), present: checked, deleted: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn truth() -> Value {
        json!({"users": [
            {"id": "u1", "displayName": "Ann", "userPrincipalName": "ann@x.test", "mail": "ann@x.test",
             "accountEnabled": true, "userType": "Member", "createdDateTime": "2024-01-01T00:00:00Z"},
            {"id": "u2", "displayName": "Gus", "userPrincipalName": "gus_y.test#EXT#@x.test", "mail": null,
             "accountEnabled": false, "userType": "Guest", "createdDateTime": "2024-01-02T00:00:00Z"}
        ], "deleted": {"users": [{"id": "u3", "reason": "changed"}]}})
    }

    fn rec(id: &str, data: Value, created: &str) -> Value {
        json!({"id": id, "created_date": created, "modified_date": "2024-03-01T00:00:00Z", "data": data})
    }

    fn good_store() -> RecordStore {
        let mut s = RecordStore::default();
        s.apply_line(
            "users",
            &rec(
                "u1",
                json!({"display_name": "Ann", "user_principal_name": "ann@x.test",
            "email": "ann@x.test", "account_enabled": true, "user_type": "Member"}),
                "2024-01-01T01:00:00+01:00",
            ),
        )
        .unwrap();
        s.apply_line(
            "users",
            &rec(
                "u2",
                json!({"display_name": "Gus", "user_principal_name": "gus_y.test#EXT#@x.test",
            "email": null, "account_enabled": false, "user_type": "Guest"}),
                "2024-01-02T00:00:00Z",
            ),
        )
        .unwrap();
        s.apply_line(
            "users",
            &rec("u3", json!({"deleted_in_source": true, "deleted_reason": "changed"}), "2024-01-01T00:00:00Z"),
        )
        .unwrap();
        s
    }

    #[test]
    fn passes_on_matching_store() {
        let r = verify(&good_store(), &truth());
        assert!(r.ok, "{:?}", r.mismatches);
        assert_eq!(r.per_type["users"], TypeCounts { expected: 2, present: 2, deleted: 1 });
    }

    fn mismatch_after(f: impl FnOnce(&mut RecordStore)) -> Vec<String> {
        let mut s = good_store();
        f(&mut s);
        let r = verify(&s, &truth());
        assert!(!r.ok);
        r.mismatches
    }

    fn patch(s: &mut RecordStore, id: &str, f: impl FnOnce(&mut StoredRecord)) {
        s.patch("users", id, f);
    }

    #[test]
    fn detects_each_kind() {
        let m = mismatch_after(|s| {
            s.remove("users", "u1");
        });
        assert!(m[0].contains("missing"), "{m:?}");
        let m = mismatch_after(|s| patch(s, "u1", |r| r.data["display_name"] = json!("Bob")));
        assert!(m[0].contains("display_name"));
        let m = mismatch_after(|s| patch(s, "u1", |r| r.data["user_principal_name"] = json!("x")));
        assert!(m[0].contains("user_principal_name"));
        let m = mismatch_after(|s| patch(s, "u2", |r| r.data["email"] = json!("gus_y.test#EXT#@x.test")));
        assert!(m.iter().any(|x| x.contains("#EXT#")));
        let m = mismatch_after(|s| patch(s, "u1", |r| r.data["account_enabled"] = json!("true")));
        assert!(m[0].contains("account_enabled"));
        let m = mismatch_after(|s| patch(s, "u1", |r| r.data["user_type"] = json!("Guest")));
        assert!(m[0].contains("user_type"));
        let m = mismatch_after(|s| patch(s, "u1", |r| r.created_date = json!("2023-01-01T00:00:00Z")));
        assert!(m[0].contains("created_date"));
        let m = mismatch_after(|s| patch(s, "u1", |r| r.modified_date = json!("1970-01-01T00:00:00Z")));
        assert!(m.iter().any(|x| x.contains("epoch")));
        assert!(m.iter().any(|x| x.contains("earlier")));
        let m = mismatch_after(|s| patch(s, "u1", |r| r.created_date = json!("not a date")));
        assert!(m[0].contains("parse"));
        let m = mismatch_after(|s| patch(s, "u1", |r| r.data["deleted_in_source"] = json!(true)));
        assert!(m[0].contains("marked deleted"));
        let m = mismatch_after(|s| patch(s, "u3", |r| r.data["deleted_reason"] = json!("deleted")));
        assert!(m[0].contains("deleted_reason"));
        let m = mismatch_after(|s| patch(s, "u3", |r| r.data = json!({})));
        assert!(m[0].contains("not marked"));
    }

    #[test]
    fn caps_messages_but_counts_all() {
        let users: Vec<Value> = (0..80).map(|i| json!({"id": format!("x{i}")})).collect();
        let r = verify(&RecordStore::default(), &json!({"users": users}));
        assert_eq!(r.mismatches.len(), MAX_MESSAGES);
        assert_eq!(r.mismatch_count, 80);
    }
}
