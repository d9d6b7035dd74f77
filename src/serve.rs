//! The `serve` command: the HTTP ingress (src/ingress) in front of the worker, wired together:
//! every accepted event goes to `Worker::handle`; SIGTERM makes running invocations answer PROGRESS.

use std::sync::Arc;

use crate::airsync::runner::Worker;
use crate::cli::ServeArgs;
use crate::ingress::{shutdown_signal, EventHandler, Ingress, IngressOptions, Metrics};

struct WorkerHandler(Worker);

#[async_trait::async_trait]
impl EventHandler for WorkerHandler {
    async fn handle(&self, event: serde_json::Value) {
        let _ = self.0.handle(event).await;
    }

    fn begin_shutdown(&self) {
        self.0.begin_shutdown();
    }
}

pub async fn serve(args: ServeArgs) -> Result<(), String> {
    let metrics = Arc::new(Metrics::new());
    let worker = Worker::new(args.worker.config()).map_err(|e| e.to_string())?.with_metrics(metrics.clone());
    let options = IngressOptions {
        metrics: Some(metrics),
        listen: args.listen,
        token: args.token.clone(),
        insecure_no_auth: args.insecure_no_auth,
        max_body_bytes: args.max_body_bytes,
        max_concurrency: args.max_concurrency.max(1),
        ..IngressOptions::default()
    };
    let ingress = Ingress::bind(options, Arc::new(WorkerHandler(worker))).await.map_err(|e| e.to_string())?;
    tracing::info!(listen = %ingress.local_addr(), "serving AirSync invocations");
    ingress.run(shutdown_signal()).await.map_err(|e| e.to_string())
}
