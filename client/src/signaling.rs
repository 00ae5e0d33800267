//! The WebSocket to the relay: typed messages in and out, nothing else.

use sprechstunde_shared::{ClientMessage, ServerMessage};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

// Nearly every event is a message, and signaling is a few messages a second: boxing each
// would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum SignalingEvent {
    Open,
    Message(ServerMessage),
    /// A message from the relay that this client does not understand.
    Garbled,
    Closed(Closed),
}

/// How a signaling connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// The socket closed with this code (the relay's decision, or 1006 for a drop).
    WithCode(u16),
    /// Nothing came from the relay for too long: this side gave up on the connection.
    Silent,
}

pub struct Signaling {
    socket: WebSocket,
    // Kept alive as long as the socket; dropped handlers would be invalid.
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

/// `ws://` or `wss://` on the page's own origin: the relay that served the app.
fn relay_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}/ws", location.host().ok()?))
}

impl Signaling {
    pub fn connect(on_event: impl Fn(SignalingEvent) + 'static) -> Option<Signaling> {
        let socket = WebSocket::new(&relay_url()?).ok()?;
        let on_event = std::rc::Rc::new(on_event);

        let handler = on_event.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || handler(SignalingEvent::Open));
        let handler = on_event.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let parsed = event
                .data()
                .as_string()
                .and_then(|text| ServerMessage::from_json(&text).ok());
            handler(match parsed {
                Some(message) => SignalingEvent::Message(message),
                None => SignalingEvent::Garbled,
            });
        });
        let handler = on_event;
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            handler(SignalingEvent::Closed(Closed::WithCode(event.code())))
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Some(Signaling {
            socket,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    pub fn send(&self, message: &ClientMessage) {
        if self.socket.ready_state() == WebSocket::OPEN {
            let _ = self.socket.send_with_str(&message.to_json());
        }
    }

    pub fn close(&self) {
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}
