//! Is a `.sql.gz` a complete gzip stream? A dump cut short by a crash or a full disk has no
//! trailer (CRC32 + length), and only decoding to the end proves the trailer matches.

use std::io::{self, Read};

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

/// Read size: large enough that syscalls cost nothing next to hashing.
pub const BUF: usize = 1 << 20;

/// The error a cancelled read returns (`ErrorKind::Other` with this text).
pub const CANCELLED: &str = "cancelled";

pub fn is_cancelled(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Other && e.to_string() == CANCELLED
}

/// Decodes everything from `r`; `Ok(uncompressed bytes)` when the stream (or concatenated
/// streams, as `cat a.gz b.gz` makes) ends with valid trailers. The compressed bytes also go
/// to `hasher` and `on_bytes` (which returns false to cancel), so a verification reads the
/// file once.
pub fn check_gzip<R: Read>(
    r: R,
    hasher: Option<&mut Sha256>,
    on_bytes: &mut dyn FnMut(u64) -> bool,
) -> io::Result<u64> {
    check_gzip_reading(r, hasher, on_bytes, &mut |_| {})
}

/// [`check_gzip`], the decoded bytes also handed to `on_decoded` (a restore's gate reads the
/// dump's SQL in the same pass).
pub fn check_gzip_reading<R: Read>(
    r: R,
    hasher: Option<&mut Sha256>,
    on_bytes: &mut dyn FnMut(u64) -> bool,
    on_decoded: &mut dyn FnMut(&[u8]),
) -> io::Result<u64> {
    let mut seen = 0u64;
    let tee = Tee {
        inner: r,
        hasher,
        on_bytes,
        seen: &mut seen,
    };
    let mut dec = MultiGzDecoder::new(io::BufReader::with_capacity(BUF, tee));
    let mut out = vec![0u8; BUF];
    let mut total = 0u64;
    loop {
        match dec.read(&mut out) {
            Ok(0) => break,
            Ok(n) => {
                on_decoded(&out[..n]);
                total += n as u64
            }
            Err(e) => return Err(e),
        }
    }
    drop(dec);
    if seen == 0 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "empty file"));
    }
    Ok(total)
}

/// Convenience for the scan: is the file at `path` a complete gzip stream?
pub fn check_gzip_file(f: std::fs::File) -> Result<u64, String> {
    check_gzip(f, None, &mut |_| true).map_err(|e| describe(&e))
}

/// Plain words for what went wrong in a gzip stream.
pub fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => "gzip stream ends early (truncated)".into(),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
            format!("corrupt gzip data: {e}")
        }
        _ => e.to_string(),
    }
}

struct Tee<'a, R> {
    inner: R,
    hasher: Option<&'a mut Sha256>,
    on_bytes: &'a mut dyn FnMut(u64) -> bool,
    seen: &'a mut u64,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        *self.seen += n as u64;
        if let Some(h) = self.hasher.as_deref_mut() {
            h.update(&buf[..n]);
        }
        if !(self.on_bytes)(n as u64) {
            return Err(io::Error::other(CANCELLED));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn complete_streams_pass_and_cut_or_damaged_ones_fail() {
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let good = gz(&data);
        assert_eq!(
            check_gzip(&good[..], None, &mut |_| true).unwrap(),
            data.len() as u64
        );
        let mut two = good.clone();
        two.extend_from_slice(&gz(b"more"));
        assert_eq!(
            check_gzip(&two[..], None, &mut |_| true).unwrap(),
            data.len() as u64 + 4
        );
        let cut = &good[..good.len() - 4];
        assert!(check_gzip(cut, None, &mut |_| true).is_err());
        let mut bad_crc = good.clone();
        let n = bad_crc.len();
        bad_crc[n - 6] ^= 0xff;
        assert!(check_gzip(&bad_crc[..], None, &mut |_| true).is_err());
        assert!(check_gzip(&b""[..], None, &mut |_| true).is_err());
        assert!(check_gzip(&b"plain text"[..], None, &mut |_| true).is_err());
        let e = check_gzip(&good[..], None, &mut |_| false).unwrap_err();
        assert!(is_cancelled(&e));
    }
}
