//! Asks for the meeting's password when the relay wants it; says why when one was refused.

use sprechstunde_shared::ErrorCode;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, Key};

#[derive(Properties, PartialEq)]
pub struct PasswordPromptProps {
    /// Why the relay asks: required, wrong, too many attempts, busy.
    pub reason: ErrorCode,
    pub on_submit: Callback<String>,
    pub on_leave: Callback<MouseEvent>,
}

#[function_component(PasswordPrompt)]
pub fn password_prompt(props: &PasswordPromptProps) -> Html {
    let lang = use_lang();
    let input = use_node_ref();
    let problem = match props.reason {
        ErrorCode::WrongPassword => Some(Key::PasswordWrong),
        ErrorCode::TooManyAttempts => Some(Key::PasswordTooMany),
        ErrorCode::Busy => Some(Key::PasswordBusy),
        _ => None,
    };
    let onsubmit = {
        let (input, on_submit) = (input.clone(), props.on_submit.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if let Some(field) = input.cast::<HtmlInputElement>() {
                let password = field.value();
                if !password.is_empty() {
                    // Not kept anywhere: the field is emptied once it is sent.
                    field.set_value("");
                    on_submit.emit(password);
                }
            }
        })
    };
    html! {
        <main class="page narrow password">
            <h1>{ t(lang, Key::PasswordHeading) }</h1>
            <form {onsubmit}>
                <label for="meeting-password">{ t(lang, Key::PasswordLabel) }</label>
                <input id="meeting-password" type="password" ref={input} autocomplete="off"
                    maxlength="128" required=true
                    aria-describedby={problem.map(|_| "password-problem")} />
                if let Some(problem) = problem {
                    <p class="error" id="password-problem" role="alert">{ t(lang, problem) }</p>
                }
                <button type="submit" id="password-submit" class="primary">{ t(lang, Key::Enter) }</button>
            </form>
            <button type="button" class="leave" onclick={props.on_leave.clone()}>{ t(lang, Key::Leave) }</button>
        </main>
    }
}
