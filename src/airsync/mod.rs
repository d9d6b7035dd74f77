//! airsync: placeholder until written.
