//! `--not-before TIME`: when a scheduled job may start, read as a user writes it.
//!
//! `22:00` (or `22:00:30`) is the next such time on the producer's clock, in its time zone
//! (TZ, else the system's): later today, or tomorrow once it has passed. Anything else must be
//! an RFC 3339 time with its offset (`2026-12-02T22:00:00Z`, `...+01:00`).

use jiff::{civil, tz::TimeZone, Timestamp, Zoned};

/// The start time `text` names, as milliseconds since the Unix epoch, reckoned from `now`.
pub fn parse(text: &str, now: &Zoned) -> Result<u64, String> {
    let t = text.trim();
    let at = if let Some(time) = clock_time(t) {
        let today = now
            .date()
            .to_datetime(time)
            .to_zoned(now.time_zone().clone())
            .map_err(|e| format!("--not-before {text}: {e}"))?;
        if today > *now {
            today
        } else {
            let tomorrow = now
                .date()
                .tomorrow()
                .map_err(|e| format!("--not-before {text}: {e}"))?;
            tomorrow
                .to_datetime(time)
                .to_zoned(now.time_zone().clone())
                .map_err(|e| format!("--not-before {text}: {e}"))?
        }
    } else {
        match t.parse::<Timestamp>() {
            Ok(ts) => ts.to_zoned(TimeZone::UTC),
            Err(_) => {
                return Err(format!(
                    "--not-before `{text}`: not a time; write HH:MM (the next such time here, e.g. 22:00) or RFC 3339 (e.g. 2026-12-02T22:00:00Z)"
                ))
            }
        }
    };
    u64::try_from(at.timestamp().as_millisecond())
        .map_err(|_| format!("--not-before {text}: before 1970"))
}

/// `HH:MM` or `HH:MM:SS`, 24-hour, and nothing else.
fn clock_time(t: &str) -> Option<civil::Time> {
    let parts: Vec<&str> = t.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n = |i: usize| parts.get(i).map_or(Some(0), |p| p.parse::<i8>().ok());
    civil::Time::new(n(0)?, n(1)?, n(2)?, 0).ok()
}

/// Now on the producer's clock, in its time zone.
pub fn now() -> Zoned {
    Zoned::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Zoned {
        s.parse().unwrap()
    }
    fn ms(s: &str) -> u64 {
        s.parse::<Timestamp>().unwrap().as_millisecond() as u64
    }

    #[test]
    fn a_clock_time_is_the_next_one_in_the_local_zone() {
        let now = at("2026-12-02T05:50:00+01:00[+01:00]");
        assert_eq!(parse("22:00", &now), Ok(ms("2026-12-02T21:00:00Z")));
        assert_eq!(parse("05:00", &now), Ok(ms("2026-12-03T04:00:00Z")));
        assert_eq!(
            parse("05:50", &now),
            Ok(ms("2026-12-03T04:50:00Z")),
            "now itself is past"
        );
        assert_eq!(parse("05:50:30", &now), Ok(ms("2026-12-02T04:50:30Z")));
    }

    #[test]
    fn rfc3339_times_carry_their_offset() {
        let now = at("2026-12-02T05:50:00+00:00[+00:00]");
        assert_eq!(
            parse("2026-12-02T22:00:00+01:00", &now),
            Ok(ms("2026-12-02T21:00:00Z"))
        );
        assert_eq!(
            parse("2026-12-02T22:00:00Z", &now),
            Ok(ms("2026-12-02T22:00:00Z"))
        );
    }

    #[test]
    fn anything_else_is_one_line_saying_what_to_write() {
        let now = at("2026-12-02T05:50:00+00:00[+00:00]");
        for bad in [
            "tonight",
            "25:00",
            "22h",
            "2026-12-02 22:00",
            "10pm",
            "",
            "22:00:00:00",
            "2:00",
        ] {
            let e = parse(bad, &now).unwrap_err();
            assert!(
                e.starts_with("--not-before") && !e.contains('\n'),
                "{bad}: {e}"
            );
        }
    }
}
