/* error.h - the error codes and gh_error_*: defined in the public header
 * gatehouse/errors.h (the front ends see them too); this name stays for the
 * library's own files. */
#ifndef GH_ERROR_H
#define GH_ERROR_H

#include "gatehouse/errors.h"

#endif
