// Delivering an interrupt or exception into the guest, as its CPU would
// have: through the gate its own IDT holds for the vector, onto its
// kernel's stack (from its TSS's ESP0 when it was in user mode), with the
// frame its handler expects. The guest cannot tell that the VMM, not the
// CPU, pushed the frame, except by what ring compression changes, and the
// VMM hides that too: the CS it pushes for a trap in the guest's kernel has
// RPL 0, the privilege the guest believes it has (xv6's trap() reads
// `tf->cs & 3` to tell the kernel from user mode), and the guest's iret of
// such a frame faults and is emulated (trap.c).

#include "vmm.h"

void inject(struct trapframe *tf, uint vector, int err)
{
  uint gate[2];
  if (vector * 8 + 7 > vcpu.idt_limit || gva_read(vcpu.idt_base + vector * 8, gate, 8) < 0)
    stop("the guest's IDT (base 0x%x, limit 0x%x) has no gate for vector %u", vcpu.idt_base,
         vcpu.idt_limit, vector);
  uint type = (gate[1] >> 8) & 0x1F;
  if (!(gate[1] & 0x8000) || (type != 0xE && type != 0xF))
    stop("the guest's gate for vector %u is not a present 32-bit interrupt or trap gate",
         vector);
  uint sel = gate[0] >> 16, handler = (gate[0] & 0xFFFF) | (gate[1] & 0xFFFF0000u);

  // The frame, from its lowest address: [error code,] EIP, CS, EFLAGS,
  // and from user mode the user's ESP and SS.
  uint frame[6], n = 0, esp, ss = tf->ss;
  int from_user = (tf->cs & 3) == 3;
  if (err >= 0)
    frame[n++] = err;
  frame[n++] = tf->eip;
  frame[n++] = from_user ? tf->cs : tf->cs & ~3u;
  frame[n++] = (tf->eflags & ~FL_IF) | (vcpu.vif ? FL_IF : 0);
  if (from_user) {
    uint ts[3];  // the guest's TSS: link, ESP0, SS0
    if (!vcpu.tr || gva_read(vcpu.tss_base, ts, sizeof(ts)) < 0)
      stop("vector %u from the guest's user mode, and the guest has no TSS for its "
           "kernel's stack", vector);
    frame[n++] = tf->esp;
    frame[n++] = tf->ss;
    esp = ts[1];
    ss = (ts[2] & ~3u) | 1;
  } else {
    esp = tf->esp;
  }
  esp -= n * 4;
  if (gva_write(esp, frame, n * 4) < 0)
    stop("the guest's kernel stack at 0x%x is not mapped for vector %u", esp, vector);

  tf->esp = esp;
  tf->ss = ss;
  tf->cs = (sel & ~3u) | 1;
  tf->eip = handler;
  // The real IF stays set (the VMM keeps its interrupts); the guest's is
  // cleared by an interrupt gate, as its CPU would.
  tf->eflags = (tf->eflags & ~(FL_TF | FL_NT | FL_RF | FL_VM)) | FL_IF;
  if (type == 0xE)
    vcpu.vif = 0;
  vcpu.injected++;
}
