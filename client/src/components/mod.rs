//! Reusable pieces of the view.

pub mod audio_check;
pub mod blur_toggle;
pub mod chat_panel;
pub mod connection_check;
pub mod device_settings;
pub mod host_panel;
pub mod knock_notice;
pub mod lang_switch;
pub mod password_prompt;
pub mod people_panel;
pub mod shortcuts_toggle;
pub mod speaking_panel;
pub mod unreachable_notice;
pub mod video_tile;
pub mod waiting_view;
