//! The layout of a kernel's data, read from its ELF symbols and DWARF:
//! global variables' addresses, the fields of each named struct (offset,
//! size, type), and the values of each named enum. Nothing is assumed
//! about xv6 here: a course that adds a field to `struct proc` gets its
//! new offsets from its own build.
//!
//! DWARF is read with `gimli`; only the debugging entries osviz needs are
//! looked at (structures, their members, enumerations, variables).

use gimli::{AttributeValue, EndianSlice, LittleEndian, UnitOffset};
use object::{Object, ObjectSection, ObjectSymbol};
use std::collections::HashMap;

/// Why a kernel's layout could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// Not an ELF file object can read.
    NotElf(String),
    /// The ELF has no DWARF (built without `-g`): the views that need it
    /// cannot be shown.
    NoDwarf,
    /// The DWARF could not be parsed.
    BadDwarf(String),
}

impl std::fmt::Display for LayoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayoutError::NotElf(why) => write!(f, "not an ELF file: {why}"),
            LayoutError::NoDwarf => write!(
                f,
                "the kernel has no DWARF debugging information (build it with -g)"
            ),
            LayoutError::BadDwarf(why) => write!(f, "unreadable DWARF: {why}"),
        }
    }
}

impl std::error::Error for LayoutError {}

/// A type as the views need it: its name and size, and what it is made of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    /// A base type, a pointer, an enum, or anything else read as a number.
    Scalar { name: String, size: u32 },
    /// An array of `count` elements.
    Array { element: Box<Type>, count: u32 },
    /// A struct or union, by name (`None` when anonymous) with its fields.
    Struct(Struct),
}

impl Type {
    pub fn size(&self) -> u32 {
        match self {
            Type::Scalar { size, .. } => *size,
            Type::Array { element, count } => element.size() * count,
            Type::Struct(s) => s.size,
        }
    }
}

/// A structure's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Struct {
    pub name: Option<String>,
    pub size: u32,
    pub fields: Vec<Field>,
}

impl Struct {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub offset: u32,
    pub ty: Type,
}

/// A global variable: its address and type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    pub addr: u32,
    pub ty: Type,
}

/// What a kernel ELF says about its data.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// ELF symbols by name: address and size.
    pub symbols: HashMap<String, (u32, u32)>,
    /// Global variables with their DWARF types.
    pub variables: HashMap<String, Variable>,
    /// Named structs.
    pub structs: HashMap<String, Struct>,
    /// Named enums: each enumerator's name by value.
    pub enums: HashMap<String, Vec<(String, i64)>>,
    /// Virtual minus physical address of the loaded segments (xv6's
    /// KERNBASE), from the program headers.
    pub virt_minus_phys: u32,
    /// Whether the ELF has DWARF: without it only the symbols are known.
    pub has_dwarf: bool,
}

type R<'a> = EndianSlice<'a, LittleEndian>;

impl Layout {
    /// Reads the layout of the kernel ELF `bytes`.
    pub fn from_elf(bytes: &[u8]) -> Result<Layout, LayoutError> {
        let file = object::File::parse(bytes).map_err(|e| LayoutError::NotElf(e.to_string()))?;
        let mut layout = Layout::default();
        for sym in file.symbols() {
            if let Ok(name) = sym.name()
                && !name.is_empty()
            {
                layout
                    .symbols
                    .insert(name.to_string(), (sym.address() as u32, sym.size() as u32));
            }
        }
        if let Some(seg) = object::read::elf::ElfFile32::<object::LittleEndian>::parse(bytes)
            .ok()
            .and_then(|elf| {
                use object::read::elf::ProgramHeader;
                let endian = object::LittleEndian;
                elf.elf_program_headers()
                    .iter()
                    .find(|p| p.p_type(endian) == object::elf::PT_LOAD)
                    .map(|p| p.p_vaddr(endian).wrapping_sub(p.p_paddr(endian)))
            })
        {
            layout.virt_minus_phys = seg;
        }
        if file.section_by_name(".debug_info").is_none() {
            // A kernel built without -g still runs; the views that need
            // its types say why they are empty.
            return Ok(layout);
        }
        layout.has_dwarf = true;
        // The sections' bytes, decompressed where they are compressed; the
        // DWARF reader borrows them while the layout is built.
        let mut sections = HashMap::new();
        for section in file.sections() {
            if let (Ok(name), Ok(data)) = (section.name(), section.uncompressed_data())
                && name.starts_with(".debug_")
            {
                sections.insert(name.to_string(), data);
            }
        }
        let load = |id: gimli::SectionId| -> Result<R<'_>, gimli::Error> {
            let data = sections.get(id.name()).map_or(&[][..], |d| d.as_ref());
            Ok(EndianSlice::new(data, LittleEndian))
        };
        let dwarf = gimli::Dwarf::load(load).map_err(|e| LayoutError::BadDwarf(e.to_string()))?;
        let mut units = dwarf.units();
        while let Some(header) = units
            .next()
            .map_err(|e| LayoutError::BadDwarf(e.to_string()))?
        {
            let unit = dwarf
                .unit(header)
                .map_err(|e| LayoutError::BadDwarf(e.to_string()))?;
            read_unit(&dwarf, &unit, &mut layout)
                .map_err(|e| LayoutError::BadDwarf(e.to_string()))?;
        }
        Ok(layout)
    }

    /// The address of a global, from the symbol table.
    pub fn symbol(&self, name: &str) -> Option<u32> {
        self.symbols.get(name).map(|s| s.0)
    }

    /// The name of enumerator `value` of enum `name`.
    pub fn enum_name(&self, name: &str, value: i64) -> Option<&str> {
        self.enums
            .get(name)?
            .iter()
            .find(|(_, v)| *v == value)
            .map(|(n, _)| n.as_str())
    }
}

fn name_of(
    dwarf: &gimli::Dwarf<R>,
    unit: &gimli::Unit<R>,
    entry: &gimli::DebuggingInformationEntry<R>,
) -> Option<String> {
    let value = entry.attr_value(gimli::DW_AT_name).ok()??;
    let s = dwarf.attr_string(unit, value).ok()?;
    Some(s.to_string_lossy().into_owned())
}

fn udata(entry: &gimli::DebuggingInformationEntry<R>, attr: gimli::DwAt) -> Option<u64> {
    match entry.attr_value(attr).ok()?? {
        AttributeValue::Udata(v) => Some(v),
        AttributeValue::Data1(v) => Some(u64::from(v)),
        AttributeValue::Data2(v) => Some(u64::from(v)),
        AttributeValue::Data4(v) => Some(u64::from(v)),
        AttributeValue::Data8(v) => Some(v),
        AttributeValue::Sdata(v) => Some(v as u64),
        _ => None,
    }
}

fn type_ref(entry: &gimli::DebuggingInformationEntry<R>) -> Option<UnitOffset> {
    match entry.attr_value(gimli::DW_AT_type).ok()?? {
        AttributeValue::UnitRef(o) => Some(o),
        _ => None,
    }
}

/// The type at `offset` in `unit`, following typedefs and qualifiers.
fn read_type(
    dwarf: &gimli::Dwarf<R>,
    unit: &gimli::Unit<R>,
    offset: UnitOffset,
    depth: u32,
) -> gimli::Result<Type> {
    let entry = unit.entry(offset)?;
    let unknown = || Type::Scalar {
        name: "?".into(),
        size: 0,
    };
    if depth > 16 {
        return Ok(unknown());
    }
    let name = name_of(dwarf, unit, &entry);
    Ok(match entry.tag() {
        gimli::DW_TAG_typedef | gimli::DW_TAG_const_type | gimli::DW_TAG_volatile_type => {
            match type_ref(&entry) {
                Some(t) => {
                    let inner = read_type(dwarf, unit, t, depth + 1)?;
                    match (entry.tag(), inner) {
                        (gimli::DW_TAG_typedef, Type::Scalar { size, .. }) => Type::Scalar {
                            name: name.unwrap_or_default(),
                            size,
                        },
                        (_, other) => other,
                    }
                }
                None => Type::Scalar {
                    name: "void".into(),
                    size: 0,
                },
            }
        }
        gimli::DW_TAG_pointer_type => Type::Scalar {
            name: "pointer".into(),
            size: udata(&entry, gimli::DW_AT_byte_size).unwrap_or(4) as u32,
        },
        gimli::DW_TAG_array_type => {
            let element = match type_ref(&entry) {
                Some(t) => read_type(dwarf, unit, t, depth + 1)?,
                None => unknown(),
            };
            let mut count = 0;
            let mut tree = unit.entries_tree(Some(offset))?;
            let root = tree.root()?;
            let mut children = root.children();
            while let Some(child) = children.next()? {
                let e = child.entry();
                if e.tag() == gimli::DW_TAG_subrange_type {
                    count = match (
                        udata(e, gimli::DW_AT_count),
                        udata(e, gimli::DW_AT_upper_bound),
                    ) {
                        (Some(c), _) => c as u32,
                        (None, Some(u)) => u as u32 + 1,
                        _ => 0,
                    };
                }
            }
            Type::Array {
                element: Box::new(element),
                count,
            }
        }
        gimli::DW_TAG_structure_type | gimli::DW_TAG_union_type => {
            Type::Struct(read_struct(dwarf, unit, offset, depth)?)
        }
        _ => Type::Scalar {
            name: name.unwrap_or_else(|| "?".into()),
            size: udata(&entry, gimli::DW_AT_byte_size).unwrap_or(0) as u32,
        },
    })
}

fn read_struct(
    dwarf: &gimli::Dwarf<R>,
    unit: &gimli::Unit<R>,
    offset: UnitOffset,
    depth: u32,
) -> gimli::Result<Struct> {
    let entry = unit.entry(offset)?;
    let mut s = Struct {
        name: name_of(dwarf, unit, &entry),
        size: udata(&entry, gimli::DW_AT_byte_size).unwrap_or(0) as u32,
        fields: Vec::new(),
    };
    let mut tree = unit.entries_tree(Some(offset))?;
    let root = tree.root()?;
    let mut children = root.children();
    while let Some(child) = children.next()? {
        let e = child.entry();
        if e.tag() != gimli::DW_TAG_member {
            continue;
        }
        let ty = match type_ref(e) {
            Some(t) => read_type(dwarf, unit, t, depth + 1)?,
            None => Type::Scalar {
                name: "?".into(),
                size: 0,
            },
        };
        s.fields.push(Field {
            name: name_of(dwarf, unit, e).unwrap_or_default(),
            offset: udata(e, gimli::DW_AT_data_member_location).unwrap_or(0) as u32,
            ty,
        });
    }
    Ok(s)
}

fn read_unit(
    dwarf: &gimli::Dwarf<R>,
    unit: &gimli::Unit<R>,
    layout: &mut Layout,
) -> gimli::Result<()> {
    let mut cursor = unit.entries();
    while let Some((_, entry)) = cursor.next_dfs()? {
        let Some(name) = name_of(dwarf, unit, entry) else {
            continue;
        };
        match entry.tag() {
            gimli::DW_TAG_structure_type
                if !layout.structs.contains_key(&name)
                    && entry.attr_value(gimli::DW_AT_declaration)?.is_none() =>
            {
                let s = read_struct(dwarf, unit, entry.offset(), 0)?;
                layout.structs.insert(name, s);
            }
            gimli::DW_TAG_enumeration_type if !layout.enums.contains_key(&name) => {
                let mut values = Vec::new();
                let mut tree = unit.entries_tree(Some(entry.offset()))?;
                let root = tree.root()?;
                let mut children = root.children();
                while let Some(child) = children.next()? {
                    let e = child.entry();
                    if e.tag() == gimli::DW_TAG_enumerator
                        && let (Some(n), Some(v)) =
                            (name_of(dwarf, unit, e), udata(e, gimli::DW_AT_const_value))
                    {
                        values.push((n, v as i64));
                    }
                }
                layout.enums.insert(name, values);
            }
            gimli::DW_TAG_variable if !layout.variables.contains_key(&name) => {
                if let (Some(addr), Some(t)) =
                    (layout.symbols.get(&name).map(|s| s.0), type_ref(entry))
                {
                    let ty = read_type(dwarf, unit, t, 0)?;
                    layout.variables.insert(name, Variable { addr, ty });
                }
            }
            _ => {}
        }
    }
    Ok(())
}
