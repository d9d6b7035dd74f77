//! engine: placeholder until written.
