//! Account pages: sign up, log in and out, forgotten and changed passwords, deletion.
//! Handlers read the form, apply the rules in `auth`, call the store, and render a page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::auth::{
    check_password_pair, hash_password, link_token, random_token, token_hash, verify_password,
};
use super::claims::start_email_claim;
use super::pages::{FormData, Layout, render_page, see_other};
use super::session::{Visitor, end_session_cookie, start_session};
use crate::error::AppError;
use crate::identity::Identity;
use crate::state::AppState;
use crate::store::tokens::{self, NewToken, Purpose};
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

/// Runs argon2 off the async executor.
async fn hash_off_thread(password: String) -> Result<String, AppError> {
    web::block(move || hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(AppError::Internal)
}

async fn verify_off_thread(hash: String, password: String) -> Result<bool, AppError> {
    web::block(move || verify_password(&hash, &password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))
}

pub async fn signup_form(
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let page = SignupPage {
        layout: Layout::new("Sign up", &visitor, &state),
        email: String::new(),
    };
    render_page(&visitor, &page, StatusCode::OK)
}

pub async fn signup(
    visitor: Visitor,
    state: web::Data<AppState>,
    form: FormData,
) -> Result<HttpResponse, AppError> {
    visitor.check_csrf(form.get("csrf"))?;
    let refuse = |message: String, status: StatusCode| {
        let layout = Layout::new("Sign up", &visitor, &state).with_error(message);
        render_page(
            &visitor,
            &SignupPage {
                layout,
                email: form.get("email").to_string(),
            },
            status,
        )
    };
    if !state.config.registration_open {
        return refuse(
            "This server does not take new sign-ups.".into(),
            StatusCode::FORBIDDEN,
        );
    }
    let email = match Identity::parse(form.get("email")) {
        Ok(identity @ Identity::Email(_)) => identity,
        Ok(Identity::OpenId(_)) => {
            return refuse(
                "Sign up with an email address.".into(),
                StatusCode::BAD_REQUEST,
            );
        }
        Err(error) => {
            return refuse(
                format!("That email address does not work: {error}."),
                StatusCode::BAD_REQUEST,
            );
        }
    };
    let password = form.get("password");
    if let Err(message) = check_password_pair(password, form.get("password_again")) {
        return refuse(message, StatusCode::BAD_REQUEST);
    }
    let hash = hash_off_thread(password.to_string()).await?;
    let Some(user_id) = users::create(&state.pool, email.as_str(), &hash).await? else {
        return refuse(
            "There is already an account for this address. Log in, or reset its password.".into(),
            StatusCode::CONFLICT,
        );
    };
    let cookie = start_session(&state, user_id).await?;
    let next = match start_email_claim(&state, user_id, &email).await {
        Ok(()) => "/account?done=welcome",
        Err(_) => "/account?done=welcome_no_mail",
    };
    let mut response = HttpResponse::SeeOther()
        .insert_header(("Location", next))
        .finish();
    response
        .add_cookie(&cookie)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(response)
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
    let page = LoginPage {
        layout,
        email: String::new(),
    };
    render_page(&visitor, &page, StatusCode::OK)
}

pub async fn login(
    request: HttpRequest,
    visitor: Visitor,
    state: web::Data<AppState>,
    form: FormData,
) -> Result<HttpResponse, AppError> {
    visitor.check_csrf(form.get("csrf"))?;
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
            },
            status,
        )
    };
    let client = crate::client::client_ip_of(&request, &state.config);
    if let Err(minutes) = state.login_limiter.check(client, &email) {
        return refuse(
            format!("Too many failed attempts. Wait {minutes} minutes, or reset your password."),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let user = users::by_email(&state.pool, &email).await?;
    let stored = user
        .as_ref()
        .map_or(DUMMY_HASH.to_string(), |u| u.password_hash.clone());
    let matches = verify_off_thread(stored, form.get("password").to_string()).await?;
    let Some(user) = user.filter(|_| matches) else {
        state.login_limiter.record_failure(client, &email);
        return refuse(
            "Wrong email address or password.".into(),
            StatusCode::UNAUTHORIZED,
        );
    };
    state.login_limiter.record_success(&email);
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
    visitor: Visitor,
    state: web::Data<AppState>,
    form: FormData,
) -> Result<HttpResponse, AppError> {
    visitor.check_csrf(form.get("csrf"))?;
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
    render_page(
        &visitor,
        &ForgotPage {
            layout: Layout::new("Reset your password", &visitor, &state),
        },
        StatusCode::OK,
    )
}

pub async fn forgot(
    visitor: Visitor,
    state: web::Data<AppState>,
    form: FormData,
) -> Result<HttpResponse, AppError> {
    visitor.check_csrf(form.get("csrf"))?;
    let email = form.get("email").trim().to_lowercase();
    if let Some(user) = users::by_email(&state.pool, &email).await? {
        let token = random_token();
        let hash = token_hash(&token);
        tokens::insert(
            &state.pool,
            NewToken {
                token_hash: &hash,
                purpose: Purpose::ResetPassword,
                user_id: user.id,
                address: None,
                proof: None,
                lifetime_secs: RESET_LIFETIME_SECS,
            },
        )
        .await?;
        let body = format!(
            "Someone (hopefully you) asked to reset the password of your Cameo account.\n\n\
             Choose a new password here (the link works once, for one hour):\n{}/reset/{token}\n\n\
             If it was not you, ignore this mail; your password stays as it is.\n",
            state.config.base_url
        );
        // The answer is the same whether or not the mail went out: no account enumeration.
        let _ = state
            .mailer
            .send(&user.email, "Reset your Cameo password", &body)
            .await;
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

pub async fn reset_form(
    visitor: Visitor,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = link_token(token)?;
    let page = ResetPage {
        layout: Layout::new("Choose a new password", &visitor, &state),
        token,
    };
    render_page(&visitor, &page, StatusCode::OK)
}

pub async fn reset(
    visitor: Visitor,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: FormData,
) -> Result<HttpResponse, AppError> {
    visitor.check_csrf(form.get("csrf"))?;
    let token = link_token(token)?;
    let password = form.get("password");
    if let Err(problem) = check_password_pair(password, form.get("password_again")) {
        let layout = Layout::new("Choose a new password", &visitor, &state).with_error(problem);
        return render_page(
            &visitor,
            &ResetPage { layout, token },
            StatusCode::BAD_REQUEST,
        );
    }
    let hash = hash_off_thread(password.to_string()).await?;
    let Some((user_id, _)) =
        tokens::take(&state.pool, &token_hash(&token), Purpose::ResetPassword).await?
    else {
        return message(
            &visitor,
            &state,
            StatusCode::GONE,
            "This link no longer works",
            "Reset links work once, for one hour. Ask for a new one.".into(),
            Some(("/forgot", "Send a new link")),
        );
    };
    users::set_password(&state.pool, user_id, &hash, None).await?;
    Ok(see_other("/login?done=password_reset"))
}

pub async fn password_form(
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    visitor.require_user()?;
    render_page(
        &visitor,
        &PasswordPage {
            layout: Layout::new("Change your password", &visitor, &state),
        },
        StatusCode::OK,
    )
}

pub async fn change_password(
    visitor: Visitor,
    state: web::Data<AppState>,
    form: FormData,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    visitor.check_csrf(form.get("csrf"))?;
    let refuse = |problem: String, status: StatusCode| {
        let layout = Layout::new("Change your password", &visitor, &state).with_error(problem);
        render_page(&visitor, &PasswordPage { layout }, status)
    };
    let account = users::by_id(&state.pool, user.user_id)
        .await?
        .ok_or(AppError::LoginRequired)?;
    if !verify_off_thread(account.password_hash, form.get("current").to_string()).await? {
        return refuse(
            "Your current password is not right.".into(),
            StatusCode::UNAUTHORIZED,
        );
    }
    let password = form.get("password");
    if let Err(problem) = check_password_pair(password, form.get("password_again")) {
        return refuse(problem, StatusCode::BAD_REQUEST);
    }
    let hash = hash_off_thread(password.to_string()).await?;
    users::set_password(
        &state.pool,
        user.user_id,
        &hash,
        visitor.session_hash.as_deref(),
    )
    .await?;
    Ok(see_other("/account?done=password_changed"))
}

pub async fn delete_form(
    visitor: Visitor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    visitor.require_user()?;
    render_page(
        &visitor,
        &DeletePage {
            layout: Layout::new("Delete your account", &visitor, &state),
        },
        StatusCode::OK,
    )
}

pub async fn delete_account(
    visitor: Visitor,
    state: web::Data<AppState>,
    form: FormData,
) -> Result<HttpResponse, AppError> {
    let user = visitor.require_user()?;
    visitor.check_csrf(form.get("csrf"))?;
    let account = users::by_id(&state.pool, user.user_id)
        .await?
        .ok_or(AppError::LoginRequired)?;
    if !verify_off_thread(account.password_hash, form.get("password").to_string()).await? {
        let layout = Layout::new("Delete your account", &visitor, &state)
            .with_error("Your password is not right.");
        return render_page(&visitor, &DeletePage { layout }, StatusCode::UNAUTHORIZED);
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
