//! Fake WhatsApp gateways on loopback, implementing seeds 003 (GoWA) and 004 (Green API) as
//! written: GoWA's `GET /user/avatar?phone=JID` with Basic auth and `X-Device-Id`, answering
//! `{code, message, results}` (errors with `results: null` and 400/500); Green API's
//! `POST /waInstance{id}/getAvatar/{token}` with `{"chatId"}`, answering `{urlAvatar, reason?}`
//! with HTTP 200 even for its "bad request data" and "get avatar timeout limit exceeded".
//!
//! Both hand out picture URLs that work once, as WhatsApp's expire: the second fetch of a
//! URL gets 403. Each fake counts its API calls, their start times and the most calls it had
//! in flight at once, and can be switched into an error, slow or broken mode.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;

use crate::helpers::*;

/// How a fake answers its API calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Sleeps this long before answering normally.
    Slow(Duration),
    /// 200 with a body that is not JSON.
    Broken,
    /// GoWA: the seed's 400 `{"code":"400","message":"Invalid file format","results":null}`.
    /// Green API: 200 `{"urlAvatar":"","reason":"bad request data"}`.
    BadRequest,
    /// GoWA: the seed's 500 `INTERNAL_SERVER_ERROR`. Green API: 200 with the reason
    /// "get avatar timeout limit exceeded".
    ServerError,
}

/// A chat's picture: its id (GoWA's `id`) and colour.
#[derive(Clone, Copy, Debug)]
pub struct Picture {
    pub id: u64,
    pub colour: [u8; 3],
}

pub struct Fake {
    pub base: String,
    pub state: web::Data<FakeState>,
}

pub struct FakeState {
    base: Mutex<String>,
    pub mode: Mutex<Mode>,
    /// JID (`15551234567@c.us`, `ID@g.us`) → picture; absent: no avatar.
    pub pictures: Mutex<HashMap<String, Picture>>,
    pub calls: AtomicUsize,
    pub call_starts: Mutex<Vec<Instant>>,
    in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    /// One-time picture URLs handed out: token → colour, and whether it was fetched.
    issued: Mutex<HashMap<String, ([u8; 3], bool)>>,
    pub picture_fetches: AtomicUsize,
    /// What the last API call asked for (GoWA's query, Green API's chatId).
    pub last_asked: Mutex<String>,
    /// Credentials: GoWA user, password and device; Green API instance and token.
    user: String,
    secret: String,
    device: Option<String>,
}

impl Fake {
    pub fn calls(&self) -> usize {
        self.state.calls.load(Ordering::SeqCst)
    }

    pub fn picture_fetches(&self) -> usize {
        self.state.picture_fetches.load(Ordering::SeqCst)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = mode;
    }

    pub fn set_picture(&self, jid: &str, picture: Option<Picture>) {
        let mut pictures = self.state.pictures.lock().unwrap();
        match picture {
            Some(picture) => pictures.insert(jid.to_string(), picture),
            None => pictures.remove(jid),
        };
    }

    /// Every picture URL handed out so far.
    pub fn issued_urls(&self) -> Vec<String> {
        let base = self.state.base.lock().unwrap().clone();
        self.state
            .issued
            .lock()
            .unwrap()
            .keys()
            .map(|token| format!("{base}/pps/{token}.png"))
            .collect()
    }
}

impl FakeState {
    /// Counts a call in; the guard counts it out.
    fn enter(&self) -> InFlight<'_> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.call_starts.lock().unwrap().push(Instant::now());
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(self)
    }

    /// A picture URL that works once, like WhatsApp's expiring ones.
    fn issue(&self, colour: [u8; 3]) -> String {
        let mut issued = self.issued.lock().unwrap();
        let token = format!("t{}x{}", issued.len(), self.calls.load(Ordering::SeqCst));
        issued.insert(token.clone(), (colour, false));
        format!("{}/pps/{token}.png?oe=620AA726", self.base.lock().unwrap())
    }

    async fn pause(&self) -> Mode {
        let mode = *self.mode.lock().unwrap();
        if let Mode::Slow(duration) = mode {
            tokio::time::sleep(duration).await;
        }
        mode
    }
}

struct InFlight<'a>(&'a FakeState);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

fn gowa_error(status: u16, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .json(serde_json::json!({ "code": code, "message": message, "results": null }))
}

/// GoWA's `GET /user/avatar`.
async fn gowa_avatar(request: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    let _counted = state.enter();
    *state.last_asked.lock().unwrap() = request.query_string().to_string();
    let expected = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", state.user, state.secret));
    let authorization = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if authorization != format!("Basic {expected}") {
        return HttpResponse::Unauthorized()
            .insert_header(("www-authenticate", "Basic realm=\"GoWA\""))
            .body("Unauthorized");
    }
    let device = request
        .headers()
        .get("x-device-id")
        .and_then(|v| v.to_str().ok());
    if state.device.is_some() && device != state.device.as_deref() {
        return gowa_error(400, "DEVICE_NOT_FOUND", "device not found");
    }
    let phone = form_urlencoded::parse(request.query_string().as_bytes())
        .find(|(name, _)| name == "phone")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    match state.pause().await {
        Mode::Broken => return HttpResponse::Ok().body("{\"code\": \"SUCC"),
        Mode::BadRequest => return gowa_error(400, "400", "Invalid file format"),
        Mode::ServerError => {
            return gowa_error(500, "INTERNAL_SERVER_ERROR", "Failed to update avatar");
        }
        Mode::Normal | Mode::Slow(_) => {}
    }
    let picture = state.pictures.lock().unwrap().get(&phone).copied();
    let results = match picture {
        Some(picture) => serde_json::json!({
            "url": state.issue(picture.colour),
            "id": picture.id.to_string(),
            "type": "image",
        }),
        None => serde_json::json!({ "url": "", "id": "", "type": "image" }),
    };
    HttpResponse::Ok().json(serde_json::json!({
        "code": "SUCCESS",
        "message": "Success",
        "results": results,
    }))
}

/// Green API's `POST /waInstance{id}/getAvatar/{token}`.
async fn greenapi_avatar(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<FakeState>,
) -> HttpResponse {
    let _counted = state.enter();
    let instance = request.match_info().get("instance").unwrap_or_default();
    let token = request.match_info().get("token").unwrap_or_default();
    if instance != state.user || token != state.secret {
        return HttpResponse::Unauthorized().body("Unauthorized");
    }
    let chat_id = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["chatId"].as_str().map(str::to_string))
        .unwrap_or_default();
    *state.last_asked.lock().unwrap() = chat_id.clone();
    let reason = |text: &str| {
        HttpResponse::Ok().json(serde_json::json!({ "urlAvatar": "", "reason": text }))
    };
    match state.pause().await {
        Mode::Broken => return HttpResponse::Ok().body("<html>gateway error"),
        Mode::BadRequest => return reason("bad request data"),
        Mode::ServerError => return reason("get avatar timeout limit exceeded"),
        Mode::Normal | Mode::Slow(_) => {}
    }
    // "Telephone number must be 11 or 12 digits. Or chat Id."
    let person = chat_id
        .strip_suffix("@c.us")
        .is_some_and(|d| (11..=12).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()));
    if !person && !chat_id.ends_with("@g.us") {
        return reason("bad request data");
    }
    let picture = state.pictures.lock().unwrap().get(&chat_id).copied();
    let url = picture.map_or(String::new(), |p| state.issue(p.colour));
    HttpResponse::Ok().json(serde_json::json!({ "urlAvatar": url }))
}

/// A picture URL: the image the first time, 403 after (it expired).
async fn picture(request: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    let token = request.match_info().get("token").unwrap_or_default();
    let mut issued = state.issued.lock().unwrap();
    match issued.get_mut(token) {
        Some((colour, used @ false)) => {
            *used = true;
            state.picture_fetches.fetch_add(1, Ordering::SeqCst);
            HttpResponse::Ok()
                .content_type("image/png")
                .body(png(&solid_photo(96, *colour)))
        }
        _ => HttpResponse::Forbidden().body("URL signature expired"),
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Gowa,
    GreenApi,
}

/// Starts a fake GoWA that takes `user`:`password` and, if given, only `device`.
pub fn start_gowa(user: &str, password: &str, device: Option<&str>) -> Fake {
    start(Kind::Gowa, user, password, device)
}

/// Starts a fake Green API for instance `instance` with API token `token`.
pub fn start_greenapi(instance: &str, token: &str) -> Fake {
    start(Kind::GreenApi, instance, token, None)
}

fn start(kind: Kind, user: &str, secret: &str, device: Option<&str>) -> Fake {
    let state = web::Data::new(FakeState {
        base: Mutex::new(String::new()),
        mode: Mutex::new(Mode::Normal),
        pictures: Mutex::new(HashMap::new()),
        calls: AtomicUsize::new(0),
        call_starts: Mutex::new(Vec::new()),
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
        issued: Mutex::new(HashMap::new()),
        picture_fetches: AtomicUsize::new(0),
        last_asked: Mutex::new(String::new()),
        user: user.to_string(),
        secret: secret.to_string(),
        device: device.map(str::to_string),
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    *state.base.lock().unwrap() = base.clone();
    let shared = state.clone();
    let server = HttpServer::new(move || {
        let app = App::new()
            .app_data(shared.clone())
            .route("/pps/{token}.png", web::get().to(picture));
        match kind {
            Kind::Gowa => app.route("/user/avatar", web::get().to(gowa_avatar)),
            Kind::GreenApi => app.route(
                "/waInstance{instance}/getAvatar/{token}",
                web::post().to(greenapi_avatar),
            ),
        }
    })
    .workers(2)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    Fake { base, state }
}
