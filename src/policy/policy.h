/* policy.h - the Cedar engine's interface, defined in the public header
 * gatehouse/policy.h; this name stays for the library's own files. */
#ifndef GH_POLICY_H
#define GH_POLICY_H

#include "gatehouse/policy.h"

#endif
