//! The counselors' desk (`/desk`): the same app with the desk, built apart.

fn main() {
    sprechstunde_client::start(Some(sprechstunde_client::desk_page));
}
