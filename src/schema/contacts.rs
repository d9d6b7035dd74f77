//! The `org_contacts` record type: organizational (mail) contacts, mapped to DevRev `revu`. The `email`
//! field is the `mail` property only when it is a real address, so it is derived, not copied.

use super::{Field, Kind, Licence, RecordType, Source, Target};

pub static ORG_CONTACTS: RecordType = RecordType {
    key: "org_contacts",
    name: "Organizational contacts",
    description: "Mail contacts kept in the Entra ID directory",
    fields: &[
        Field { key: "display_name", name: "Display name", kind: Kind::Text, source: Source::Prop("displayName") },
        Field { key: "email", name: "Email", kind: Kind::Text, source: Source::Derived },
        Field { key: "given_name", name: "Given name", kind: Kind::Text, source: Source::Prop("givenName") },
        Field { key: "surname", name: "Surname", kind: Kind::Text, source: Source::Prop("surname") },
        Field { key: "company_name", name: "Company", kind: Kind::Text, source: Source::Prop("companyName") },
        Field { key: "department", name: "Department", kind: Kind::Text, source: Source::Prop("department") },
        Field { key: "job_title", name: "Job title", kind: Kind::Text, source: Source::Prop("jobTitle") },
        Field { key: "mail_nickname", name: "Mail nickname", kind: Kind::Text, source: Source::Prop("mailNickname") },
        Field {
            key: "proxy_addresses",
            name: "Proxy addresses",
            kind: Kind::TextList,
            source: Source::Prop("proxyAddresses"),
        },
    ],
    target: Target::Stock {
        object_type: "revu",
        fields: &[("display_name", "display_name"), ("full_name", "display_name"), ("email", "email")],
    },
    is_snapshot: false,
    portal_url: None,
    permissions: &["OrgContact.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"],
    licence: Licence::Free,
};

/// Graph properties the contacts delta selects beyond the copied ones (the derived email's source).
pub const ORG_CONTACTS_EXTRA_SELECT: &[&str] = &["id", "mail"];
