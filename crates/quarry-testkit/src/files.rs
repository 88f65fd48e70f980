//! Breaking SQLite files on purpose: a small tmpfs for full disks and
//! read-only remounts, and corruption of a database's header or pages.
//!
//! Root ignores file permissions, so read-only tests use a read-only mount
//! (or `?mode=ro`), never `chmod`.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of a fixed size mounted on a fresh directory (needs root, as
/// tests run here); unmounted and removed when dropped.
#[derive(Debug)]
pub struct Tmpfs {
    dir: tempfile::TempDir,
    mounted: bool,
}

fn run(args: &[&str]) -> Result<(), String> {
    let out = Command::new(args[0]).args(&args[1..]).output().map_err(|e| format!("{}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

impl Tmpfs {
    /// Mount a tmpfs of `bytes` bytes. Fails (with the reason) where mounting
    /// is not allowed; callers may fall back to `PRAGMA max_page_count`.
    pub fn mount(bytes: u64) -> Result<Tmpfs, String> {
        let dir = tempfile::Builder::new().prefix("quarry-tmpfs-").tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().to_string_lossy().into_owned();
        run(&["mount", "-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs", &path])?;
        Ok(Tmpfs { dir, mounted: true })
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A file path inside the mount.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Remount read-only: writes fail with `EROFS`. A file still open for
    /// writing makes the kernel refuse ("mount point is busy"); files that
    /// are being closed (a pool's connections end on threads of their own)
    /// are waited for, up to 5 s.
    pub fn remount_read_only(&self) -> Result<(), String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match run(&["mount", "-o", "remount,ro", &self.dir.path().to_string_lossy()]) {
                Err(e) if e.contains("busy") && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                result => return result,
            }
        }
    }

    /// Remount read-write, optionally with a new size.
    pub fn remount_read_write(&self, bytes: Option<u64>) -> Result<(), String> {
        let options = match bytes {
            Some(b) => format!("remount,rw,size={b}"),
            None => "remount,rw".to_owned(),
        };
        run(&["mount", "-o", &options, &self.dir.path().to_string_lossy()])
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if self.mounted {
            // Lazy, so that a file still open (a connection not yet closed)
            // does not keep the mount; errors are reported, never panicked on.
            if let Err(e) = run(&["umount", "-l", &self.dir.path().to_string_lossy()]) {
                eprintln!("quarry-testkit: could not unmount tmpfs: {e}");
            }
        }
    }
}

/// Overwrite the first 16 bytes of `path` (SQLite's "SQLite format 3\0"
/// magic), so that opening it fails with "file is not a database".
pub fn corrupt_header(path: &Path) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
    f.write_all(b"this is no db!!\0")?;
    f.sync_all()
}

/// The page size recorded in a SQLite database header.
pub fn page_size(path: &Path) -> std::io::Result<u64> {
    let mut f = std::fs::File::open(path)?;
    let mut header = [0_u8; 18];
    f.read_exact(&mut header)?;
    let raw = u16::from_be_bytes([header[16], header[17]]);
    Ok(if raw == 1 { 65_536 } else { u64::from(raw) })
}

/// Overwrite page `page` (1-based) of a SQLite database with garbage, keeping
/// its size, so that reading what lived there fails with `SQLITE_CORRUPT`.
pub fn corrupt_page(path: &Path, page: u64) -> std::io::Result<()> {
    let size = page_size(path)?;
    let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
    f.seek(SeekFrom::Start((page - 1) * size))?;
    let garbage: Vec<u8> = (0..size).map(|i| (i as u8).wrapping_mul(31).wrapping_add(7)).collect();
    f.write_all(&garbage)?;
    f.sync_all()
}
