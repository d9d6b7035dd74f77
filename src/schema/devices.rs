//! The `devices` record type: registered, joined and hybrid-joined devices (custom objects), with their
//! registered owners' ids.

use super::{Field, Kind, Licence, RecordType, Source, Target};

pub static DEVICES: RecordType = RecordType {
    key: "devices",
    name: "Devices",
    description: "Devices registered or joined to Entra ID",
    fields: &[
        Field { key: "display_name", name: "Display name", kind: Kind::Text, source: Source::Prop("displayName") },
        Field { key: "device_id", name: "Device ID", kind: Kind::Text, source: Source::Prop("deviceId") },
        Field {
            key: "operating_system",
            name: "Operating system",
            kind: Kind::Text,
            source: Source::Prop("operatingSystem"),
        },
        Field {
            key: "operating_system_version",
            name: "OS version",
            kind: Kind::Text,
            source: Source::Prop("operatingSystemVersion"),
        },
        Field {
            key: "trust_type",
            name: "Join type",
            kind: Kind::Enum { values: &["Workplace", "AzureAd", "ServerAd", "unknownFutureValue"], open: true },
            source: Source::Prop("trustType"),
        },
        Field { key: "account_enabled", name: "Enabled", kind: Kind::Bool, source: Source::Prop("accountEnabled") },
        Field { key: "is_compliant", name: "Compliant", kind: Kind::Bool, source: Source::Prop("isCompliant") },
        Field { key: "is_managed", name: "Managed", kind: Kind::Bool, source: Source::Prop("isManaged") },
        Field { key: "manufacturer", name: "Manufacturer", kind: Kind::Text, source: Source::Prop("manufacturer") },
        Field { key: "model", name: "Model", kind: Kind::Text, source: Source::Prop("model") },
        Field {
            key: "profile_type",
            name: "Profile type",
            kind: Kind::Enum {
                values: &["RegisteredDevice", "SecureVM", "Printer", "Shared", "IoT", "unknownFutureValue"],
                open: true,
            },
            source: Source::Prop("profileType"),
        },
        Field {
            key: "registered_at",
            name: "Registered",
            kind: Kind::Timestamp,
            source: Source::Prop("registrationDateTime"),
        },
        Field {
            key: "last_sign_in_at",
            name: "Approximate last sign-in",
            kind: Kind::Timestamp,
            source: Source::Prop("approximateLastSignInDateTime"),
        },
        Field { key: "registered_owner_ids", name: "Registered owners", kind: Kind::TextList, source: Source::Derived },
    ],
    target: Target::Custom { title_field: "display_name" },
    is_snapshot: false,
    portal_url: Some(
        "https://entra.microsoft.com/#view/Microsoft_AAD_Devices/DeviceDetailsMenuBlade/~/Properties/objectId/{id}",
    ),
    permissions: &["Device.Read.All", "Directory.Read.All", "Device.ReadWrite.All"],
    licence: Licence::Free,
};
