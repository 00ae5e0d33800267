//! Firefox in the call: Debian's Firefox ESR (through geckodriver) and Chromium, each on a
//! host of its own, see and hear each other through the relay, chat both ways, and a mute in
//! Firefox stops its audio at the other end. Firefox alone goes through the pre-join page
//! (connection check, camera preview) and "Meine Daten". Headless Firefox has no fake screen
//! to share, so screen sharing is not part of it. A counselor also uses the desk in Firefox:
//! signs in, makes an appointment with a topic, and runs it from her link. Firefox sends its
//! camera in simulcast layers, and a Chromium receiver gets the layer it chose.

use std::time::Duration;

use anyhow::{ensure, Result};
use fantoccini::Locator;
use sprechstunde_tests::browser::Browser;
use sprechstunde_tests::desk::{
    host_link, make_links, password_in, sign_in_at_the_desk, until_topic_heading,
};
use sprechstunde_tests::netns::RELAY_IP;
use sprechstunde_tests::receiving::{choose, until_received};
use sprechstunde_tests::two_hosts::{TwoHosts, MEDIA_TIMEOUT, ROOM};

/// Open the chat panel if it is closed, and wait for `text` in it.
async fn reads_chat(browser: &Browser, who: &str, text: &str) -> Result<()> {
    browser
        .until_true(
            &format!("{who} to read {text:?}"),
            Duration::from_secs(15),
            &format!(
                "if (!document.getElementById('chat-input')) document.getElementById('open-chat').click();
                 return [...document.querySelectorAll('.panel.chat li')].some(li => li.textContent.includes({text:?}));"
            ),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_and_firefox_see_hear_chat_and_mute() -> Result<()> {
    let call = TwoHosts::chromium_and_firefox().await?;
    let (anna, ben) = (&call.anna, &call.ben);
    // Anna in Chromium, Ben in Firefox: each sees and hears the other.
    call.join().await?;
    anna.until_stats("Anna to hear Ben", MEDIA_TIMEOUT, |s| {
        s.audio_packets() > 50
    })
    .await?;
    let path = ben.media_path().await?;
    ensure!(path.as_deref() == Some("udp"), "Firefox's path: {path:?}");

    ben.send_chat("Grüße aus Firefox", None).await?;
    reads_chat(anna, "Anna", "Grüße aus Firefox").await?;
    anna.send_chat("Antwort aus Chromium", None).await?;
    reads_chat(ben, "Ben", "Antwort aus Chromium").await?;

    // Ben mutes in Firefox: Anna sees it, and his audio stops reaching her.
    ben.click("#toggle-mic").await?;
    anna.until_true(
        "Anna to see Ben muted",
        MEDIA_TIMEOUT,
        "return !!document.querySelector('figure.tile[data-participant]:not(.own) .badge.muted');",
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let then = anna.stats().await?.audio_packets();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let now = anna.stats().await?.audio_packets();
    ensure!(
        now <= then + 5,
        "Firefox's audio kept flowing while muted: {then} -> {now}"
    );
    // And Ben still sees Anna's video moving.
    let frames = ben.stats().await?.frames_decoded();
    ben.until_stats("Ben's video of Anna to go on", MEDIA_TIMEOUT, |s| {
        s.frames_decoded() > frames + 30
    })
    .await?;
    Ok(())
}

/// Firefox sends its camera in layers too, and a Chromium receiver gets the one it chose:
/// the small one with "Niedrig", a larger one with "Automatisch".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_sends_layers_and_the_receiver_gets_the_one_it_chose() -> Result<()> {
    let call = TwoHosts::chromium_and_firefox().await?;
    let (anna, ben) = (&call.anna, &call.ben);
    call.join().await?;
    choose(ben, "video-quality", "high").await?;
    ben.until_true(
            "Firefox to send at least two layers",
            MEDIA_TIMEOUT,
            "const s = window.__testPeerConnections.flatMap(pc => pc.getSenders())
               .find(s => s.track && s.track.kind === 'video');
             const rids = s ? s.getParameters().encodings.filter(e => e.active).map(e => e.rid).join() : '';
             return rids.startsWith('l,m') || rids;",
        )
        .await?;
    choose(anna, "receive-quality", "low").await?;
    let low = until_received(anna, "Anna ('low') to get Firefox's small layer", |r| {
        r.frame_height > 0 && r.frame_height <= 240 && r.frames_decoded > 0
    })
    .await?;
    choose(anna, "receive-quality", "auto").await?;
    let auto = until_received(anna, "Anna ('auto') to get a larger layer", |r| {
        r.frame_height > low.frame_height
    })
    .await?;
    println!(
        "Firefox's camera at Anna: {} lines with 'low', {} with 'auto'",
        low.frame_height, auto.frame_height
    );
    until_received(anna, "Anna's picture of Ben to keep coming", |r| {
        r.frames_decoded > auto.frames_decoded + 30
    })
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_alone_through_pre_join_and_my_data() -> Result<()> {
    let call = TwoHosts::chromium_and_firefox().await?;
    let ben = &call.ben;
    let base = format!("http://{RELAY_IP}:{}", call.http_port);
    ben.open_prejoin(&format!("{base}/r/{ROOM}"), "Ben").await?;
    let (verdict, text) = ben.connection_check().await?;
    ensure!(
        verdict == "udp" && text.starts_with("Alles bereit"),
        "Firefox's connection check: {verdict} {text:?}"
    );
    // The camera preview shows Firefox's fake camera.
    ben.button("Kamera und Mikrofon testen")
        .await?
        .click()
        .await?;
    ben.until_true(
        "the preview to play",
        Duration::from_secs(15),
        "const v = document.querySelector('.preview video'); return !!v && v.videoWidth > 0;",
    )
    .await?;
    // Remember the name, then find it in "Meine Daten" and delete everything.
    ben.click("label[for='remember-name']").await?;
    ben.press_join().await?;
    ben.button("Verlassen").await?.click().await?;
    ben.client.goto(&format!("{base}/meine-daten")).await?;
    let list = ben
        .wait_for(Locator::Id("my-data-list"))
        .await?
        .text()
        .await?;
    ensure!(
        list.contains("Ben"),
        "the remembered name is not listed: {list:?}"
    );
    ben.button("Alle meine Daten löschen")
        .await?
        .click()
        .await?;
    ben.button("Ja, alles löschen").await?.click().await?;
    let result = ben
        .wait_for(Locator::Id("my-data-result"))
        .await?
        .text()
        .await?;
    ensure!(result == "Alle Daten wurden gelöscht.", "{result:?}");
    let left = ben.eval("return localStorage.length").await?;
    ensure!(left == 0, "localStorage keeps {left} entries");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_in_firefox_makes_an_appointment_its_counselor_runs() -> Result<()> {
    let call = TwoHosts::chromium_and_firefox().await?;
    let (family, counselor) = (&call.anna, &call.ben);
    let password = password_in(&call.relay.admin(&["staff", "add", "ben", "--room", ROOM])?)?;
    let base = format!("http://{RELAY_IP}:{}", call.http_port);
    sign_in_at_the_desk(counselor, &format!("{base}/desk"), "ben", &password).await?;
    counselor
        .until_true(
            "the room listed",
            Duration::from_secs(10),
            &format!("return !!document.querySelector('li.desk-room[data-room={ROOM}]');"),
        )
        .await?;
    let topic = "Übergang in die 5. Klasse";
    counselor.type_into("meeting-topic", topic).await?;
    let invitation = make_links(counselor, 0).await?;
    // Firefox draws the QR code the relay made.
    let drawn = counselor
        .eval("const s = document.querySelector('#meeting-qr svg'); const r = s && s.getBoundingClientRect(); return !!r && r.width > 100 && r.height > 100;")
        .await?;
    ensure!(drawn == true, "no QR code drawn in Firefox");
    let host_link = host_link(counselor).await?;

    // Her link sets the topic; the family (Chromium) comes in with the invitation, no knocking.
    counselor.open_prejoin(&host_link, "Herr Kaya").await?;
    counselor.press_join().await?;
    until_topic_heading(counselor, topic, Duration::from_secs(10)).await?;
    family.open_prejoin(&invitation, "Familie Aydin").await?;
    family.press_join().await?;
    until_topic_heading(family, topic, MEDIA_TIMEOUT).await?;
    family
        .until_stats(
            "the family to see and hear the counselor",
            MEDIA_TIMEOUT,
            |s| s.frames_decoded() > 30 && s.audio_packets() > 50,
        )
        .await?;
    Ok(())
}
