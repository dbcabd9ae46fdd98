//! Polling with a deadline: the loop every test that waits on another process or task needs,
//! written once. A wait that runs out panics with the caller's message, made only then.

use std::time::{Duration, Instant};

/// A point in time a wait must not pass.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    start: Instant,
    within: Duration,
}

impl Deadline {
    pub fn after(within: Duration) -> Deadline {
        Deadline {
            start: Instant::now(),
            within,
        }
    }

    pub fn expired(&self) -> bool {
        self.start.elapsed() >= self.within
    }

    /// Panics with `what()` (and how long was waited) once the deadline has passed.
    #[track_caller]
    pub fn check(&self, what: impl FnOnce() -> String) {
        if self.expired() {
            panic!("waited {:?}: {}", self.within, what());
        }
    }
}

/// Calls `probe` every `every` until it returns `Ok`, and returns that value. `Err` is "not
/// yet", with what is awaited and what was seen; the last one is the panic message if `within`
/// passes first.
#[track_caller]
pub fn until<T>(
    within: Duration,
    every: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Deadline::after(within);
    loop {
        match probe() {
            Ok(v) => return v,
            Err(why) => deadline.check(|| why),
        }
        std::thread::sleep(every);
    }
}

/// [`until`] for async probes, sleeping on the tokio timer.
pub async fn until_async<T, F, Fut>(within: Duration, every: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = Deadline::after(within);
    loop {
        match probe().await {
            Ok(v) => return v,
            Err(why) => deadline.check(|| why),
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_returns_the_first_value_the_probe_gives() {
        let mut n = 0;
        let got = until(Duration::from_secs(5), Duration::from_millis(1), || {
            n += 1;
            if n == 3 {
                Ok(n * 10)
            } else {
                Err(format!("n is {n}"))
            }
        });
        assert_eq!(got, 30);
    }

    #[test]
    #[should_panic(expected = "the impossible")]
    fn until_panics_with_the_message_once_the_deadline_passes() {
        until::<()>(Duration::from_millis(30), Duration::from_millis(5), || {
            Err("the impossible".into())
        });
    }

    #[tokio::test]
    async fn until_async_polls_an_async_probe() {
        let start = Instant::now();
        let got = until_async(Duration::from_secs(5), Duration::from_millis(5), || async {
            if start.elapsed() > Duration::from_millis(20) {
                Ok("late enough")
            } else {
                Err("time to pass".to_string())
            }
        })
        .await;
        assert_eq!(got, "late enough");
    }
}
