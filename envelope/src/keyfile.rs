//! Key files: an X25519 secret key as 64 hex digits and a newline, in a file readable by its
//! owner only (mode 0600), like the oracle's signing key. [`write_secret`] and [`read_secret`]
//! keep any other secret the same way.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use crate::KeyPair;

/// Why a key file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file exists; keys are never overwritten.
    #[error("{0} already exists; keys are never overwritten (move it away first)")]
    Exists(PathBuf),
    /// An I/O error, with the path.
    #[error("{path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The content is not a secret key.
    #[error("{path} is not an encryption key file (64 hex digits expected): {reason}")]
    Malformed {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Others may read the file.
    #[error("{path} is readable by others (mode {mode:o}); run chmod 600 on it")]
    TooOpen {
        /// The key file.
        path: PathBuf,
        /// Its mode bits.
        mode: u32,
    },
}

/// Writes `keys`' secret to a new file at `path`, mode 0600.
pub fn write(path: &Path, keys: &KeyPair) -> Result<(), KeyFileError> {
    let text = zeroize::Zeroizing::new(format!("{}\n", hex::encode(keys.secret_bytes().as_ref())));
    write_secret(path, &text)
}

/// Reads the key pair in `path`; refuses a file others may read.
pub fn read(path: &Path) -> Result<KeyPair, KeyFileError> {
    let text = read_secret(path)?;
    let malformed = |reason: String| KeyFileError::Malformed { path: path.to_path_buf(), reason };
    let bytes = zeroize::Zeroizing::new(hex::decode(text.trim()).map_err(|e| malformed(e.to_string()))?);
    KeyPair::from_secret_bytes(&bytes).map_err(|e| malformed(e.to_string()))
}

/// Writes the secret `text` to a new file at `path`, readable by its owner only (mode 0600);
/// never overwrites. Other secrets (a chain account's secret URI) use it too.
pub fn write_secret(path: &Path, text: &str) -> Result<(), KeyFileError> {
    let io = |source| KeyFileError::Io { path: path.to_path_buf(), source };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::AlreadyExists => KeyFileError::Exists(path.to_path_buf()),
        _ => io(err),
    })?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Reads the secret text in `path`; refuses a file others may read.
pub fn read_secret(path: &Path) -> Result<zeroize::Zeroizing<String>, KeyFileError> {
    let io = |source| KeyFileError::Io { path: path.to_path_buf(), source };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::TooOpen { path: path.to_path_buf(), mode });
        }
    }
    Ok(zeroize::Zeroizing::new(fs::read_to_string(path).map_err(io)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_round_trips_and_is_private() {
        let dir = std::env::temp_dir().join(format!("ehr-envelope-keyfile-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("patient.key");
        let keys = KeyPair::generate();
        write(&path, &keys).unwrap();
        assert_eq!(read(&path).unwrap().public(), keys.public());
        assert!(matches!(write(&path, &keys), Err(KeyFileError::Exists(_))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(read(&path), Err(KeyFileError::TooOpen { mode: 0o644, .. })));
        }
        let wrong = dir.join("wrong.key");
        write(&wrong, &keys).unwrap();
        fs::write(&wrong, "not hex\n").unwrap();
        let err = read(&wrong).unwrap_err().to_string();
        assert!(err.contains("not an encryption key file"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
