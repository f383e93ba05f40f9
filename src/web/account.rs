//! Account pages: sign up, log in and out, forgotten and changed passwords, deletion.
//! Handlers read the form, apply the rules in `auth`, call the store, and render a page.
//!
//! Against hostile clients every form does its cheap checks first (CSRF, the shape of the
//! input, the reset link's existence, the rate limits of `auth`) and only then asks the
//! bounded `passwords` queue for argon2 work. Sign-up and "forgot my password" answer the
//! same page in the same time whether or not the account exists: mail goes out through the
//! outbox, and an existing owner is told by mail that someone tried to sign up.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::auth::{
    self, FORGOTS_PER_CLIENT, LOGINS_PER_ACCOUNT, LOGINS_PER_CLIENT, MAIL_COOL_DOWN_SECS,
    REAUTHS_PER_ACCOUNT, RESETS_PER_CLIENT, SIGNUPS_PER_CLIENT, check_password_pair, link_token,
    token_hash,
};
use super::claims::{LinkMail, claim_account_address, mail_link, take_mail_budget};
use super::pages::{Layout, render_page, see_other};
use super::session::{Visitor, end_session_cookie, start_session};
use super::user_form::{CheckedForm, UserForm};
use crate::client::limit_key_of;
use crate::error::AppError;
use crate::identity::Identity;
use crate::mail::Outgoing;
use crate::passwords::has_password;
use crate::state::AppState;
use crate::store::tokens::{self, Purpose};
use crate::store::users;

/// How long a password-reset link works.
const RESET_LIFETIME_SECS: i64 = 3600;
/// Verified against when the account does not exist, so both cases take the same time.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3R8wq0/V0Ztf9NQt3X1o0oLQy8hTeXw0y0BkqMgpY8M";

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    layout: Layout,
    email: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    /// Where single sign-on lands afterwards (a local path), or empty.
    next: String,
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    layout: Layout,
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    layout: Layout,
    token: String,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    layout: Layout,
}

#[derive(Template)]
#[template(path = "delete.html")]
struct DeletePage {
    layout: Layout,
    /// False for an account made by single sign-on: its address is typed instead.
    has_password: bool,
}

#[derive(Template)]
#[template(path = "check_mail.html")]
struct CheckMailPage {
    layout: Layout,
    address: String,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub layout: Layout,
    pub heading: String,
    pub text: String,
    pub link: Option<(String, String)>,
}

/// A page with one message, e.g. after following a mailed link.
pub fn message(
    visitor: &Visitor,
    state: &AppState,
    status: StatusCode,
    heading: &str,
    text: String,
    link: Option<(&str, &str)>,
) -> Result<HttpResponse, AppError> {
    let page = MessagePage {
        layout: Layout::new(heading, visitor, state),
        heading: heading.to_string(),
        text,
        link: link.map(|(href, label)| (href.to_string(), label.to_string())),
    };
    render_page(visitor, &page, status)
}

/// The page every password form answers with when `password_login` is off (403), naming
/// the provider to log in with instead; `None` when passwords work.
fn passwords_off(visitor: &Visitor, state: &AppState) -> Option<Result<HttpResponse, AppError>> {
    if state.config.password_login {
        return None;
    }
    let provider = provider_name(state);
    Some(message(
        visitor,
        state,
        StatusCode::FORBIDDEN,
        "Passwords are off on this server",
        format!(
            "This server does not use passwords: log in with {provider}. Sign-up and password \
             resets happen there too."
        ),
        Some(("/login", "Log in")),
    ))
}

/// How the pages name the single sign-on provider.
fn provider_name(state: &AppState) -> &str {
    state
        .sso
        .as_ref()
        .map_or("single sign-on", |sso| sso.display_name())
}

/// Returns [`passwords_off`]'s page from the handler when passwords are off.
macro_rules! unless_passwords_off {
    ($visitor:expr, $state:expr) => {
        if let Some(page) = passwords_off($visitor, $state) {
            return page;
        }
    };
}

/// Shows a refusal that a client should wait out (a rate limit: 429; a full password
/// queue or an unreachable database: 503) in the form it came from, with `Retry-After`;
/// any other error passes on.
fn refuse_in_form(
    error: AppError,
    refuse: impl FnOnce(String, StatusCode) -> Result<HttpResponse, AppError>,
) -> Result<HttpResponse, AppError> {
    let Some(seconds) = error.retry_after() else {
        return Err(error);
    };
    let status = actix_web::ResponseError::status_code(&error);
    let mut response = refuse(error.public_message(), status)?;
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    Ok(response)
}

/// Runs `step` and shows its wait-out refusal in the form (see [`refuse_in_form`]).
macro_rules! or_refuse {
    ($step:expr, $refuse:expr) => {
        match $step {
            Ok(value) => value,
            Err(error) => return refuse_in_form(error, $refuse),
        }
    };
}

/// Where sign-up sends the browser: the "check your mail" page naming the address.
fn sent_location(address: &str) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("sent", address)
        .finish();
    format!("/signup?{query}")
}

/// The address of `/signup?sent=ADDRESS`, if it is one.
fn sent_address(query: &str) -> Option<Identity> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "sent")
        .filter(|(_, value)| value.len() <= 254)
        .and_then(|(_, value)| Identity::parse(&value).ok())
        .filter(|identity| matches!(identity, Identity::Email(_)))
}

pub async fn signup_form(
    request: HttpRequest,
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if let Some(address) = sent_address(request.query_string()) {
        let page = CheckMailPage {
            layout: Layout::new("Check your mail", &visitor, &state),
            address: address.as_str().to_string(),
        };
        return render_page(&visitor, &page, StatusCode::OK);
    }
    let page = SignupPage {
        layout: Layout::new("Sign up", &visitor, &state),
        email: String::new(),
    };
    let status = if state.config.password_login {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    render_page(&visitor, &page, status)
}

pub async fn signup(
    request: HttpRequest,
    CheckedForm { visitor, form }: CheckedForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let refuse_at = |field: Option<&'static str>, message: String, status: StatusCode| {
        let layout = Layout::new("Sign up", &visitor, &state);
        let layout = match field {
            Some(field) => layout.with_field_error(field, message),
            None => layout.with_error(message),
        };
        render_page(
            &visitor,
            &SignupPage {
                layout,
                email: form.get("email").chars().take(254).collect(),
            },
            status,
        )
    };
    let refuse = |message: String, status: StatusCode| refuse_at(None, message, status);
    unless_passwords_off!(&visitor, &state);
    if !state.config.registration_open {
        return refuse(
            "This server does not take new sign-ups.".into(),
            StatusCode::FORBIDDEN,
        );
    }
    if let Some(problem) = auth::email_problem(form.get("email")) {
        return refuse_at(Some("email"), problem, StatusCode::BAD_REQUEST);
    }
    let email =
        Identity::parse(form.get("email")).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let password = form.get("password");
    if let Err(message) = check_password_pair(password, form.get("password_again")) {
        let field = auth::password_field_of(&message);
        return refuse_at(Some(field), message, StatusCode::BAD_REQUEST);
    }
    let client = limit_key_of(&request, &state.config);
    or_refuse!(
        auth::take(&state.pool, SIGNUPS_PER_CLIENT, &client).await,
        refuse
    );
    or_refuse!(
        take_mail_budget(&state, &client, None, email.as_str()).await,
        refuse
    );
    // Both outcomes below hash once, so they take the same time.
    let hash = or_refuse!(state.passwords.hash(password.to_string()).await, refuse);
    // A path on this site whose only variable part is the percent-encoded address.
    let location = sent_location(email.as_str());
    let created = users::create(&state.pool, email.as_str(), &hash).await?;
    // What differs between a new and an existing account happens after the answer.
    let state = state.clone();
    tokio::spawn(async move {
        match created {
            Some(user_id) => {
                if let Err(problem) = claim_account_address(&state, user_id, &email).await {
                    tracing::warn!(%problem, "a new account's confirmation link was not mailed");
                }
            }
            None => state.outbox.send(existing_owner_mail(&state, &email)),
        }
    });
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish())
}

/// The mail to the owner of an address someone tried to sign up with again.
fn existing_owner_mail(state: &AppState, email: &Identity) -> Outgoing {
    Outgoing {
        to: email.as_str().to_string(),
        subject: "Someone tried to sign up with your address".into(),
        body: format!(
            "Someone (maybe you) tried to create a Cameo account at {base} for {email}, \
                 which already has one.\n\n\
                 Log in here:\n{base}/login\n\n\
                 Forgot your password? Choose a new one here:\n{base}/forgot\n\n\
                 If it was not you, ignore this mail; nothing has changed.\n",
            base = state.config.base_url
        ),
    }
}

pub async fn login_form(
    request: HttpRequest,
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let mut layout = Layout::new("Log in", &visitor, &state);
    if request.query_string() == "done=password_reset" {
        layout = layout.with_notice("Your password is changed. Log in with the new one.");
    }
    let next = form_urlencoded::parse(request.query_string().as_bytes())
        .find(|(key, _)| key == "next")
        .map(|(_, asked)| crate::sso::local_return_path(&asked))
        .unwrap_or_default();
    let page = LoginPage {
        layout,
        email: String::new(),
        next,
    };
    render_page(&visitor, &page, StatusCode::OK)
}

pub async fn login(
    request: HttpRequest,
    CheckedForm { visitor, form }: CheckedForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let email = form
        .get("email")
        .trim()
        .to_lowercase()
        .chars()
        .take(254)
        .collect::<String>();
    let refuse = |message: String, status: StatusCode| {
        let layout = Layout::new("Log in", &visitor, &state).with_error(message);
        render_page(
            &visitor,
            &LoginPage {
                layout,
                email: email.clone(),
                next: String::new(),
            },
            status,
        )
    };
    if !state.config.password_login {
        let provider = provider_name(&state);
        let text = format!("This server does not use passwords: log in with {provider}.");
        return refuse(text, StatusCode::FORBIDDEN);
    }
    // Each attempt is counted before its password is checked, so a burst cannot verify
    // more guesses than the limits allow; a client over its limit does not even count
    // against the account.
    let client = limit_key_of(&request, &state.config);
    or_refuse!(
        auth::take(&state.pool, LOGINS_PER_CLIENT, &client).await,
        refuse
    );
    let attempt = or_refuse!(
        auth::take(&state.pool, LOGINS_PER_ACCOUNT, &email).await,
        refuse
    );
    // An account without a password (made by single sign-on) is checked against the dummy
    // too, so it takes the same time as any wrong password and never matches.
    let user = users::by_email(&state.pool, &email)
        .await?
        .filter(|u| has_password(&u.password_hash));
    let stored = user
        .as_ref()
        .map_or(DUMMY_HASH.to_string(), |u| u.password_hash.clone());
    let matches = or_refuse!(
        state
            .passwords
            .verify(stored, form.get("password").to_string())
            .await,
        refuse
    );
    let Some(user) = user.filter(|_| matches) else {
        let layout = Layout::new("Log in", &visitor, &state)
            .with_field_error("password", "Wrong email address or password.");
        let page = LoginPage {
            layout,
            email: email.clone(),
            next: String::new(),
        };
        return render_page(&visitor, &page, StatusCode::UNAUTHORIZED);
    };
    auth::forget_if_alone(&state.pool, LOGINS_PER_ACCOUNT, &email, attempt).await?;
    if let Some(old) = &visitor.session_hash {
        users::delete_session(&state.pool, old).await?;
    }
    let cookie = start_session(&state, user.id).await?;
    let mut response = see_other("/account");
    response
        .add_cookie(&cookie)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(response)
}

pub async fn logout(
    CheckedForm { visitor, .. }: CheckedForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if let Some(hash) = &visitor.session_hash {
        users::delete_session(&state.pool, hash).await?;
    }
    let mut response = see_other("/");
    let secure = state.config.base_url.starts_with("https://");
    response
        .add_cookie(&end_session_cookie(secure))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(response)
}

pub async fn forgot_form(
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    unless_passwords_off!(&visitor, &state);
    render_page(
        &visitor,
        &ForgotPage {
            layout: Layout::new("Reset your password", &visitor, &state),
        },
        StatusCode::OK,
    )
}

pub async fn forgot(
    request: HttpRequest,
    CheckedForm { visitor, form }: CheckedForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let refuse = |message: String, status: StatusCode| {
        let layout = Layout::new("Reset your password", &visitor, &state).with_error(message);
        render_page(&visitor, &ForgotPage { layout }, status)
    };
    unless_passwords_off!(&visitor, &state);
    let client = limit_key_of(&request, &state.config);
    or_refuse!(
        auth::take(&state.pool, FORGOTS_PER_CLIENT, &client).await,
        refuse
    );
    let email: String = form
        .get("email")
        .trim()
        .to_lowercase()
        .chars()
        .take(254)
        .collect();
    if let Some(user) = users::by_email(&state.pool, &email).await? {
        // Whatever happens next, the answer is the same page, at once, as for an unknown
        // address: a pending link or a spent mail budget is not something to reveal.
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(reason) = mail_reset_link(&state, &client, &user).await {
                tracing::info!(%reason, "no reset link mailed");
            }
        });
    }
    message(
        &visitor,
        &state,
        StatusCode::OK,
        "Check your mail",
        "If there is an account for that address, we sent it a link to choose a new password."
            .into(),
        None,
    )
}

/// Mails `user` a new reset link, unless one went out within the cool-down or a mail budget
/// is spent.
async fn mail_reset_link(state: &AppState, client: &str, user: &users::User) -> Result<(), String> {
    let newest = tokens::newest_live(&state.pool, user.id, Purpose::ResetPassword)
        .await
        .map_err(|e| e.to_string())?;
    if newest.is_some_and(|sent| crate::store::now() - sent < MAIL_COOL_DOWN_SECS) {
        return Err("a reset link is pending and recent".into());
    }
    take_mail_budget(state, client, Some(user.id), &user.email)
        .await
        .map_err(|e| e.to_string())?;
    let base = &state.config.base_url;
    mail_link(
        state,
        LinkMail {
            purpose: Purpose::ResetPassword,
            user_id: user.id,
            address: None,
            lifetime_secs: RESET_LIFETIME_SECS,
            to: &user.email,
            subject: "Reset your Cameo password",
        },
        |token| {
            format!(
                "Someone (hopefully you) asked to reset the password of your Cameo account.\n\n\
                 Choose a new password here (the link works once, for one hour):\n{base}/reset/{token}\n\n\
                 If it was not you, ignore this mail; your password stays as it is.\n"
            )
        },
    )
    .await
}

/// The page for a reset link that is unknown, used, expired or voided by a newer password.
fn dead_reset_link(visitor: &Visitor, state: &AppState) -> Result<HttpResponse, AppError> {
    message(
        visitor,
        state,
        StatusCode::GONE,
        "This link no longer works",
        "Reset links work once, for one hour, and end when the password changes. Ask for a new one."
            .into(),
        Some(("/forgot", "Send a new link")),
    )
}

pub async fn reset_form(
    visitor: Visitor,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    unless_passwords_off!(&visitor, &state);
    let token = link_token(token)?;
    if tokens::live_owner(&state.pool, &token_hash(&token), Purpose::ResetPassword)
        .await?
        .is_none()
    {
        return dead_reset_link(&visitor, &state);
    }
    let page = ResetPage {
        layout: Layout::new("Choose a new password", &visitor, &state),
        token,
    };
    render_page(&visitor, &page, StatusCode::OK)
}

pub async fn reset(
    request: HttpRequest,
    CheckedForm { visitor, form }: CheckedForm,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = link_token(token)?;
    let refuse = |problem: String, status: StatusCode| {
        let layout = Layout::new("Choose a new password", &visitor, &state).with_error(problem);
        render_page(
            &visitor,
            &ResetPage {
                layout,
                token: token.clone(),
            },
            status,
        )
    };
    unless_passwords_off!(&visitor, &state);
    // Cheap checks first: the client's budget, then whether the link lives at all.
    let client = limit_key_of(&request, &state.config);
    or_refuse!(
        auth::take(&state.pool, RESETS_PER_CLIENT, &client).await,
        refuse
    );
    let link = token_hash(&token);
    if tokens::live_owner(&state.pool, &link, Purpose::ResetPassword)
        .await?
        .is_none()
    {
        return dead_reset_link(&visitor, &state);
    }
    let password = form.get("password");
    if let Err(problem) = check_password_pair(password, form.get("password_again")) {
        let layout = Layout::new("Choose a new password", &visitor, &state)
            .with_field_error(auth::password_field_of(&problem), problem);
        let page = ResetPage {
            layout,
            token: token.clone(),
        };
        return render_page(&visitor, &page, StatusCode::BAD_REQUEST);
    }
    let hash = or_refuse!(state.passwords.hash(password.to_string()).await, refuse);
    // The link is used in the same transaction as the password is set: of two racing
    // posts, one wins and the other finds the link dead.
    if users::reset_password(&state.pool, &link, &hash)
        .await?
        .is_none()
    {
        return dead_reset_link(&visitor, &state);
    }
    Ok(see_other("/login?done=password_reset"))
}

pub async fn password_form(
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    unless_passwords_off!(&visitor, &state);
    if let Some(page) = without_password(&visitor, &state, user.user_id).await? {
        return Ok(page);
    }
    render_page(
        &visitor,
        &PasswordPage {
            layout: Layout::new("Change your password", &visitor, &state),
        },
        StatusCode::OK,
    )
}

pub async fn change_password(
    UserForm {
        visitor,
        user,
        form,
    }: UserForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let refuse = |problem: String, status: StatusCode| {
        let layout = Layout::new("Change your password", &visitor, &state).with_error(problem);
        render_page(&visitor, &PasswordPage { layout }, status)
    };
    let refuse_at = |field: &'static str, problem: String, status: StatusCode| {
        let layout =
            Layout::new("Change your password", &visitor, &state).with_field_error(field, problem);
        render_page(&visitor, &PasswordPage { layout }, status)
    };
    unless_passwords_off!(&visitor, &state);
    if let Some(page) = without_password(&visitor, &state, user.user_id).await? {
        return Ok(page);
    }
    let password = form.get("password");
    if let Err(problem) = check_password_pair(password, form.get("password_again")) {
        return refuse_at(
            auth::password_field_of(&problem),
            problem,
            StatusCode::BAD_REQUEST,
        );
    }
    let matches = or_refuse!(
        reauthenticate(&state, user.user_id, form.get("current")).await,
        refuse
    );
    if !matches {
        return refuse_at(
            "current",
            "Your current password is not right.".into(),
            StatusCode::UNAUTHORIZED,
        );
    }
    let hash = or_refuse!(state.passwords.hash(password.to_string()).await, refuse);
    users::set_password(
        &state.pool,
        user.user_id,
        &hash,
        visitor.session_hash.as_deref(),
    )
    .await?;
    Ok(see_other("/account?done=password_changed"))
}

/// The page for an account without a password (made by single sign-on), which has no
/// current password to type: a reset link sets its first one. `None` for other accounts.
async fn without_password(
    visitor: &Visitor,
    state: &AppState,
    user_id: i64,
) -> Result<Option<HttpResponse>, AppError> {
    if account_has_password(state, user_id).await? {
        return Ok(None);
    }
    message(
        visitor,
        state,
        StatusCode::CONFLICT,
        "Your account has no password",
        "You log in with single sign-on. To have a password too, ask for a reset link: it \
         lets you choose one."
            .into(),
        Some(("/forgot", "Send me a link")),
    )
    .map(Some)
}

/// Checks a logged-in account's password (to change it or delete the account), counted
/// against the account's own limit first so a stolen session cannot guess it at leisure.
async fn reauthenticate(state: &AppState, user_id: i64, password: &str) -> Result<bool, AppError> {
    auth::take(&state.pool, REAUTHS_PER_ACCOUNT, &user_id.to_string()).await?;
    let account = users::by_id(&state.pool, user_id)
        .await?
        .ok_or(AppError::LoginRequired)?;
    if !has_password(&account.password_hash) {
        // No password to type (single sign-on): the account's address confirms instead.
        return Ok(auth::constant_time_eq(
            &password.trim().to_lowercase(),
            &account.email,
        ));
    }
    state
        .passwords
        .verify(account.password_hash, password.to_string())
        .await
}

async fn account_has_password(state: &AppState, user_id: i64) -> Result<bool, AppError> {
    let account = users::by_id(&state.pool, user_id)
        .await?
        .ok_or(AppError::LoginRequired)?;
    Ok(has_password(&account.password_hash))
}

pub async fn delete_form(
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    let has_password = account_has_password(&state, user.user_id).await?;
    render_page(
        &visitor,
        &DeletePage {
            layout: Layout::new("Delete your account", &visitor, &state),
            has_password,
        },
        StatusCode::OK,
    )
}

pub async fn delete_account(
    UserForm {
        visitor,
        user,
        form,
    }: UserForm,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let has_password = account_has_password(&state, user.user_id).await?;
    let refuse = |problem: String, status: StatusCode| {
        let layout = Layout::new("Delete your account", &visitor, &state).with_error(problem);
        render_page(
            &visitor,
            &DeletePage {
                layout,
                has_password,
            },
            status,
        )
    };
    let matches = or_refuse!(
        reauthenticate(&state, user.user_id, form.get("password")).await,
        refuse
    );
    if !matches {
        let problem = if has_password {
            "Your password is not right."
        } else {
            "Type the email address of your account exactly."
        };
        let layout = Layout::new("Delete your account", &visitor, &state)
            .with_field_error("password", problem);
        let page = DeletePage {
            layout,
            has_password,
        };
        return render_page(&visitor, &page, StatusCode::UNAUTHORIZED);
    }
    users::delete(&state.pool, user.user_id).await?;
    let secure = state.config.base_url.starts_with("https://");
    let anonymous = Visitor::anonymous(&visitor);
    let mut response = message(
        &anonymous,
        &state,
        StatusCode::OK,
        "Your account is deleted",
        "Your account, its addresses and its photos are gone.".into(),
        Some(("/", "Home")),
    )?;
    response
        .add_cookie(&end_session_cookie(secure))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_mail_page_names_only_an_email_address() {
        let location = sent_location("a+b@example.org");
        assert_eq!(location, "/signup?sent=a%2Bb%40example.org");
        let query = location.trim_start_matches("/signup?");
        assert_eq!(sent_address(query).unwrap().as_str(), "a+b@example.org");
        assert!(sent_address("sent=https%3A%2F%2Fexample.org%2F").is_none());
        assert!(sent_address("sent=not+an+address").is_none());
        assert!(sent_address(&format!("sent={}%40example.org", "a".repeat(260))).is_none());
        assert!(sent_address("other=x").is_none());
    }
}
