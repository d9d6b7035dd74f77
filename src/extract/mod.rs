//! extract: placeholder until written.
