//! Which database a command opens, said in words on standard error before it works, and the
//! refusal to create an empty SQLite file where only a read was meant: `cameo list` in the
//! wrong directory must say "no database here", not list an empty, freshly made one.

use std::path::Path;

use crate::config::{Database, redact_url_password};

/// The line a command prints before it works: the SQLite file, or the PostgreSQL URL with
/// its password hidden.
pub fn opened_line(database: &Database) -> String {
    match database {
        Database::Sqlite(path) => format!("database {}", shown(path)),
        Database::Postgres(url) => format!("database {}", redact_url_password(url)),
    }
}

/// Refuses a read (`what`: "list", "export", …) of an SQLite file that does not exist,
/// naming it and the ways to point at another; PostgreSQL databases are never created here.
pub fn check_exists_for_read(
    database: &Database,
    what: &str,
    exists: impl Fn(&Path) -> bool,
) -> Result<(), String> {
    match database {
        Database::Sqlite(path) if !exists(path) => Err(format!(
            "{what}: there is no database at {}, so nothing to read (and none is created). \
             Point at the server's data directory with --data-dir DIR, CAMEO_DATA_DIR or \
             data_dir in the config file.",
            shown(path)
        )),
        _ => Ok(()),
    }
}

/// A path as the operator can find it again: absolute when it can be made so.
fn shown(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn a_missing_file_is_refused_for_a_read_and_named() {
        let database = Database::Sqlite(PathBuf::from("/srv/cameo/data/cameo.db"));
        let refusal = check_exists_for_read(&database, "list", |_| false).unwrap_err();
        assert!(
            refusal.starts_with("list: there is no database at /srv/cameo/data/cameo.db"),
            "{refusal}"
        );
        assert!(refusal.contains("--data-dir"), "{refusal}");
        assert!(check_exists_for_read(&database, "list", |_| true).is_ok());
        let postgres = Database::Postgres("postgres://cameo:secret@db/cameo".into());
        assert!(check_exists_for_read(&postgres, "list", |_| false).is_ok());
    }

    #[test]
    fn the_opened_line_hides_a_password() {
        let postgres = Database::Postgres("postgres://cameo:secret@db/cameo".into());
        let line = opened_line(&postgres);
        assert!(
            !line.contains("secret") && line.contains("db/cameo"),
            "{line}"
        );
        let sqlite = Database::Sqlite(PathBuf::from("/srv/cameo.db"));
        assert_eq!(opened_line(&sqlite), "database /srv/cameo.db");
    }
}
