//! schema: placeholder until written.
