//! Checked forms, as extractors, so every rule of "who may post this" is kept before the
//! handler runs and a handler's body reads as its own rule:
//! - [`UserForm`]: a form posted by a signed-in user, its CSRF token checked (every page that
//!   changes an account). A visitor who is not signed in is sent to the login page before
//!   the body is read.
//! - [`CheckedForm`]: a form from any visitor, its CSRF token checked (sign-up, login, the
//!   mailed links' confirmations).
//!
//! A form whose token is missing or wrong is refused (403) before anything changes.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest};

use super::pages::FormData;
use super::session::Visitor;
use crate::error::AppError;
use crate::store::users::SessionUser;

/// A signed-in user's form, its CSRF token checked.
pub struct UserForm {
    pub visitor: Visitor,
    pub user: SessionUser,
    pub form: FormData,
}

impl FromRequest for UserForm {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<UserForm, AppError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let visitor = Visitor::from_request(request, payload);
        let form = FormData::from_request(request, payload);
        Box::pin(async move {
            let visitor = visitor.await?;
            let user = visitor.require_user()?.clone();
            let form = form.await?;
            visitor.check_csrf(form.get("csrf"))?;
            Ok(UserForm {
                visitor,
                user,
                form,
            })
        })
    }
}

/// Any visitor's form, its CSRF token checked.
pub struct CheckedForm {
    pub visitor: Visitor,
    pub form: FormData,
}

impl FromRequest for CheckedForm {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<CheckedForm, AppError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let visitor = Visitor::from_request(request, payload);
        let form = FormData::from_request(request, payload);
        Box::pin(async move {
            let (visitor, form) = (visitor.await?, form.await?);
            visitor.check_csrf(form.get("csrf"))?;
            Ok(CheckedForm { visitor, form })
        })
    }
}
