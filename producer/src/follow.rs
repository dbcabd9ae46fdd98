//! Following a job to its end through the status the merger keeps, embedded or on the farm:
//! progress, the snapshot beside the output, each final image written atomically (a
//! sequence's frames as each is complete, and its `<job>.json` when it ends).

use crate::progress::Progress;
use shared::blob::Blobs;
use shared::exr_io::write_atomic;
use shared::protocol::{keys, FrameState, JobManifest, JobState, JobStatus, Record};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::task::JoinSet;

/// SIGINT, SIGTERM and SIGHUP, listened for from creation on: one received before `recv` is
/// polled is not lost, so a render stopped at any point after start-up cleans up.
pub struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn new() -> anyhow::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// The next signal: its number and name.
    pub async fn recv(&mut self) -> (i32, &'static str) {
        tokio::select! {
            _ = self.int.recv() => (2, "SIGINT"),
            _ = self.term.recv() => (15, "SIGTERM"),
            _ = self.hup.recv() => (1, "SIGHUP"),
        }
    }
}

pub struct Follow<'a> {
    pub manifest: &'a JobManifest,
    /// The output; a sequence's has its frame pattern.
    pub out: &'a Path,
    /// Where to keep the latest snapshot while rendering; removed at the end.
    pub snapshot: Option<PathBuf>,
    /// How often to read the status.
    pub every: Duration,
    /// The signals that stop following.
    pub signals: &'a mut Signals,
}

/// Returns the final status once the output is written; an error (and no output file) when
/// the job failed or was cancelled, on SIGINT, SIGTERM or SIGHUP ([`crate::Interrupted`]), or
/// when one of `services` (the embedded farm) stops.
pub async fn follow(
    f: Follow<'_>,
    blobs: &Blobs,
    mut services: Option<&mut JoinSet<anyhow::Result<()>>>,
) -> anyhow::Result<JobStatus> {
    let job = &f.manifest.job;
    let format = crate::job::OutputFormat::of(f.out)?;
    let mut progress = Progress::new();
    let mut generation = 0;
    let mut written = HashSet::new();
    let mut last = None;
    let mut tick = tokio::time::interval(f.every);
    let result = loop {
        tokio::select! {
            _ = tick.tick() => {}
            (signal, name) = f.signals.recv() => {
                let message = if services.is_some() {
                    format!("interrupted ({name}): the render stopped, no output written")
                } else {
                    format!("interrupted ({name}): no output written; the farm job goes on (`producer cancel {job}` stops it)")
                };
                break Err(crate::Interrupted { signal, message }.into());
            }
            Some(done) = async { match services.as_mut() { Some(s) => s.join_next().await, None => std::future::pending().await } } => {
                // Services only stop on shutdown; one that stops now has failed.
                break Err(match done {
                    Ok(Err(e)) => e,
                    Ok(Ok(())) => anyhow::anyhow!("a render service stopped unexpectedly"),
                    Err(join) => anyhow::anyhow!("a render service crashed: {join}"),
                });
            }
        }
        let status = match blobs.get_opt(&keys::status(job)).await {
            Ok(Some(bytes)) => JobStatus::from_bytes(&bytes)?,
            Ok(None) => continue,
            Err(e) => {
                // The farm's store may blip; keep following rather than abandon a long job.
                tracing::warn!("reading the job status: {e}");
                continue;
            }
        };
        progress.update(&status);
        if f.manifest.is_sequence() {
            copy_frames(&f, format, blobs, &status, &mut written).await?;
        }
        if let Some(snapshot) = &f.snapshot {
            if status.snapshot_generation > generation && status.state == JobState::Rendering {
                generation = status.snapshot_generation;
                if let Some(bytes) = blobs.get_opt(&keys::snapshot(job)).await? {
                    write_atomic(snapshot, &bytes)?;
                }
            }
        }
        let state = status.state;
        if state != JobState::Rendering {
            last = Some(status.clone());
        }
        match state {
            JobState::Rendering => {}
            JobState::Done => break Ok(status),
            JobState::Failed => {
                break Err(anyhow::anyhow!(
                    "job {job} failed: {}",
                    status.failures.join("; ")
                ))
            }
            JobState::Cancelled => break Err(anyhow::anyhow!("job {job} was cancelled")),
        }
    };
    progress.finish();
    if let Some(snapshot) = &f.snapshot {
        let _ = std::fs::remove_file(snapshot);
    }
    let status = match result {
        Ok(status) => status,
        Err(e) => {
            // A sequence that ended badly still gets its report (what failed, what it cost).
            if let Some(s) = last.as_ref().filter(|_| f.manifest.is_sequence()) {
                crate::report::write(f.out, s, f.manifest)?;
            }
            return Err(e);
        }
    };
    if f.manifest.is_sequence() {
        copy_frames(&f, format, blobs, &status, &mut written).await?;
        crate::report::write(f.out, &status, f.manifest)?;
    } else {
        let bytes = blobs.get(&keys::final_image(job)).await?;
        write_atomic(f.out, &format.encode(&bytes)?)?;
    }
    Ok(status)
}

/// Writes each frame the status shows complete and not yet written, to the output pattern
/// expanded for it.
async fn copy_frames(
    f: &Follow<'_>,
    format: crate::job::OutputFormat,
    blobs: &Blobs,
    status: &JobStatus,
    written: &mut HashSet<i32>,
) -> anyhow::Result<()> {
    for frame in &status.frames {
        if frame.state != FrameState::Done || written.contains(&frame.frame) {
            continue;
        }
        let bytes = blobs.get(&f.manifest.image_key(frame.frame)).await?;
        let path = crate::frames::expand(f.out, frame.frame);
        write_atomic(&path, &format.encode(&bytes)?)?;
        written.insert(frame.frame);
    }
    Ok(())
}
