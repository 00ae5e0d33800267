//! Selective forwarding: rooms, peers, and the sans-IO core that joins them.

pub mod core;
pub mod io;
pub mod lines;
pub mod lobby;
pub mod meeting;
pub mod peer;
pub mod rooms;
pub mod speaking;

pub use self::core::{Command, Sfu};
