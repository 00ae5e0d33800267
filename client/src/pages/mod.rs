//! One module per screen.

pub mod desk;
pub mod kiosk;
pub mod left;
pub mod my_data;
pub mod prejoin;
pub mod privacy;
pub mod room;
pub mod start;
pub mod unsupported;
