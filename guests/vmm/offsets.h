// Offsets into the VMM's structures for fastpath.S, which cannot use C's
// offsetof; trap.c asserts each against the structures at compile time.

#define VCPU_VIF        16   // struct vcpu: vif
#define VCPU_EXITS      40   //              exits
#define VCPU_PATCHED    76   //              count[X_PATCHED]
#define VCPU_PRIVILEGED 48   //              count[X_PRIVILEGED]
#define OPT_LOG         4    // struct options: log
#define EXITLOG_REC     4    // struct exitlog: rec[]
#define EXITREC_SIZE    20   // struct exitrec: reason, eip, info, number, steps
#define VCPU_VMM_STEPS  84   // struct vcpu: vmm_steps
#define VTLB_SIZE       16   // struct vtlb_entry: page, wpage, delta, unused
#define VTLB_WPAGE      4
#define VTLB_DELTA      8
#define FAST_PUSHF      64   // entries of fast_pushf[], a power of two
#define X_PATCHED_VALUE 7    // enum reason's X_PATCHED
#define X_PRIVILEGED_VALUE 0 //              X_PRIVILEGED
#define I_CLI_VALUE     3    // enum kind's I_CLI (insn.h)
#define I_STI_VALUE     4    //            I_STI
