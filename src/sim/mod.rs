//! The simulators the worker is tested against: Microsoft Graph with the identity platform (`graph`),
//! the DevRev AirSync platform (`platform`), both over real loopback HTTP, and the harness joining them.

pub mod graph;
pub mod harness;
pub mod platform;
