//! Shared outbound HTTP client construction (TLS roots, allowed hosts).
