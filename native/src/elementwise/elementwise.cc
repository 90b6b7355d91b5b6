// elementwise kernels (baseline x86-64 code and per-ISA dispatch).
