// The 256 vector stubs and their table, made by one assembler macro: each
// pushes a zero error code unless the CPU pushes one for that vector (8, 10
// to 14, 17), then its vector number, and goes to alltraps.

.altmacro

.macro stub n
.globl vector\n
vector\n:
  .if \n == 13
    jmp gp_entry  // its fast path first (fastpath.S)
  .else
  .if (\n == 8) || ((\n >= 10) && (\n <= 14)) || (\n == 17)
  .else
    pushl $0
  .endif
  pushl $\n
  jmp alltraps
  .endif
.endm

.macro entry n
  .long vector\n
.endm

.text
.set i, 0
.rept 256
  stub %i
  .set i, i + 1
.endr

.data
.globl vectors
vectors:
.set i, 0
.rept 256
  entry %i
  .set i, i + 1
.endr
