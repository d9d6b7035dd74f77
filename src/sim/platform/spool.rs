//! Uploaded artifact bytes, kept on disk in a temporary folder of the emulator's own (removed with it)
//! rather than in memory: written once at upload, read back for downloads and for a second digest.

use std::path::PathBuf;

/// Where the bytes of one upload are.
#[derive(Debug, Clone)]
pub enum Body {
    File(PathBuf),
    /// Kept in memory when the folder could not be written.
    Memory(Vec<u8>),
}

impl Body {
    /// The bytes (`None` when the file can no longer be read).
    pub fn read(&self) -> Option<Vec<u8>> {
        match self {
            Body::File(path) => std::fs::read(path).ok(),
            Body::Memory(bytes) => Some(bytes.clone()),
        }
    }
}

/// The folder the uploads go to (none when it could not be made: uploads stay in memory).
#[derive(Debug)]
pub struct Spool {
    dir: Option<tempfile::TempDir>,
}

impl Spool {
    pub fn new() -> Spool {
        let dir = tempfile::Builder::new().prefix("entra-airsync-artifacts-").tempdir();
        if let Err(e) = &dir {
            tracing::warn!(error = %e, "platform-sim: no temporary folder for artifacts; keeping them in memory");
        }
        Spool { dir: dir.ok() }
    }

    /// Keep the bytes of upload slot `n`.
    pub fn keep(&self, n: u64, bytes: Vec<u8>) -> Body {
        let Some(dir) = &self.dir else { return Body::Memory(bytes) };
        let path = dir.path().join(format!("{n}.bin"));
        match std::fs::write(&path, &bytes) {
            Ok(()) => Body::File(path),
            Err(e) => {
                tracing::warn!(error = %e, slot = n, "platform-sim: artifact not written to disk; kept in memory");
                Body::Memory(bytes)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_bytes_on_disk_until_dropped() {
        let spool = Spool::new();
        let body = spool.keep(3, b"abc".to_vec());
        let Body::File(path) = &body else { panic!("not on disk: {body:?}") };
        assert_eq!(body.read().as_deref(), Some(&b"abc"[..]));
        drop(spool);
        assert!(!path.exists());
        assert_eq!(Body::Memory(b"x".to_vec()).read(), Some(b"x".to_vec()));
    }
}
