//! The metadata and mapping shipped beside `manifest.yaml` are exactly what `src/schema` generates, and the
//! manifest asks for every permission a record type needs. `UPDATE_MANIFEST=1` rewrites the JSON files.

use std::path::Path;

use entra_airsync::schema;

fn check(file: &str, generated: serde_json::Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifest").join(file);
    let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
    if std::env::var_os("UPDATE_MANIFEST").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let shipped = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        shipped == text,
        "{file} is out of date with src/schema: run UPDATE_MANIFEST=1 cargo test --test manifest_in_sync"
    );
}

#[test]
fn shipped_metadata_matches_the_schema() {
    check("external_domain_metadata.json", schema::external_domain_metadata(&[]));
}

#[test]
fn shipped_mapping_matches_the_schema() {
    check("initial_domain_mapping.json", schema::initial_domain_mapping(&[]));
}

#[test]
fn the_manifest_names_every_permission_a_record_type_needs() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("manifest.yaml")).unwrap();
    for rt in schema::record_types() {
        assert!(
            rt.permissions.iter().any(|p| manifest.contains(p)),
            "manifest.yaml names none of {:?} needed by {}",
            rt.permissions,
            rt.key
        );
    }
    assert!(manifest.contains("UserAuthenticationMethod.Read.All"));
    assert!(manifest.contains("azure-entra-oauth") && manifest.contains("is_subdomain: true"));
}
