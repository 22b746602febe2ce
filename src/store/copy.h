/* copy.h - copying a whole installation from one store to another (gatehouse
 * migrate): every table, in an order the foreign keys accept, each row
 * exactly as stored (keys, times, JSON text, hashes). The list of tables and
 * their columns lives in sql/copy.c, beside the schema it mirrors: a new
 * table or column in a migration must be added there too.
 *
 * Like every typed operation, none of these opens a transaction: the caller
 * reads the source inside a read section and writes the target inside
 * gh_store_begin ... gh_store_commit. */
#ifndef GH_STORE_COPY_H
#define GH_STORE_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* How many tables a copy covers, and the i-th one's name (static), in copy
 * order: a table comes after every table its foreign keys name. */
size_t gh_store_copy_tables(void);
const char *gh_store_copy_table(size_t i);

/* The number of rows of table i in s. */
int gh_store_copy_count(int64_t *out, gh_store *s, size_t i);

/* Copies every row of table i from from to to, columns as stored (NULLs
 * stay NULL, blobs stay bytes); *copied counts them. A row the target
 * refuses (a key it holds already, a foreign key) is GH_ECONFLICT. */
int gh_store_copy_rows(int64_t *copied, gh_store *from, gh_store *to, size_t i);

/* Moves to's generated keys (PostgreSQL's identity sequences) past the
 * largest key copied, so the next row gets a new one. Nothing to do on
 * SQLite, which takes the largest key plus one by itself. */
int gh_store_copy_keys(gh_store *to);

/* Deletes every row of every table of the copy from s again (in reverse
 * order): a copy that failed verification is not left behind. */
int gh_store_copy_clear(gh_store *s);

#endif
