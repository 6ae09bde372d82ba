#ifndef DUPLEX_FUZZ_CLIBFUZZER_H
#define DUPLEX_FUZZ_CLIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt FuzzerInterface.h), linked by `-sanitize=fuzzer`: parses the
/// libFuzzer flags in argv and fuzzes `callback`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
