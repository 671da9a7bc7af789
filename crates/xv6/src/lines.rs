//! Where an address is in the kernel's source: file, line and function,
//! from the DWARF line table and the functions' debugging entries (read
//! with `addr2line`, which handles inlined functions).

use crate::dwarf::LayoutError;
use gimli::{EndianArcSlice, LittleEndian};
use object::{Object, ObjectSection};
use std::sync::Arc;

type R = EndianArcSlice<LittleEndian>;

/// A place in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The file as the build named it (`proc.c`, `trapasm.S`).
    pub file: String,
    pub line: u32,
    /// The innermost function at the address (an inlined one if the
    /// compiler inlined it there), when the DWARF names one.
    pub function: Option<String>,
}

/// The line table and functions of a kernel.
pub struct Lines {
    context: Option<addr2line::Context<R>>,
    /// The lowest address of each (file, line) that has code, for
    /// breakpoints on a line.
    starts: std::collections::BTreeMap<(String, u32), u32>,
    /// The addresses where a statement begins (the line table's rows
    /// marked `is_stmt`): the compiler's own places for a new line. In
    /// optimized code rows that are no statement interleave lines (an
    /// instruction of the prologue between two of the body): stepping
    /// by line stops only at a statement.
    statements: std::collections::BTreeSet<u32>,
    /// Each function's first address past its prologue, by its start.
    bodies: std::collections::BTreeMap<u32, u32>,
}

impl std::fmt::Debug for Lines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lines")
    }
}

impl Lines {
    /// Reads the line table of the kernel ELF `bytes`.
    pub fn from_elf(bytes: &[u8]) -> Result<Lines, LayoutError> {
        let file = object::File::parse(bytes).map_err(|e| LayoutError::NotElf(e.to_string()))?;
        if file.section_by_name(".debug_line").is_none() {
            // No line table: no C lines to show (the kernel still runs).
            return Ok(Lines {
                context: None,
                starts: Default::default(),
                statements: Default::default(),
                bodies: Default::default(),
            });
        }
        let load = |id: gimli::SectionId| -> Result<R, gimli::Error> {
            let data: Arc<[u8]> = file
                .section_by_name(id.name())
                .and_then(|s| s.uncompressed_data().ok())
                .map_or_else(|| Arc::from(&[][..]), |d| Arc::from(d.as_ref()));
            Ok(EndianArcSlice::new(data, LittleEndian))
        };
        let dwarf = gimli::Dwarf::load(load).map_err(|e| LayoutError::BadDwarf(e.to_string()))?;
        let context = addr2line::Context::from_dwarf(dwarf)
            .map_err(|e| LayoutError::BadDwarf(e.to_string()))?;
        let mut starts = std::collections::BTreeMap::new();
        let rows = context
            .find_location_range(0, u64::from(u32::MAX))
            .map_err(|e| LayoutError::BadDwarf(e.to_string()))?;
        for (addr, _len, location) in rows {
            if let (Some(file), Some(line)) = (location.file, location.line) {
                let key = (base_name(file).to_string(), line);
                let addr = addr as u32;
                starts
                    .entry(key)
                    .and_modify(|a: &mut u32| *a = (*a).min(addr))
                    .or_insert(addr);
            }
        }
        let rows = line_rows(load).map_err(|e| LayoutError::BadDwarf(e.to_string()))?;
        let statements = rows.iter().filter(|r| r.is_stmt).map(|r| r.addr).collect();
        let mut lines = Lines {
            context: Some(context),
            starts,
            statements,
            bodies: Default::default(),
        };
        lines.bodies = functions(&file)
            .into_iter()
            .filter_map(|(start, size)| {
                let opening = lines.place(start)?.line;
                let first = rows.partition_point(|r| r.addr <= start);
                let body = rows[first..]
                    .iter()
                    .take_while(|r| r.addr < start.saturating_add(size))
                    .find(|r| r.line != 0 && r.line != opening)?;
                Some((start, body.addr))
            })
            .collect();
        // A breakpoint on a line whose code starts a function (its opening
        // line, or a declaration's) stops past the prologue, as a
        // debugger's does.
        for addr in lines.starts.values_mut() {
            if let Some(&body) = lines.bodies.get(addr) {
                *addr = body;
            }
        }
        Ok(lines)
    }

    /// The first address past the prologue of the function that starts at
    /// `start`: the first row of the line table after it whose line is
    /// not the function's opening line (GDB's `break function`). `None`
    /// for an address that starts no function, or a function whose code
    /// is all on one line.
    pub fn body_address(&self, start: u32) -> Option<u32> {
        self.bodies.get(&start).copied()
    }

    /// Whether a statement begins at `addr` (always, for a line table
    /// without statement marks).
    pub fn is_statement(&self, addr: u32) -> bool {
        self.statements.is_empty() || self.statements.contains(&addr)
    }

    /// The lowest code address of `line` in `file` (by its base name).
    pub fn line_address(&self, file: &str, line: u32) -> Option<u32> {
        self.starts
            .get(&(base_name(file).to_string(), line))
            .copied()
    }

    /// Every source file the line table names (base names), in order.
    pub fn files(&self) -> Vec<String> {
        let mut files: Vec<String> = self.starts.keys().map(|(f, _)| f.clone()).collect();
        files.dedup();
        files
    }

    /// The source place of the instruction at `addr`.
    pub fn place(&self, addr: u32) -> Option<Place> {
        let context = self.context.as_ref()?;
        let location = context.find_location(u64::from(addr)).ok()??;
        let file = base_name(location.file?).to_string();
        let line = location.line?;
        let function = context
            .find_frames(u64::from(addr))
            .skip_all_loads()
            .ok()
            .and_then(|mut frames| {
                let frame = frames.next().ok()??;
                let name = frame.function?.raw_name().ok()?.into_owned();
                Some(name)
            });
        Some(Place {
            file,
            line,
            function,
        })
    }
}

/// One row of a line table.
struct Row {
    addr: u32,
    line: u32,
    is_stmt: bool,
}

/// Every row of every line program, by address (rows at one address in
/// the table's order), without the rows that end a sequence.
fn line_rows(
    load: impl Fn(gimli::SectionId) -> Result<R, gimli::Error>,
) -> Result<Vec<Row>, gimli::Error> {
    let dwarf = gimli::Dwarf::load(load)?;
    let mut rows = Vec::new();
    let mut units = dwarf.units();
    while let Some(header) = units.next()? {
        let unit = dwarf.unit(header)?;
        let Some(program) = unit.line_program.clone() else {
            continue;
        };
        let mut program_rows = program.rows();
        while let Some((_, row)) = program_rows.next_row()? {
            if row.end_sequence() {
                continue;
            }
            rows.push(Row {
                addr: row.address() as u32,
                line: row.line().map_or(0, |l| l.get() as u32),
                is_stmt: row.is_stmt(),
            });
        }
    }
    rows.sort_by_key(|r| r.addr);
    Ok(rows)
}

/// The functions of an ELF's symbol table: start and size.
fn functions(file: &object::File) -> Vec<(u32, u32)> {
    use object::{ObjectSymbol, SymbolKind};
    file.symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.size() > 0 && s.address() != 0)
        .map(|s| (s.address() as u32, s.size() as u32))
        .collect()
}

/// A path's last component: the build names files by the path it compiled
/// them from, the page and breakpoints by name.
fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
