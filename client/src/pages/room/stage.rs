//! The stage: everyone else's camera and screen, and oneself as a small picture in the
//! corner while others are here; in the speaker layout the pinned tile, a screen share or
//! the active speaker is shown large.

use std::collections::HashMap;

use sprechstunde_shared::{ConnectionQuality, Participant, ParticipantId, TrackSource};
use web_sys::MediaStream;
use yew::prelude::*;

use super::local::{Layout, TileId};
use crate::app::use_lang;
use crate::components::video_tile::VideoTile;
use crate::i18n::{t, Key};

#[derive(Properties, PartialEq)]
pub struct StageProps {
    /// Oneself, as the others see us.
    pub own: Participant,
    pub own_stream: Option<MediaStream>,
    /// The others, in join order.
    pub others: Vec<Participant>,
    pub streams: HashMap<(ParticipantId, TrackSource), MediaStream>,
    pub active_speaker: Option<ParticipantId>,
    /// Cameras the relay paused to us (our link too weak).
    #[prop_or_default]
    pub video_paused: Vec<ParticipantId>,
    pub layout: Layout,
    pub pinned: Option<TileId>,
    pub on_pin: Callback<TileId>,
    /// The chosen loudspeaker.
    pub sink_id: Option<String>,
    /// Switch to the next camera, where there is more than one.
    #[prop_or_default]
    pub on_switch_camera: Option<Callback<()>>,
}

struct Tile<'a> {
    id: TileId,
    stream: Option<MediaStream>,
    label: String,
    own: bool,
    participant: &'a Participant,
}

fn tiles<'a>(props: &'a StageProps, own_label: String) -> Vec<Tile<'a>> {
    let mut tiles = vec![Tile {
        id: TileId(props.own.id, TrackSource::Camera),
        stream: props.own_stream.clone(),
        label: own_label,
        own: true,
        participant: &props.own,
    }];
    for p in &props.others {
        if p.media.screen {
            if let Some(stream) = props.streams.get(&(p.id, TrackSource::Screen)) {
                tiles.push(Tile {
                    id: TileId(p.id, TrackSource::Screen),
                    stream: Some(stream.clone()),
                    label: p.name.clone(),
                    own: false,
                    participant: p,
                });
            }
        }
        tiles.push(Tile {
            id: TileId(p.id, TrackSource::Camera),
            stream: props.streams.get(&(p.id, TrackSource::Camera)).cloned(),
            label: p.name.clone(),
            own: false,
            participant: p,
        });
    }
    tiles
}

/// The tile shown large: in the speaker layout the pinned one, else a screen share, else
/// whoever speaks, else the first other; in the tiles layout only a pinned one.
fn main_tile(props: &StageProps, tiles: &[Tile]) -> Option<TileId> {
    match props.layout {
        Layout::Tiles => props.pinned,
        Layout::Speaker => props
            .pinned
            .filter(|id| tiles.iter().any(|tile| tile.id == *id))
            .or_else(|| {
                tiles
                    .iter()
                    .find(|tile| tile.id.1 == TrackSource::Screen)
                    .map(|tile| tile.id)
            })
            .or_else(|| {
                props
                    .active_speaker
                    .filter(|id| *id != props.own.id)
                    .map(|id| TileId(id, TrackSource::Camera))
            })
            .or_else(|| tiles.get(1).map(|tile| tile.id)),
    }
}

#[function_component(Stage)]
pub fn stage(props: &StageProps) -> Html {
    let lang = use_lang();
    let mut tiles = tiles(props, format!("{} ({})", props.own.name, t(lang, Key::You)));
    let main = main_tile(props, &tiles);
    if let Some(index) = main.and_then(|main| tiles.iter().position(|tile| tile.id == main)) {
        let tile = tiles.remove(index);
        tiles.insert(0, tile);
    }
    // The interpreter stays next to whoever is shown large, so both are seen together.
    if let Some(index) = tiles.iter().skip(1).position(|tile| {
        tile.participant.interpreter && tile.id.1 == TrackSource::Camera && !tile.own
    }) {
        let tile = tiles.remove(index + 1);
        tiles.insert(1.min(tiles.len()), tile);
    }
    let render = |tile: &Tile| {
        let id = tile.id;
        let on_pin = props.on_pin.reform(move |_: ()| id);
        let screen = id.1 == TrackSource::Screen;
        let key = format!("{}-{}", id.0, if screen { "screen" } else { "camera" });
        let p = tile.participant;
        // Oneself small unless alone or chosen to be shown large.
        let self_view = tile.own && !props.others.is_empty() && main != Some(id);
        let on_switch_camera = tile.own.then(|| props.on_switch_camera.clone()).flatten();
        html! {
            <VideoTile {key} stream={tile.stream.clone()} label={tile.label.clone()} own={tile.own}
                participant={Some(p.id)}
                source={id.1}
                camera_off={!screen && !p.media.camera}
                muted={!screen && !p.media.mic}
                hand={!screen && p.hand.is_some()}
                interpreter={!screen && p.interpreter}
                connection={if screen { ConnectionQuality::Good } else { p.connection }}
                video_paused={!screen && props.video_paused.contains(&p.id)}
                speaking={!screen && props.active_speaker == Some(p.id)}
                pinned={props.pinned == Some(id)}
                large={screen || main == Some(id)}
                on_pin={Some(on_pin)}
                sink_id={props.sink_id.clone()}
                {self_view} {on_switch_camera} />
        }
    };
    let layout = match props.layout {
        Layout::Tiles => "tiles",
        Layout::Speaker => "speaker",
    };
    html! {
        <section class={classes!("stage", layout)}>
            { for tiles.iter().map(render) }
            if props.others.is_empty() {
                <p class="alone">{ t(lang, Key::Alone) }</p>
            }
        </section>
    }
}
