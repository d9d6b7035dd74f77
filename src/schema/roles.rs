//! `directory_roles` (activated directory roles, custom objects) and `role_members` (who holds them: from
//! the roles delta's `members@delta`, and unified RBAC role assignments at every scope).

use super::groups::MEMBER_TYPES;
use super::{Field, Kind, Licence, RecordType, Source, Target};

const ROLE_PERMISSIONS: &[&str] =
    &["RoleManagement.Read.Directory", "Directory.Read.All", "RoleManagement.ReadWrite.Directory"];

pub static DIRECTORY_ROLES: RecordType = RecordType {
    key: "directory_roles",
    name: "Directory roles",
    description: "Entra ID directory roles activated in the tenant",
    fields: &[
        Field { key: "display_name", name: "Display name", kind: Kind::Text, source: Source::Prop("displayName") },
        Field { key: "description", name: "Description", kind: Kind::Text, source: Source::Prop("description") },
        Field {
            key: "role_template_id",
            name: "Role template ID",
            kind: Kind::Text,
            source: Source::Prop("roleTemplateId"),
        },
    ],
    target: Target::Custom { title_field: "display_name" },
    is_snapshot: false,
    portal_url: Some("https://entra.microsoft.com/#view/Microsoft_AAD_IAM/RoleMenuBlade/~/Overview/objectId/{id}"),
    permissions: ROLE_PERMISSIONS,
    licence: Licence::Free,
};

pub static ROLE_MEMBERS: RecordType = RecordType {
    key: "role_members",
    name: "Role members",
    description: "Holders of directory roles: activated-role memberships and unified RBAC role assignments",
    fields: &[
        Field {
            key: "role_id",
            name: "Directory role",
            kind: Kind::Reference("directory_roles"),
            source: Source::Derived,
        },
        Field {
            key: "role_definition_id",
            name: "Role definition (template) ID",
            kind: Kind::Text,
            source: Source::Derived,
        },
        Field { key: "member_id", name: "Member", kind: Kind::Reference("users"), source: Source::Derived },
        Field { key: "member_type", name: "Member type", kind: MEMBER_TYPES, source: Source::Derived },
        Field { key: "directory_scope_id", name: "Directory scope", kind: Kind::Text, source: Source::Derived },
        Field {
            key: "assignment_source",
            name: "Source",
            kind: Kind::Enum { values: &["directoryRole", "roleAssignment"], open: false },
            source: Source::Derived,
        },
        Field { key: "remove_member_ids", name: "Removed members", kind: Kind::TextList, source: Source::Derived },
    ],
    target: Target::Custom { title_field: "member_id" },
    is_snapshot: false,
    portal_url: None,
    permissions: ROLE_PERMISSIONS,
    licence: Licence::Free,
};
