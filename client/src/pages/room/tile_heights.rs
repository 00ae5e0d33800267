//! Tells the relay how tall others' pictures are shown, so that a picture shown small gets
//! a small layer: a family on a phone does not download 720 lines for a thumbnail.

use sprechstunde_shared::{ParticipantId, TileHeight};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlVideoElement};
use yew::prelude::*;

use super::local::SessionRef;

/// How often the tiles are measured (a resize or a new layout is told within this).
const MEASURE_EVERY_MS: u32 = 2_000;
/// Heights are rounded up to this many device pixels, so that a tile a few pixels taller
/// or smaller tells nothing new.
const ROUND_TO: u32 = 40;

/// Measure the others' tiles now and then and tell the session when they changed.
#[hook]
pub fn use_report_tile_heights(session: &SessionRef) {
    let session = session.clone();
    use_effect_with((), move |_| {
        let measure = gloo_timers::callback::Interval::new(MEASURE_EVERY_MS, move || {
            let tiles = measure_tiles();
            if let Some(session) = session.borrow().as_ref() {
                session.set_tile_heights(tiles);
            }
        });
        move || drop(measure)
    });
}

/// Every picture of another participant on the page with the height it is shown at.
fn measure_tiles() -> Vec<TileHeight> {
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    let scale = window.device_pixel_ratio().max(1.0);
    let Some(found) = window.document().and_then(|d| {
        d.query_selector_all("figure.tile[data-participant]:not(.own)")
            .ok()
    }) else {
        return Vec::new();
    };
    let mut tiles = Vec::new();
    for index in 0..found.length() {
        let Some(figure) = found.item(index).and_then(|n| n.dyn_into::<Element>().ok()) else {
            continue;
        };
        let participant = figure
            .get_attribute("data-participant")
            .and_then(|id| id.strip_prefix('p').and_then(|n| n.parse().ok()));
        let video = figure
            .query_selector("video:not(.audio-only)")
            .ok()
            .flatten()
            .and_then(|v| v.dyn_into::<HtmlVideoElement>().ok());
        let (Some(participant), Some(video)) = (participant, video) else {
            continue;
        };
        let shown = (f64::from(video.client_height()) * scale).ceil() as u32;
        if shown == 0 {
            continue;
        }
        tiles.push(TileHeight {
            participant_id: ParticipantId(participant),
            screen: figure.get_attribute("data-source").as_deref() == Some("screen"),
            height: shown.div_ceil(ROUND_TO) * ROUND_TO,
        });
    }
    tiles.truncate(sprechstunde_shared::MAX_TILE_HEIGHTS);
    tiles
}
