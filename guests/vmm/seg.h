// The real GDT's layout, shared by the C and the assembly.
//
// Indices 1 to 7 hold the guest's own descriptors, copied from the GDT it
// loads with lgdt and compressed (ring 0 becomes ring 1), at the same
// indices, so that every selector the guest's kernel loads names its own
// descriptor. Until the guest loads a GDT, indices 1 and 2 are a flat ring 1
// code and data pair (what xv6's GDT holds there). The VMM's descriptors
// come after the guest's.

#define GUEST_NSEGS 8   // indices 0 to 7: the null descriptor and the guest's
#define SEG_G1CODE  1   // before the guest's lgdt: its kernel's code
#define SEG_G1DATA  2   // and data
#define SEG_VCODE   8   // ring 0 code: the VMM
#define SEG_VDATA   9   // ring 0 data
#define SEG_TSS     10  // the TSS that gives ring 0's stack on an exit
#define NSEGS       11

#define SEL(seg, rpl) (((seg) << 3) | (rpl))
