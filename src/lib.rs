//! entra-airsync: a DevRev AirSync connector for Microsoft Entra ID (through Microsoft Graph),
//! with the Graph simulator and the AirSync platform emulator it is tested against.

pub mod airsync;
pub mod bench;
pub mod check;
pub mod cli;
pub mod config;
pub mod demo;
pub mod engine;
pub mod extract;
pub mod graph;
pub mod healthcheck;
pub mod ingress;
pub mod local;
pub mod net;
pub mod report;
pub mod schema;
pub mod serve;
pub mod sim;
pub mod soak;
