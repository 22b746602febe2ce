/* gov.h - the domain's interface inside the library: the public one
 * (gatehouse/gov.h) plus the store under a gh_gov, which the domain's own
 * files, the unit tests, the fuzzers and the benchmarks may reach. Front ends
 * include gatehouse/gov.h and never this (docs/internals/layers.md). */
#ifndef GH_GOV_H
#define GH_GOV_H

#include "gatehouse/gov.h"
#include "store/store.h"

/* The store g runs on (borrowed): for tests and benchmarks that look at or
 * prepare the database directly. */
gh_store *gh_gov_store(gh_gov *g);

#endif
