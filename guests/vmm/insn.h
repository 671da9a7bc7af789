// The guest instructions the VMM decodes: those it emulates after an exit,
// and, for patching, the length of any instruction gcc emits.

// What one guest instruction is, as far as the VMM emulates it.
enum kind {
  I_UNKNOWN,
  I_MOV_FROM_CR, I_MOV_TO_CR,  // mov %crN,%reg and back
  I_CLI, I_STI, I_HLT,
  I_IN, I_OUT, I_INS, I_OUTS,  // port I/O, the string forms with rep
  I_LGDT, I_LIDT, I_LTR, I_INVLPG,
  I_IRET,
  I_INT, I_INT3,               // software interrupts
  I_PUSHF, I_POPF,             // (only where the VMM patched them)
  I_LOAD, I_STORE, I_STORE_IMM // mov to or from memory: MMIO
};

struct insn {
  enum kind kind;
  uint len;   // its bytes
  int size;   // the operand's size: 1, 2 or 4
  int rep;    // a rep prefix
  int port;   // in and out: the port, or -1 when it is DX's
  int reg;    // the general register (mov cr*, ltr, MMIO moves)
  int cr;     // the control register of mov cr*
  int mem;    // the ModRM operand is in memory (at ea)
  uint ea;    // its linear address
  uint imm;   // int's vector, the stored immediate
};

struct trapframe;
void decode(struct trapframe *tf, const uchar *p, uint avail, struct insn *in);
void print_insn(const struct insn *in);
uint *reg(struct trapframe *tf, int n);
extern const char *regname[];
int insn_length(const uchar *p, uint max);
