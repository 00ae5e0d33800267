//! The signaling protocol between the Sprechstunde client and relay.
//!
//! Every message that crosses the WebSocket is one of the enums in [`protocol`], serialized as
//! JSON. Both sides use these types; there are no duplicated message structs anywhere.
//! The written description is `docs/PROTOCOL.md`.

pub mod chat;
#[cfg(any(test, feature = "fuzzing"))]
pub mod invariants;
pub mod meeting_text;
pub mod names;
pub mod protocol;

pub use chat::{ChatText, ChatTextError, CHAT_TEXT_MAX};
pub use meeting_text::{MeetingText, TooLong, DESCRIPTION_MAX, TOPIC_MAX};
pub use names::{DisplayName, EmailAddress, NameError, RoomName};
pub use protocol::*;
