//! Downloading the open MIMIC-IV demo: `SHA256SUMS.txt` first, then each table's
//! csv.gz into `<dest>/<module>/<table>.csv.gz`, written to a `.part` file that a
//! later attempt resumes with an HTTP `Range` request, and renamed only once its
//! SHA-256 matches. Loading the files is `load`'s job.
//!
//! A transfer may take long in total, but never sits silent: an attempt that
//! receives no byte for [`IDLE_TIMEOUT`] ends, and the next one resumes where it
//! stopped. Attempts are bounded, so a stalled link ends in an error naming the
//! file, never in a hang.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::checksum::{self, Checksums};
use super::progress::Progress;
use super::registry::DEMO_SHA256SUMS;
use super::{DatasetError, schema};

/// Attempts in a row that may bring no new byte before m4 gives up on a file; an
/// interrupted transfer resumes where it stopped.
const ATTEMPTS: usize = 5;
/// Attempts per file in all, however much each one brought: a link that delivers a
/// trickle and stalls again and again ends too.
const MAX_ATTEMPTS: usize = 20;
/// Silence that ends an attempt: a healthy link, even a slow one, sends something
/// well within it; the tests shorten it with `M4_TEST_DOWNLOAD_IDLE_MS`.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

const MISMATCH_HINT: &str = "the download is corrupt or the mirror serves a different file; run `m4 init mimic-iv-demo` again to download it afresh";

/// Downloads every registry table listed in the server's `SHA256SUMS.txt` into
/// `dest`, skipping files already there and verified. A table the list does not
/// name, or the server answers 404 for, is left out: `load` reports it as missing.
pub(super) fn fetch(
    base_url: &str,
    dest: &Path,
    idle_timeout: Option<Duration>,
    progress: &Progress,
) -> Result<(), DatasetError> {
    let base = if base_url.ends_with('/') {
        base_url.to_string()
    } else {
        format!("{base_url}/")
    };
    let idle = idle_timeout.unwrap_or(IDLE_TIMEOUT);
    let agent = agent(idle);
    fs::create_dir_all(dest)
        .map_err(|e| DatasetError::io("create the download folder", dest, e))?;

    let sums_url = format!("{base}SHA256SUMS.txt");
    progress.line(&format!("downloading {sums_url}"));
    let sums_text = get_text(&agent, &sums_url)?;
    let sums = checksum::parse(&sums_text).map_err(|line| DatasetError::ChecksumList {
        file: sums_url.clone(),
        line,
    })?;
    cross_check(&sums, &sums_url)?;
    let sums_path = dest.join("SHA256SUMS.txt");
    fs::write(&sums_path, &sums_text).map_err(|e| DatasetError::io("write", &sums_path, e))?;

    for table in schema::tables() {
        let relative = table.relative_path();
        let Some(expected) = sums.get(&relative) else {
            progress.line(&format!("skipping {relative}: not in {sums_url}"));
            continue;
        };
        let url = format!("{base}{relative}");
        let target = dest.join(&relative);
        fetch_file(&agent, &url, &target, expected, progress)?;
    }
    Ok(())
}

/// A mirror must not change what PhysioNet published: where both lists name a
/// file, the checksums must agree.
fn cross_check(sums: &Checksums, url: &str) -> Result<(), DatasetError> {
    let pinned = checksum::parse(DEMO_SHA256SUMS).unwrap_or_default();
    for (path, hash) in sums {
        if let Some(pinned_hash) = pinned.get(path)
            && pinned_hash != hash
        {
            return Err(DatasetError::ChecksumListDisagrees {
                url: url.to_string(),
                path: path.clone(),
            });
        }
    }
    Ok(())
}

fn agent(idle: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        // A body may take long in total...
        .timeout_recv_body(None)
        // ...but a read that waits this long for a byte means the link is gone.
        .timeout_per_read(Some(idle))
        .user_agent(concat!("m4/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn get_text(agent: &ureq::Agent, url: &str) -> Result<String, DatasetError> {
    let fail = |reason: String| DatasetError::Download {
        url: url.to_string(),
        reason,
    };
    let mut response = agent.get(url).call().map_err(|e| fail(e.to_string()))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(fail(format!("the server answered HTTP {status}")));
    }
    response
        .body_mut()
        .read_to_string()
        .map_err(|e| fail(e.to_string()))
}

/// What one attempt achieved.
enum Attempt {
    /// The `.part` file holds the whole body.
    Complete,
    /// The transfer stopped early; the `.part` file keeps what arrived.
    Interrupted(String),
    /// The server has no such file.
    NotFound,
}

fn part_path(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

fn fetch_file(
    agent: &ureq::Agent,
    url: &str,
    target: &Path,
    expected: &str,
    progress: &Progress,
) -> Result<(), DatasetError> {
    let label = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if target.exists() {
        let actual =
            checksum::sha256_file(target).map_err(|e| DatasetError::io("read", target, e))?;
        if actual == expected {
            progress.line(&format!("{label}: already downloaded and verified"));
            return Ok(());
        }
        fs::remove_file(target).map_err(|e| DatasetError::io("remove", target, e))?;
    }
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(|e| DatasetError::io("create", parent, e))?;
    }
    let part = part_path(target);
    let mut restarted_after_mismatch = false;
    let mut last_problem = String::new();
    let mut fruitless = 0;
    let mut attempts = 0;
    while fruitless < ATTEMPTS && attempts < MAX_ATTEMPTS {
        attempts += 1;
        let offset = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if offset > 0 {
            progress.line(&format!("{label}: resuming at byte {offset}"));
        } else {
            progress.line(&format!("{label}: downloading {url}"));
        }
        match attempt(agent, url, &part, offset, &label, progress)? {
            Attempt::NotFound => {
                progress.line(&format!("{label}: not on the server (HTTP 404), skipped"));
                return Ok(());
            }
            Attempt::Interrupted(problem) => {
                progress.line(&format!("{label}: transfer interrupted ({problem})"));
                let now = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
                fruitless = if now > offset { 0 } else { fruitless + 1 };
                last_problem = problem;
                continue;
            }
            Attempt::Complete => {}
        }
        let actual =
            checksum::sha256_file(&part).map_err(|e| DatasetError::io("read", &part, e))?;
        if actual == expected {
            fs::rename(&part, target).map_err(|e| DatasetError::io("rename", &part, e))?;
            progress.line(&format!("{label}: downloaded and verified"));
            return Ok(());
        }
        fs::remove_file(&part).map_err(|e| DatasetError::io("remove", &part, e))?;
        // A resumed file can be wrong because its first half was; one clean
        // download settles it, a second mismatch is the server's file.
        if offset > 0 && !restarted_after_mismatch {
            restarted_after_mismatch = true;
            progress.line(&format!(
                "{label}: checksum mismatch after resuming; downloading afresh"
            ));
            continue;
        }
        return Err(DatasetError::ChecksumMismatch {
            file: target.to_path_buf(),
            expected: expected.to_string(),
            actual,
            hint: MISMATCH_HINT,
        });
    }
    let kept = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    Err(DatasetError::Download {
        url: url.to_string(),
        reason: format!(
            "gave up on `{label}` after {attempts} attempts (last: {last_problem}); {kept} bytes are kept in `{}` for the next run to resume",
            part.display()
        ),
    })
}

fn attempt(
    agent: &ureq::Agent,
    url: &str,
    part: &Path,
    offset: u64,
    label: &str,
    progress: &Progress,
) -> Result<Attempt, DatasetError> {
    let idle = agent.config().timeout_per_read().unwrap_or(IDLE_TIMEOUT);
    // The files are gzip already; a transparently re-encoded body would fail its checksum.
    let mut request = agent.get(url).header("Accept-Encoding", "identity");
    if offset > 0 {
        request = request.header("Range", format!("bytes={offset}-"));
    }
    let response = match request.call() {
        Ok(response) => response,
        Err(e) => return Ok(Attempt::Interrupted(describe(&e, idle))),
    };
    let status = response.status().as_u16();
    let (file, start) = match status {
        200 => (
            File::create(part).map_err(|e| DatasetError::io("create", part, e))?,
            0,
        ),
        206 if content_range_start(&response) == Some(offset) => (
            OpenOptions::new()
                .append(true)
                .open(part)
                .map_err(|e| DatasetError::io("open", part, e))?,
            offset,
        ),
        206 => {
            // The server resumed somewhere else: start over rather than splice.
            fs::remove_file(part).map_err(|e| DatasetError::io("remove", part, e))?;
            return Ok(Attempt::Interrupted("unexpected Content-Range".into()));
        }
        // The part file already holds everything the server has.
        416 if offset > 0 => return Ok(Attempt::Complete),
        404 => return Ok(Attempt::NotFound),
        _ => {
            return Err(DatasetError::Download {
                url: url.to_string(),
                reason: format!("the server answered HTTP {status}"),
            });
        }
    };
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map(|len| len + start);
    let step = progress.bytes(label, total, start);
    let mut reader = response.into_body().into_reader();
    let mut writer = std::io::BufWriter::new(file);
    let mut buf = vec![0u8; 64 * 1024];
    let outcome = loop {
        match reader.read(&mut buf) {
            Ok(0) => break Attempt::Complete,
            Ok(n) => {
                writer
                    .write_all(&buf[..n])
                    .map_err(|e| DatasetError::io("write", part, e))?;
                step.inc(n as u64);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let problem = match e
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<ureq::Error>())
                {
                    Some(cause) => describe(cause, idle),
                    None => e.to_string(),
                };
                break Attempt::Interrupted(problem);
            }
        }
    };
    writer
        .flush()
        .map_err(|e| DatasetError::io("write", part, e))?;
    step.finish();
    Ok(outcome)
}

/// A failed request or read in words: a per-read timeout is a silent link.
fn describe(error: &ureq::Error, idle: Duration) -> String {
    match error {
        ureq::Error::Timeout(ureq::Timeout::PerRead) => {
            format!(
                "no data for {:.1} s: the transfer stalled",
                idle.as_secs_f64()
            )
        }
        other => other.to_string(),
    }
}

/// The first byte position of a `Content-Range: bytes <start>-<end>/<size>` header.
fn content_range_start(response: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    let value = response.headers().get("content-range")?.to_str().ok()?;
    parse_content_range_start(value)
}

fn parse_content_range_start(value: &str) -> Option<u64> {
    let range = value.trim().strip_prefix("bytes")?.trim_start();
    range.split('-').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_start_is_read() {
        assert_eq!(parse_content_range_start("bytes 100-199/200"), Some(100));
        assert_eq!(parse_content_range_start("bytes */200"), None);
        assert_eq!(parse_content_range_start("items 1-2/3"), None);
    }

    #[test]
    fn part_file_sits_beside_the_target() {
        assert_eq!(
            part_path(Path::new("/d/hosp/a.csv.gz")),
            PathBuf::from("/d/hosp/a.csv.gz.part")
        );
    }

    #[test]
    fn mirror_list_agreeing_with_physionet_passes_and_a_changed_hash_fails() {
        let pinned = checksum::parse(DEMO_SHA256SUMS).expect("pinned list parses");
        let mut sums: Checksums = pinned
            .iter()
            .filter(|(path, _)| path.starts_with("hosp/"))
            .map(|(p, h)| (p.clone(), h.clone()))
            .collect();
        sums.insert("extra/file.csv.gz".into(), "0".repeat(64));
        assert!(cross_check(&sums, "u").is_ok());
        sums.insert("hosp/patients.csv.gz".into(), "0".repeat(64));
        assert!(matches!(
            cross_check(&sums, "u"),
            Err(DatasetError::ChecksumListDisagrees { path, .. }) if path == "hosp/patients.csv.gz"
        ));
    }
}
