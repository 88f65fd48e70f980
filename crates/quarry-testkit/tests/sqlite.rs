//! `SqliteTestDb`: a writable path in its own directory, removed on drop.

use quarry_testkit::SqliteTestDb;

#[test]
fn path_is_writable_and_removed_on_drop() {
    let db = SqliteTestDb::new().expect("temp dir");
    let path = db.path().to_owned();
    assert!(path.is_absolute());
    assert!(!path.exists(), "the file is left for SQLite to create");
    assert_eq!(path.parent(), Some(db.dir()));
    std::fs::write(&path, b"not really a database").expect("writable");
    std::fs::write(db.dir().join("test.db-wal"), b"").expect("writable dir");
    assert_eq!(db.url(), format!("sqlite://{}", path.display()));
    assert!(db.url().starts_with("sqlite:///"));

    let other = SqliteTestDb::new().expect("temp dir");
    assert_ne!(other.path(), path);

    let dir = db.dir().to_owned();
    drop(db);
    assert!(!path.exists());
    assert!(!dir.exists());
}
