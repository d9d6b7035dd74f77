//! Shared helpers for the directory simulator tests (included via `#[path]`): delta rounds kept per
//! page, a replica that merges objects and `members@delta` links, truth projections, list walking.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;

/// owner id → member id → member type (`user`, `group`, …).
pub type Links = BTreeMap<String, BTreeMap<String, String>>;

pub struct Pages {
    pub pages: Vec<Vec<Value>>,
    pub delta_link: String,
}

impl Pages {
    pub fn entries(&self) -> Vec<Value> {
        self.pages.iter().flatten().cloned().collect()
    }
}

pub async fn get(client: &reqwest::Client, tok: &str, url: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = client.get(url).bearer_auth(tok).send().await.expect("GET");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

/// Follow nextLinks to the deltaLink, asserting exactly one link per page.
pub async fn delta_pages(client: &reqwest::Client, tok: &str, first: &str) -> Pages {
    let mut url = first.to_string();
    let mut pages = Vec::new();
    for _ in 0..200_000 {
        let (status, _, v) = get(client, tok, &url).await;
        assert_eq!(status, 200, "delta page {url} failed: {v}");
        pages.push(v["value"].as_array().expect("value").clone());
        match (v.get("@odata.nextLink").and_then(Value::as_str), v.get("@odata.deltaLink").and_then(Value::as_str)) {
            (Some(n), None) => {
                assert!(n.contains("$skiptoken=") && !n.contains("$select"), "{n}");
                url = n.to_string();
            }
            (None, Some(d)) => {
                assert!(d.contains("$deltatoken="), "{d}");
                return Pages { pages, delta_link: d.to_string() };
            }
            other => panic!("a page must carry exactly one link, got {other:?}"),
        }
    }
    panic!("delta round did not finish")
}

/// Follow nextLinks of a plain list; every item of every page.
pub async fn list_all(client: &reqwest::Client, tok: &str, first: &str) -> (Vec<Value>, usize) {
    let mut url = first.to_string();
    let mut out = Vec::new();
    let mut pages = 0;
    loop {
        let (status, _, v) = get(client, tok, &url).await;
        assert_eq!(status, 200, "list {url} failed: {v}");
        pages += 1;
        out.extend(v["value"].as_array().expect("value").iter().cloned());
        match v.get("@odata.nextLink").and_then(Value::as_str) {
            Some(n) => url = n.to_string(),
            None => return (out, pages),
        }
    }
}

pub fn type_name(odata: &str) -> String {
    odata.trim_start_matches("#microsoft.graph.").to_string()
}

/// Objects and membership links merged from delta entries.
#[derive(Default, Debug)]
pub struct Replica {
    pub objects: BTreeMap<String, Value>,
    pub links: Links,
}

impl Replica {
    pub fn apply(&mut self, entries: &[Value]) {
        for e in entries {
            let id = e["id"].as_str().expect("id").to_string();
            if e.get("@removed").is_some() {
                self.objects.remove(&id);
                self.links.remove(&id);
                continue;
            }
            let mut o = e.clone();
            let delta = o.as_object_mut().and_then(|m| m.remove("members@delta"));
            self.objects.insert(id.clone(), o);
            for m in delta.as_ref().and_then(Value::as_array).into_iter().flatten() {
                let mid = m["id"].as_str().expect("member id").to_string();
                let set = self.links.entry(id.clone()).or_default();
                match m.get("@removed") {
                    Some(r) => {
                        assert_eq!(r["reason"], "deleted", "{m}");
                        set.remove(&mid);
                    }
                    None => {
                        set.insert(mid, type_name(m["@odata.type"].as_str().expect("@odata.type")));
                    }
                }
            }
        }
        self.links.retain(|_, s| !s.is_empty());
    }
}

pub fn by_id(items: &[Value]) -> BTreeMap<String, Value> {
    items.iter().map(|v| (v["id"].as_str().expect("id").to_string(), v.clone())).collect()
}

pub fn truth_objects(truth: &Value, key: &str) -> BTreeMap<String, Value> {
    by_id(truth[key].as_array().unwrap_or_else(|| panic!("truth has {key}")))
}

pub fn truth_links(truth: &Value, key: &str, owner: &str) -> Links {
    let mut out = Links::new();
    for l in truth[key].as_array().unwrap_or_else(|| panic!("truth has {key}")) {
        out.entry(l[owner].as_str().unwrap().to_string())
            .or_default()
            .insert(l["memberId"].as_str().unwrap().to_string(), l["memberType"].as_str().unwrap().to_string());
    }
    out
}

pub fn truth_deleted(truth: &Value, key: &str) -> BTreeMap<String, String> {
    truth["deleted"][key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| (d["id"].as_str().unwrap().to_string(), d["reason"].as_str().unwrap().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Every `@removed` entry of a round must name an object the truth lists as deleted, with its reason.
pub fn check_removals(entries: &[Value], deleted: &BTreeMap<String, String>) {
    for e in entries {
        if let Some(r) = e.get("@removed") {
            let id = e["id"].as_str().unwrap();
            assert_eq!(deleted.get(id).map(String::as_str), r["reason"].as_str(), "{e}");
        }
    }
}
