//! The chat: messages as plain text (links shown, never fetched), a receiver choice for
//! private messages, the input, and the download.

use sprechstunde_shared::{ChatMessage, ChatText, ChatTextError, Participant, ParticipantId};
use web_sys::{HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, Key};
use crate::transcript;

#[derive(Properties, PartialEq)]
pub struct ChatPanelProps {
    pub messages: Vec<ChatMessage>,
    pub me: Option<ParticipantId>,
    pub others: Vec<Participant>,
    pub on_send: Callback<(String, Option<ParticipantId>)>,
    pub on_download: Callback<()>,
    /// A refusal by the relay to show under the input.
    pub error: Option<Key>,
    /// Hosts read the whole meeting's chat; everyone else only what came after they did.
    #[prop_or_default]
    pub host: bool,
}

/// Text with `http(s)://` words as links that open in a new tab; nothing is previewed.
fn render_text(text: &str) -> Html {
    let mut parts = Vec::new();
    let mut plain = String::new();
    for word in text.split_inclusive(char::is_whitespace) {
        let bare = word.trim_end();
        if bare.starts_with("https://") || bare.starts_with("http://") {
            if !plain.is_empty() {
                parts.push(html! { { std::mem::take(&mut plain) } });
            }
            parts.push(html! {
                <a href={bare.to_string()} target="_blank" rel="noopener noreferrer nofollow">{ bare }</a>
            });
            plain.push_str(&word[bare.len()..]);
        } else {
            plain.push_str(word);
        }
    }
    if !plain.is_empty() {
        parts.push(html! { { plain } });
    }
    parts.into_iter().collect::<Html>()
}

#[function_component(ChatPanel)]
pub fn chat_panel(props: &ChatPanelProps) -> Html {
    let lang = use_lang();
    let input = use_node_ref();
    let target = use_node_ref();
    let local_error = use_state(|| None::<Key>);

    let send = {
        let input = input.clone();
        let target = target.clone();
        let on_send = props.on_send.clone();
        let local_error = local_error.clone();
        Callback::from(move |_: ()| {
            let Some(field) = input.cast::<HtmlTextAreaElement>() else {
                return;
            };
            match ChatText::parse(&field.value()) {
                Ok(text) => {
                    let to = target
                        .cast::<HtmlSelectElement>()
                        .map(|s| s.value())
                        .and_then(|v| v.parse::<u64>().ok())
                        .map(ParticipantId);
                    on_send.emit((text.into_string(), to));
                    field.set_value("");
                    local_error.set(None);
                }
                Err(ChatTextError::Empty) => local_error.set(Some(Key::ChatEmptyError)),
                // The text stays in the field: nothing typed is lost.
                Err(ChatTextError::TooLong) => local_error.set(Some(Key::ChatTooLong)),
            }
        })
    };
    let onsubmit = {
        let send = send.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            send.emit(());
        })
    };
    // Enter sends, Shift+Enter makes a new line.
    let onkeydown = Callback::from(move |event: KeyboardEvent| {
        if event.key() == "Enter" && !event.shift_key() {
            event.prevent_default();
            send.emit(());
        }
    });
    let download = {
        let on_download = props.on_download.clone();
        Callback::from(move |_: MouseEvent| on_download.emit(()))
    };
    let error = (*local_error).or(props.error);

    html! {
        <section class="panel chat" aria-labelledby="chat-heading">
            <h2 id="chat-heading">{ t(lang, Key::ChatHeading) }</h2>
            if !props.host {
                <p class="hint">{ t(lang, Key::ChatSinceJoining) }</p>
            }
            <ol class="messages" aria-live="polite">
                if props.messages.is_empty() {
                    <li class="empty">{ t(lang, Key::ChatEmpty) }</li>
                }
                { for props.messages.iter().map(|m| {
                    let own = Some(m.from) == props.me;
                    let private = m.to.is_some();
                    html! {
                        <li key={m.id} class={classes!("message", own.then_some("own"), private.then_some("private"))}
                            data-from={m.from.to_string()}>
                            <span class="meta">
                                <time datetime={transcript::iso_time(m.time_ms)}>{ transcript::clock_time(lang, m.time_ms) }</time>
                                { " " }<b class="sender"><bdi>{ m.from_name.clone() }</bdi></b>
                                if let Some(to) = &m.to_name {
                                    { " → " }<bdi>{ to.clone() }</bdi>{ format!(" ({})", t(lang, Key::Private)) }
                                }
                            </span>
                            <span class="text" dir="auto">{ render_text(&m.text) }</span>
                        </li>
                    }
                }) }
            </ol>
            <form class="chat-form" {onsubmit}>
                <label for="chat-target">{ t(lang, Key::ChatTo) }</label>
                <select id="chat-target" ref={target}>
                    <option value="" selected=true>{ t(lang, Key::Everyone) }</option>
                    { for props.others.iter().map(|p| html! {
                        <option key={p.id.0} value={p.id.0.to_string()}>{ p.name.clone() }</option>
                    }) }
                </select>
                <label for="chat-input" class="visually-hidden">{ t(lang, Key::ChatMessageLabel) }</label>
                <textarea id="chat-input" ref={input} rows="2" {onkeydown}
                    placeholder={t(lang, Key::ChatMessageLabel)} aria-describedby="chat-error" />
                <p id="chat-error" class="error" role="alert">
                    if let Some(error) = error { { t(lang, error) } }
                </p>
                <div class="actions">
                    <button type="submit" class="primary" id="chat-send">{ t(lang, Key::Send) }</button>
                    <button type="button" id="chat-download" onclick={download}
                        disabled={props.messages.is_empty()}>{ t(lang, Key::ChatDownload) }</button>
                </div>
            </form>
        </section>
    }
}
