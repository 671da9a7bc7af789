// Decoding the guest's instructions (32-bit code: xv6's kernel and user
// programs) for emulation, and measuring them for patching (patch.c).

#include "vmm.h"
#include "insn.h"

const char *regname[] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };

// The guest's general register n (in ModRM's numbering) in its trap frame.
uint *reg(struct trapframe *tf, int n)
{
  switch (n) {
  case 0: return &tf->eax;
  case 1: return &tf->ecx;
  case 2: return &tf->edx;
  case 3: return &tf->ebx;
  case 4: return &tf->esp;  // the guest's, pushed by the CPU on the way in
  case 5: return &tf->ebp;
  case 6: return &tf->esi;
  default: return &tf->edi;
  }
}

static uint rd32(const uchar *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint)p[3] << 24);
}

// The length of a ModRM operand (ModRM, SIB, displacement) with 32-bit
// addressing.
static uint modrm_len(const uchar *p)
{
  int mod = p[0] >> 6, rm = p[0] & 7;
  uint n = 1;
  if (mod == 3)
    return 1;
  if (rm == 4) {
    if (mod == 0 && (p[1] & 7) == 5)
      n += 4;
    n++;
  } else if (mod == 0 && rm == 5) {
    n += 4;
  }
  return n + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

// A ModRM memory operand's linear address (the guest's segments are flat).
static uint modrm_ea(struct trapframe *tf, const uchar *p)
{
  int mod = p[0] >> 6, rm = p[0] & 7, n = 1;
  uint a;
  if (rm == 4) {
    int sib = p[n++], scale = sib >> 6, index = (sib >> 3) & 7, base = sib & 7;
    if (base == 5 && mod == 0) {
      a = rd32(p + n);
      n += 4;
    } else {
      a = *reg(tf, base);
    }
    if (index != 4)
      a += *reg(tf, index) << scale;
  } else if (rm == 5 && mod == 0) {
    a = rd32(p + n);
    n += 4;
  } else {
    a = *reg(tf, rm);
  }
  if (mod == 1)
    a += (signed char)p[n];
  else if (mod == 2)
    a += rd32(p + n);
  return a;
}

// Decodes the instruction at p, of which `avail` bytes could be read (the
// buffer holds at least 16, zero past those), into *in.
void decode(struct trapframe *tf, const uchar *p, uint avail, struct insn *in)
{
  memset(in, 0, sizeof(*in));
  in->size = 4;
  uint n = 0;
  for (;; n++) {
    if (p[n] == 0x66)
      in->size = 2;
    else if (p[n] == 0xF3)
      in->rep = 1;
    else if (p[n] != 0x26 && p[n] != 0x2E && p[n] != 0x36 && p[n] != 0x3E)
      break;
    if (n == 3)
      return;
  }
  uchar op = p[n++];
  enum kind k = I_UNKNOWN;
  switch (op) {
  case 0xFA: k = I_CLI; break;
  case 0xFB: k = I_STI; break;
  case 0xF4: k = I_HLT; break;
  case 0xCF: k = in->size == 4 ? I_IRET : I_UNKNOWN; break;
  case 0xCC: k = I_INT3; in->imm = 3; break;
  case 0xCD: k = I_INT; in->imm = p[n++]; break;
  case 0x9C: k = I_PUSHF; break;
  case 0x9D: k = I_POPF; break;
  case 0xE4: case 0xE5: case 0xE6: case 0xE7:
    k = op < 0xE6 ? I_IN : I_OUT;
    in->size = (op & 1) ? in->size : 1;
    in->port = p[n++];
    break;
  case 0xEC: case 0xED: case 0xEE: case 0xEF:
    k = op < 0xEE ? I_IN : I_OUT;
    in->size = (op & 1) ? in->size : 1;
    in->port = -1;
    break;
  case 0x6C: case 0x6D: case 0x6E: case 0x6F:
    k = op < 0x6E ? I_INS : I_OUTS;
    in->size = (op & 1) ? in->size : 1;
    in->port = -1;
    break;
  case 0xA1: case 0xA3:
    // mov with the address in the instruction: EAX (AX) and memory
    k = op == 0xA1 ? I_LOAD : I_STORE;
    in->reg = 0;
    in->mem = 1;
    in->ea = rd32(p + n);
    n += 4;
    break;
  case 0x8B: case 0x89: case 0xC7:
    if (op == 0xC7 && ((p[n] >> 3) & 7) != 0)
      break;
    k = op == 0x8B ? I_LOAD : op == 0x89 ? I_STORE : I_STORE_IMM;
    in->reg = (p[n] >> 3) & 7;
    in->mem = (p[n] >> 6) != 3;
    if (in->mem)
      in->ea = modrm_ea(tf, p + n);
    n += modrm_len(p + n);
    if (op == 0xC7) {
      in->imm = in->size == 4 ? rd32(p + n) : (uint)(p[n] | (p[n + 1] << 8));
      n += in->size;
    }
    if (!in->mem)
      k = I_UNKNOWN;
    break;
  case 0x0F: {
    uchar op2 = p[n++], modrm = p[n];
    int r = (modrm >> 3) & 7;
    if ((op2 == 0x20 || op2 == 0x22) && (modrm >> 6) == 3) {
      k = op2 == 0x20 ? I_MOV_FROM_CR : I_MOV_TO_CR;
      in->cr = r;
      in->reg = modrm & 7;
      n++;
    } else if ((op2 == 0x01 && (r == 2 || r == 3 || r == 7)) || (op2 == 0x00 && r == 3)) {
      k = op2 == 0x00 ? I_LTR : r == 2 ? I_LGDT : r == 3 ? I_LIDT : I_INVLPG;
      in->mem = (modrm >> 6) != 3;
      in->reg = modrm & 7;
      if (in->mem)
        in->ea = modrm_ea(tf, p + n);
      else if (k != I_LTR)
        k = I_UNKNOWN;
      n += modrm_len(p + n);
    }
    break;
  }
  }
  if (k != I_UNKNOWN && n <= avail) {
    in->kind = k;
    in->len = n;
  }
}

void print_insn(const struct insn *in)
{
  static const char *sfx = "?bw?l";
  switch (in->kind) {
  case I_MOV_FROM_CR: cprintf("mov %%cr%d,%%%s", in->cr, regname[in->reg]); break;
  case I_MOV_TO_CR: cprintf("mov %%%s,%%cr%d", regname[in->reg], in->cr); break;
  case I_CLI: cprintf("cli"); break;
  case I_STI: cprintf("sti"); break;
  case I_HLT: cprintf("hlt"); break;
  case I_IN:
  case I_OUT:
    cprintf("%s%c ", in->kind == I_IN ? "in" : "out", sfx[in->size]);
    if (in->port < 0)
      cprintf("%%dx");
    else
      cprintf("$0x%x", in->port);
    break;
  case I_INS: cprintf("%sins%c %%dx", in->rep ? "rep " : "", sfx[in->size]); break;
  case I_OUTS: cprintf("%souts%c %%dx", in->rep ? "rep " : "", sfx[in->size]); break;
  case I_LGDT: cprintf("lgdt 0x%x", in->ea); break;
  case I_LIDT: cprintf("lidt 0x%x", in->ea); break;
  case I_LTR:
    if (in->mem)
      cprintf("ltr 0x%x", in->ea);
    else
      cprintf("ltr %%%c%c", regname[in->reg][1], regname[in->reg][2]);
    break;
  case I_INVLPG: cprintf("invlpg 0x%x", in->ea); break;
  case I_IRET: cprintf("iret"); break;
  case I_INT: cprintf("int $0x%x", in->imm); break;
  case I_INT3: cprintf("int3"); break;
  case I_PUSHF: cprintf("pushfl"); break;
  case I_POPF: cprintf("popfl"); break;
  case I_LOAD: cprintf("mov 0x%x,%%%s", in->ea, regname[in->reg]); break;
  case I_STORE: cprintf("mov %%%s,0x%x", regname[in->reg], in->ea); break;
  case I_STORE_IMM: cprintf("movl $0x%x,0x%x", in->imm, in->ea); break;
  default: cprintf("(not emulated)"); break;
  }
}

// Instruction lengths for 32-bit code, for the patcher's sweep over the
// guest kernel's text: every one-byte and 0F opcode gcc and gas emit for
// i386 (integer, x87, the long NOPs, cmov, the SSE forms with ModRM). The
// operand of each opcode: M a ModRM operand, then the immediate's size
// (b 1, w 2, z 2 or 4 by the operand size, a far pointer, an enter).
enum { N = 0, M = 1, IB = 2, IW = 4, IZ = 8, FAR = 16, ENT = 32, BAD = 64, MOFF = 128 };

static const uchar one[256] = {
  /* 00 */ M, M, M, M, IB, IZ, N, N, M, M, M, M, IB, IZ, N, BAD,
  /* 10 */ M, M, M, M, IB, IZ, N, N, M, M, M, M, IB, IZ, N, N,
  /* 20 */ M, M, M, M, IB, IZ, BAD, N, M, M, M, M, IB, IZ, BAD, N,
  /* 30 */ M, M, M, M, IB, IZ, BAD, N, M, M, M, M, IB, IZ, BAD, N,
  /* 40 */ N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N,
  /* 50 */ N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N,
  /* 60 */ N, N, M, M, BAD, BAD, BAD, BAD, IZ, M | IZ, IB, M | IB, N, N, N, N,
  /* 70 */ IB, IB, IB, IB, IB, IB, IB, IB, IB, IB, IB, IB, IB, IB, IB, IB,
  /* 80 */ M | IB, M | IZ, M | IB, M | IB, M, M, M, M, M, M, M, M, M, M, M, M,
  /* 90 */ N, N, N, N, N, N, N, N, N, N, FAR, N, N, N, N, N,
  /* A0 */ MOFF, MOFF, MOFF, MOFF, N, N, N, N, IB, IZ, N, N, N, N, N, N,
  /* B0 */ IB, IB, IB, IB, IB, IB, IB, IB, IZ, IZ, IZ, IZ, IZ, IZ, IZ, IZ,
  /* C0 */ M | IB, M | IB, IW, N, M, M, M | IB, M | IZ, ENT, N, IW, N, N, IB, N, N,
  /* D0 */ M, M, M, M, IB, IB, N, N, M, M, M, M, M, M, M, M,
  /* E0 */ IB, IB, IB, IB, IB, IB, IB, IB, IZ, IZ, FAR, IB, N, N, N, N,
  /* F0 */ BAD, N, BAD, BAD, N, N, M, M, N, N, N, N, N, N, M, M,
};

// The 0F opcodes without a ModRM operand; the rest have one. Immediates:
// 0F 70-73, A4, AC, BA, C2, C4-C6 take a byte; 0F 80-8F a rel32.
static int two_no_modrm(uchar op)
{
  return op == 0x05 || op == 0x06 || op == 0x07 || op == 0x08 || op == 0x09 || op == 0x0B ||
         (op >= 0x30 && op <= 0x37) || op == 0x77 || (op >= 0x80 && op <= 0x8F) ||
         op == 0xA0 || op == 0xA1 || op == 0xA2 || op == 0xA8 || op == 0xA9 || op == 0xAA ||
         (op >= 0xC8 && op <= 0xCF);
}

// The length of the instruction at p (max bytes readable), or 0 when it is
// not one this table knows.
int insn_length(const uchar *p, uint max)
{
  uint n = 0;
  int opsize = 4, addr16 = 0;
  for (;;) {
    if (n >= max || n > 4)
      return 0;
    uchar b = p[n];
    if (b == 0x66)
      opsize = 2;
    else if (b == 0x67)
      addr16 = 1;
    else if (!(b == 0xF0 || b == 0xF2 || b == 0xF3 || b == 0x26 || b == 0x2E || b == 0x36 ||
               b == 0x3E || b == 0x64 || b == 0x65))
      break;
    n++;
  }
  if (addr16)
    return 0;  // gcc's 32-bit code has none
  uchar op = p[n++];
  uint flags, imm = 0;
  if (op == 0x0F) {
    if (n >= max)
      return 0;
    uchar op2 = p[n++];
    if (op2 == 0x38 || op2 == 0x3A) {
      n++;  // the third opcode byte
      flags = M | (op2 == 0x3A ? IB : 0);
    } else if (op2 >= 0x80 && op2 <= 0x8F) {
      flags = IZ;
    } else if (two_no_modrm(op2)) {
      flags = N;
    } else {
      flags = M;
      if ((op2 >= 0x70 && op2 <= 0x73) || op2 == 0xA4 || op2 == 0xAC || op2 == 0xBA ||
          op2 == 0xC2 || (op2 >= 0xC4 && op2 <= 0xC6))
        flags |= IB;
    }
  } else {
    flags = one[op];
    // F6 and F7's test takes an immediate; their other forms do not.
    if ((op == 0xF6 || op == 0xF7) && n < max && ((p[n] >> 3) & 7) < 2)
      flags |= op == 0xF6 ? IB : IZ;
  }
  if (flags & BAD)
    return 0;
  if (flags & M) {
    if (n >= max)
      return 0;
    n += modrm_len(p + n);
  }
  if (flags & IB)
    imm += 1;
  if (flags & IW)
    imm += 2;
  if (flags & IZ)
    imm += opsize;
  if (flags & FAR)
    imm += opsize + 2;
  if (flags & ENT)
    imm += 3;
  if (flags & MOFF)
    imm += 4;
  n += imm;
  return n <= max ? (int)n : 0;
}
