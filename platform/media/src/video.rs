//! Video transcoding with `ffmpeg` (Debian's package): any accepted upload
//! becomes an H.264/AAC MP4 (yuv420p, at most [`Ffmpeg::max_height`] lines,
//! `faststart` so browsers play it while it downloads) and a JPEG poster
//! from its first second. Progress is reported from ffmpeg's
//! `-progress` stream as a percentage of the input's duration.
//!
//! The caller keeps the original until [`Ffmpeg::transcode`] succeeds;
//! a failure carries ffmpeg's last words for the person who uploaded.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// What a transcode produced, in the output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcoded {
    pub mp4: PathBuf,
    pub poster: PathBuf,
    /// The input's duration, when ffmpeg could tell.
    pub duration_ms: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    /// ffmpeg is not installed or could not be started.
    #[error("ffmpeg could not be started: {0}")]
    Unavailable(String),
    /// ffmpeg ran and failed (the file is not a video it can read, …).
    #[error("{0}")]
    Failed(String),
    #[error("the video took longer than {0:?} to convert")]
    Timeout(Duration),
    #[error("the video is longer than the {0} s allowed")]
    TooLong(u64),
}

/// An ffmpeg binary and the limits of its output.
#[derive(Debug, Clone)]
pub struct Ffmpeg {
    pub bin: PathBuf,
    /// The tallest output picture (taller inputs are scaled down).
    pub max_height: u32,
    /// The longest input accepted, in seconds.
    pub max_seconds: u64,
    pub timeout: Duration,
}

impl Default for Ffmpeg {
    fn default() -> Self {
        Ffmpeg { bin: PathBuf::from("ffmpeg"), max_height: 720, max_seconds: 300, timeout: Duration::from_secs(600) }
    }
}

/// `HH:MM:SS.ss` from ffmpeg's banner, in milliseconds.
pub fn parse_duration(banner: &str) -> Option<u64> {
    let rest = banner.split("Duration: ").nth(1)?;
    let stamp = rest.split(',').next()?.trim();
    let mut parts = stamp.split(':');
    let (h, m, s) = (parts.next()?.parse::<u64>().ok()?, parts.next()?.parse::<u64>().ok()?, parts.next()?.parse::<f64>().ok()?);
    Some(h * 3_600_000 + m * 60_000 + (s * 1000.0).round() as u64)
}

/// The percentage done from one `-progress` line (`out_time_us=…`).
pub fn progress_of(line: &str, duration_ms: Option<u64>) -> Option<u8> {
    let us: u64 = line.strip_prefix("out_time_us=")?.trim().parse().ok()?;
    let total = duration_ms.filter(|d| *d > 0)?;
    Some(((us / 1000) * 100 / total).min(99) as u8)
}

impl Ffmpeg {
    /// Converts `input` into `out_dir/video.mp4` and `out_dir/poster.jpg`,
    /// calling `progress` with 0–99 as it goes (100 is the caller's, once
    /// everything is stored).
    pub async fn transcode(
        &self,
        input: &Path,
        out_dir: &Path,
        progress: &(dyn Fn(u8) + Send + Sync),
    ) -> Result<Transcoded, TranscodeError> {
        tokio::fs::create_dir_all(out_dir).await.map_err(|e| TranscodeError::Unavailable(e.to_string()))?;
        let mp4 = out_dir.join("video.mp4");
        let poster = out_dir.join("poster.jpg");
        let scale = format!("scale=-2:'min({},ih)':flags=bicubic", self.max_height);
        let mut child = Command::new(&self.bin)
            .args(["-hide_banner", "-nostdin", "-y", "-i"])
            .arg(input)
            .args(["-map", "0:v:0", "-map", "0:a:0?", "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-vf", &scale])
            .args(["-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-movflags", "+faststart"])
            .args(["-t", &self.max_seconds.to_string(), "-progress", "pipe:1", "-nostats"])
            .arg(&mp4)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| TranscodeError::Unavailable(e.to_string()))?;
        let stderr = child.stderr.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        // The banner (with the input's duration) comes on stderr; it is read
        // line by line beside the progress on stdout.
        let total = Arc::new(AtomicU64::new(0));
        let seen = total.clone();
        let banner = tokio::spawn(async move {
            let mut text = String::new();
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(d) = parse_duration(&line) {
                    seen.store(d, Ordering::Relaxed);
                }
                text.push_str(&line);
                text.push('\n');
            }
            text
        });
        let max_ms = self.max_seconds * 1000;
        let run = async {
            let mut lines = BufReader::new(stdout).lines();
            let mut last = 0u8;
            while let Ok(Some(line)) = lines.next_line().await {
                let d = total.load(Ordering::Relaxed);
                if let Some(p) = progress_of(&line, (d > 0).then_some(d.min(max_ms))) {
                    if p > last {
                        last = p;
                        progress(p);
                    }
                }
            }
            child.wait().await
        };
        let status = tokio::time::timeout(self.timeout, run).await.map_err(|_| TranscodeError::Timeout(self.timeout))?;
        let banner = banner.await.unwrap_or_default();
        let duration_ms = parse_duration(&banner);
        match status {
            Ok(s) if s.success() => {}
            Ok(_) => return Err(TranscodeError::Failed(last_words(&banner))),
            Err(e) => return Err(TranscodeError::Unavailable(e.to_string())),
        }
        if duration_ms.is_some_and(|d| d > max_ms + 500) {
            let _ = tokio::fs::remove_file(&mp4).await;
            return Err(TranscodeError::TooLong(self.max_seconds));
        }
        self.poster(&mp4, &poster, duration_ms).await?;
        Ok(Transcoded { mp4, poster, duration_ms })
    }

    /// A JPEG poster of `video` (any file ffmpeg reads: the MP4, or an
    /// original before its conversion) from its first second, scaled to at
    /// most [`Ffmpeg::max_height`] lines.
    pub async fn poster(&self, video: &Path, poster: &Path, duration_ms: Option<u64>) -> Result<(), TranscodeError> {
        let at = if duration_ms.is_some_and(|d| d >= 2000) { "1" } else { "0" };
        let scale = format!("scale=-2:'min({},ih)'", self.max_height);
        let run = Command::new(&self.bin)
            .args(["-hide_banner", "-nostdin", "-y", "-ss", at, "-i"])
            .arg(video)
            .args(["-frames:v", "1", "-q:v", "4", "-vf", &scale])
            .arg(poster)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(self.timeout, run)
            .await
            .map_err(|_| TranscodeError::Timeout(self.timeout))?
            .map_err(|e| TranscodeError::Unavailable(e.to_string()))?;
        if !out.status.success() || !poster.exists() {
            return Err(TranscodeError::Failed(last_words(&String::from_utf8_lossy(&out.stderr))));
        }
        Ok(())
    }
}

/// The last meaningful line of ffmpeg's output, for an error message.
fn last_words(stderr: &str) -> String {
    let line = stderr.lines().rev().map(str::trim).find(|l| !l.is_empty() && !l.starts_with("Conversion failed")).unwrap_or("");
    if line.is_empty() {
        "The video could not be converted.".to_string()
    } else {
        format!("The video could not be converted: {}", line.chars().take(200).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_progress_are_read_from_ffmpeg() {
        let banner = "Input #0, mov,mp4, from 'in.mp4':\n  Duration: 00:01:02.50, start: 0.000000, bitrate: 1 kb/s";
        assert_eq!(parse_duration(banner), Some(62_500));
        assert_eq!(parse_duration("no duration here"), None);
        assert_eq!(parse_duration("Duration: N/A, start"), None);
        let cases = [
            ("out_time_us=31250000", Some(62_500), Some(50)),
            ("out_time_us=99999999", Some(62_500), Some(99)),
            ("out_time_us=5", None, None),
            ("frame=10", Some(1000), None),
        ];
        for (line, total, want) in cases {
            assert_eq!(progress_of(line, total), want, "{line}");
        }
        assert_eq!(
            last_words("a\nInvalid data found when processing input\nConversion failed!\n"),
            "The video could not be converted: Invalid data found when processing input"
        );
    }
}
