//! Selective forwarding: rooms, peers, and the sans-IO core that joins them.

pub mod core;
pub mod io;
pub mod peer;
pub mod rooms;

pub use self::core::{Command, Sfu};
