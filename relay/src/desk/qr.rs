//! A link as a QR code, drawn as SVG for the screen and the printed page.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The SVG of `link`; medium error correction survives a creased or smudged print.
pub fn svg_of(link: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(link.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
    )
}
