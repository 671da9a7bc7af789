//! The page's panels, as one enum: lessons name their key panels with it,
//! and the page's actions, settings and share links carry it. A name read
//! from outside (a link, local storage) that is no panel is an error the
//! reader reports, never a panel chosen in its place.

use serde::{Deserialize, Serialize};

/// A panel of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Panel {
    Registers,
    Code,
    VirtualMachine,
    VmExits,
    ThreeTables,
    Processes,
    KernelStack,
    MemoryImage,
    PageWalk,
    PageTables,
    Tlb,
    Idt,
    PhysicalFrames,
    Timeline,
    Events,
    Console,
}

impl Panel {
    /// Every panel, in the page's order.
    pub const ALL: [Panel; 16] = [
        Panel::Registers,
        Panel::Code,
        Panel::VirtualMachine,
        Panel::VmExits,
        Panel::ThreeTables,
        Panel::Processes,
        Panel::KernelStack,
        Panel::MemoryImage,
        Panel::PageWalk,
        Panel::PageTables,
        Panel::Tlb,
        Panel::Idt,
        Panel::PhysicalFrames,
        Panel::Timeline,
        Panel::Events,
        Panel::Console,
    ];

    /// The panel's title, as its section heading shows it (and as share
    /// links and settings write it).
    pub fn name(self) -> &'static str {
        match self {
            Panel::Registers => "Registers",
            Panel::Code => "Code",
            Panel::VirtualMachine => "Virtual machine",
            Panel::VmExits => "VM exits",
            Panel::ThreeTables => "Three page tables",
            Panel::Processes => "Processes",
            Panel::KernelStack => "Kernel stack",
            Panel::MemoryImage => "Memory image",
            Panel::PageWalk => "Page walk",
            Panel::PageTables => "Page tables",
            Panel::Tlb => "TLB",
            Panel::Idt => "IDT",
            Panel::PhysicalFrames => "Physical frames",
            Panel::Timeline => "Timeline",
            Panel::Events => "Events",
            Panel::Console => "Console",
        }
    }

    /// Whether the panel shows a hypervisor's virtual machine (it has
    /// nothing to show on a kernel that runs on the machine itself).
    pub fn is_virtualization(self) -> bool {
        matches!(
            self,
            Panel::VirtualMachine | Panel::VmExits | Panel::ThreeTables
        )
    }

    /// The panel with this title.
    pub fn from_name(name: &str) -> Result<Panel, UnknownPanel> {
        Panel::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| UnknownPanel(name.to_string()))
    }
}

impl std::fmt::Display for Panel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no panel's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownPanel(pub String);

impl std::fmt::Display for UnknownPanel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "there is no panel called {:?}", self.0)
    }
}

impl std::error::Error for UnknownPanel {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_panel_is_found_by_its_own_name_and_no_other() {
        for p in Panel::ALL {
            assert_eq!(Panel::from_name(p.name()), Ok(p));
        }
        assert_eq!(
            Panel::from_name("Consle"),
            Err(UnknownPanel("Consle".into()))
        );
    }
}
