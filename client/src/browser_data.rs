//! Everything this origin keeps in the browser, listed and wiped: localStorage,
//! sessionStorage, cookies, IndexedDB, Cache Storage and service workers. The app itself only
//! writes the allow-listed settings (see `settings`); this module also finds anything else,
//! so that "delete my data" leaves nothing behind.

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlDocument, ServiceWorkerRegistration, Storage};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// `(area, key, value)` for localStorage and sessionStorage entries.
    pub entries: Vec<(&'static str, String, String)>,
    pub cookies: Vec<String>,
    pub databases: Vec<String>,
    pub caches: Vec<String>,
    pub service_workers: usize,
}

impl Inventory {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
            && self.cookies.is_empty()
            && self.databases.is_empty()
            && self.caches.is_empty()
            && self.service_workers == 0
    }
}

fn storages() -> Vec<(&'static str, Storage)> {
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    if let Ok(Some(storage)) = window.local_storage() {
        found.push(("localStorage", storage));
    }
    if let Ok(Some(storage)) = window.session_storage() {
        found.push(("sessionStorage", storage));
    }
    found
}

fn document() -> Option<HtmlDocument> {
    web_sys::window()?.document()?.dyn_into().ok()
}

fn cookie_names() -> Vec<String> {
    let cookies = document().and_then(|d| d.cookie().ok()).unwrap_or_default();
    cookies
        .split(';')
        .filter_map(|c| c.split('=').next())
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

async fn await_array(promise: Promise) -> Vec<JsValue> {
    match JsFuture::from(promise).await {
        Ok(value) => Array::from(&value).to_vec(),
        Err(_) => Vec::new(),
    }
}

/// IndexedDB database names (`indexedDB.databases()` is missing from web-sys' stable API).
async fn database_names() -> Vec<String> {
    let Some(factory) = web_sys::window().and_then(|w| w.indexed_db().ok().flatten()) else {
        return Vec::new();
    };
    let Some(databases) = Reflect::get(&factory, &JsValue::from_str("databases"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
    else {
        return Vec::new();
    };
    let Ok(promise) = databases
        .call0(&factory)
        .and_then(|p| p.dyn_into::<Promise>())
    else {
        return Vec::new();
    };
    await_array(promise)
        .await
        .iter()
        .filter_map(|db| {
            Reflect::get(db, &JsValue::from_str("name"))
                .ok()?
                .as_string()
        })
        .collect()
}

async fn cache_names() -> Vec<String> {
    let Some(caches) = web_sys::window().and_then(|w| w.caches().ok()) else {
        return Vec::new();
    };
    await_array(caches.keys())
        .await
        .iter()
        .filter_map(JsValue::as_string)
        .collect()
}

async fn service_workers() -> Vec<ServiceWorkerRegistration> {
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    // Only in secure contexts; elsewhere there are none to remove.
    if Reflect::get(&window.navigator(), &JsValue::from_str("serviceWorker"))
        .map(|v| v.is_undefined())
        .unwrap_or(true)
    {
        return Vec::new();
    }
    await_array(window.navigator().service_worker().get_registrations())
        .await
        .into_iter()
        .filter_map(|r| r.dyn_into().ok())
        .collect()
}

pub async fn inventory() -> Inventory {
    let mut entries = Vec::new();
    for (area, storage) in storages() {
        let length = storage.length().unwrap_or(0);
        for index in 0..length {
            if let Ok(Some(key)) = storage.key(index) {
                let value = storage.get_item(&key).ok().flatten().unwrap_or_default();
                entries.push((area, key, value));
            }
        }
    }
    Inventory {
        entries,
        cookies: cookie_names(),
        databases: database_names().await,
        caches: cache_names().await,
        service_workers: service_workers().await.len(),
    }
}

/// Delete everything this origin stores in the browser. Returns what is left (normally
/// nothing), so the page can say honestly whether it worked.
pub async fn wipe_all() -> Inventory {
    for (_, storage) in storages() {
        let _ = storage.clear();
    }
    if let Some(document) = document() {
        for name in cookie_names() {
            let _ = document.set_cookie(&format!(
                "{name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/"
            ));
        }
    }
    if let Some(factory) = web_sys::window().and_then(|w| w.indexed_db().ok().flatten()) {
        for name in database_names().await {
            let _ = factory.delete_database(&name);
        }
    }
    if let Some(caches) = web_sys::window().and_then(|w| w.caches().ok()) {
        for name in cache_names().await {
            let _ = JsFuture::from(caches.delete(&name)).await;
        }
    }
    for registration in service_workers().await {
        if let Ok(promise) = registration.unregister() {
            let _ = JsFuture::from(promise).await;
        }
    }
    // Database deletion completes asynchronously; give it a moment before checking.
    gloo_timers::future::TimeoutFuture::new(200).await;
    inventory().await
}
