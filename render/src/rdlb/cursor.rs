//! The one reader of untrusted RDLB bytes: every read checks the bytes that remain and fails
//! with the absolute byte offset where the file stops making sense.

use super::RdlbError;

/// A position in a slice of the file. `base` is the slice's offset in the whole file, so that
/// every error names a file offset, not a slice offset.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8], base: usize) -> Self {
        Cursor {
            bytes,
            pos: 0,
            base,
        }
    }

    /// The file offset of the next byte.
    pub(crate) fn offset(&self) -> usize {
        self.base + self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    pub(crate) fn error(&self, message: impl Into<String>) -> RdlbError {
        RdlbError {
            offset: self.offset(),
            message: message.into(),
        }
    }

    /// An error at an earlier offset (where the thing that turned out wrong started).
    pub(crate) fn error_at(&self, offset: usize, message: impl Into<String>) -> RdlbError {
        RdlbError {
            offset,
            message: message.into(),
        }
    }

    /// The next `n` bytes, or an error saying what was being read.
    pub(crate) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], RdlbError> {
        if n > self.remaining() {
            return Err(self.error(format!(
                "truncated: {what} needs {n} bytes, only {} remain",
                self.remaining()
            )));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// A sub-cursor over the next `n` bytes; this cursor moves past them.
    pub(crate) fn sub(&mut self, n: usize, what: &str) -> Result<Cursor<'a>, RdlbError> {
        let base = self.offset();
        let bytes = self.take(n, what)?;
        Ok(Cursor::new(bytes, base))
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8, RdlbError> {
        Ok(self.take(1, what)?[0])
    }

    pub(crate) fn bool(&mut self, what: &str) -> Result<bool, RdlbError> {
        Ok(self.u8(what)? != 0)
    }

    pub(crate) fn u64_be(&mut self, what: &str) -> Result<u64, RdlbError> {
        let b = self.take(8, what)?;
        Ok(u64::from_be_bytes(b.try_into().expect("8 bytes")))
    }

    pub(crate) fn u64_le(&mut self, what: &str) -> Result<u64, RdlbError> {
        let b = self.take(8, what)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    pub(crate) fn f32(&mut self, what: &str) -> Result<f64, RdlbError> {
        let b = self.take(4, what)?;
        Ok(f32::from_le_bytes(b.try_into().expect("4 bytes")) as f64)
    }

    pub(crate) fn f64(&mut self, what: &str) -> Result<f64, RdlbError> {
        let b = self.take(8, what)?;
        Ok(f64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    /// `N` floats, single (`wide == false`) or double precision.
    pub(crate) fn floats<const N: usize>(
        &mut self,
        wide: bool,
        what: &str,
    ) -> Result<[f64; N], RdlbError> {
        let mut out = [0.0; N];
        for x in &mut out {
            *x = if wide {
                self.f64(what)?
            } else {
                self.f32(what)?
            };
        }
        Ok(out)
    }

    /// An unsigned LEB128 varint of at most `bits` bits (scene_rdl2 writes 32-bit and 64-bit
    /// ones: at most 5 and 10 bytes).
    pub(crate) fn varint(&mut self, bits: u32, what: &str) -> Result<u64, RdlbError> {
        let start = self.offset();
        let max_bytes = bits.div_ceil(7);
        let mut value: u64 = 0;
        for i in 0..max_bytes {
            let byte = self.u8(what)?;
            let shift = 7 * i;
            let part = u64::from(byte & 0x7f);
            if shift >= bits || (bits - shift < 7 && part >> (bits - shift) != 0) {
                return Err(self.error_at(
                    start,
                    format!("{what}: variable-length integer does not fit in {bits} bits"),
                ));
            }
            value |= part << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error_at(
            start,
            format!("{what}: variable-length integer longer than {max_bytes} bytes"),
        ))
    }

    /// A zigzag-encoded signed varint (`enqInt` with `bits == 32`, `enqLong` with 64).
    pub(crate) fn zigzag(&mut self, bits: u32, what: &str) -> Result<i64, RdlbError> {
        let u = self.varint(bits, what)?;
        Ok((u >> 1) as i64 ^ -((u & 1) as i64))
    }

    /// A length or count: a 64-bit varint that must fit in memory terms.
    pub(crate) fn size(&mut self, what: &str) -> Result<usize, RdlbError> {
        let start = self.offset();
        let n = self.varint(64, what)?;
        usize::try_from(n).map_err(|_| self.error_at(start, format!("{what}: {n} is too large")))
    }

    /// A count of elements each at least `min_element_bytes` long: checked against the bytes
    /// that remain before anyone allocates for it.
    pub(crate) fn count(
        &mut self,
        min_element_bytes: usize,
        what: &str,
    ) -> Result<usize, RdlbError> {
        let start = self.offset();
        let n = self.size(what)?;
        if n.saturating_mul(min_element_bytes) > self.remaining() {
            return Err(self.error_at(
                start,
                format!(
                    "{what}: count {n} needs at least {} bytes, only {} remain",
                    n.saturating_mul(min_element_bytes),
                    self.remaining()
                ),
            ));
        }
        Ok(n)
    }

    /// A length-prefixed string (`enqString`). Not UTF-8 is an error: names and paths are text.
    pub(crate) fn string(&mut self, what: &str) -> Result<String, RdlbError> {
        let start = self.offset();
        let n = self.size(what)?;
        if n > self.remaining() {
            return Err(self.error_at(
                start,
                format!(
                    "truncated: {what} is said to be {n} bytes long, only {} remain",
                    self.remaining()
                ),
            ));
        }
        let bytes = self.take(n, what)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| self.error_at(start, format!("{what} is not valid UTF-8")))
    }
}
