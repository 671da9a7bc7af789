//! The teaching hypervisor (`guests/vmm`) as osviz sees it when it runs
//! xv6 as its guest: the virtual CPU the guest believes in, the exits by
//! reason, and the last exits. All of it is read from the machine's memory
//! with the layout the hypervisor's own ELF gives (`struct vcpu`, `struct
//! exitlog`, `enum reason`, through its DWARF), as xv6's structures are
//! read with xv6's: nothing of the hypervisor is a constant here.

use crate::dwarf::{Field, Layout, LayoutError, Struct, Type};
use crate::{Program, ViewError};
use osviz_machine::Machine;
use osviz_view::ExitReason;
use std::rc::Rc;

/// A running hypervisor, known by its layout, its line table and its
/// symbols (its own C is stepped through as xv6's is).
#[derive(Clone, Debug)]
pub struct Hypervisor {
    layout: Layout,
    program: Rc<Program>,
    /// Its code's addresses: from its lowest symbol to its highest.
    code: std::ops::Range<u32>,
}

/// What the hypervisor's source files are called beside xv6's (their base
/// names clash: both have `trap.c` and `main.c`).
pub const SOURCE_PREFIX: &str = "vmm/";

/// The exit reason an enumerator of the hypervisor's `enum reason` names.
fn reason_of(name: &str) -> Option<ExitReason> {
    Some(match name {
        "X_PRIVILEGED" => ExitReason::Privileged,
        "X_PORT_IO" => ExitReason::PortIo,
        "X_MMIO" => ExitReason::Mmio,
        "X_SHADOW_FILL" => ExitReason::ShadowFill,
        "X_GUEST_PF" => ExitReason::GuestPageFault,
        "X_INTERRUPT" => ExitReason::Interrupt,
        "X_SOFT_INT" => ExitReason::SystemCall,
        "X_PATCHED" => ExitReason::Patched,
        "X_EXCEPTION" => ExitReason::Exception,
        _ => return None,
    })
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
    /// The steps the hypervisor spent handling exits (it times them with
    /// `rdtsc`, which counts osviz's steps).
    pub vmm_steps: u64,
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
    /// The hypervisor's steps on it (0 while it is being handled).
    pub steps: u32,
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
        if !is_hypervisor {
            return Ok(None);
        }
        let symbols: Vec<_> = crate::sorted_symbols(bytes)
            .into_iter()
            .filter(|(addr, _, _)| *addr >= layout.virt_minus_phys)
            .collect();
        let code = match (symbols.first(), symbols.last()) {
            (Some(first), Some(last)) => first.0..last.0 + last.1.max(1),
            _ => 0..0,
        };
        let program = Program {
            lines: crate::Lines::from_elf(bytes)?,
            labels: symbols.clone(),
            symbols,
        };
        Ok(Some(Hypervisor {
            layout,
            program: Rc::new(program),
            code,
        }))
    }

    /// Where the hypervisor puts the guest's memory and how large it is,
    /// read from its ELF (`guest_base`, `guest_size`: constants it
    /// initializes), before it runs: what RAM the board needs.
    pub fn initial_guest_memory(&self, elf: &[u8]) -> Result<(u32, u32), LayoutError> {
        use object::{Object, ObjectSection};
        let file = object::File::parse(elf).map_err(|e| LayoutError::NotElf(e.to_string()))?;
        let word = |name: &str| -> Result<u32, LayoutError> {
            let addr = self
                .layout
                .variables
                .get(name)
                .ok_or_else(|| LayoutError::NotElf(format!("no variable {name}")))?
                .addr;
            file.sections()
                .find_map(|s| {
                    let start = u32::try_from(s.address()).ok()?;
                    let at = addr.checked_sub(start)? as usize;
                    let data = s.data().ok()?;
                    let bytes = data.get(at..at + 4)?;
                    Some(u32::from_le_bytes(bytes.try_into().ok()?))
                })
                .ok_or_else(|| {
                    LayoutError::NotElf(format!("{name} has no initial value in the ELF"))
                })
        };
        Ok((word("guest_base")?, word("guest_size")?))
    }

    /// The hypervisor's line table and symbols.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Where the hypervisor's window onto host memory starts (its linked
    /// minus its loaded addresses): the guest never maps from there up.
    pub fn window_start(&self) -> u32 {
        self.layout.virt_minus_phys
    }

    /// The top of the stack the CPU switches to when it leaves the guest
    /// (`exitstack`, the TSS's ESP0), as a machine memory address.
    pub(crate) fn stack_top(&self, _m: &Machine) -> Option<u32> {
        let v = self.layout.variables.get("exitstack")?;
        Some((v.addr + v.ty.size()).wrapping_sub(self.layout.virt_minus_phys))
    }

    /// Whether `addr` is in the hypervisor's code.
    pub fn holds(&self, addr: u32) -> bool {
        self.code.contains(&addr)
    }

    /// Where the hypervisor counts exits of `reason`: the bytes of
    /// `vcpu.count[reason]` in the machine's memory.
    pub fn counter(&self, reason: ExitReason) -> Option<(u32, u32)> {
        let (addr, s) = self.global("vcpu").ok()?;
        let count = s.field("count")?;
        let Type::Array { element, .. } = &count.ty else {
            return None;
        };
        let (_, index) = self
            .reasons()
            .ok()?
            .into_iter()
            .find(|(name, _)| reason_of(name) == Some(reason))?;
        let va = addr + count.offset + index as u32 * element.size();
        Some((va.wrapping_sub(self.layout.virt_minus_phys), element.size()))
    }

    /// Where the hypervisor counts the exits it logged: the bytes of
    /// `exitlog.next` in the machine's memory.
    pub fn log_count(&self) -> Option<(u32, u32)> {
        let (addr, s) = self.global("exitlog").ok()?;
        let next = s.field("next")?;
        Some((
            (addr + next.offset).wrapping_sub(self.layout.virt_minus_phys),
            next.ty.size(),
        ))
    }

    /// A reason's enumerator as a typed reason; an enumerator osviz does
    /// not know is an error that names it.
    pub fn reason(name: &str) -> Result<ExitReason, ViewError> {
        reason_of(name).ok_or_else(|| missing(&format!("a meaning for exit reason {name}")))
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
            vmm_steps: {
                let f = Self::field(s, "vmm_steps")?;
                let at = addr + f.offset;
                u64::from(self.read(m, at, 4)) | u64::from(self.read(m, at + 4, 4)) << 32
            },
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
                    steps: self.value(m, at, e, "steps")?,
                })
            })
            .collect()
    }
}

/// xv6 as the hypervisor's guest: what the kernel view says of the virtual
/// machine (the trait's methods call these when a hypervisor runs xv6).
impl crate::Xv6 {
    pub(crate) fn vm_view(&self, m: &Machine) -> Option<osviz_view::VirtualMachineView> {
        use osviz_view::{CpuSide, ExitView, KernelView, Runner, VirtualMachineView};
        let hv = self.hypervisor()?;
        let v = hv.vcpu(m).ok()?;
        let (guest_base, guest_size) = hv.guest_memory(m).ok()?;
        let cpu = m.cpu();
        let real_ring = cpu.cpl();
        let runs = if real_ring == 0 {
            Runner::Hypervisor
        } else {
            Runner::Guest
        };
        let real = CpuSide {
            ring: real_ring,
            interrupts_enabled: cpu.flag(osviz_machine::Flags::IF),
            cr3: cpu.cr3,
            paging: cpu.paging(),
            idt_base: cpu.idtr.base,
            gdt_base: cpu.gdtr.base,
        };
        // Ring compression: the guest's kernel runs in ring 1 and believes
        // it runs in ring 0; its user programs run where they believe. While
        // the hypervisor runs, the guest is stopped where it exited, at the
        // privilege its last exit's code had (the saved CS's ring, read by
        // the guest's own trap path only as the hypervisor shows it).
        let believed = match real_ring {
            3 => 3,
            1 => 0,
            _ => self.exited_ring(m).unwrap_or(0),
        };
        let virtual_cpu = CpuSide {
            ring: believed,
            interrupts_enabled: v.interrupts_enabled,
            cr3: v.cr3,
            paging: v.cr0 & osviz_machine::Cr0::PG != 0,
            idt_base: v.idt_base,
            gdt_base: v.gdt_base,
        };
        let by_reason = v
            .by_reason
            .iter()
            .filter_map(|(name, n)| Hypervisor::reason(name).ok().map(|r| (r, *n)))
            .collect();
        let recent = hv
            .recent_exits(m)
            .ok()?
            .into_iter()
            .filter_map(|e| {
                let reason = Hypervisor::reason(&e.reason).ok()?;
                Some(ExitView {
                    number: e.number,
                    reason,
                    eip: e.eip,
                    info: e.info,
                    steps: e.steps,
                    instruction: guest_instruction(m, v.cr3, guest_base, guest_size, e.eip),
                    original: (reason == osviz_view::ExitReason::Patched)
                        .then(|| u8::try_from(e.info).ok())
                        .flatten()
                        .and_then(|op| osviz_machine::decode(&[op]).ok())
                        .map(|i| i.disassemble(e.eip)),
                    device: (reason == osviz_view::ExitReason::PortIo)
                        .then(|| u16::try_from(e.info).ok())
                        .flatten()
                        .and_then(|port| m.bus().device_at_port(port)),
                    place: self.place(m, e.eip),
                })
            })
            .collect();
        Some(VirtualMachineView {
            runs,
            real,
            virtual_cpu,
            guest_base,
            guest_size,
            exits: v.exits,
            injected: v.injected,
            vmm_steps: v.vmm_steps,
            by_reason,
            recent,
        })
    }

    /// The ring of the guest code the hypervisor is handling an exit of:
    /// the CS the CPU pushed on the hypervisor's stack when it left the
    /// guest (the top of the stack the TSS gave it).
    fn exited_ring(&self, m: &Machine) -> Option<u8> {
        let hv = self.hypervisor()?;
        let top = hv.stack_top(m)?;
        // The CPU pushed SS, ESP, EFLAGS, CS, EIP going inward; CS is the
        // fourth word below the top.
        let cs = m.mem().read(top.wrapping_sub(16), 4);
        Some(match cs & 3 {
            3 => 3,
            _ => 0,
        })
    }

    pub(crate) fn translate(&self, m: &Machine, gva: u32) -> Option<osviz_view::Translation> {
        let hv = self.hypervisor()?;
        let v = hv.vcpu(m).ok()?;
        let (base, size) = hv.guest_memory(m).ok()?;
        let guest = osviz_view::vm::walk(m, v.cr3, base, gva);
        let host = guest
            .address
            .filter(|&gpa| gpa < size)
            .map(|gpa| gpa.wrapping_add(base));
        let shadow = osviz_view::vm::walk(m, m.cpu().cr3, 0, gva);
        Some(osviz_view::Translation {
            gva,
            guest,
            host,
            shadow,
        })
    }

    pub(crate) fn tables(&self, m: &Machine) -> Option<osviz_view::ThreeTables> {
        use osviz_machine::Pte;
        use osviz_view::KernelView;
        let hv = self.hypervisor()?;
        let v = hv.vcpu(m).ok()?;
        let (base, _) = hv.guest_memory(m).ok()?;
        let kernbase = self.kernbase();
        let real_dir = m.cpu().cr3 & Pte::FRAME;
        let rows = osviz_view::page_tables(m, v.cr3 & Pte::FRAME, kernbase, base)
            .into_iter()
            .flat_map(|t| {
                t.entries
                    .into_iter()
                    .map(move |(i, pte)| (t.covers | (i << 12), pte))
            })
            .map(|(page, guest_pte)| {
                let shadow = osviz_view::vm::walk(m, real_dir, 0, page);
                osviz_view::TableRow {
                    page,
                    guest_pte,
                    host_frame: (guest_pte & Pte::FRAME).wrapping_add(base),
                    shadow_pte: shadow.pte.filter(|pte| pte & Pte::PRESENT != 0),
                }
            })
            .collect();
        // The shadow's 4 KiB entries, below the guest kernel's base and
        // from it up to the hypervisor's own window.
        let (mut user, mut kernel) = (0, 0);
        let window = hv.window_start();
        for dir in 0..(window >> 22) {
            let pde = m.mem().read(real_dir + dir * 4, 4);
            if pde & Pte::PRESENT == 0 || pde & Pte::LARGE != 0 {
                continue;
            }
            let table = pde & Pte::FRAME;
            let present = (0..1024)
                .filter(|i| m.mem().read(table + i * 4, 4) & Pte::PRESENT != 0)
                .count() as u32;
            if dir << 22 < kernbase {
                user += present;
            } else {
                kernel += present;
            }
        }
        Some(osviz_view::ThreeTables {
            guest_dir: v.cr3 & Pte::FRAME,
            shadow_dir: real_dir,
            rows,
            shadow_user_entries: user,
            shadow_kernel_entries: kernel,
        })
    }
}

/// The guest's instruction at guest-virtual `eip`, read through its own
/// page tables (directory `cr3`, guest-physical memory at `base`, `size`
/// bytes) and disassembled; the walk is made once a page.
fn guest_instruction(m: &Machine, cr3: u32, base: u32, size: u32, eip: u32) -> Option<String> {
    let host_of = |va: u32| {
        osviz_view::vm::walk(m, cr3, base, va)
            .address
            .filter(|&gpa| gpa < size)
            .map(|gpa| gpa.wrapping_add(base))
    };
    let first = host_of(eip)?;
    let page_end = (eip | 0xFFF).wrapping_add(1);
    let next_page = host_of(page_end);
    let bytes: Vec<u8> = (0..osviz_machine::MAX_INSTR_LEN as u32)
        .map_while(|i| {
            let va = eip.wrapping_add(i);
            let host = if va < page_end || page_end == 0 {
                first.wrapping_add(i)
            } else {
                next_page?.wrapping_add(va - page_end)
            };
            ((host as usize) < m.mem().len()).then(|| m.mem().read(host, 1) as u8)
        })
        .collect();
    let instr = osviz_machine::decode(&bytes).ok()?;
    Some(instr.disassemble(eip))
}
