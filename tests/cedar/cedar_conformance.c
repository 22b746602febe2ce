/* cedar_conformance.c - the conformance runner's command (conformance.h):
 * cedar_conformance [--verbose] DIR... */
#include "conformance.h"

int main(int argc, char **argv)
{
	return gh_conf_main(argc, argv, stdout);
}
