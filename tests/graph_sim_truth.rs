//! The Graph simulator's ground truth read key by key (as the verifier streams it) is the whole truth
//! object, on a mutated tenant, for a licence that allows everything and one that allows the least.

use entra_airsync::sim::graph::{GraphSim, GraphSimOptions, Licence, MutationSpec};
use entra_airsync::sim::truth::Truth;
use serde_json::Value;

async fn same_truth_both_ways(licence: Licence) {
    let sim = GraphSim::start(GraphSimOptions { users: 300, licence, ..GraphSimOptions::default() }).await.unwrap();
    let spec = MutationSpec {
        create: 6,
        update: 6,
        soft_delete: 4,
        hard_delete: 4,
        directory: 5,
        activity: 5,
        seed: 2,
        ..MutationSpec::default()
    };
    sim.mutate(&spec);
    let whole = sim.truth();
    let keys = whole.as_object().unwrap();
    assert!(keys.len() >= 25, "{:?}", keys.keys());
    for (key, v) in keys {
        assert!(sim.has(key), "{key}");
        assert_eq!(&sim.value(key), v, "{key}");
        if let Some(list) = v.as_array() {
            assert_eq!(&sim.list(key), list, "{key}");
            assert_eq!(sim.count(key), list.len(), "{key}");
        }
    }
    assert!(!sim.has("nothing") && sim.value("nothing").is_null() && sim.count("nothing") == 0);
    assert!(sim.count("users") > 0 && sim.count("groupMembers") > 0);
    assert!(whole["deleted"]["users"].as_array().is_some_and(|d| !d.is_empty()));
    sim.shutdown().await;
}

#[tokio::test]
async fn the_truth_key_by_key_is_the_whole_truth() {
    same_truth_both_ways(Licence::Governance).await;
    same_truth_both_ways(Licence::Free).await;
}

#[tokio::test]
async fn a_free_tenant_has_no_premium_rows() {
    let sim = GraphSim::start(GraphSimOptions { users: 50, licence: Licence::Free, ..GraphSimOptions::default() })
        .await
        .unwrap();
    for key in
        ["userRegistrationDetails", "signIns", "conditionalAccessPolicies", "roleEligibilitySchedules", "workflows"]
    {
        assert!(sim.has(key), "{key}");
        assert_eq!(sim.value(key), Value::Array(Vec::new()), "{key}");
    }
    assert_eq!(sim.value("licence"), "Free");
    sim.shutdown().await;
}
