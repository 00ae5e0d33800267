//! Links bound to an appointment: what a family that comes too early reads.

use wasm_bindgen::JsValue;

use crate::i18n::{tf, Key, Lang};

/// `Intl` formatting options from field/value pairs (`[("hour", "2-digit")]`).
pub fn locale_options(fields: &[(&str, &str)]) -> JsValue {
    let options = js_sys::Object::new();
    for (field, value) in fields {
        let _ = js_sys::Reflect::set(&options, &(*field).into(), &(*value).into());
    }
    options.into()
}

/// "Your appointment starts at 14:00 …", with the date when it is not today.
pub fn too_early(lang: Lang, starts_at_ms: u64) -> String {
    let starts = js_sys::Date::new(&JsValue::from_f64(starts_at_ms as f64));
    let today = js_sys::Date::new_0();
    let time: String = starts
        .to_locale_time_string_with_options(
            lang.code(),
            &locale_options(&[("hour", "2-digit"), ("minute", "2-digit")]),
        )
        .into();
    if starts.to_date_string() == today.to_date_string() {
        tf(lang, Key::AppointmentLater, &[("time", &time)])
    } else {
        let date: String = starts
            .to_locale_date_string(
                lang.code(),
                &locale_options(&[("weekday", "long"), ("day", "numeric"), ("month", "long")]),
            )
            .into();
        tf(
            lang,
            Key::AppointmentLaterDay,
            &[("date", &date), ("time", &time)],
        )
    }
}
