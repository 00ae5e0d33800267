//! The counselors' desk: staff accounts made on the command line sign in at /desk, see who
//! waits in their rooms and make appointment-bound links. Rights are checked on the relay,
//! shown here with raw HTTP requests; the whole day of a counselor runs in real Chromium.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use sprechstunde_tests::browser::Driver;
use sprechstunde_tests::desk::{
    host_link, make_links, password_in, sign_in_at_the_desk, until_topic_heading,
};
use sprechstunde_tests::http::{self, Reply};
use sprechstunde_tests::relay::Relay;

struct Desk<'a> {
    relay: &'a Relay,
    origin: String,
}

impl Desk<'_> {
    fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<Reply> {
        let extra: String = headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}\r\n"))
            .collect();
        http::send(self.relay.http, method, path, &extra, body)
    }

    fn sign_in(&self, login: &str, password: &str) -> Result<Reply> {
        let body = serde_json::json!({ "login": login, "password": password }).to_string();
        self.send(
            "POST",
            "/desk/api/sign-in",
            &[("Origin", &self.origin)],
            &body,
        )
    }

    /// The session cookie (`name=value`) of a successful sign-in.
    fn cookie(reply: &Reply) -> Result<String> {
        ensure!(reply.status == 204, "sign-in answered {}", reply.status);
        let set = reply.header("set-cookie").context("no cookie set")?;
        Ok(set.split(';').next().unwrap_or_default().to_string())
    }

    fn meeting(&self, cookie: &str, origin: Option<&str>, room: &str) -> Result<Reply> {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis();
        let body =
            format!(r#"{{"room":"{room}","starts_at_ms":{now_ms},"minutes":45,"lang":"ar"}}"#);
        let mut headers = vec![("Cookie", cookie)];
        if let Some(origin) = origin {
            headers.push(("Origin", origin));
        }
        self.send("POST", "/desk/api/meetings", &headers, &body)
    }

    fn overview(&self, cookie: &str) -> Result<Reply> {
        self.send("GET", "/desk/api/overview", &[("Cookie", cookie)], "")
    }
}

fn json(reply: &Reply) -> Result<Value> {
    Ok(serde_json::from_slice(&reply.body)?)
}

#[test]
fn the_relay_checks_every_desk_request() -> Result<()> {
    let relay = Relay::start()?;
    let anna = password_in(&relay.admin(&["staff", "add", "anna", "--room", "beratung-a"])?)?;
    let ben = password_in(&relay.admin(&["staff", "add", "ben", "--room", "beratung-b"])?)?;
    let desk = Desk {
        relay: &relay,
        origin: relay.url(""),
    };

    // Sign-in: a missing or foreign Origin is refused before the password is looked at.
    let body = serde_json::json!({ "login": "anna", "password": anna }).to_string();
    for headers in [vec![], vec![("Origin", "http://evil.example")]] {
        let reply = desk.send("POST", "/desk/api/sign-in", &headers, &body)?;
        ensure!(
            reply.status == 403,
            "sign-in with {headers:?}: {}",
            reply.status
        );
    }
    ensure!(desk.sign_in("anna", "wrong")?.status == 401);
    let signed_in = desk.sign_in("Anna", &anna)?;
    let anna_cookie = Desk::cookie(&signed_in)?;
    let set = signed_in.header("set-cookie").unwrap_or_default();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/desk"] {
        ensure!(
            set.contains(attribute),
            "the cookie lacks {attribute}: {set}"
        );
    }
    ensure!(!set.contains("Secure"), "no TLS here, yet Secure: {set}");
    let overview = json(&desk.overview(&anna_cookie)?)?;
    ensure!(overview["login"] == "anna", "{overview}");
    ensure!(overview["rooms"][0]["room"] == "beratung-a", "{overview}");
    ensure!(
        overview["rooms"].as_array().map(Vec::len) == Some(1),
        "{overview}"
    );

    // Links: only for one's own room, only with the session, only from this relay's pages.
    let made = desk.meeting(&anna_cookie, Some(&desk.origin), "beratung-a")?;
    ensure!(made.status == 200, "own room: {}", made.status);
    let meeting = json(&made)?;
    let invite = meeting["invite_link"].as_str().unwrap_or_default();
    ensure!(
        invite.starts_with(&format!("{}/r/beratung-a?lang=ar#invite=v1.", desk.origin)),
        "{invite}"
    );
    ensure!(meeting["invite_qr_svg"]
        .as_str()
        .is_some_and(|s| s.starts_with("<?xml") && s.contains("<svg")));
    let forged = format!("sprechstunde_desk={}", "A".repeat(43));
    for (what, cookie, origin, room, status) in [
        (
            "another's room",
            anna_cookie.as_str(),
            Some(desk.origin.as_str()),
            "beratung-b",
            403,
        ),
        (
            "a forged cookie",
            forged.as_str(),
            Some(desk.origin.as_str()),
            "beratung-a",
            401,
        ),
        (
            "no cookie",
            "x=y",
            Some(desk.origin.as_str()),
            "beratung-a",
            401,
        ),
        ("no Origin", anna_cookie.as_str(), None, "beratung-a", 403),
        (
            "a foreign Origin",
            anna_cookie.as_str(),
            Some("http://evil.example"),
            "beratung-a",
            403,
        ),
    ] {
        let reply = desk.meeting(cookie, origin, room)?;
        ensure!(
            reply.status == status,
            "{what}: {} (wanted {status})",
            reply.status
        );
        ensure!(
            !String::from_utf8_lossy(&reply.body).contains("invite"),
            "{what} got a link"
        );
    }
    // Ben's own session sees only Ben's room, and cannot make links for Anna's.
    let ben_cookie = Desk::cookie(&desk.sign_in("ben", &ben)?)?;
    let overview = json(&desk.overview(&ben_cookie)?)?;
    ensure!(overview["rooms"].to_string().contains("beratung-b"));
    ensure!(
        !overview["rooms"].to_string().contains("beratung-a"),
        "{overview}"
    );
    ensure!(
        desk.meeting(&ben_cookie, Some(&desk.origin), "beratung-a")?
            .status
            == 403
    );

    // Rooms: only a member the operator lets create rooms makes one, and it is theirs.
    let make_room = |cookie: &str, room: &str| {
        desk.send(
            "POST",
            "/desk/api/rooms",
            &[("Cookie", cookie), ("Origin", &desk.origin)],
            &format!(r#"{{"room":"{room}"}}"#),
        )
    };
    ensure!(
        make_room(&anna_cookie, "neu")?.status == 403,
        "anna may not create rooms"
    );
    let chris = password_in(&relay.admin(&["staff", "add", "chris", "--create-rooms"])?)?;
    let chris_cookie = Desk::cookie(&desk.sign_in("chris", &chris)?)?;
    ensure!(make_room(&chris_cookie, "schulanmeldung")?.status == 204);
    let overview = json(&desk.overview(&chris_cookie)?)?;
    ensure!(
        overview["rooms"][0]["room"] == "schulanmeldung",
        "{overview}"
    );
    ensure!(
        make_room(&chris_cookie, "beratung-a")?.status == 409,
        "took Anna's room"
    );
    ensure!(
        desk.meeting(&chris_cookie, Some(&desk.origin), "beratung-a")?
            .status
            == 403
    );

    // Sign-out ends the session on the relay, whatever the browser keeps.
    let reply = desk.send(
        "POST",
        "/desk/api/sign-out",
        &[("Cookie", &ben_cookie), ("Origin", &desk.origin)],
        "",
    )?;
    ensure!(reply.status == 204);
    ensure!(
        desk.overview(&ben_cookie)?.status == 401,
        "signed out, still in"
    );

    // A password reset and a removal end sessions at once.
    let anna_second = Desk::cookie(&desk.sign_in("anna", &anna)?)?;
    let new_password = password_in(&relay.admin(&["staff", "reset-password", "anna"])?)?;
    ensure!(
        desk.overview(&anna_cookie)?.status == 401,
        "session lived past the reset"
    );
    ensure!(
        desk.overview(&anna_second)?.status == 401,
        "session lived past the reset"
    );
    ensure!(
        desk.sign_in("anna", &anna)?.status == 401,
        "the old password still works"
    );
    let anna_third = Desk::cookie(&desk.sign_in("anna", &new_password)?)?;
    ensure!(desk.overview(&anna_third)?.status == 200);
    relay.admin(&["staff", "remove", "anna"])?;
    ensure!(
        desk.overview(&anna_third)?.status == 401,
        "a removed account's session lived"
    );

    // The access log has the sign-ins as events, without the login names.
    let db = rusqlite::Connection::open(relay.data_dir.join("sprechstunde.sqlite3"))?;
    let mut kinds = db.prepare("SELECT kind, detail, ifnull(room, '') FROM events")?;
    let events: Vec<(String, String, String)> = kinds
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    ensure!(events.iter().any(|e| e.0 == "staff_sign_in"), "{events:?}");
    ensure!(
        events.iter().any(|e| e.0 == "staff_sign_in_failed"),
        "{events:?}"
    );
    ensure!(
        !events
            .iter()
            .any(|e| e.1.contains("anna") || e.2.contains("anna") || e.1.contains("ben")),
        "a login name in the events: {events:?}"
    );

    // Guessing: 5 wrong passwords from one address (two were made above), then even the
    // right one waits.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(desk.sign_in("ben", "guess")?.status);
    }
    statuses.push(desk.sign_in("ben", "guess")?.status);
    statuses.push(desk.sign_in("ben", &ben)?.status);
    ensure!(statuses == [401, 401, 401, 429, 429], "{statuses:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counselor_makes_an_appointment_and_the_family_comes_in() -> Result<()> {
    let relay = Relay::start_with(&["--guests-wait-for-host", "true"])?;
    let password = password_in(&relay.admin(&["staff", "add", "anna", "--room", "beratung"])?)?;
    let driver = Driver::start().await?;
    let counselor = driver.browser().await?;
    let family = driver.browser().await?;
    let walk_in = driver.browser().await?;

    sign_in_at_the_desk(&counselor, &relay.url("/desk"), "anna", &password).await?;
    counselor
        .until_true(
            "the room, nobody waiting",
            Duration::from_secs(10),
            "const r = document.querySelector('li.desk-room[data-room=beratung]'); return !!r && r.textContent.includes('Niemand wartet');",
        )
        .await?;

    // An appointment two hours ahead: the QR code on the page reads back as the link itself.
    let later = make_links(&counselor, 120).await?;
    ensure!(
        later.contains("/r/beratung?lang=de") || later.contains("/r/beratung#invite="),
        "{later}"
    );
    let png = counselor.screenshot_of("#meeting-qr svg").await?;
    let image = image::load_from_memory(&png)?.to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    ensure!(grids.len() == 1, "{} QR codes found", grids.len());
    let (_, decoded) = grids[0].decode()?;
    ensure!(
        decoded == later,
        "the QR code says {decoded}, the link is {later}"
    );

    // The family comes too early and is told when to come back.
    family.open_prejoin(&later, "Familie Demir").await?;
    family.button("Beitreten").await?.click().await?;
    family
        .until_true(
            "the family told to come back later",
            Duration::from_secs(10),
            "const e = document.querySelector('p.error[role=alert]'); \
             const d = new Date(Date.now() + 120 * 60000); \
             const hm = d.toLocaleTimeString('de', {hour: '2-digit', minute: '2-digit'}); \
             return !!e && e.textContent.includes('Ihr Termin beginnt') && e.textContent.includes(hm) && e.textContent.includes('bitte kommen Sie kurz vorher wieder');",
        )
        .await?;

    // A guest without a link waits for the host: the desk shows the name within 2 s.
    walk_in
        .open_prejoin(&relay.url("/r/beratung"), "Carla")
        .await?;
    walk_in.button("Beitreten").await?.click().await?;
    walk_in
        .until_true(
            "the walk-in waiting",
            Duration::from_secs(10),
            "return !!document.getElementById('waiting-state');",
        )
        .await?;
    counselor
        .until_true(
            "the desk to show Carla waiting",
            Duration::from_secs(2),
            "const r = document.querySelector('li.desk-room[data-room=beratung]'); return !!r && r.textContent.includes('Es warten: Carla');",
        )
        .await?;

    // An appointment now: the counselor opens the room from the desk, and the family with
    // the fresh invitation comes straight in.
    let now = make_links(&counselor, 0).await?;
    counselor
        .click("li.desk-room[data-room=beratung] button")
        .await?;
    counselor
        .until_true(
            "the host link opened",
            Duration::from_secs(10),
            "return location.pathname === '/r/beratung';",
        )
        .await?;
    counselor.type_into("display-name", "Frau Berger").await?;
    counselor.agree_to_privacy_notice().await?;
    counselor.press_join().await?;
    // A new page (only the fragment differs from the early link's address).
    family.goto("about:blank").await?;
    family.open_prejoin(&now, "Familie Demir").await?;
    family.press_join().await?;
    family
        .until_sees_and_hears("Frau Berger", Duration::from_secs(30))
        .await?;
    counselor
        .until_sees_and_hears("Familie Demir", Duration::from_secs(30))
        .await?;
    // The walk-in without a link still waits for the counselor to let her in.
    ensure!(
        walk_in
            .eval("return !!document.getElementById('waiting-state');")
            .await?
            == Value::Bool(true),
        "the walk-in came in without being let in"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meeting_made_with_topic_and_password_gets_them_and_its_invitation_cannot_walk_in_before(
) -> Result<()> {
    // Guests need no host here: that the early family still knocks is the invitation's doing.
    let relay = Relay::start_with(&["--guests-wait-for-host", "false"])?;
    let password = password_in(&relay.admin(&["staff", "add", "anna", "--room", "beratung"])?)?;
    let driver = Driver::start().await?;
    let counselor = driver.browser().await?;
    let early = driver.browser().await?;
    let family = driver.browser().await?;
    let (topic, secret) = ("Anmeldung Klasse 5 & Ganztag", "Sonnenblume-7");

    sign_in_at_the_desk(&counselor, &relay.url("/desk"), "anna", &password).await?;
    counselor.type_into("meeting-topic", topic).await?;
    counselor
        .type_into("meeting-description", "Unterlagen bitte bereithalten")
        .await?;
    counselor.type_into("desk-meeting-password", secret).await?;
    let invitation = make_links(&counselor, 0).await?;
    let host_link = host_link(&counselor).await?;
    ensure!(
        !invitation.contains("Sonnenblume") && !invitation.contains("topic"),
        "the invitation carries nothing of it: {invitation}"
    );
    let printed = counselor
        .eval("return document.getElementById('desk-print').textContent;")
        .await?;
    let printed = printed.as_str().unwrap_or_default();
    ensure!(
        printed.contains(topic)
            && printed.contains("außerdem ein Passwort")
            && !printed.contains(secret),
        "the printed page names the topic and that a password is needed, not the password: {printed}"
    );

    // Before the counselor: the invitation knocks although guests need no host here.
    early.open_prejoin(&invitation, "Früh").await?;
    early.button("Beitreten").await?.click().await?;
    early
        .until_true(
            "the early family waiting",
            Duration::from_secs(10),
            "return !!document.getElementById('waiting-state');",
        )
        .await?;

    // The counselor's link sets the topic and the password.
    counselor.goto("about:blank").await?;
    counselor.open_prejoin(&host_link, "Frau Berger").await?;
    counselor.press_join().await?;
    until_topic_heading(&counselor, topic, Duration::from_secs(10)).await?;
    early
        .until_true(
            "the waiting family seeing the topic",
            Duration::from_secs(10),
            &format!("const t = document.getElementById('waiting-topic'); return !!t && t.textContent.includes({topic:?});"),
        )
        .await?;

    // The family is asked for the password, and with it comes straight in.
    family.open_prejoin(&invitation, "Familie Demir").await?;
    family.button("Beitreten").await?.click().await?;
    family
        .until_true(
            "the password prompt",
            Duration::from_secs(10),
            "return !!document.getElementById('password-submit');",
        )
        .await?;
    family.type_into("meeting-password", secret).await?;
    family.click("#password-submit").await?;
    family
        .until_sees_and_hears("Frau Berger", Duration::from_secs(30))
        .await?;
    ensure!(
        relay.files_containing(secret)?.is_empty()
            && relay.files_containing("Sonnenblume")?.is_empty(),
        "the password reached a file"
    );
    Ok(())
}
