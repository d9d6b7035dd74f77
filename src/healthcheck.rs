//! The `healthcheck` command: GET a health URL and exit 0 on 200, for container health checks in
//! images that have no curl (the Dockerfile's distroless image).

use std::time::Duration;

pub async fn run(url: &str) -> Result<(), String> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(3)).build().map_err(|e| e.to_string())?;
    let response = client.get(url).send().await.map_err(|e| format!("{url} is not answering: {}", e.without_url()))?;
    match response.status().as_u16() {
        200 => Ok(()),
        status => Err(format!("{url} answered HTTP {status}")),
    }
}
