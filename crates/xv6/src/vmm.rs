//! The teaching hypervisor (`guests/vmm`) as osviz sees it when it runs
//! xv6 as its guest: the virtual CPU the guest believes in, the exits by
//! reason, and the last exits. All of it is read from the machine's memory
//! with the layout the hypervisor's own ELF gives (`struct vcpu`, `struct
//! exitlog`, `enum reason`, through its DWARF), as xv6's structures are
//! read with xv6's: nothing of the hypervisor is a constant here.

use crate::ViewError;
use crate::dwarf::{Field, Layout, LayoutError, Struct, Type};
use osviz_machine::Machine;

/// A running hypervisor, known by its layout.
#[derive(Clone, Debug)]
pub struct Hypervisor {
    layout: Layout,
}

/// The CPU the guest believes it has, beside what it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualCpu {
    pub cr0: u32,
    pub cr2: u32,
    pub cr3: u32,
    pub cr4: u32,
    /// The guest's interrupt flag (the real one stays set while it runs).
    pub interrupts_enabled: bool,
    pub gdt_base: u32,
    pub idt_base: u32,
    /// The guest's task register and its TSS's linear address.
    pub tr: u32,
    pub tss_base: u32,
    /// Exits so far, and interrupts and exceptions delivered into it.
    pub exits: u32,
    pub injected: u32,
    /// Exits by reason, in `enum reason`'s order: (enumerator, count).
    pub by_reason: Vec<(String, u32)>,
}

/// One exit of the hypervisor's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exit {
    /// Which exit it was (the count of exits then).
    pub number: u32,
    /// The `enum reason` enumerator (`X_SHADOW_FILL`, ...).
    pub reason: String,
    /// The guest's instruction, or where it was interrupted.
    pub eip: u32,
    /// The vector, port, address or CR3 the exit concerned.
    pub info: u32,
}

fn missing(what: &str) -> ViewError {
    ViewError::Missing(what.into())
}

impl Hypervisor {
    /// Reads the hypervisor ELF `bytes`; an ELF without `vcpu` and
    /// `exitlog` (xv6's own kernel, say) is not the hypervisor.
    pub fn from_elf(bytes: &[u8]) -> Result<Option<Hypervisor>, LayoutError> {
        let layout = Layout::from_elf(bytes)?;
        let is_hypervisor =
            layout.variables.contains_key("vcpu") && layout.variables.contains_key("exitlog");
        Ok(is_hypervisor.then_some(Hypervisor { layout }))
    }

    /// A word of the hypervisor's memory at linear address `va` (its own
    /// map: the ELF's linked minus its loaded addresses).
    fn read(&self, m: &Machine, va: u32, size: u32) -> u32 {
        m.mem().read(
            va.wrapping_sub(self.layout.virt_minus_phys),
            size.clamp(1, 4),
        )
    }

    /// A global struct variable: its address and type.
    fn global(&self, name: &str) -> Result<(u32, &Struct), ViewError> {
        let v = self
            .layout
            .variables
            .get(name)
            .ok_or_else(|| missing(&format!("variable {name}")))?;
        match &v.ty {
            Type::Struct(s) => Ok((v.addr, s)),
            _ => Err(missing(&format!("struct type of {name}"))),
        }
    }

    fn field<'a>(s: &'a Struct, name: &str) -> Result<&'a Field, ViewError> {
        s.field(name)
            .ok_or_else(|| missing(&format!("field {name}")))
    }

    /// The value of the scalar field `name` of the struct at `addr`.
    fn value(&self, m: &Machine, addr: u32, s: &Struct, name: &str) -> Result<u32, ViewError> {
        let f = Self::field(s, name)?;
        Ok(self.read(m, addr + f.offset, f.ty.size()))
    }

    /// The enumerators of `enum reason`, by value.
    fn reasons(&self) -> Result<Vec<(String, i64)>, ViewError> {
        let mut r = self
            .layout
            .enums
            .get("reason")
            .cloned()
            .ok_or_else(|| missing("enum reason"))?;
        r.sort_by_key(|(_, v)| *v);
        Ok(r)
    }

    pub fn vcpu(&self, m: &Machine) -> Result<VirtualCpu, ViewError> {
        let (addr, s) = self.global("vcpu")?;
        let v = |name| self.value(m, addr, s, name);
        let count = Self::field(s, "count")?;
        let Type::Array { element, .. } = &count.ty else {
            return Err(missing("array type of vcpu.count"));
        };
        let by_reason = self
            .reasons()?
            .into_iter()
            .filter(|(name, _)| name != "NREASONS")
            .map(|(name, i)| {
                let at = addr + count.offset + i as u32 * element.size();
                (name, self.read(m, at, element.size()))
            })
            .collect();
        Ok(VirtualCpu {
            cr0: v("cr0")?,
            cr2: v("cr2")?,
            cr3: v("cr3")?,
            cr4: v("cr4")?,
            interrupts_enabled: v("vif")? != 0,
            gdt_base: v("gdt_base")?,
            idt_base: v("idt_base")?,
            tr: v("tr")?,
            tss_base: v("tss_base")?,
            exits: v("exits")?,
            injected: v("injected")?,
            by_reason,
        })
    }

    /// Where the guest's physical memory lies in the host's: its base
    /// (guest-physical A is host-physical base + A) and its size.
    pub fn guest_memory(&self, m: &Machine) -> Result<(u32, u32), ViewError> {
        let word = |name: &str| {
            let v = self
                .layout
                .variables
                .get(name)
                .ok_or_else(|| missing(&format!("variable {name}")))?;
            Ok::<u32, ViewError>(self.read(m, v.addr, 4))
        };
        Ok((word("guest_base")?, word("guest_size")?))
    }

    /// The exits the log holds, oldest first.
    pub fn recent_exits(&self, m: &Machine) -> Result<Vec<Exit>, ViewError> {
        let (addr, s) = self.global("exitlog")?;
        let next = self.value(m, addr, s, "next")?;
        let rec = Self::field(s, "rec")?;
        let Type::Array { element, count } = &rec.ty else {
            return Err(missing("array type of exitlog.rec"));
        };
        let Type::Struct(e) = element.as_ref() else {
            return Err(missing("struct type of exitlog.rec"));
        };
        let reasons = self.reasons()?;
        let held = next.min(*count);
        (next - held..next)
            .map(|i| {
                let at = addr + rec.offset + (i % count) * e.size;
                let reason = self.value(m, at, e, "reason")?;
                Ok(Exit {
                    number: self.value(m, at, e, "number")?,
                    reason: reasons
                        .iter()
                        .find(|(_, v)| *v == i64::from(reason))
                        .map_or_else(|| format!("reason {reason}"), |(n, _)| n.clone()),
                    eip: self.value(m, at, e, "eip")?,
                    info: self.value(m, at, e, "info")?,
                })
            })
            .collect()
    }
}
