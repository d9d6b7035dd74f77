//! The `groups` record type (security, Microsoft 365 and distribution groups → DevRev `group`) and
//! `group_members` (one record per direct membership → DevRev `object_member`).

use super::{Field, Kind, Licence, RecordType, Source, Target};

pub static GROUPS: RecordType = RecordType {
    key: "groups",
    name: "Groups",
    description: "Entra ID groups: security, Microsoft 365 and distribution groups",
    fields: &[
        Field { key: "display_name", name: "Display name", kind: Kind::Text, source: Source::Prop("displayName") },
        Field { key: "description", name: "Description", kind: Kind::Text, source: Source::Prop("description") },
        Field { key: "mail", name: "Email", kind: Kind::Text, source: Source::Prop("mail") },
        Field { key: "mail_nickname", name: "Mail nickname", kind: Kind::Text, source: Source::Prop("mailNickname") },
        Field { key: "mail_enabled", name: "Mail enabled", kind: Kind::Bool, source: Source::Prop("mailEnabled") },
        Field {
            key: "security_enabled",
            name: "Security enabled",
            kind: Kind::Bool,
            source: Source::Prop("securityEnabled"),
        },
        Field { key: "group_types", name: "Group types", kind: Kind::TextList, source: Source::Prop("groupTypes") },
        Field {
            key: "is_assignable_to_role",
            name: "Role-assignable",
            kind: Kind::Bool,
            source: Source::Prop("isAssignableToRole"),
        },
        Field {
            key: "visibility",
            name: "Visibility",
            kind: Kind::Enum { values: &["Public", "Private", "HiddenMembership", "unknownFutureValue"], open: true },
            source: Source::Prop("visibility"),
        },
        Field {
            key: "membership_rule",
            name: "Dynamic membership rule",
            kind: Kind::Text,
            source: Source::Prop("membershipRule"),
        },
        Field {
            key: "on_premises_sync_enabled",
            name: "Synced from on-premises",
            kind: Kind::Bool,
            source: Source::Prop("onPremisesSyncEnabled"),
        },
        Field {
            key: "created_at",
            name: "Created in Entra ID",
            kind: Kind::Timestamp,
            source: Source::Prop("createdDateTime"),
        },
    ],
    target: Target::Stock { object_type: "group", fields: &[("name", "display_name"), ("description", "description")] },
    is_snapshot: false,
    portal_url: Some(
        "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/GroupDetailsMenuBlade/~/Overview/groupId/{id}",
    ),
    permissions: &["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Group.ReadWrite.All"],
    licence: Licence::Free,
};

/// Member kinds as the contract names them (the `@odata.type` suffix); Graph may add more.
pub const MEMBER_TYPES: Kind = Kind::Enum {
    values: &["user", "group", "servicePrincipal", "device", "orgContact", "unknownFutureValue"],
    open: true,
};

pub static GROUP_MEMBERS: RecordType = RecordType {
    key: "group_members",
    name: "Group members",
    description: "Direct memberships of users, groups, service principals, devices and contacts in groups",
    fields: &[
        Field { key: "group_id", name: "Group", kind: Kind::Reference("groups"), source: Source::Derived },
        Field { key: "member_id", name: "Member", kind: Kind::Reference("users"), source: Source::Derived },
        Field { key: "member_type", name: "Member type", kind: MEMBER_TYPES, source: Source::Derived },
        Field { key: "remove_member_ids", name: "Removed members", kind: Kind::TextList, source: Source::Derived },
    ],
    target: Target::Stock {
        object_type: "object_member",
        fields: &[("member_id", "member_id"), ("object_id", "group_id"), ("remove_member_ids", "remove_member_ids")],
    },
    is_snapshot: false,
    portal_url: None,
    permissions: &["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Group.ReadWrite.All"],
    licence: Licence::Free,
};

/// Graph properties the groups delta selects beyond the copied ones: `members` tracks memberships.
pub const GROUPS_EXTRA_SELECT: &[&str] = &["id", "members"];
