//! The built client, embedded in the binary so that one file deploys.

use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "$SPRECHSTUNDE_ASSETS"]
pub struct Assets;

/// Shown when the relay was built before the client.
pub const NO_CLIENT_PAGE: &str = "<!doctype html><html lang=\"de\"><meta charset=\"utf-8\">\
<title>Sprechstunde</title><p>Die Anwendung wurde noch nicht gebaut. \
Starten Sie den Server mit <code>cargo xtask run</code>.</p>\
<p lang=\"en\">The app has not been built yet. Start the relay with <code>cargo xtask run</code>.</p></html>";
