//! Compact directory records (groups, roles, apps, service principals, devices, contacts), the
//! live / soft-deleted / hard-deleted store per type, and the per-type change log driving delta.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// A directory type with its own delta.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    Group,
    Role,
    App,
    Sp,
    Device,
    Contact,
}

impl Kind {
    pub const ALL: [Kind; 6] = [Kind::Group, Kind::Role, Kind::App, Kind::Sp, Kind::Device, Kind::Contact];
    pub fn idx(self) -> usize {
        self as usize
    }
    /// URL segment and truth key.
    pub fn collection(self) -> &'static str {
        match self {
            Kind::Group => "groups",
            Kind::Role => "directoryRoles",
            Kind::App => "applications",
            Kind::Sp => "servicePrincipals",
            Kind::Device => "devices",
            Kind::Contact => "contacts",
        }
    }
    /// OData type name (`microsoft.graph.<name>`).
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Group => "group",
            Kind::Role => "directoryRole",
            Kind::App => "application",
            Kind::Sp => "servicePrincipal",
            Kind::Device => "device",
            Kind::Contact => "orgContact",
        }
    }
    pub fn has_members(self) -> bool {
        matches!(self, Kind::Group | Kind::Role)
    }
}

/// The type of a member / owner / principal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MKind {
    User,
    Group,
    Sp,
    Device,
    Contact,
}

impl MKind {
    /// `memberType` in the truth.
    pub fn name(self) -> &'static str {
        match self {
            MKind::User => "user",
            MKind::Group => "group",
            MKind::Sp => "servicePrincipal",
            MKind::Device => "device",
            MKind::Contact => "orgContact",
        }
    }
    pub fn odata(self) -> &'static str {
        match self {
            MKind::User => "#microsoft.graph.user",
            MKind::Group => "#microsoft.graph.group",
            MKind::Sp => "#microsoft.graph.servicePrincipal",
            MKind::Device => "#microsoft.graph.device",
            MKind::Contact => "#microsoft.graph.orgContact",
        }
    }
    /// `principalType` of an app role assignment.
    pub fn principal_type(self) -> &'static str {
        match self {
            MKind::User => "User",
            MKind::Group => "Group",
            _ => "ServicePrincipal",
        }
    }
}

/// A membership link target; member lists are kept sorted by `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    pub id: u128,
    pub kind: MKind,
}

/// Insert into a sorted member list; false if already present.
pub fn add_member(list: &mut Vec<Member>, m: Member) -> bool {
    match list.binary_search_by_key(&m.id, |x| x.id) {
        Ok(_) => false,
        Err(i) => {
            list.insert(i, m);
            true
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GType {
    Security,
    Unified,
    Distribution,
    MailSecurity,
}

#[derive(Clone, Debug)]
pub struct GroupRec {
    pub num: u32,
    pub id: u128,
    pub gtype: GType,
    pub topic: u8,
    pub noun: u8,
    /// Set by a rename.
    pub display: Option<Box<str>>,
    /// 0 = none, else description `i - 1`.
    pub desc: u8,
    /// 0 = static, else membership rule `i - 1`.
    pub rule: u8,
    /// 0 Public, 1 Private, 2 HiddenMembership (Unified only).
    pub visibility: u8,
    pub role_assignable: bool,
    pub synced: bool,
    pub created: i64,
    pub members: Vec<Member>,
}

#[derive(Clone, Debug)]
pub struct RoleRec {
    pub num: u32,
    pub id: u128,
    /// Index into `ROLE_TEMPLATES`.
    pub template: u8,
    pub members: Vec<Member>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AppRole {
    pub id: u128,
    pub word: u8,
    /// 1 = User, 2 = Application, 3 = both.
    pub allowed: u8,
    pub enabled: bool,
}

#[derive(Clone, Debug)]
pub struct AppRec {
    pub num: u32,
    pub id: u128,
    pub app_id: u128,
    pub prefix: u8,
    pub word: u8,
    pub display: Option<Box<str>>,
    pub audience: u8,
    pub created: i64,
    pub roles: Vec<AppRole>,
    pub notes: bool,
}

/// Who published a service principal's application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpOrigin {
    /// An app registered in this tenant (`app` = application number).
    Tenant(u32),
    /// Microsoft Graph itself.
    Graph,
    /// The connector's own app (`appId` = the simulator's client id).
    Connector,
    /// A multi-tenant app of a vendor (`VENDORS[i]`).
    Vendor(u8),
    /// A managed identity.
    Managed,
}

#[derive(Clone, Debug)]
pub struct SpRec {
    pub num: u32,
    pub id: u128,
    pub app_id: u128,
    pub origin: SpOrigin,
    pub name: Box<str>,
    /// Index into `AUDIENCES`.
    pub audience: u8,
    pub enabled: bool,
    pub assignment_required: bool,
    /// Tag bits: 1 WindowsAzureActiveDirectoryIntegratedApp, 2 HideApp.
    pub tags: u8,
    pub roles: Vec<AppRole>,
    /// App role assignments *to* this resource, sorted by `key`.
    pub assigned_to: Vec<Assignment>,
}

/// An appRoleAssignment held by its resource service principal.
#[derive(Clone, Debug)]
pub struct Assignment {
    pub key: u128,
    pub principal: u128,
    pub ptype: MKind,
    pub principal_name: Box<str>,
    pub role: u128,
    pub created: i64,
}

#[derive(Clone, Debug)]
pub struct DeviceRec {
    pub num: u32,
    pub id: u128,
    pub device_id: u128,
    pub display: Option<Box<str>>,
    pub os: u8,
    pub os_ver: u8,
    pub trust: u8,
    pub maker: u8,
    pub model: u8,
    pub compliant: bool,
    pub managed: bool,
    pub enabled: bool,
    pub registered: i64,
    pub last_sign_in: i64,
    /// Registered owners (user ids), sorted.
    pub owners: Vec<u128>,
}

#[derive(Clone, Debug)]
pub struct ContactRec {
    pub num: u32,
    pub id: u128,
    pub given: u16,
    pub surname: u16,
    pub company: u8,
    pub job: u8,
    pub dept: u8,
    pub display: Option<Box<str>>,
    pub phone: bool,
}

/// Objects of one type: live, soft-deleted (restorable), hard-deleted (id only).
#[derive(Debug)]
pub struct Store<T> {
    pub live: BTreeMap<u32, T>,
    pub soft: BTreeMap<u32, T>,
    pub hard: BTreeMap<u32, u128>,
    pub next: u32,
}

impl<T> Store<T> {
    pub fn new(items: impl IntoIterator<Item = (u32, T)>) -> Store<T> {
        let live: BTreeMap<u32, T> = items.into_iter().collect();
        let next = live.keys().next_back().map_or(1, |n| n + 1);
        Store { live, soft: BTreeMap::new(), hard: BTreeMap::new(), next }
    }
    pub fn take_num(&mut self) -> u32 {
        let n = self.next;
        self.next += 1;
        n
    }
    /// Live objects with `num > after`, at most `limit`.
    pub fn after(&self, after: Option<u32>, limit: usize) -> impl Iterator<Item = &T> {
        let start = match after {
            None => 0,
            Some(u32::MAX) => u32::MAX,
            Some(a) => a + 1,
        };
        let skip_all = after == Some(u32::MAX);
        self.live.range(start..).filter(move |_| !skip_all).take(limit).map(|(_, v)| v)
    }
    pub fn has_after(&self, after: u32) -> bool {
        after < u32::MAX && self.live.range(after + 1..).next().is_some()
    }
}

/// One change-log entry of a type.
#[derive(Clone, Copy, Debug)]
pub enum Entry {
    /// The object was created, updated or deleted.
    Obj(u32),
    /// A member link of object `num` was added or removed.
    Link { num: u32, member: Member, added: bool },
}

/// Change log of one type: entry `i` has sequence number `i + 1`.
#[derive(Debug, Default)]
pub struct ChangeLog {
    pub entries: Vec<Entry>,
    pub last_obj: HashMap<u32, u64>,
    pub last_link: HashMap<(u32, u128), u64>,
}

impl ChangeLog {
    pub fn head(&self) -> u64 {
        self.entries.len() as u64
    }
    pub fn obj(&mut self, num: u32) {
        self.entries.push(Entry::Obj(num));
        self.last_obj.insert(num, self.head());
    }
    pub fn link(&mut self, num: u32, member: Member, added: bool) {
        self.entries.push(Entry::Link { num, member, added });
        self.last_link.insert((num, member.id), self.head());
    }
}

/// One app role assignment that was added or removed: the assignment (`key`, `principal`) held by the
/// resource service principal number `sp`; its current state decides how a delta round shows it.
#[derive(Clone, Copy, Debug)]
pub struct AssignChange {
    pub key: u128,
    pub principal: u128,
    pub sp: u32,
}

/// Change log of app role assignments (the `directoryObjects/delta` round): entry `i` has sequence `i + 1`.
#[derive(Debug, Default)]
pub struct AssignLog {
    pub entries: Vec<AssignChange>,
    pub last: HashMap<u128, u64>,
}

impl AssignLog {
    pub fn head(&self) -> u64 {
        self.entries.len() as u64
    }
    pub fn push(&mut self, c: AssignChange) {
        self.entries.push(c);
        self.last.insert(c.key, self.head());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_members_and_store_cursor() {
        let mut l = Vec::new();
        assert!(add_member(&mut l, Member { id: 5, kind: MKind::User }));
        assert!(add_member(&mut l, Member { id: 2, kind: MKind::Group }));
        assert!(!add_member(&mut l, Member { id: 5, kind: MKind::User }));
        assert_eq!(l.iter().map(|m| m.id).collect::<Vec<_>>(), vec![2, 5]);
        let s = Store::new([(1u32, 'a'), (3, 'b'), (7, 'c')]);
        assert_eq!(s.next, 8);
        assert_eq!(s.after(Some(1), 5).copied().collect::<String>(), "bc");
        assert_eq!(s.after(Some(u32::MAX), 5).count(), 0);
        assert!(s.has_after(3) && !s.has_after(7));
        let mut log = ChangeLog::default();
        log.obj(3);
        log.link(3, Member { id: 1, kind: MKind::User }, true);
        log.obj(3);
        assert_eq!((log.head(), log.last_obj[&3], log.last_link[&(3, 1)]), (3, 3, 2));
    }
}
