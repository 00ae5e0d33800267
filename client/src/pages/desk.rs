//! `/desk`: the counselors' desk. Sign in, see who waits in one's rooms (live), open a room
//! as its host, and make an appointment's links with a QR code and a page to print.

use sprechstunde_shared::{DESCRIPTION_MAX, TOPIC_MAX};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{
    EventSource, HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement, MessageEvent,
};
use yew::prelude::*;

use crate::app::use_lang;
use crate::desk_api::{self, DeskError, Meeting, MeetingRequest, Overview, RoomStatus};
use crate::i18n::{t, tf, Key, Lang};
use crate::route::MeetingSetup;

#[derive(Clone, PartialEq)]
enum View {
    Checking,
    SignIn(Option<Key>),
    Desk(Overview),
}

fn error_key(error: DeskError) -> Key {
    match error {
        DeskError::WrongPassword => Key::DeskWrongPassword,
        DeskError::TooManyAttempts => Key::DeskTooManyAttempts,
        DeskError::Refused => Key::DeskCouldNotMake,
        DeskError::SignedOut | DeskError::Unreachable => Key::DeskUnavailable,
    }
}

/// What the input behind `field` holds (empty before it is drawn).
fn input_value(field: &NodeRef) -> String {
    field
        .cast::<HtmlInputElement>()
        .map(|i| i.value())
        .unwrap_or_default()
}

fn show_overview(view: UseStateHandle<View>, failure: Option<Key>) {
    spawn_local(async move {
        match desk_api::overview().await {
            Ok(overview) => view.set(View::Desk(overview)),
            Err(DeskError::SignedOut) => view.set(View::SignIn(failure)),
            Err(e) => view.set(View::SignIn(Some(error_key(e)))),
        }
    });
}

#[function_component(DeskPage)]
pub fn desk_page() -> Html {
    let lang = use_lang();
    let view = use_state(|| View::Checking);
    {
        let view = view.clone();
        use_effect_with((), move |_| show_overview(view, None));
    }
    html! {
        <main class="page desk" id="desk">
            <h1>{ t(lang, Key::DeskTitle) }</h1>
            {
                match &*view {
                    View::Checking => html! { <p role="status">{ "…" }</p> },
                    View::SignIn(error) => html! { <SignIn error={*error} view={view.clone()} /> },
                    View::Desk(overview) => html! { <Desk overview={overview.clone()} view={view.clone()} /> },
                }
            }
        </main>
    }
}

#[derive(Properties, PartialEq)]
struct SignInProps {
    error: Option<Key>,
    view: UseStateHandle<View>,
}

#[function_component(SignIn)]
fn sign_in(props: &SignInProps) -> Html {
    let lang = use_lang();
    let login = use_node_ref();
    let password = use_node_ref();
    let busy = use_state(|| false);
    let onsubmit = {
        let (login, password, busy, view) = (
            login.clone(),
            password.clone(),
            busy.clone(),
            props.view.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (name, secret) = (input_value(&login), input_value(&password));
            let (busy, view) = (busy.clone(), view.clone());
            busy.set(true);
            spawn_local(async move {
                match desk_api::sign_in(&name, &secret).await {
                    Ok(()) => show_overview(view, Some(Key::DeskUnavailable)),
                    Err(e) => view.set(View::SignIn(Some(error_key(e)))),
                }
                busy.set(false);
            });
        })
    };
    html! {
        <form class="desk-sign-in" {onsubmit}>
            if let Some(error) = props.error {
                <p class="error" role="alert" id="desk-error">{ t(lang, error) }</p>
            }
            <label for="desk-login">{ t(lang, Key::DeskLogin) }</label>
            <input id="desk-login" ref={login} autocomplete="username" required=true autocapitalize="none" />
            <label for="desk-password">{ t(lang, Key::DeskPassword) }</label>
            <input id="desk-password" ref={password} type="password" autocomplete="current-password" required=true />
            <button type="submit" class="primary" id="desk-sign-in" disabled={*busy}>{ t(lang, Key::DeskSignIn) }</button>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct DeskProps {
    overview: Overview,
    view: UseStateHandle<View>,
}

/// Keeps the rooms' status current from `/desk/api/live` while the desk is shown.
#[hook]
fn use_live_rooms(initial: Vec<RoomStatus>) -> UseStateHandle<Vec<RoomStatus>> {
    let rooms = use_state(|| initial);
    {
        let rooms = rooms.clone();
        use_effect_with((), move |_| {
            let source = EventSource::new("/desk/api/live").ok();
            let listener = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let text = event.data().as_string().unwrap_or_default();
                if let Ok(status) = serde_json::from_str::<Vec<RoomStatus>>(&text) {
                    rooms.set(status);
                }
            });
            if let Some(source) = &source {
                let _ = source
                    .add_event_listener_with_callback("status", listener.as_ref().unchecked_ref());
            }
            move || {
                if let Some(source) = source {
                    source.close();
                }
                drop(listener);
            }
        });
    }
    rooms
}

/// Opens `room` as its host now: a link for the next hour, followed at once.
fn open_room(room: String, failed: UseStateHandle<Option<Key>>) {
    spawn_local(async move {
        let request = MeetingRequest {
            room,
            starts_at_ms: js_sys::Date::now() as i64,
            minutes: 60,
            lang: None,
            with_password: false,
        };
        match desk_api::make_meeting(&request).await {
            Ok(meeting) => {
                if let Some(window) = web_sys::window() {
                    let _ = window.location().assign(&meeting.host_link);
                }
            }
            Err(e) => failed.set(Some(error_key(e))),
        }
    });
}

#[function_component(Desk)]
fn desk(props: &DeskProps) -> Html {
    let lang = use_lang();
    let rooms = use_live_rooms(props.overview.rooms.clone());
    let failed = use_state(|| None::<Key>);
    let on_sign_out = {
        let view = props.view.clone();
        Callback::from(move |_: MouseEvent| {
            let view = view.clone();
            spawn_local(async move {
                let _ = desk_api::sign_out().await;
                view.set(View::SignIn(None));
            });
        })
    };
    let room_names: Vec<String> = props
        .overview
        .rooms
        .iter()
        .map(|r| r.room.clone())
        .collect();
    html! {
        <>
            <p class="desk-who">
                <span id="desk-login-name">{ props.overview.login.clone() }</span>{ " " }
                <button type="button" id="desk-sign-out" onclick={on_sign_out}>{ t(lang, Key::DeskSignOut) }</button>
            </p>
            if let Some(error) = *failed {
                <p class="error" role="alert">{ t(lang, error) }</p>
            }
            <section aria-labelledby="desk-rooms-heading">
                <h2 id="desk-rooms-heading">{ t(lang, Key::DeskRooms) }</h2>
                if rooms.is_empty() {
                    <p>{ t(lang, Key::DeskNoRooms) }</p>
                }
                <ul class="desk-rooms" aria-live="polite">
                    { for rooms.iter().map(|status| room_row(lang, status, failed.clone())) }
                </ul>
            </section>
            if props.overview.may_create_rooms {
                <NewRoom view={props.view.clone()} />
            }
            if !room_names.is_empty() {
                <MeetingForm rooms={room_names} />
            }
        </>
    }
}

fn room_row(lang: Lang, status: &RoomStatus, failed: UseStateHandle<Option<Key>>) -> Html {
    let waiting = if status.waiting.is_empty() {
        t(lang, Key::DeskNobodyWaiting).to_string()
    } else {
        tf(
            lang,
            Key::DeskWaiting,
            &[("names", &status.waiting.join(", "))],
        )
    };
    let room = status.room.clone();
    let onclick = Callback::from(move |_: MouseEvent| open_room(room.clone(), failed.clone()));
    html! {
        <li class={classes!("desk-room", (!status.waiting.is_empty()).then_some("someone-waits"))}
            data-room={status.room.clone()}>
            <b>{ status.room.clone() }</b>
            <span class="desk-waiting">{ waiting }</span>
            if status.hosts > 0 {
                <span class="desk-host-present">{ t(lang, Key::DeskHostPresent) }</span>
            }
            <button type="button" class="primary" {onclick}>
                { tf(lang, Key::DeskOpenRoom, &[("room", &status.room)]) }
            </button>
        </li>
    }
}

#[derive(Properties, PartialEq)]
struct MeetingFormProps {
    rooms: Vec<String>,
}

/// Today's date and the next full hour, as the form's inputs write them.
fn next_hour() -> (String, String) {
    let now = js_sys::Date::new_0();
    let next = js_sys::Date::new(&JsValue::from_f64(
        now.get_time() + f64::from(60 - now.get_minutes()) * 60_000.0,
    ));
    (
        format!(
            "{:04}-{:02}-{:02}",
            next.get_full_year(),
            next.get_month() + 1,
            next.get_date()
        ),
        format!("{:02}:00", next.get_hours()),
    )
}

/// "2026-12-03" and "14:00" in the browser's time zone, as ms since 1970.
fn local_ms(date: &str, time: &str) -> Option<i64> {
    let mut d = date.split('-').map(|p| p.parse::<i32>().ok());
    let mut h = time.split(':').map(|p| p.parse::<i32>().ok());
    let (Some(Some(year)), Some(Some(month)), Some(Some(day))) = (d.next(), d.next(), d.next())
    else {
        return None;
    };
    let (Some(Some(hour)), Some(Some(minute))) = (h.next(), h.next()) else {
        return None;
    };
    let date = js_sys::Date::new_with_year_month_day_hr_min(
        u32::try_from(year).ok()?,
        month - 1,
        day,
        hour,
        minute,
    );
    let ms = date.get_time();
    ms.is_finite().then_some(ms as i64)
}

fn local_date_time(lang: Lang, ms: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    let options = crate::appointment::locale_options(&[
        ("weekday", "short"),
        ("day", "numeric"),
        ("month", "numeric"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
    ]);
    date.to_locale_string(lang.code(), &options).into()
}

#[function_component(MeetingForm)]
fn meeting_form(props: &MeetingFormProps) -> Html {
    let lang = use_lang();
    let (date, time) = use_memo((), |_| next_hour()).as_ref().clone();
    let (room, day, hour, minutes, family) = (
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
        use_node_ref(),
    );
    let (topic, description, password) = (use_node_ref(), use_node_ref(), use_node_ref());
    let made = use_state(|| None::<Made>);
    let failed = use_state(|| None::<Key>);
    let onsubmit = {
        let (room, day, hour, minutes, family, made, failed) = (
            room.clone(),
            day.clone(),
            hour.clone(),
            minutes.clone(),
            family.clone(),
            made.clone(),
            failed.clone(),
        );
        let (topic, description, password) = (topic.clone(), description.clone(), password.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let select = |r: &NodeRef| {
                r.cast::<HtmlSelectElement>()
                    .map(|s| s.value())
                    .unwrap_or_default()
            };
            let input = input_value;
            let family_lang = Lang::from_code(&select(&family)).unwrap_or(Lang::De);
            let Some(starts_at_ms) = local_ms(&input(&day), &input(&hour)) else {
                failed.set(Some(Key::DeskCouldNotMake));
                return;
            };
            let filled = |value: String| (!value.trim().is_empty()).then_some(value);
            let setup = MeetingSetup {
                topic: filled(input(&topic)),
                description: filled(
                    description
                        .cast::<HtmlTextAreaElement>()
                        .map(|area| area.value())
                        .unwrap_or_default(),
                ),
                password: filled(input(&password)),
            };
            let request = MeetingRequest {
                room: select(&room),
                starts_at_ms,
                minutes: select(&minutes).parse().unwrap_or(60),
                lang: Some(family_lang.code().to_string()),
                with_password: setup.password.is_some(),
            };
            let (made, failed) = (made.clone(), failed.clone());
            spawn_local(async move {
                // The printed page also speaks the family's language.
                let _ = crate::language::load(family_lang).await;
                match desk_api::make_meeting(&request).await {
                    Ok(mut meeting) => {
                        // Topic, description and password go only into the counselor's link.
                        meeting.host_link =
                            crate::route::host_link_with(&meeting.host_link, &setup);
                        failed.set(None);
                        made.set(Some(Made {
                            meeting,
                            family: family_lang,
                            setup,
                        }));
                    }
                    Err(e) => failed.set(Some(error_key(e))),
                }
            });
        })
    };
    html! {
        <section aria-labelledby="desk-meeting-heading" class="desk-meeting">
            <h2 id="desk-meeting-heading">{ t(lang, Key::DeskNewMeeting) }</h2>
            <form {onsubmit}>
                <label for="meeting-room">{ t(lang, Key::DeskRoom) }</label>
                <select id="meeting-room" ref={room}>
                    { for props.rooms.iter().map(|r| html! { <option value={r.clone()}>{ r.clone() }</option> }) }
                </select>
                <label for="meeting-date">{ t(lang, Key::DeskDate) }</label>
                <input id="meeting-date" type="date" ref={day} value={date} required=true />
                <label for="meeting-time">{ t(lang, Key::DeskTime) }</label>
                <input id="meeting-time" type="time" ref={hour} value={time} required=true />
                <label for="meeting-minutes">{ t(lang, Key::DeskMinutes) }</label>
                <select id="meeting-minutes" ref={minutes}>
                    { for [30, 45, 60, 90].iter().map(|m| html! { <option value={m.to_string()} selected={*m == 60}>{ m.to_string() }</option> }) }
                </select>
                <label for="meeting-language">{ t(lang, Key::DeskFamilyLanguage) }</label>
                <select id="meeting-language" ref={family}>
                    { for Lang::ALL.iter().map(|l| html! { <option value={l.code()} lang={l.code()} selected={*l == Lang::De}>{ l.native_name() }</option> }) }
                </select>
                <label for="meeting-topic">{ t(lang, Key::DeskTopic) }</label>
                <input id="meeting-topic" ref={topic} maxlength={TOPIC_MAX.to_string()} aria-describedby="meeting-texts-hint" />
                <label for="meeting-description">{ t(lang, Key::DescriptionLabel) }</label>
                <textarea id="meeting-description" ref={description} rows="3" maxlength={DESCRIPTION_MAX.to_string()} aria-describedby="meeting-texts-hint" />
                <p class="hint" id="meeting-texts-hint">{ t(lang, Key::DeskTextsHint) }</p>
                <label for="desk-meeting-password">{ t(lang, Key::DeskMeetingPassword) }</label>
                // Shown as typed: the counselor reads it out to the family.
                <input id="desk-meeting-password" ref={password} maxlength="128" autocomplete="off" spellcheck="false" aria-describedby="meeting-password-hint" />
                <p class="hint" id="meeting-password-hint">{ t(lang, Key::DeskPasswordHint) }</p>
                <button type="submit" class="primary" id="meeting-make">{ t(lang, Key::DeskMakeLinks) }</button>
            </form>
            if let Some(error) = *failed {
                <p class="error" role="alert">{ t(lang, error) }</p>
            }
            if let Some(made) = &*made {
                { made_links(lang, made) }
            }
        </section>
    }
}

/// Links the relay made, with what the counselor added for the meeting.
#[derive(PartialEq)]
struct Made {
    meeting: Meeting,
    family: Lang,
    setup: MeetingSetup,
}

fn made_links(lang: Lang, made: &Made) -> Html {
    let (meeting, family) = (&made.meeting, made.family);
    // The printed page says a password is needed, never what it is.
    let password_needed = made.setup.password.is_some();
    let link = |id: &'static str, key: Key, value: &str| {
        html! {
            <p class="desk-link">
                <label for={id}>{ t(lang, key) }</label>
                <input id={id} readonly=true value={value.to_string()} />
            </p>
        }
    };
    let valid = |l: Lang| {
        tf(
            l,
            Key::DeskValidFrom,
            &[
                ("from", &local_date_time(l, meeting.opens_at_ms)),
                ("until", &local_date_time(l, meeting.expires_at_ms)),
            ],
        )
    };
    let print = Callback::from(|_: MouseEvent| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    });
    let qr = Html::from_html_unchecked(AttrValue::from(meeting.invite_qr_svg.clone()));
    html! {
        <div class="desk-made" id="meeting-made">
            { link("meeting-host-link", Key::DeskHostLink, &meeting.host_link) }
            { link("meeting-invite-link", Key::DeskInviteLink, &meeting.invite_link) }
            { link("meeting-interpreter-link", Key::DeskInterpreterLink, &meeting.interpreter_link) }
            if let Some(password) = &made.setup.password {
                { link("meeting-made-password", Key::DeskMeetingPassword, password) }
            }
            <button type="button" onclick={print}>{ t(lang, Key::DeskPrint) }</button>
            // What the printer gets: the invitation alone, in German and the family's language.
            <article id="desk-print" class="desk-print">
                <h2>{ t(Lang::De, Key::DeskInviteLink) }</h2>
                if let Some(topic) = &made.setup.topic {
                    <p class="desk-print-topic">{ topic.clone() }</p>
                }
                <figure role="img" aria-label={t(lang, Key::DeskQrLabel)} id="meeting-qr">{ qr }</figure>
                <p class="desk-print-link">{ meeting.invite_link.clone() }</p>
                { print_steps(Lang::De, valid(Lang::De), password_needed) }
                if family != Lang::De {
                    { print_steps(family, valid(family), password_needed) }
                }
            </article>
        </div>
    }
}

/// The printed page's instructions in one language.
fn print_steps(lang: Lang, valid: String, password_needed: bool) -> Html {
    html! {
        <p lang={lang.code()} dir={if lang.right_to_left() { "rtl" } else { "ltr" }}>
            { valid }{ " " }{ t(lang, Key::DeskPrintSteps) }
            if password_needed {
                { " " }{ t(lang, Key::DeskPrintPassword) }
            }
        </p>
    }
}

#[derive(Properties, PartialEq)]
struct NewRoomProps {
    view: UseStateHandle<View>,
}

/// For members the operator lets create rooms: a new room, run by them from now on.
#[function_component(NewRoom)]
fn new_room(props: &NewRoomProps) -> Html {
    let lang = use_lang();
    let name = use_node_ref();
    let failed = use_state(|| false);
    let onsubmit = {
        let (name, failed, view) = (name.clone(), failed.clone(), props.view.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let room = input_value(&name);
            let (failed, view) = (failed.clone(), view.clone());
            spawn_local(async move {
                match desk_api::make_room(room.trim()).await {
                    // The overview again: the new room joins the list and the live view.
                    Ok(()) => show_overview(view, Some(Key::DeskUnavailable)),
                    Err(_) => failed.set(true),
                }
            });
        })
    };
    html! {
        <section aria-labelledby="desk-new-room-heading">
            <h2 id="desk-new-room-heading">{ t(lang, Key::DeskNewRoom) }</h2>
            <form {onsubmit}>
                <label for="new-room-name">{ t(lang, Key::DeskRoomName) }</label>
                <input id="new-room-name" ref={name} required=true pattern="[A-Za-z0-9_-]{1,64}" autocapitalize="none" />
                <button type="submit" id="new-room-make">{ t(lang, Key::DeskNewRoom) }</button>
            </form>
            if *failed {
                <p class="error" role="alert">{ t(lang, Key::DeskRoomTaken) }</p>
            }
        </section>
    }
}
