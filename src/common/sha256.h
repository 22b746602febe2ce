/* sha256.h - one-shot SHA-256 for the audit log's hashes: the CPU's SHA
 * extensions when it has them (x86-64 SHA-NI), libsodium otherwise. Same
 * result either way; hashing is most of the cost of appending and verifying. */
#ifndef GH_SHA256_H
#define GH_SHA256_H

#include <stddef.h>

void gh_sha256(unsigned char out[32], const unsigned char *data, size_t len);

/* 1 when gh_sha256 uses the CPU's SHA instructions. */
int gh_sha256_accelerated(void);

#endif
