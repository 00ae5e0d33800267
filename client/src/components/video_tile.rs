//! One person on the stage: their video (or a placeholder) and their name.

use sprechstunde_shared::ParticipantId;
use web_sys::{HtmlVideoElement, MediaStream};
use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, Key};

#[derive(Properties, PartialEq)]
pub struct VideoTileProps {
    pub stream: Option<MediaStream>,
    pub label: AttrValue,
    /// The own preview: never play it back (echo), show it mirrored.
    #[prop_or_default]
    pub own: bool,
    #[prop_or_default]
    pub participant: Option<ParticipantId>,
}

#[function_component(VideoTile)]
pub fn video_tile(props: &VideoTileProps) -> Html {
    let lang = use_lang();
    let video = use_node_ref();
    {
        let video = video.clone();
        let own = props.own;
        use_effect_with(props.stream.clone(), move |stream| {
            if let Some(element) = video.cast::<HtmlVideoElement>() {
                // `muted` must be the property, not only the attribute, to stop playback.
                element.set_muted(own);
                element.set_src_object(stream.as_ref());
                if stream.is_some() {
                    let _ = element.play();
                }
            }
        });
    }
    let mut class = classes!("tile");
    if props.own {
        class.push("own");
    }
    let participant = props.participant.map(|id| id.to_string());
    let video_label = format!("{} {}", t(lang, Key::VideoOf), props.label);
    html! {
        <figure {class} data-participant={participant}>
            if props.stream.is_some() {
                <video ref={video} autoplay=true playsinline=true aria-label={video_label} />
            } else {
                <div class="placeholder" aria-hidden="true">{ t(lang, Key::NoVideo) }</div>
            }
            <figcaption>{ props.label.clone() }</figcaption>
        </figure>
    }
}
