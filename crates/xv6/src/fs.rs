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

    /// Where inode `inum` is in the image. Every number comes from the
    /// image, which anyone may have made: the arithmetic is checked.
    fn inode(&self, inum: u32) -> Option<usize> {
        let per_block = self.bsize.checked_div(self.dinode_size)?;
        let block = self.inodestart.checked_add(inum.checked_div(per_block)?)?;
        let at = block
            .checked_mul(self.bsize)?
            .checked_add((inum % per_block).checked_mul(self.dinode_size)?)?;
        Some(at as usize)
    }

    fn inode_type(&self, inum: u32) -> Option<u16> {
        let at = self.inode(inum)? + self.type_at as usize;
        Some(u16::from_le_bytes(
            self.image.get(at..at + 2)?.try_into().ok()?,
        ))
    }

    /// The directory entries of a directory's bytes: inode number and the
    /// name's bytes (up to its first NUL). Offsets come from the kernel's
    /// DWARF, so they are checked against the entry too.
    fn entries<'d>(&self, dir: &'d [u8]) -> impl Iterator<Item = (u32, &'d [u8])> + 'd {
        let (size, inum_at, name_at, name_len) = (
            self.dirent_size as usize,
            self.inum_at as usize,
            self.name_at as usize,
            self.name_len as usize,
        );
        dir.chunks_exact(size.max(1)).filter_map(move |entry| {
            let inum = entry.get(inum_at..inum_at + 2)?;
            let name = entry.get(name_at..name_at + name_len)?;
            let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            Some((
                u32::from(u16::from_le_bytes([inum[0], inum[1]])),
                &name[..end],
            ))
        })
    }

    /// A file's bytes: its direct blocks, then those its indirect block lists.
    fn read(&self, inum: u32) -> Option<Vec<u8>> {
        let at = self.inode(inum)?;
        let size = u32_at(self.image, at + self.size_at as usize)? as usize;
        // A file is no larger than the image that holds it.
        if size > self.image.len() {
            return None;
        }
        let addr = |k: u32| u32_at(self.image, at + (self.addrs_at + 4 * k) as usize);
        let mut blocks: Vec<u32> = (0..self.direct).filter_map(addr).collect();
        let indirect = addr(self.direct)?;
        if indirect != 0 {
            let base = indirect.checked_mul(self.bsize)? as usize;
            blocks.extend(
                (0..self.bsize / 4).filter_map(|k| u32_at(self.image, base + 4 * k as usize)),
            );
        }
        let mut out = Vec::with_capacity(size);
        for b in blocks.into_iter().take_while(|&b| b != 0) {
            let start = b.checked_mul(self.bsize)? as usize;
            let take = (size - out.len()).min(self.bsize as usize);
            out.extend_from_slice(self.image.get(start..start + take)?);
            if out.len() >= size {
                break;
            }
        }
        (out.len() == size).then_some(out)
    }
}

/// Why a disk image is not a file system the kernel can mount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiskError {
    /// The kernel's DWARF lacks a structure the check reads (named).
    Layout(String),
    /// The image is not what its superblock says, or has no root
    /// directory (what is wrong, in words).
    Image(String),
}

impl std::fmt::Display for DiskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiskError::Layout(what) => {
                write!(f, "the kernel's debugging information has no {what}")
            }
            DiskError::Image(why) => write!(f, "{why}"),
        }
    }
}

/// Checks that `image` is a file system this kernel mounts: whole blocks,
/// a superblock (block 1, laid out by the kernel's `struct superblock`)
/// whose size matches the image and whose regions lie inside it, and a root
/// directory whose `.` entry names itself. What a booting kernel would
/// trip over (`panic: ilock: no type`) is said before it boots.
pub fn check_image(layout: &Layout, image: &[u8]) -> Result<(), DiskError> {
    let field = |f: &str| {
        layout
            .structs
            .get("superblock")
            .and_then(|s| s.field(f))
            .map(|f| f.offset)
            .ok_or_else(|| DiskError::Layout(format!("struct superblock field {f}")))
    };
    let bsize = layout
        .structs
        .get("buf")
        .and_then(|s| s.field("data"))
        .map(|f| f.ty.size())
        .filter(|&b| b > 0)
        .ok_or_else(|| DiskError::Layout("struct buf field data".into()))? as usize;
    let bad = |why: String| Err(DiskError::Image(why));
    if image.len() < 2 * bsize {
        return bad(format!(
            "{} bytes is too small for an xv6 file system (its superblock is block 1 of {bsize}-byte blocks)",
            image.len()
        ));
    }
    if image.len() % bsize != 0 {
        return bad(format!(
            "{} bytes is not a whole number of {bsize}-byte blocks",
            image.len()
        ));
    }
    let blocks = (image.len() / bsize) as u64;
    let sb = |f: &str| -> Result<u64, DiskError> {
        Ok(u64::from(
            u32_at(image, bsize + field(f)? as usize).unwrap_or(0),
        ))
    };
    let size = sb("size")?;
    if size == 0 || size > blocks {
        return bad(format!(
            "its superblock says the file system has {size} blocks, and the image holds {blocks}: this is no xv6 fs.img (or it was cut short)"
        ));
    }
    for region in ["inodestart", "bmapstart", "logstart"] {
        let at = sb(region)?;
        if at < 2 || at >= size {
            return bad(format!(
                "its superblock puts {region} at block {at}, outside the file system's {size} blocks"
            ));
        }
    }
    if sb("ninodes")? == 0 || sb("nblocks")? == 0 {
        return bad("its superblock lists no inodes or no data blocks".into());
    }
    let fs = Fs::new(layout, image)
        .ok_or_else(|| DiskError::Layout("struct dinode or struct dirent".into()))?;
    let root_names_itself = fs.read(ROOT_INODE).is_some_and(|dir| {
        fs.entries(&dir)
            .any(|(inum, name)| inum == ROOT_INODE && name == b".")
    });
    if !root_names_itself {
        return bad(
            "it has no root directory (inode 1 has no `.` entry): the kernel would panic mounting it".into(),
        );
    }
    Ok(())
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
    for (inum, name_bytes) in fs.entries(&dir) {
        let name: String = name_bytes.iter().map(|&b| char::from(b)).collect();
        if inum == 0 || name.starts_with('.') {
            continue;
        }
        // A regular file has the type the root directory does not.
        if fs.inode_type(inum) == root_type {
            continue;
        }
        if let Some(bytes) = fs.read(inum) {
            out.push((name, bytes));
        }
    }
    out
}
