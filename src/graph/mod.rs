//! The Microsoft side: tokens (azure_identity), sending and classifying Graph requests, and pages of
//! collections and delta rounds. It knows nothing of DevRev.

pub mod auth;
pub mod batch;
pub mod client;
pub mod error;
pub mod json;
pub mod limiter;
pub mod pager;

pub use client::GraphClient;
pub use error::GraphError;
