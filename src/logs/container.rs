//! Container logs as a source: `container:NAME` (stdout and stderr, each line with the
//! engine's timestamp), read through the engine client's logs stream and followed as the
//! container writes.

use futures::StreamExt;

use crate::providers::docker::Engine;

/// The prefix that names a container source.
pub const PREFIX: &str = "container:";

/// The container a source names, if it names one.
pub fn name_of(source: &str) -> Option<&str> {
    source.strip_prefix(PREFIX).filter(|n| !n.is_empty())
}

/// Whole lines from the stream's frames (a frame may end mid-line).
#[derive(Default)]
pub struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    /// Appends the whole lines `frame` completes to `out`.
    pub fn feed(&mut self, frame: &[u8], out: &mut Vec<u8>) {
        match memchr::memrchr(b'\n', frame) {
            Some(last) => {
                out.append(&mut self.partial);
                out.extend_from_slice(&frame[..=last]);
                self.partial.extend_from_slice(&frame[last + 1..]);
            }
            None => self.partial.extend_from_slice(frame),
        }
    }

    /// A last line without its newline, at the end of the stream.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.partial.is_empty() {
            out.append(&mut self.partial);
            out.push(b'\n');
        }
    }
}

/// Everything the container wrote so far, as whole lines.
pub async fn read_all(name: &str) -> Result<Vec<u8>, String> {
    let engine = Engine::connect().await.map_err(|e| e.to_string())?;
    let mut stream = Box::pin(engine.logs_stream(name, false, None));
    let mut lines = Lines::default();
    let mut out = Vec::new();
    while let Some(frame) = stream.next().await {
        lines.feed(&frame.map_err(|e| e.to_string())?, &mut out);
    }
    lines.finish(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_become_whole_lines() {
        let mut l = Lines::default();
        let mut out = Vec::new();
        l.feed(b"a\nb", &mut out);
        l.feed(b"c\nd", &mut out);
        assert_eq!(out, b"a\nbc\n");
        l.finish(&mut out);
        assert_eq!(out, b"a\nbc\nd\n");
        assert_eq!(name_of("container:web"), Some("web"));
        assert_eq!(name_of("/var/log/x"), None);
    }
}
