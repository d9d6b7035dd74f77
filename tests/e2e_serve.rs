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
    let worker = Worker::new(worker_config(&info, &HarnessOptions::default())).unwrap();
    let options = IngressOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        token: Some("ingress-token-for-test".into()),
        ..IngressOptions::default()
    };
    let ingress = Ingress::bind(options, Arc::new(Handler(worker))).await.unwrap();
    let url = format!("http://{}", ingress.local_addr());
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
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
