//! What an API token may do. A token holds a set of scopes, chosen by its owner when it is
//! made and stored with it (`api_tokens.scopes`, space-separated names):
//!
//! - `lookup`: the read API (lookups, providers, profiles) — every token made before scopes
//!   existed has exactly this;
//! - `avatars:read`: list the owner's photos (`GET /api/v3/me/avatars`);
//! - `avatars:write`: upload, choose and delete the owner's photos. It does not imply
//!   `avatars:read`, so an app that only uploads cannot list.
//!
//! A request whose token lacks the scope gets Gravatar's `insufficient_scope` (403).
//! Parsing is pure and tested below.

use crate::error::AppError;

/// One thing a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Lookup,
    AvatarsRead,
    AvatarsWrite,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Lookup, Scope::AvatarsRead, Scope::AvatarsWrite];

    pub fn name(self) -> &'static str {
        match self {
            Scope::Lookup => "lookup",
            Scope::AvatarsRead => "avatars:read",
            Scope::AvatarsWrite => "avatars:write",
        }
    }

    /// What the scope lets an app do, for the token page.
    pub fn description(self) -> &'static str {
        match self {
            Scope::Lookup => "look up addresses and public profiles",
            Scope::AvatarsRead => "list your photos",
            Scope::AvatarsWrite => "upload, choose and delete your photos",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of scopes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scopes(u8);

impl Scopes {
    /// What a token has when its maker chose nothing: the read API.
    pub const DEFAULT: Scopes = Scopes(1);

    pub fn of(scopes: &[Scope]) -> Scopes {
        Scopes(scopes.iter().fold(0, |bits, scope| bits | scope.bit()))
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Reads names separated by spaces or commas (`"lookup avatars:write"`). Unknown names
    /// are refused with the list of known ones; an empty list is refused too.
    pub fn parse(text: &str) -> Result<Scopes, AppError> {
        let mut scopes = Scopes::default();
        for name in text.split([' ', ',']).filter(|n| !n.is_empty()) {
            let scope = Scope::ALL
                .into_iter()
                .find(|s| s.name() == name)
                .ok_or_else(|| {
                    AppError::Invalid(
                        "invalid_scope",
                        format!(
                            "unknown scope {:?}; scopes are {}",
                            name.chars().take(40).collect::<String>(),
                            Scope::ALL.map(Scope::name).join(", ")
                        ),
                    )
                })?;
            scopes.0 |= scope.bit();
        }
        if scopes.is_empty() {
            return Err(AppError::Invalid(
                "invalid_scope",
                "a token needs at least one scope".into(),
            ));
        }
        Ok(scopes)
    }

    /// Reads what the database holds; a value it cannot read grants nothing.
    pub fn from_stored(text: &str) -> Scopes {
        Scopes::parse(text).unwrap_or_default()
    }

    /// Space-separated names, as stored and shown.
    pub fn to_text(self) -> String {
        self.iter().map(Scope::name).collect::<Vec<_>>().join(" ")
    }

    /// `Ok` when the set holds `scope`, else Gravatar's `insufficient_scope`.
    pub fn require(self, scope: Scope) -> Result<(), AppError> {
        if self.contains(scope) {
            Ok(())
        } else {
            Err(AppError::InsufficientScope(format!(
                "this token lacks the {} scope; its owner can make one that has it",
                scope.name()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;

    #[test]
    fn scopes_are_read_by_name_with_spaces_or_commas() {
        let both = Scopes::parse("lookup avatars:write").unwrap();
        assert!(both.contains(Scope::Lookup) && both.contains(Scope::AvatarsWrite));
        assert!(!both.contains(Scope::AvatarsRead));
        assert_eq!(Scopes::parse("avatars:write,lookup").unwrap(), both);
        assert_eq!(both.to_text(), "lookup avatars:write");
        assert_eq!(Scopes::parse(&both.to_text()).unwrap(), both);
    }

    #[test]
    fn unknown_or_no_scopes_are_refused_and_stored_garbage_grants_nothing() {
        let unknown = Scopes::parse("lookup admin").unwrap_err().to_string();
        assert!(unknown.contains("\"admin\""), "{unknown}");
        assert!(unknown.contains("avatars:write"), "{unknown}");
        assert!(Scopes::parse(" , ").is_err());
        assert!(Scopes::from_stored("admin").is_empty());
        assert_eq!(Scopes::from_stored("lookup"), Scopes::DEFAULT);
    }

    #[test]
    fn a_missing_scope_is_insufficient_scope() {
        let error = Scopes::DEFAULT.require(Scope::AvatarsWrite).unwrap_err();
        assert_eq!(error.code(), "insufficient_scope");
        assert_eq!(error.status_code(), actix_web::http::StatusCode::FORBIDDEN);
        assert!(Scopes::DEFAULT.require(Scope::Lookup).is_ok());
    }
}
