//! The bus: a board profile puts devices at ports or at physical
//! addresses past RAM, and the machine reaches them the same way on the
//! single-step and the block paths.

use osviz_machine::devices::{Component, IRQ_TIMER, Timer};
use osviz_machine::{
    Board, Event, EventKind, InterruptController, Machine, MachineConfig, Part, StopReason,
};

/// Where the test board maps its timer's register.
const TIMER_MMIO: u32 = 0xFEC0_0000;

/// A board with only a timer, memory-mapped past the end of RAM.
fn mmio_board() -> Board {
    Board {
        name: "mmio test",
        controller: InterruptController::Pic(Default::default()),
        controller_ports: vec![(0x20, 0x21)],
        controller_mmio: vec![],
        parts: vec![Part {
            device: Component::Timer(Timer {
                line: IRQ_TIMER,
                ..Timer::default()
            }),
            ports: vec![],
            mmio: Some((TIMER_MMIO, TIMER_MMIO + 3)),
        }],
    }
}

/// `mov dword [TIMER_MMIO], 500` / `mov ecx, 20` / loop: `mov eax, [TIMER_MMIO]` /
/// `add ebx, eax` / `dec ecx` / `jnz loop` / `hlt` (interrupts off).
fn program() -> Vec<u8> {
    let mmio = TIMER_MMIO.to_le_bytes();
    let mut p = vec![0xC7, 0x05];
    p.extend(mmio);
    p.extend(500u32.to_le_bytes());
    p.extend([0xB9, 20, 0, 0, 0]);
    p.push(0xA1); // mov eax, [moffs32]
    p.extend(mmio);
    p.extend([0x01, 0xC3, 0x49, 0x75, 0xF6, 0xF4]);
    p
}

fn machine() -> Machine {
    let mut m = Machine::with_board(MachineConfig::default(), mmio_board());
    m.load(0x1000, &program()).unwrap();
    m.set_eip(0x1000);
    m
}

#[test]
fn a_memory_mapped_device_answers_loads_and_stores_past_ram() {
    let mut m = machine();
    m.set_recording(true);
    let first = m.step();
    assert!(
        first.events.iter().any(|e| matches!(
            e,
            Event::Mmio {
                addr: TIMER_MMIO,
                value: 500,
                size: 4,
                write: true
            }
        )),
        "{:?}",
        first.events
    );
    m.step();
    let read = m.step();
    // The timer counts down from 500 ticks: two steps later, 498 are left.
    assert!(
        read.events.iter().any(|e| matches!(
            e,
            Event::Mmio {
                write: false,
                value: 498,
                ..
            }
        )),
        "{:?}",
        read.events
    );
    assert_eq!(m.cpu().gpr[0], 498);
    // Nothing is mapped at the next dword: it floats high, as on a PC.
    assert!(!m.bus().is_mmio(TIMER_MMIO + 4));
}

#[test]
fn running_and_single_stepping_agree_across_memory_mapped_accesses() {
    let mut run = machine();
    assert_eq!(run.run(1_000), StopReason::Halted);
    let mut stepped = machine();
    while stepped.step().stop.is_none() {}
    assert_eq!(run.steps(), stepped.steps());
    assert_eq!(run.state_hash(), stepped.state_hash());
    // 20 reads of the count down: 498 ticks left at the first, four steps
    // (one pass of the loop) fewer at each next.
    let expected: u32 = (0..20).map(|i| 498 - 4 * i).sum();
    assert_eq!(run.cpu().gpr[3], expected);
}

#[test]
fn the_lessons_board_puts_every_device_at_its_ports() {
    let m = Machine::new(64 * 1024);
    let kinds: Vec<&str> = m.bus().components().iter().map(Component::name).collect();
    assert_eq!(kinds, ["timer", "keyboard", "console", "disk", "debug"]);
    assert!(
        !m.bus().has_mmio(),
        "the lessons' board has no memory-mapped device"
    );
    assert_eq!(EventKind::from_name("mmio"), Some(EventKind::Mmio));
}

#[test]
fn the_board_says_which_device_is_on_each_line_and_raises_each_vector() {
    use osviz_machine::{DeviceClass, InterruptSource};
    let m = Machine::new(64 * 1024);
    let bus = m.bus();
    assert_eq!(bus.device_on_line(0), Some(DeviceClass::Timer));
    assert_eq!(bus.device_on_line(1), Some(DeviceClass::Keyboard));
    assert_eq!(bus.device_on_line(14), Some(DeviceClass::Disk));
    assert_eq!(bus.device_on_line(5), None);
    // The lessons' controller raises line n at vector 32 + n.
    assert_eq!(
        bus.source_of_vector(46),
        Some(InterruptSource {
            device: DeviceClass::Disk,
            line: Some(14)
        })
    );
    assert_eq!(
        bus.source_of_vector(32).map(|s| s.device),
        Some(DeviceClass::Timer)
    );
    assert_eq!(bus.source_of_vector(14), None, "the page fault's vector");
    assert_eq!(bus.source_of_vector(0x40), None, "the system call's vector");
}

#[test]
fn an_ide_command_byte_is_named_by_the_controller() {
    use osviz_machine::IdeOp;
    assert_eq!(IdeOp::of(0x20), IdeOp::ReadSectors);
    assert_eq!(IdeOp::of(0xC5), IdeOp::WriteMultiple);
    assert!(IdeOp::of(0x30).is_write() && !IdeOp::of(0xC4).is_write());
    assert_eq!(IdeOp::of(0xEC), IdeOp::Other);
    let e = Event::IdeCommand {
        drive: 0,
        command: 0x31,
        sector: 1,
        count: 1,
    };
    assert_eq!(e.ide_op().map(IdeOp::verb), Some("write"));
}
