//! `sync --out DIR`: the binary extracts the simulated tenant into a folder without DevRev (gzip JSON
//! Lines artifacts, state.json, report.html), and `--incremental` then reads only the changes.

use std::io::Read;
use std::path::Path;
use std::process::Command;

use entra_airsync::sim::graph::{GraphSim, GraphSimOptions, MutationSpec};

fn user_ids_in(dir: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("users-") && name.ends_with(".jsonl.gz") {
            let mut text = String::new();
            flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()).read_to_string(&mut text).unwrap();
            for line in text.lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                ids.push(v["id"].as_str().unwrap().to_string());
            }
        }
    }
    ids
}

fn sync(graph: &GraphSim, out: &Path, incremental: bool) -> std::process::Output {
    let info = graph.info();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_entra-airsync"));
    cmd.args(["sync", "--quiet", "--out"]).arg(out);
    if incremental {
        cmd.arg("--incremental");
    }
    cmd.env("ENTRA_AUTHORITY_HOST", &info.authority_host)
        .env("ENTRA_GRAPH_URL", &info.graph_url)
        .env("ENTRA_EXTRA_CA_PEM", &info.ca_pem)
        .env("ENTRA_TENANT_ID", &info.tenant_id)
        .env("ENTRA_CLIENT_ID", &info.client_id)
        .env("ENTRA_CLIENT_SECRET", &info.client_secret)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_writes_a_full_then_an_incremental_extraction_to_a_folder() {
    let graph = GraphSim::start(GraphSimOptions { users: 700, ..GraphSimOptions::default() }).await.unwrap();
    let full = tempfile::tempdir().unwrap();
    let output = tokio::task::block_in_place(|| sync(&graph, full.path(), false));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut ids = user_ids_in(full.path());
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 700);
    for file in ["state.json", "report.html", "summary.json"] {
        assert!(full.path().join(file).exists(), "{file} written");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("users") && stdout.contains("700"), "summary table: {stdout}");

    graph.mutate(&MutationSpec { create: 7, update: 5, hard_delete: 3, ..MutationSpec::default() });
    // A new folder with the previous state: the incremental run writes only the changes.
    let next = tempfile::tempdir().unwrap();
    std::fs::copy(full.path().join("state.json"), next.path().join("state.json")).unwrap();
    let output = tokio::task::block_in_place(|| sync(&graph, next.path(), true));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(user_ids_in(next.path()).len(), 15, "7 created, 5 updated, 3 deleted");
}
