//! Selective forwarding: rooms, peers, and the sans-IO engine that joins them.

pub mod allocation;
pub mod client_sdp;
pub mod engine;
pub mod io;
pub mod lines;
pub mod link_quality;
pub mod lobby;
pub mod meeting;
pub mod peer;
pub mod rooms;
pub mod simulcast;
pub mod speaking;
pub mod tcp_media;
#[cfg(test)]
pub mod test_offer;

pub use engine::{fresh_resume_secret, Command, Sfu};
