//! `entra-airsync check` against the Graph simulator: a real token, the granted permissions, the licence
//! from `subscribedSkus`, the table of record types; bad credentials fail with the documented advice.

use std::process::Command;

use entra_airsync::check::check;
use entra_airsync::config::Config;
use entra_airsync::net::HostPolicy;
use entra_airsync::sim::graph::{AppRegistration, GraphSim, GraphSimOptions, Licence, SimInfo};

fn config(info: &SimInfo) -> Config {
    Config {
        authority_host: info.authority_host.clone(),
        graph_url: info.graph_url.clone(),
        extra_ca_pem: Some(info.ca_pem.clone().into()),
        allowed_hosts: HostPolicy::parse("127.0.0.1"),
        graph_retry_base: std::time::Duration::from_millis(20),
        ..Config::default()
    }
}

async fn sim(licence: Licence) -> GraphSim {
    GraphSim::start(GraphSimOptions { users: 60, licence, ..GraphSimOptions::default() }).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fully_permitted_app_on_a_governance_tenant_gets_everything() {
    let sim = sim(Licence::Governance).await;
    let info = sim.info();
    let report = check(&config(&info), &info.tenant_id, &info.client_id, &info.client_secret).await.unwrap();
    let text = report.to_text();
    assert!(text.contains("Granted application permissions (14)"), "{text}");
    assert!(text.contains("Licence: Microsoft Entra ID Governance (from subscribedSkus)"), "{text}");
    assert!(text.contains("2 directory extension(s)"), "{text}");
    assert!(report.plan.types.iter().all(|t| t.skip.is_none()), "{text}");
    assert!(text.contains("pim_eligible_roles") && !text.contains("skipped:"), "{text}");
    let json = report.to_json();
    assert_eq!(json["licence"], "Microsoft Entra ID Governance");
    assert_eq!(json["record_types"].as_array().unwrap().len(), entra_airsync::extract::all().len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_permissions_and_licences_are_named_with_what_to_grant() {
    let sim = sim(Licence::Free).await;
    let mut info = sim.info();
    sim.register_app(AppRegistration {
        client_id: "5b6c7d8e-9f01-4a2b-8c3d-4e5f60718293".into(),
        client_secret: "Check~Limited.Secret-42".into(),
        roles: vec!["User.Read.All".into(), "Organization.Read.All".into(), "AuditLog.Read.All".into()],
        secret_expired: false,
    });
    info.client_id = "5b6c7d8e-9f01-4a2b-8c3d-4e5f60718293".into();
    info.client_secret = "Check~Limited.Secret-42".into();
    sim.reset_stats();
    let report = check(&config(&info), &info.tenant_id, &info.client_id, &info.client_secret).await.unwrap();
    let text = report.to_text();
    let line = |rt: &str| text.lines().find(|l| l.starts_with(&format!("{rt} "))).unwrap_or_default().to_string();
    assert!(text.contains("Licence: Microsoft Entra ID Free (from subscribedSkus)"), "{text}");
    assert!(line("authentication_methods").contains("UserAuthenticationMethod.Read.All"), "{text}");
    assert!(
        line("conditional_access_policies")
            .contains("Permission denied: grant the Microsoft Graph application permission Policy.Read.All"),
        "{text}"
    );
    assert!(line("pim_eligible_roles").contains("RoleEligibilitySchedule.Read.Directory"), "{text}");
    assert!(line("sign_in_logs").contains("Not licensed: requires Microsoft Entra ID P1 or P2"), "{text}");
    assert!(line("user_registration_details").contains("Not licensed"), "{text}");
    assert!(line("directory_audit_logs").ends_with("available"), "{text}");
    assert!(line("users").ends_with("available"), "{text}");
    let stats = sim.stats();
    let routes = stats["requests_per_route"].as_object().unwrap();
    for gated in ["signIns", "userRegistrationDetails", "conditionalAccess", "roleEligibility", "lifecycleWorkflows"] {
        assert!(!routes.keys().any(|r| r.contains(gated)), "check spent a request on {gated}: {routes:?}");
    }
    assert!(routes.keys().any(|r| r.contains("subscribedSkus")), "{routes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_exits_non_zero_on_a_bad_secret_and_zero_otherwise() {
    let sim = sim(Licence::P1).await;
    let info = sim.info();
    let wrong = "Wr0ng~Check.Secret.Value";
    let cmd_info = info.clone();
    let run = move |secret: &str| {
        let info = &cmd_info;
        Command::new(env!("CARGO_BIN_EXE_entra-airsync"))
            .args(["check", "--authority-host", &info.authority_host, "--graph-url", &info.graph_url])
            .args(["--extra-ca-pem", &info.ca_pem])
            .env("ENTRA_TENANT_ID", &info.tenant_id)
            .env("ENTRA_CLIENT_ID", &info.client_id)
            .env("ENTRA_CLIENT_SECRET", secret)
            .env("LOG_FORMAT", "text")
            .output()
            .unwrap()
    };
    let bad = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(wrong)
    })
    .await
    .unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert!(stderr.contains("Authentication failed") && stderr.contains("AADSTS7000215"), "{stderr}");
    assert!(stderr.contains("Verify Tenant ID, Client ID, and Client Secret are correct"), "{stderr}");
    assert!(!stderr.contains(wrong) && !stdout.contains(wrong), "the secret leaked");
    let secret = info.client_secret.clone();
    let good = tokio::task::spawn_blocking(move || run(&secret)).await.unwrap();
    let stdout = String::from_utf8_lossy(&good.stdout);
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
    assert!(stdout.contains("Licence: Microsoft Entra ID P1"), "{stdout}");
    assert!(stdout.contains("lifecycle_workflows") && stdout.contains("requires Entra ID Governance"), "{stdout}");
    assert!(!stdout.contains(&info.client_secret));
}
