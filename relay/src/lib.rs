//! The relay as a library: the binary (`main.rs`) and the fuzz targets use it.

pub mod access;
pub mod accesslog;
pub mod admin;
pub mod assets;
pub mod config;
pub mod desk;
pub mod health;
pub mod http_server;
pub mod languages;
pub mod limits;
pub mod metrics;
pub mod private_files;
pub mod room_admin;
pub mod security_headers;
pub mod sfu;
pub mod signaling;
pub mod store;
pub mod tls;
pub mod turn;
pub mod web;
