//! A cookie-keeping HTTP client that fills in forms the way a browser would.

use reqwest::multipart;

use crate::helpers::TestApp;
use crate::smtp::{SmtpSink, link_in};

pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            client,
            base: app.base.clone(),
        }
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// The CSRF token of the form on `path`.
    pub async fn csrf_from(&self, path: &str) -> String {
        let (_, html) = self.get(path).await;
        csrf_in(&html)
    }

    /// Posts a form with the page's CSRF token added; returns status, Location and body.
    pub async fn submit(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String, String) {
        let csrf = self.csrf_from(page).await;
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    pub async fn post(&self, action: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let response = self
            .client
            .post(format!("{}{action}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (
            response.status().as_u16(),
            location,
            response.text().await.unwrap(),
        )
    }

    /// Uploads a photo from the profile page's form, with an optional crop square.
    pub async fn upload(&self, bytes: Vec<u8>, crop: Option<(u32, u32, u32)>) -> (u16, String) {
        let csrf = self.csrf_from("/account").await;
        let mut form = multipart::Form::new().text("csrf", csrf).part(
            "photo",
            multipart::Part::bytes(bytes).file_name("photo.png"),
        );
        if let Some((x, y, size)) = crop {
            form = form
                .text("crop_x", x.to_string())
                .text("crop_y", y.to_string())
                .text("crop_size", size.to_string());
        }
        let response = self
            .client
            .post(format!("{}/account/photos", self.base))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let (_, page) = self.get("/account").await;
        (status, page)
    }

    /// Signs up, then confirms the account address from the captured mail, which logs in.
    pub async fn sign_up_and_confirm(&self, smtp: &SmtpSink, email: &str) {
        let (status, location, _) = self
            .submit(
                "/signup",
                "/signup",
                &[
                    ("email", email),
                    ("password", PASSWORD),
                    ("password_again", PASSWORD),
                ],
            )
            .await;
        assert_eq!(status, 303);
        assert!(location.starts_with("/signup?sent="), "{location}");
        assert_eq!(self.confirm_from_mail(smtp, email).await, 200);
    }

    pub async fn confirm_from_mail(&self, smtp: &SmtpSink, email: &str) -> u16 {
        let link = link_in(&smtp.wait_for(email).await, "/confirm/");
        let path = link.trim_start_matches(&self.base).to_string();
        let (status, _, _) = self.submit(&path, &path, &[]).await;
        status
    }
}

pub const PASSWORD: &str = "a long enough password";

pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no csrf field in:\n{html}"))
        + marker.len();
    html[start..start + 64].to_string()
}

/// The first number after `prefix` in a page (ids in form actions).
pub fn id_after(html: &str, prefix: &str) -> String {
    let start = html
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in page"))
        + prefix.len();
    html[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}
