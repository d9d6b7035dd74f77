//! ingress: placeholder until written.
