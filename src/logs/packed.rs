//! A sealed chunk's bytes, kept LZ4-compressed in blocks of whole lines (about 64 KiB each,
//! or one longer line): ordinary log text shrinks to a third or less, so a million-line
//! file costs well under its size in memory. A line on screen costs decompressing one block
//! (tens of microseconds); a search decompresses block by block into a small buffer, so no
//! second copy of the chunk is ever made.

/// Raw bytes per block (a block always ends at a line's end, so one long line is one block).
pub const BLOCK: usize = 64 * 1024;

#[derive(Debug)]
pub struct Packed {
    /// Raw length of the whole chunk.
    len: usize,
    blocks: Vec<Block>,
}

#[derive(Debug)]
struct Block {
    /// Index of the block's first line in the chunk.
    first: u32,
    /// Offset of that line in the chunk's raw bytes.
    start: u32,
    lz: Box<[u8]>,
}

impl Packed {
    /// Compresses `bytes`, whose lines end at `ends` (as the chunk indexes them).
    pub fn new(bytes: &[u8], ends: &[u32]) -> Packed {
        let mut blocks = Vec::with_capacity(bytes.len() / BLOCK + 1);
        let mut out = Vec::new();
        let mut first = 0usize;
        while first < ends.len() {
            let start = if first == 0 {
                0
            } else {
                ends[first - 1] as usize + 1
            };
            // Through the first line that reaches BLOCK bytes past the block's start.
            let want = start + BLOCK;
            let last = (first + ends[first..].partition_point(|&e| (e as usize) < want))
                .min(ends.len() - 1);
            let stop = (ends[last] as usize + 1).min(bytes.len());
            let raw = &bytes[start..stop];
            let bound = lz4_flex::block::get_maximum_output_size(raw.len());
            if out.len() < bound {
                out.resize(bound, 0);
            }
            let n = lz4_flex::block::compress_into(raw, &mut out)
                .expect("the output has the codec's maximum size");
            blocks.push(Block {
                first: first as u32,
                start: start as u32,
                lz: out[..n].into(),
            });
            first = last + 1;
        }
        Packed {
            len: bytes.len(),
            blocks,
        }
    }

    /// Raw length.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held (compressed blocks and their index).
    pub fn heap_size(&self) -> usize {
        self.blocks.capacity() * std::mem::size_of::<Block>()
            + self.blocks.iter().map(|b| b.lz.len()).sum::<usize>()
    }

    pub fn blocks(&self) -> usize {
        self.blocks.len()
    }

    /// The block holding line `i`.
    pub fn block_of(&self, i: usize) -> usize {
        self.blocks
            .partition_point(|b| b.first as usize <= i)
            .saturating_sub(1)
    }

    /// Offset of block `b`'s first byte in the chunk.
    pub fn block_start(&self, b: usize) -> usize {
        self.blocks[b].start as usize
    }

    fn block_end(&self, b: usize) -> usize {
        self.blocks
            .get(b + 1)
            .map_or(self.len, |n| n.start as usize)
    }

    /// Block `b`'s raw bytes, decompressed into `out` (whose allocation is reused).
    pub fn decode<'o>(&self, b: usize, out: &'o mut Vec<u8>) -> &'o [u8] {
        let n = self.block_end(b) - self.block_start(b);
        if out.len() < n {
            out.resize(n, 0);
        }
        let got = lz4_flex::block::decompress_into(&self.blocks[b].lz, &mut out[..n])
            .expect("a block toban compressed decompresses to its length");
        debug_assert_eq!(got, n);
        &out[..n]
    }
}
