//! The app a family or a counselor opens with a room link: everything but the desk.

fn main() {
    sprechstunde_client::start(None);
}
