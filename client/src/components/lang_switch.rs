use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::app::LangContext;
use crate::i18n::{t, Key, Lang};

#[function_component(LangSwitch)]
pub fn lang_switch() -> Html {
    let Some(context) = use_context::<LangContext>() else {
        return html! {};
    };
    let onchange = {
        let set = context.set.clone();
        Callback::from(move |event: Event| {
            let code = event
                .target_dyn_into::<HtmlSelectElement>()
                .map(|select| select.value())
                .unwrap_or_default();
            if let Some(lang) = Lang::from_code(&code) {
                set.emit(lang);
            }
        })
    };
    html! {
        <label class="lang-switch">
            <span>{ t(context.lang, Key::Language) }</span>
            <select id="language" {onchange}>
                { for Lang::ALL.iter().map(|lang| html! {
                    <option value={lang.code()} lang={lang.code()} selected={*lang == context.lang}>
                        { lang.native_name() }
                    </option>
                }) }
            </select>
        </label>
    }
}

/// On the start and pre-join pages: the browser's own language, offered in that language,
/// until someone on this device chooses one.
#[function_component(LanguageOffer)]
pub fn language_offer() -> Html {
    let Some(context) = use_context::<LangContext>() else {
        return html! {};
    };
    let Some(offered) = crate::language::suggestion(context.lang) else {
        return html! {};
    };
    let onclick = {
        let set = context.set.clone();
        Callback::from(move |_| set.emit(offered))
    };
    let dir = if offered.right_to_left() {
        "rtl"
    } else {
        "ltr"
    };
    html! {
        <p class="language-offer">
            <button type="button" id="language-offer" lang={offered.code()} {dir} {onclick}>
                { offered.offer() }
            </button>
        </p>
    }
}
