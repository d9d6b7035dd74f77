//! The simulators the worker is tested against: Microsoft Graph with the identity platform (`graph`),
//! and the DevRev AirSync platform (`platform`). Both speak real HTTP on loopback.

pub mod graph;
pub mod platform;
