//! Reusable pieces of the view.

pub mod lang_switch;
pub mod video_tile;
