//! The planning rules, one behaviour per test.

use super::*;

fn seen(key: &str, addresses: &[&str], photo: SeenPhoto<u8>) -> SeenEntry<u8> {
    SeenEntry {
        key: key.into(),
        dn: format!("cn={key}"),
        addresses: addresses.iter().map(|a| a.to_string()).collect(),
        photo,
        disabled: false,
    }
}

fn known(key: &str, photo: Option<i64>, addresses: &[(&str, bool, Option<i64>, bool)]) -> Snapshot {
    let mut snapshot = Snapshot::default();
    snapshot.entries.insert(
        key.into(),
        KnownEntry {
            dn: format!("cn={key}"),
            photo_digest: photo.map(|p| format!("d{p}")),
            photo_id: photo,
        },
    );
    for (address, owned, photo_id, from_directory) in addresses {
        snapshot.linked.insert(
            address.to_string(),
            LinkedAddress {
                entry_key: key.into(),
                owned: *owned,
                photo_id: *photo_id,
                photo_from_directory: *from_directory,
            },
        );
    }
    snapshot
}

fn new_photo() -> SeenPhoto<u8> {
    SeenPhoto::New {
        digest: "d9".into(),
        prepared: 9,
    }
}

#[test]
fn a_new_entry_is_added_with_its_addresses_and_photo() {
    let plan = plan(
        vec![seen("a", &["a@x.org", "a2@x.org"], new_photo())],
        &Snapshot::default(),
        Precedence::User,
    );
    assert_eq!(plan.counts.added, 1);
    assert_eq!(plan.writes[0].link, ["a@x.org", "a2@x.org"]);
    assert!(matches!(
        plan.writes[0].photo,
        PhotoWrite::Replace { prepared: 9, .. }
    ));
    assert_eq!(plan.lines, ["added cn=a: a@x.org, a2@x.org (with photo)"]);
}

#[test]
fn an_entry_seen_as_before_is_unchanged_and_not_written() {
    let snapshot = known("a", Some(1), &[("a@x.org", false, Some(1), true)]);
    let plan = plan(
        vec![seen("a", &["a@x.org"], SeenPhoto::Same)],
        &snapshot,
        Precedence::User,
    );
    assert_eq!((plan.counts.unchanged, plan.writes.len()), (1, 0));
    assert_eq!(plan.lines, ["unchanged cn=a"]);
}

#[test]
fn a_changed_photo_and_a_dropped_address_update_the_entry() {
    let snapshot = known(
        "a",
        Some(1),
        &[
            ("a@x.org", false, Some(1), true),
            ("old@x.org", false, Some(1), true),
        ],
    );
    let plan = plan(
        vec![seen("a", &["a@x.org"], new_photo())],
        &snapshot,
        Precedence::User,
    );
    assert_eq!(plan.counts.updated, 1);
    assert_eq!(plan.writes[0].unlink, ["old@x.org"]);
    assert_eq!(plan.lines, ["updated cn=a: photo replaced; -old@x.org"]);
}

#[test]
fn an_entry_missing_from_a_complete_search_is_removed() {
    let snapshot = known("a", Some(1), &[("a@x.org", false, Some(1), true)]);
    let plan = plan(Vec::<SeenEntry<u8>>::new(), &snapshot, Precedence::User);
    assert_eq!(
        plan.removals,
        [Removal {
            key: "a".into(),
            unlink: vec!["a@x.org".into()]
        }]
    );
    assert_eq!(plan.lines, ["removed cn=a: no longer in the directory"]);
}

#[test]
fn a_disabled_entry_is_removed_and_a_new_disabled_one_skipped() {
    let snapshot = known("a", None, &[("a@x.org", false, None, false)]);
    let mut disabled = seen("a", &["a@x.org"], SeenPhoto::None);
    disabled.disabled = true;
    let mut other = seen("b", &["b@x.org"], SeenPhoto::None);
    other.disabled = true;
    let plan = plan(vec![disabled, other], &snapshot, Precedence::User);
    assert_eq!(plan.counts.removed, 1);
    assert_eq!(plan.counts.skipped, 1);
    assert_eq!(
        plan.lines,
        [
            "removed cn=a: disabled in the directory",
            "skipped cn=b: disabled in the directory"
        ]
    );
}

#[test]
fn a_refused_photo_leaves_the_entry_as_it_was() {
    let snapshot = known("a", Some(1), &[("a@x.org", false, Some(1), true)]);
    let plan = plan(
        vec![seen(
            "a",
            &["a@x.org"],
            SeenPhoto::Refused("too big".into()),
        )],
        &snapshot,
        Precedence::User,
    );
    assert_eq!(plan.counts.refused, 1);
    assert!(plan.writes.is_empty() && plan.removals.is_empty());
    assert_eq!(
        plan.lines,
        ["refused cn=a: its photo: too big; left as it was"]
    );
}

#[test]
fn an_address_belongs_to_the_first_entry_that_lists_it() {
    let plan = plan(
        vec![
            seen("a", &["shared@x.org"], SeenPhoto::None),
            seen("b", &["shared@x.org", "b@x.org"], SeenPhoto::None),
        ],
        &Snapshot::default(),
        Precedence::User,
    );
    assert_eq!(plan.writes[1].link, ["b@x.org"]);
    assert!(
        plan.lines
            .iter()
            .any(|l| l == "note cn=b: shared@x.org is listed by cn=a too; kept there")
    );
}

#[test]
fn precedence_decides_between_an_owners_photo_and_the_directorys() {
    use Precedence::{Directory, User};
    // Not owned: always the entry's.
    assert_eq!(address_photo(User, false, Some(5), false, Some(1)), Some(1));
    // Owned, own photo set.
    assert_eq!(address_photo(User, true, Some(5), false, Some(1)), Some(5));
    assert_eq!(
        address_photo(Directory, true, Some(5), false, Some(1)),
        Some(1)
    );
    // Owned, no photo of their own: the directory's fills in either way.
    assert_eq!(address_photo(User, true, None, false, Some(1)), Some(1));
    assert_eq!(address_photo(User, true, Some(7), true, Some(1)), Some(1));
    // The entry lost its photo: the directory's old one goes, the owner's stays.
    assert_eq!(address_photo(Directory, true, Some(7), true, None), None);
    assert_eq!(
        address_photo(Directory, true, Some(5), false, None),
        Some(5)
    );
}

#[test]
fn an_owners_photo_that_precedence_overrides_is_set_again() {
    let snapshot = known("a", Some(1), &[("a@x.org", true, Some(5), false)]);
    let user = plan(
        vec![seen("a", &["a@x.org"], SeenPhoto::Same)],
        &snapshot,
        Precedence::User,
    );
    assert_eq!(user.counts.unchanged, 1);
    let directory = plan(
        vec![seen("a", &["a@x.org"], SeenPhoto::Same)],
        &snapshot,
        Precedence::Directory,
    );
    assert_eq!(directory.lines, ["updated cn=a: photo set again"]);
}

#[test]
fn only_a_changed_or_missing_photo_goes_through_the_intake() {
    let entry = KnownEntry {
        dn: "cn=a".into(),
        photo_digest: Some("d1".into()),
        photo_id: Some(1),
    };
    assert!(!needs_intake(Some(&entry), "d1"));
    assert!(needs_intake(Some(&entry), "d2"));
    assert!(needs_intake(
        Some(&KnownEntry {
            photo_id: None,
            ..entry
        }),
        "d1"
    ));
    assert!(needs_intake(None, "d1"));
}
