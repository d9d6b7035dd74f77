//! End-to-end through the production entry point: the platform emulator posts events to `serve`'s
//! `/handle/async` over HTTP with the bearer token, and the worker behind it syncs the simulated tenant.

use std::sync::Arc;

use entra_airsync::airsync::runner::Worker;
use entra_airsync::ingress::{EventHandler, Ingress, IngressOptions};
use entra_airsync::sim::graph::{GraphSim, GraphSimOptions};
use entra_airsync::sim::harness::{worker_config, HarnessOptions};
use entra_airsync::sim::platform::{
    verify, Connection, Driver, DriverOptions, HttpWorker, PlatformOptions, PlatformSim,
};

struct Handler(Worker);

#[async_trait::async_trait]
impl EventHandler for Handler {
    async fn handle(&self, event: serde_json::Value) {
        let _ = self.0.handle(event).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platform_drives_serve_over_http_with_the_bearer_token() {
    let graph = GraphSim::start(GraphSimOptions { users: 300, ..GraphSimOptions::default() }).await.unwrap();
    let info = graph.info();
    let platform = PlatformSim::start(PlatformOptions::default()).await.unwrap();
    let metrics = Arc::new(entra_airsync::ingress::Metrics::new());
    let worker = Worker::new(worker_config(&info, &HarnessOptions::default())).unwrap().with_metrics(metrics.clone());
    let options = IngressOptions {
        metrics: Some(metrics),
        listen: "127.0.0.1:0".parse().unwrap(),
        token: Some("ingress-token-for-test".into()),
        ..IngressOptions::default()
    };
    let ingress = Ingress::bind(options, Arc::new(Handler(worker))).await.unwrap();
    let addr = ingress.local_addr();
    let url = format!("http://{addr}");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ingress.run(async move {
        let _ = stopped.await;
    }));
    let connection = Connection::entra(&info.tenant_id, &info.client_id, &info.client_secret);

    // Without the right token nothing is accepted, so nothing is answered.
    let refused = HttpWorker { url: url.clone(), bearer_token: Some("wrong".into()) };
    let driver = Driver::new(platform.clone(), Arc::new(refused), connection.clone(), DriverOptions::default());
    let event = driver.event("START_EXTRACTING_METADATA", "INITIAL");
    assert!(driver.send(event).await.is_err(), "a wrong ingress token must be refused");

    let http = HttpWorker { url, bearer_token: Some("ingress-token-for-test".into()) };
    let driver = Driver::new(platform.clone(), Arc::new(http), connection, DriverOptions::default());
    let run = driver.initial_import().await.unwrap();
    assert_eq!(run.answers.last().map(String::as_str), Some("ATTACHMENT_EXTRACTION_DONE"), "{run:?}");
    graph.mutate(&entra_airsync::sim::graph::MutationSpec {
        create: 5,
        update: 5,
        soft_delete: 5,
        hard_delete: 5,
        ..Default::default()
    });
    let run = driver.incremental_sync().await.unwrap();
    assert!(run.errors.is_empty(), "{run:?}");
    let report = verify(&platform.store(), &graph.truth());
    assert!(report.ok, "{:?}", report.mismatches);
    assert!(platform.violations().is_empty(), "{:?}", platform.violations());
    // /metrics exposes the per-record-type series after a sync.
    let text = reqwest::get(format!("http://{addr}/metrics")).await.unwrap().text().await.unwrap();
    for series in [
        "entra_airsync_items_total{record_type=\"users\"}",
        "entra_airsync_extraction_seconds_total{record_type=\"users\"}",
        "entra_airsync_graph_requests_total{resource=\"users\"}",
        "entra_airsync_graph_resource_units_total{resource=\"users\"}",
        "entra_airsync_answers_total{event_type=\"DATA_EXTRACTION_DONE\"}",
        "entra_airsync_invocations_in_flight",
    ] {
        assert!(text.contains(series), "{series} missing from /metrics:\n{text}");
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
