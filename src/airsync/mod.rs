//! The DevRev side: AirSync events and answers, the platform calls (state, artifacts, IDM, callback),
//! the extraction window, and the runner that processes one invocation and answers exactly once.

pub mod artifacts;
pub mod event;
pub mod line;
pub mod platform;
pub mod runner;
pub mod state;
pub mod window;
