//! graph: placeholder until written.
