/* main.c - the gatehouse command: placeholder until implemented. */
#include <stdio.h>

int main(int argc, char **argv)
{
	fprintf(stderr, "gatehouse: not implemented yet\n");
	return 2;
}
