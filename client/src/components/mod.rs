//! Reusable pieces of the view.

pub mod chat_panel;
pub mod device_settings;
pub mod lang_switch;
pub mod people_panel;
pub mod speaking_panel;
pub mod video_tile;
