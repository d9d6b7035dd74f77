//! Worker configuration.
