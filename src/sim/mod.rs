//! The simulators the worker is tested against: Microsoft Graph with the identity platform (`graph`),
//! the DevRev AirSync platform (`platform`), both over real loopback HTTP, the harness joining them, and the
//! ground truth as the verifier reads it (`truth`).

pub mod graph;
pub mod harness;
pub mod platform;
pub mod truth;
