//! `/meine-daten`: exactly what this browser stores for Sprechstunde, and one button (with a
//! confirmation) that deletes all of it.

use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::app::use_lang;
use crate::browser_data::{self, Inventory};
use crate::i18n::{t, Key, Lang};

#[derive(Clone, PartialEq)]
enum View {
    Checking,
    Shown(Inventory),
    Confirming(Inventory),
    Deleting,
    Deleted(Inventory),
}

fn list(lang: Lang, inventory: &Inventory) -> Html {
    if inventory.is_empty() {
        return html! { <p id="my-data-empty">{ t(lang, Key::MyDataEmpty) }</p> };
    }
    let section = |key: Key, items: Vec<String>| -> Html {
        if items.is_empty() {
            return html! {};
        }
        html! {
            <section>
                <h2>{ t(lang, key) }</h2>
                <ul>{ for items.into_iter().map(|item| html! { <li>{ item }</li> }) }</ul>
            </section>
        }
    };
    let entries = inventory
        .entries
        .iter()
        .map(|(area, key, value)| format!("{area}: {key} = {value}"))
        .collect();
    let workers = if inventory.service_workers > 0 {
        vec![inventory.service_workers.to_string()]
    } else {
        Vec::new()
    };
    html! {
        <div id="my-data-list">
            { section(Key::StorageEntries, entries) }
            { section(Key::StorageCookies, inventory.cookies.clone()) }
            { section(Key::StorageDatabases, inventory.databases.clone()) }
            { section(Key::StorageCaches, inventory.caches.clone()) }
            { section(Key::StorageWorkers, workers) }
        </div>
    }
}

#[function_component(MyDataPage)]
pub fn my_data_page() -> Html {
    let lang = use_lang();
    let view = use_state(|| View::Checking);
    {
        let view = view.clone();
        use_effect_with((), move |_| {
            spawn_local(async move { view.set(View::Shown(browser_data::inventory().await)) });
        });
    }
    let ask = {
        let view = view.clone();
        Callback::from(move |_: MouseEvent| {
            if let View::Shown(inventory) = &*view {
                view.set(View::Confirming(inventory.clone()));
            }
        })
    };
    let cancel = {
        let view = view.clone();
        Callback::from(move |_: MouseEvent| {
            if let View::Confirming(inventory) = &*view {
                view.set(View::Shown(inventory.clone()));
            }
        })
    };
    let delete = {
        let view = view.clone();
        Callback::from(move |_: MouseEvent| {
            let view = view.clone();
            view.set(View::Deleting);
            spawn_local(async move { view.set(View::Deleted(browser_data::wipe_all().await)) });
        })
    };
    let body = match &*view {
        View::Checking | View::Deleting => {
            html! { <p role="status">{ t(lang, Key::MyDataLoading) }</p> }
        }
        View::Shown(inventory) => html! {
            <>
                { list(lang, inventory) }
                if !inventory.is_empty() {
                    <button type="button" class="danger" onclick={ask}>{ t(lang, Key::MyDataDelete) }</button>
                }
            </>
        },
        View::Confirming(inventory) => html! {
            <>
                { list(lang, inventory) }
                <div class="confirm" role="alertdialog" aria-labelledby="confirm-text">
                    <p id="confirm-text">{ t(lang, Key::MyDataConfirm) }</p>
                    <div class="actions">
                        <button type="button" class="danger" onclick={delete}>{ t(lang, Key::MyDataConfirmYes) }</button>
                        <button type="button" onclick={cancel}>{ t(lang, Key::Cancel) }</button>
                    </div>
                </div>
            </>
        },
        View::Deleted(left) => html! {
            <>
                if left.is_empty() {
                    <p id="my-data-result" role="status">{ t(lang, Key::MyDataDeleted) }</p>
                } else {
                    <p id="my-data-result" class="error" role="alert">{ t(lang, Key::MyDataLeft) }</p>
                    { list(lang, left) }
                }
            </>
        },
    };
    html! {
        <main class="page narrow my-data">
            <h1>{ t(lang, Key::MyDataHeading) }</h1>
            { body }
            <p><a href="/">{ t(lang, Key::BackToStart) }</a></p>
        </main>
    }
}
