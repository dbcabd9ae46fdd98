//! The one place where names that become blob keys, file paths or lookup keys are checked,
//! before anything uses them: what a producer writes and what a worker, merger or `producer
//! fetch` reads back (a message or a record may have been written by anyone who can publish
//! or write blobs). Job ids are [`crate::protocol::JobId`]s, which only
//! `JobId::parse` makes (letters, digits and `-`); queue names are checked with the
//! configuration (`config`); the rest is here:
//!
//! - a content hash (the blob key of a scene file or a referenced file): 64 lowercase hex
//!   digits, so `scenes/<hash>` and `assets/<hash>` can name nothing else;
//! - a referenced file's name as the scene wrote it, and a scene file's name (shown in
//!   messages): 1 to 4096 bytes without NUL or another control character;
//! - an output name (`-o`, a frame's expanded pattern): a text name in every manifest; and
//!   when `producer fetch` reads it back to write there by default, no `..` component either,
//!   so a forged manifest cannot send it up and out of the folder the user fetches into.

use crate::protocol::shown;

/// Longest name accepted: Linux's PATH_MAX.
pub const MAX_NAME_BYTES: usize = 4096;

/// A name refused: what it was for, the name shown escaped and cut, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {shown} {why}")]
pub struct BadName {
    pub what: &'static str,
    pub shown: String,
    pub why: &'static str,
}

fn bad(what: &'static str, name: &str, why: &'static str) -> BadName {
    BadName {
        what,
        shown: shown(name),
        why,
    }
}

/// A SHA-256 as the blob keys of files use it: 64 lowercase hex digits.
pub fn content_hash(what: &'static str, hash: &str) -> Result<(), BadName> {
    let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if hash.len() == 64 && hash.bytes().all(hex) {
        Ok(())
    } else {
        Err(bad(
            what,
            hash,
            "is not a SHA-256 (64 lowercase hex digits)",
        ))
    }
}

/// A name shown in messages or used as a lookup key: 1 to [`MAX_NAME_BYTES`] bytes, no NUL
/// or other control character.
pub fn text_name(what: &'static str, name: &str) -> Result<(), BadName> {
    if name.is_empty() {
        return Err(bad(what, name, "is empty"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(bad(what, name, "is longer than 4096 bytes"));
    }
    if name.chars().any(char::is_control) {
        return Err(bad(what, name, "holds a control character"));
    }
    Ok(())
}

/// An output path a manifest carries: a [`text_name`] with no `..` component.
pub fn output_name(what: &'static str, name: &str) -> Result<(), BadName> {
    text_name(what, name)?;
    if name.split(['/', '\\']).any(|c| c == "..") {
        return Err(bad(what, name, "climbs out of its folder with `..`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hashes_are_64_lowercase_hex_digits() {
        let good = "ab".repeat(32);
        assert_eq!(content_hash("scene", &good), Ok(()));
        for bad in [
            "".to_string(),
            "AB".repeat(32),
            "ab".repeat(31),
            format!("../{}", "a".repeat(61)),
            format!("{}/", "a".repeat(63)),
            format!("{}\0", "a".repeat(63)),
        ] {
            let e = content_hash("referenced file", &bad)
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("referenced file ") && e.contains("SHA-256"),
                "{e}"
            );
        }
    }

    #[test]
    fn names_refuse_control_characters_and_output_names_refuse_climbing() {
        assert_eq!(text_name("file", "tex/brick 1001.png"), Ok(()));
        assert_eq!(output_name("output", "/mnt/renders/shot.0001.exr"), Ok(()));
        assert_eq!(output_name("output", "renders/..shot.exr"), Ok(()));
        let long = "a".repeat(MAX_NAME_BYTES + 1);
        for (name, why) in [
            ("", "is empty"),
            ("a\0b.exr", "control character"),
            ("a\nb.exr", "control character"),
            ("a\u{1b}[2J.exr", "control character"),
            (long.as_str(), "longer than 4096"),
        ] {
            let e = text_name("output", name).unwrap_err().to_string();
            assert!(e.contains(why) && !e.contains('\n'), "{name:?}: {e}");
        }
        for climbing in ["../x.exr", "renders/../../x.exr", "a\\..\\x.exr", ".."] {
            let e = output_name("output", climbing).unwrap_err().to_string();
            assert!(e.contains("climbs out"), "{climbing}: {e}");
        }
    }
}
