//! Frame sequences on the command line: `--frames 1-240`, `1-240x2`, `1,5,9-12`, `7`, the
//! per-frame patterns in scene and output paths (`shot.####.rdla`, `beauty.%04d.exr`), and
//! `--rdla-set NAME=VALUE`.

use crate::cli::SubmitArgs;
use std::path::{Path, PathBuf};

/// The most frames one job may hold. A job's manifest lists its frames and status reports each,
/// so the limit keeps both small enough to read in one go (100 000 frames is over an hour of
/// film at 24 fps; split longer work into several jobs).
pub const MAX_FRAMES: usize = 100_000;

/// Parses a frame list: comma-separated items, each `N`, `A-B` (inclusive, A <= B) or `A-BxS`
/// (every S-th frame from A up to B). Frames may be negative (`-5--1`). The result keeps the
/// order given; a frame listed twice is an error.
pub fn parse_frames(spec: &str) -> Result<Vec<i32>, String> {
    let fail = |what: String| Err(format!("--frames {spec}: {what}"));
    if spec.trim().is_empty() {
        return fail("no frames given; write for example 1-240, 1-240x2, 1,5,9-12 or 7".into());
    }
    let mut frames = Vec::new();
    for item in spec.split(',') {
        let item = item.trim();
        let (range, step) = match item.split_once(['x', 'X']) {
            Some((r, s)) => match s.parse::<u32>() {
                Ok(0) => return fail(format!("`{item}`: the step must be at least 1")),
                Ok(s) => (r, s),
                Err(_) => return fail(format!("`{item}`: the step `{s}` is not a whole number")),
            },
            None => (item, 1),
        };
        let (first, last) = match split_range(range) {
            Some((a, b)) => match (a.parse::<i32>(), b.parse::<i32>()) {
                (Ok(a), Ok(b)) => (a, b),
                _ => return fail(format!("`{item}` is not a range such as 1-240")),
            },
            None => match range.parse::<i32>() {
                Ok(n) if step == 1 || !item.contains(['x', 'X']) => (n, n),
                Ok(_) => return fail(format!("`{item}`: a step needs a range, as in 1-240x2")),
                Err(_) => return fail(format!("`{item}` is not a frame number or a range")),
            },
        };
        if first > last {
            return fail(format!(
                "`{item}` runs backwards; write the first frame first ({last}-{first})"
            ));
        }
        let count = (i64::from(last) - i64::from(first)) / i64::from(step) + 1;
        if frames.len() as i64 + count > MAX_FRAMES as i64 {
            return fail(format!(
                "more than {MAX_FRAMES} frames in one job; split the sequence into several jobs"
            ));
        }
        let mut f = i64::from(first);
        while f <= i64::from(last) {
            frames.push(f as i32);
            f += i64::from(step);
        }
    }
    let mut sorted = frames.clone();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return fail(format!("frame {} is listed twice", w[0]));
    }
    Ok(frames)
}

/// Splits `A-B` at the dash between the numbers (either may have a sign: `-5--1`).
fn split_range(s: &str) -> Option<(&str, &str)> {
    let start = usize::from(s.starts_with('-'));
    let dash = s[start..].find('-')? + start;
    Some((&s[..dash], &s[dash + 1..]))
}

/// A per-frame pattern in a path: a run of `#` (one per digit, zero-padded) or printf's
/// `%d` / `%0Nd`. The first one in the file name is expanded; folders are never patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    /// Byte range of the pattern in the file name.
    start: usize,
    end: usize,
    width: usize,
}

fn find_pattern(name: &str) -> Option<Pattern> {
    let bytes = name.as_bytes();
    let hash = name.find('#').map(|start| {
        let len = bytes[start..].iter().take_while(|&&b| b == b'#').count();
        Pattern {
            start,
            end: start + len,
            width: len,
        }
    });
    let printf = name.match_indices('%').find_map(|(start, _)| {
        let digits = bytes[start + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let d = start + 1 + digits;
        (bytes.get(d) == Some(&b'd')).then(|| Pattern {
            start,
            end: d + 1,
            width: name[start + 1..d].parse().unwrap_or(0),
        })
    });
    match (hash, printf) {
        (Some(a), Some(b)) => Some(if a.start < b.start { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn file_name(path: &Path) -> Option<&str> {
    path.file_name().and_then(|n| n.to_str())
}

/// Whether the file name has a per-frame pattern.
pub fn has_pattern(path: &Path) -> bool {
    file_name(path).is_some_and(|n| find_pattern(n).is_some())
}

/// The path for `frame`: the file name's pattern replaced by the frame number, zero-padded to
/// the pattern's width (a negative frame keeps its sign in front). A path without a pattern is
/// returned as it is.
pub fn expand(path: &Path, frame: i32) -> PathBuf {
    let Some(name) = file_name(path) else {
        return path.to_path_buf();
    };
    let Some(p) = find_pattern(name) else {
        return path.to_path_buf();
    };
    let digits = if frame < 0 {
        format!(
            "-{:0w$}",
            frame.unsigned_abs(),
            w = p.width.saturating_sub(1)
        )
    } else {
        format!("{frame:0w$}", w = p.width)
    };
    path.with_file_name(format!("{}{digits}{}", &name[..p.start], &name[p.end..]))
}

/// The default output for a sequence: `<stem>.####.exr`, where the stem is the scene's file
/// stem with its own pattern (and the dot before it) taken out: `shot.####.rdla` -> `shot`.
pub fn default_sequence_output(scene: &Path) -> PathBuf {
    let name = file_name(scene).unwrap_or("render");
    let stem = Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("render");
    let stem = match find_pattern(stem) {
        Some(p) => {
            let (before, after) = (&stem[..p.start], &stem[p.end..]);
            format!("{}{}", before.trim_end_matches(['.', '_']), after)
        }
        None => stem.to_string(),
    };
    let stem = if stem.is_empty() {
        "render".into()
    } else {
        stem
    };
    PathBuf::from(format!("{stem}.####.exr"))
}

/// The frames a submit renders: one per `--frames` entry, or the one frame (None: the
/// scene's own) without it. Usage errors: a bad list, `--frame` beside it, a scene path with a
/// pattern but no `--frames`.
pub fn plan(args: &SubmitArgs) -> anyhow::Result<Vec<Option<i32>>> {
    let Some(spec) = &args.frames else {
        if let Some(p) = args.scenes.iter().find(|p| has_pattern(p)) {
            crate::usage!(
                "scene {} names a frame pattern: say which frames with --frames (e.g. --frames 1-240)",
                p.display()
            );
        }
        return Ok(vec![None]);
    };
    if args.frame.is_some() {
        crate::usage!("--frame and --frames together: give one (--frames 7 renders frame 7)");
    }
    let frames = parse_frames(spec).map_err(crate::UsageError)?;
    Ok(frames.into_iter().map(Some).collect())
}

/// A sequence of several frames needs a pattern in its output, else every frame would write
/// the same file.
pub fn check_output(out: &Path, frames: usize) -> anyhow::Result<()> {
    if frames > 1 && !has_pattern(out) {
        crate::usage!(
            "output {}: {frames} frames need a frame pattern in the file name, e.g. -o beauty.####.exr",
            out.display()
        );
    }
    Ok(())
}

/// `--rdla-set NAME=VALUE` as (NAME, VALUE) pairs: VALUE is Lua (`--rdla-set 'shot="a"'`).
pub fn rdla_set(items: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((name, value)) if render::rdla::is_lua_name(name.trim()) => {
                Ok((name.trim().to_string(), value.to_string()))
            }
            Some((name, _)) => crate::usage!(
                "--rdla-set {item}: `{}` is not a Lua variable name (letters, digits and _, not starting with a digit)",
                name.trim()
            ),
            None => crate::usage!(
                "--rdla-set {item}: expected NAME=VALUE, with VALUE in Lua (e.g. --rdla-set quality=2)"
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_lists_in_every_form() {
        assert_eq!(parse_frames("7").unwrap(), vec![7]);
        assert_eq!(parse_frames("1-4").unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(parse_frames("1-9x3").unwrap(), vec![1, 4, 7]);
        assert_eq!(parse_frames("1-10x3").unwrap(), vec![1, 4, 7, 10]);
        assert_eq!(parse_frames("1,5,9-12").unwrap(), vec![1, 5, 9, 10, 11, 12]);
        assert_eq!(parse_frames(" 3 , 1 ").unwrap(), vec![3, 1]);
        assert_eq!(parse_frames("-2-1").unwrap(), vec![-2, -1, 0, 1]);
        assert_eq!(parse_frames("-5--4").unwrap(), vec![-5, -4]);
        assert_eq!(parse_frames("1-240").unwrap().len(), 240);
        assert_eq!(parse_frames("1-240x2").unwrap().len(), 120);
        assert_eq!(parse_frames("5-5").unwrap(), vec![5]);
    }

    #[test]
    fn bad_frame_lists_say_what_is_wrong_in_one_line() {
        for (spec, says) in [
            ("5-1", "runs backwards"),
            ("1-10x0", "step must be at least 1"),
            ("1-10000000", "more than 100000 frames"),
            ("1-60000,70000-130000", "more than 100000 frames"),
            ("", "no frames given"),
            ("a", "is not a frame number"),
            ("1-b", "is not a range"),
            ("1-5xq", "is not a whole number"),
            ("5x2", "a step needs a range"),
            ("1-3,2", "frame 2 is listed twice"),
            ("1,,2", "is not a frame number"),
        ] {
            let e = parse_frames(spec).unwrap_err();
            assert!(e.contains(says), "{spec}: {e}");
            assert!(e.starts_with(&format!("--frames {spec}:")), "{e}");
            assert!(!e.contains('\n'));
        }
        // The limit itself is allowed.
        assert_eq!(parse_frames("1-100000").unwrap().len(), MAX_FRAMES);
        // The far end of i32 does not overflow.
        assert_eq!(parse_frames("2147483646-2147483647").unwrap().len(), 2);
    }

    #[test]
    fn hash_and_printf_patterns_expand_zero_padded() {
        let e = |p: &str, f| expand(Path::new(p), f).display().to_string();
        assert_eq!(e("shot.####.rdla", 7), "shot.0007.rdla");
        assert_eq!(e("shot.#.rdla", 12), "shot.12.rdla");
        assert_eq!(e("out/beauty.%04d.exr", 42), "out/beauty.0042.exr");
        assert_eq!(e("beauty.%d.exr", 42), "beauty.42.exr");
        assert_eq!(e("b.####.exr", 123_456), "b.123456.exr");
        assert_eq!(e("b.####.exr", -3), "b.-003.exr");
        // Only the first pattern, only in the file name.
        assert_eq!(e("a##/b.##.##.exr", 5), "a##/b.05.##.exr");
        assert_eq!(e("plain.exr", 5), "plain.exr");
        assert_eq!(e("100%.exr", 5), "100%.exr");
    }

    #[test]
    fn patterns_are_found_only_in_file_names() {
        assert!(has_pattern(Path::new("x/shot.####.rdla")));
        assert!(has_pattern(Path::new("shot.%04d.rdla")));
        assert!(has_pattern(Path::new("shot.%d.rdla")));
        assert!(!has_pattern(Path::new("shot.rdla")));
        assert!(!has_pattern(Path::new("##/shot.rdla")));
        assert!(!has_pattern(Path::new("50%off.rdla")));
    }

    #[test]
    fn the_default_sequence_output_drops_the_scene_pattern() {
        let d = |p: &str| default_sequence_output(Path::new(p)).display().to_string();
        assert_eq!(d("scenes/shot.rdla"), "shot.####.exr");
        assert_eq!(d("shot.####.rdla"), "shot.####.exr");
        assert_eq!(d("shot_%04d.rdla"), "shot.####.exr");
        assert_eq!(d("####.rdla"), "render.####.exr");
    }
}
