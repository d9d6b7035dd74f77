//! The `license_assignments` record type: one record per user and licence SKU, from the users delta's
//! `assignedLicenses`, named by the tenant's `subscribedSkus`.

use super::{Field, Kind, Licence, RecordType, Source, Target};

pub static LICENSE_ASSIGNMENTS: RecordType = RecordType {
    key: "license_assignments",
    name: "Licence assignments",
    description: "Licence SKUs assigned to users (directly or through groups)",
    fields: &[
        Field { key: "user_id", name: "User", kind: Kind::Reference("users"), source: Source::Derived },
        Field { key: "sku_id", name: "SKU ID", kind: Kind::Text, source: Source::Derived },
        Field { key: "sku_part_number", name: "SKU", kind: Kind::Text, source: Source::Derived },
        Field {
            key: "disabled_plan_ids",
            name: "Disabled service plans",
            kind: Kind::TextList,
            source: Source::Derived,
        },
    ],
    target: Target::Custom { title_field: "sku_part_number" },
    is_snapshot: false,
    portal_url: None,
    // Read from the users delta; SKU names need Organization.Read.All (without it they stay null).
    permissions: &["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"],
    licence: Licence::Free,
};
