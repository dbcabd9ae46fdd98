//! A job's report: the JSON `producer status --json` prints and a sequence's `<job>.json` holds
//! beside its images once it has ended (state, frames, task tallies, core-seconds, cost, ETA).

use serde_json::{json, Value};
use shared::protocol::{JobManifest, JobStatus};
use std::path::{Path, PathBuf};

/// The status as JSON, with what the manifest adds: output, submission time, samples per
/// pixel, price; and the figures scripts read first at the top level (`core_seconds`, `cost`,
/// `samples_rendered`, `tasks_interrupted`).
pub fn json(s: &JobStatus, m: &JobManifest) -> Value {
    let mut v = serde_json::to_value(s).expect("statuses serialise");
    v["output"] = json!(m.output_name);
    v["submitted_unix"] = json!(m.submitted_unix);
    v["spp"] = json!(m.spp());
    // As submitted; `producer status` puts the dispatch record's (pause, a new level) over it.
    v["priority"] = json!(m.priority);
    v["paused"] = json!(false);
    v["core_seconds"] = json!(s.tasks.core_seconds);
    // Pixel samples the workers reported, pieces of interrupted tasks included, and how many
    // attempts were interrupted (their samples kept, the rest put back as a task).
    v["samples_rendered"] = json!(s.tasks.samples_rendered);
    v["tasks_interrupted"] = json!(s.tasks.interrupted);
    v["cost"] = json!(s.cost);
    v["price_per_core_hour"] = json!(m.price_per_core_hour);
    v["frames_done"] = json!(s
        .frames
        .iter()
        .filter(|f| f.state == shared::protocol::FrameState::Done)
        .count());
    v
}

/// Where `<job>.json` goes: the output's folder.
pub fn path(out: &Path, s: &JobStatus) -> PathBuf {
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    dir.join(format!("{}.json", s.job))
}

/// Writes `<job>.json` beside the images, atomically as the images are.
pub fn write(out: &Path, s: &JobStatus, m: &JobManifest) -> anyhow::Result<PathBuf> {
    let path = path(out, s);
    let mut text = serde_json::to_vec_pretty(&json(s, m))?;
    text.push(b'\n');
    shared::exr_io::write_atomic(&path, &text)?;
    Ok(path)
}
