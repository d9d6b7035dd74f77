//! AirSync platform emulator (placeholder).
