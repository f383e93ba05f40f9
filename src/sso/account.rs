//! Which Cameo account a provider's person is, decided from what the store knows
//! ([`Facts`]) into a [`Plan`] the landing step carries out. Pure, so every rule is tested
//! here:
//!
//! 1. A linked (issuer, subject) is that account, whatever the email says now.
//! 2. Else a verified email that an account holds as a confirmed address links to that
//!    account: the provider vouches that the person holds the address.
//! 3. Else an account is made for the verified email, and linked.
//!
//! An email the provider does not vouch for (`email_verified` false or missing) confirms
//! nothing and makes no account: a provider that lets people type any address must not hand
//! out other people's addresses, nor squat their login names. Such a person can still log
//! in once linked (rule 1). A verified address nobody owns (added by the operator) is given
//! to the account; one owned by another account stays there, and the page says so.

/// What the store knows about the person logging in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    /// The account (issuer, subject) is linked to.
    pub linked: Option<i64>,
    /// Whether the provider vouches for an email address.
    pub verified_email: bool,
    /// Who holds that address as a confirmed one: `Some(Some(user))`, `Some(None)` for the
    /// operator (no owner), `None` if nobody has confirmed it.
    pub holder: Option<Option<i64>>,
    /// The account whose login name is that address, if any (confirmed or not).
    pub login_name_of: Option<i64>,
}

/// Which account to sign in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Account {
    /// The linked account.
    Linked(i64),
    /// An existing account, to be linked now.
    LinkTo(i64),
    /// A new account named after the verified address, linked.
    Create,
}

/// What happens to the verified address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressStep {
    /// Nothing to do: none vouched for, or the account holds it already.
    Nothing,
    /// Confirm it for the account (new, or given over from the operator).
    Confirm,
    /// Another account holds it: it stays there.
    HeldByAnother,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub account: Account,
    pub address: AddressStep,
}

/// Why nobody is signed in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanRefusal {
    #[error(
        "Your provider did not confirm an email address for you, so no account can be made. \
         Ask your provider's administrator to confirm your address."
    )]
    NoVerifiedEmail,
    #[error(
        "An account with this email address exists but never confirmed it. Confirm it with the \
         link we mailed, or ask this server's operator."
    )]
    UnconfirmedAccount,
}

pub fn plan(facts: &Facts) -> Result<Plan, PlanRefusal> {
    let account = match (facts.linked, facts.verified_email, facts.holder) {
        (Some(user), _, _) => Account::Linked(user),
        (None, false, _) => return Err(PlanRefusal::NoVerifiedEmail),
        (None, true, Some(Some(owner))) => Account::LinkTo(owner),
        // The login name is taken by an account that never proved the address: it could be
        // anyone's, so it is neither linked nor overwritten.
        (None, true, _) if facts.login_name_of.is_some() => {
            return Err(PlanRefusal::UnconfirmedAccount);
        }
        (None, true, _) => Account::Create,
    };
    let user = match account {
        Account::Linked(user) | Account::LinkTo(user) => Some(user),
        Account::Create => None,
    };
    let address = match (facts.verified_email, facts.holder) {
        (false, _) => AddressStep::Nothing,
        (true, None | Some(None)) => AddressStep::Confirm,
        (true, Some(Some(owner))) if Some(owner) == user => AddressStep::Nothing,
        (true, Some(Some(_))) => AddressStep::HeldByAnother,
    };
    Ok(Plan { account, address })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            linked: None,
            verified_email: true,
            holder: None,
            login_name_of: None,
        }
    }

    #[test]
    fn a_linked_subject_is_its_account_whatever_the_email_says() {
        let linked = Facts {
            linked: Some(7),
            holder: Some(Some(9)),
            ..facts()
        };
        assert_eq!(
            plan(&linked),
            Ok(Plan {
                account: Account::Linked(7),
                address: AddressStep::HeldByAnother
            })
        );
        let unverified = Facts {
            linked: Some(7),
            verified_email: false,
            ..facts()
        };
        assert_eq!(
            plan(&unverified),
            Ok(Plan {
                account: Account::Linked(7),
                address: AddressStep::Nothing
            })
        );
    }

    #[test]
    fn a_verified_address_confirmed_by_an_account_links_to_it() {
        let owned = Facts {
            holder: Some(Some(3)),
            login_name_of: Some(3),
            ..facts()
        };
        assert_eq!(
            plan(&owned),
            Ok(Plan {
                account: Account::LinkTo(3),
                address: AddressStep::Nothing
            })
        );
    }

    #[test]
    fn a_new_person_gets_an_account_and_the_address_confirmed() {
        assert_eq!(
            plan(&facts()),
            Ok(Plan {
                account: Account::Create,
                address: AddressStep::Confirm
            })
        );
    }

    #[test]
    fn an_address_the_operator_added_is_given_to_the_account() {
        let operator = Facts {
            holder: Some(None),
            ..facts()
        };
        assert_eq!(plan(&operator).unwrap().address, AddressStep::Confirm);
        let linked = Facts {
            linked: Some(4),
            ..operator
        };
        assert_eq!(plan(&linked).unwrap().address, AddressStep::Confirm);
    }

    #[test]
    fn an_unverified_email_makes_no_account_and_links_nothing() {
        let unverified = Facts {
            verified_email: false,
            holder: Some(Some(3)),
            ..facts()
        };
        assert_eq!(plan(&unverified), Err(PlanRefusal::NoVerifiedEmail));
    }

    #[test]
    fn an_account_that_never_confirmed_its_login_address_is_not_taken_over() {
        let squatted = Facts {
            login_name_of: Some(5),
            ..facts()
        };
        assert_eq!(plan(&squatted), Err(PlanRefusal::UnconfirmedAccount));
    }
}
