//! Reading files out of an xv6 disk image (fs.img), for the user programs'
//! ELFs and their line tables. The layout is the build's own: `struct
//! superblock`, `struct dinode` (with `addrs[NDIRECT+1]`, the last one the
//! indirect block) and `struct dirent` from the kernel's DWARF, the block
//! size from `struct buf`'s `data[BSIZE]`. Only the root directory is
//! read: that is where xv6's mkfs puts every program.

use crate::dwarf::{Layout, Type};

/// The root directory's inode number (xv6's ROOTINO, also `namei("/")`).
const ROOT_INODE: u32 = 1;

struct Fs<'a> {
    image: &'a [u8],
    bsize: u32,
    inodestart: u32,
    dinode_size: u32,
    type_at: u32,
    size_at: u32,
    addrs_at: u32,
    /// Direct block addresses before the indirect one.
    direct: u32,
    dirent_size: u32,
    inum_at: u32,
    name_at: u32,
    name_len: u32,
}

fn u32_at(image: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(image.get(at..at + 4)?.try_into().ok()?))
}

impl<'a> Fs<'a> {
    fn new(layout: &Layout, image: &'a [u8]) -> Option<Fs<'a>> {
        let field = |s: &str, f: &str| layout.structs.get(s)?.field(f).map(|f| (f.offset, &f.ty));
        let bsize = field("buf", "data").map(|(_, t)| t.size())?;
        let (inodestart_at, _) = field("superblock", "inodestart")?;
        let dinode = layout.structs.get("dinode")?;
        let (addrs_at, addrs) = field("dinode", "addrs")?;
        let Type::Array { count, .. } = addrs else {
            return None;
        };
        let dirent = layout.structs.get("dirent")?;
        let (name_at, name) = field("dirent", "name")?;
        Some(Fs {
            image,
            bsize,
            inodestart: u32_at(image, (bsize + inodestart_at) as usize)?,
            dinode_size: dinode.size,
            type_at: field("dinode", "type")?.0,
            size_at: field("dinode", "size")?.0,
            addrs_at,
            direct: count.checked_sub(1)?,
            dirent_size: dirent.size,
            inum_at: field("dirent", "inum")?.0,
            name_at,
            name_len: name.size(),
        })
    }

    fn inode(&self, inum: u32) -> Option<usize> {
        let per_block = self.bsize / self.dinode_size;
        let block = self.inodestart + inum / per_block;
        Some((block * self.bsize + (inum % per_block) * self.dinode_size) as usize)
    }

    fn inode_type(&self, inum: u32) -> Option<u16> {
        let at = self.inode(inum)? + self.type_at as usize;
        Some(u16::from_le_bytes(
            self.image.get(at..at + 2)?.try_into().ok()?,
        ))
    }

    /// A file's bytes: its direct blocks, then those its indirect block lists.
    fn read(&self, inum: u32) -> Option<Vec<u8>> {
        let at = self.inode(inum)?;
        let size = u32_at(self.image, at + self.size_at as usize)? as usize;
        let addr = |k: u32| u32_at(self.image, at + (self.addrs_at + 4 * k) as usize);
        let mut blocks: Vec<u32> = (0..self.direct).filter_map(addr).collect();
        let indirect = addr(self.direct)?;
        if indirect != 0 {
            let base = (indirect * self.bsize) as usize;
            blocks.extend(
                (0..self.bsize / 4).filter_map(|k| u32_at(self.image, base + 4 * k as usize)),
            );
        }
        let mut out = Vec::with_capacity(size);
        for b in blocks.into_iter().take_while(|&b| b != 0) {
            let start = (b * self.bsize) as usize;
            let take = (size - out.len()).min(self.bsize as usize);
            out.extend_from_slice(self.image.get(start..start + take)?);
            if out.len() >= size {
                break;
            }
        }
        (out.len() == size).then_some(out)
    }
}

/// The root directory's regular files (name and bytes), or none when the
/// image or the kernel's DWARF does not say how to read it.
pub fn root_files(layout: &Layout, image: &[u8]) -> Vec<(String, Vec<u8>)> {
    let Some(fs) = Fs::new(layout, image) else {
        return Vec::new();
    };
    let root_type = fs.inode_type(ROOT_INODE);
    let Some(dir) = fs.read(ROOT_INODE) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in dir.chunks_exact(fs.dirent_size as usize) {
        let inum = u16::from_le_bytes([entry[fs.inum_at as usize], entry[fs.inum_at as usize + 1]]);
        let name_bytes = &entry[fs.name_at as usize..(fs.name_at + fs.name_len) as usize];
        let name: String = name_bytes
            .iter()
            .take_while(|&&b| b != 0)
            .map(|&b| char::from(b))
            .collect();
        if inum == 0 || name.starts_with('.') {
            continue;
        }
        // A regular file has the type the root directory does not.
        if fs.inode_type(u32::from(inum)) == root_type {
            continue;
        }
        if let Some(bytes) = fs.read(u32::from(inum)) {
            out.push((name, bytes));
        }
    }
    out
}
