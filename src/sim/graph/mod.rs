//! Graph + identity-platform simulator (placeholder).
