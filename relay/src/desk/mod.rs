//! The counselors' desk (`/desk`): staff sign in, see who waits in their rooms and make
//! appointment-bound links. Every action checks the session and the member's rights here, on
//! the relay; state changes also need the browser's `Origin` to name this relay.

pub mod api;
pub mod qr;
pub mod sessions;
pub mod staff;

/// What the desk's handlers share.
#[derive(Clone, Default)]
pub struct Desk {
    pub sessions: sessions::Sessions,
    /// Cookies only over TLS (`Secure`) when the relay serves HTTPS or sits behind it.
    pub secure_cookies: bool,
}
