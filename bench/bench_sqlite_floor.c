/* bench_sqlite_floor.c - the floor under every durable write: bare SQLite
 * commits per second (WAL, synchronous=FULL) of one small row, on the same
 * disk, measured in the same run as the Gatehouse benchmarks. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(const char *argv0, int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: %s [-d db] [-t seconds] [db [seconds]]\n"
		"  -d  the database file to create and remove (default floor.db)\n"
		"  -t  how long to commit for (default 3)\n", argv0);
	return rc;
}

int main(int argc, char **argv)
{
	const char *path = "floor.db";
	double seconds = 3.0, start, end;
	sqlite3 *db;
	sqlite3_stmt *st;
	long n = 0;
	int opt;

	/* flags are flags: a name starting with '-' is never taken for the file */
	while ((opt = getopt(argc, argv, "d:t:h")) != -1) {
		switch (opt) {
		case 'd': path = optarg; break;
		case 't': seconds = atof(optarg); break;
		case 'h': return usage(argv[0], 0);
		default: return usage(argv[0], 2);
		}
	}
	/* the positional form bench/run.sh has always used: [db [seconds]] */
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc)
		seconds = atof(argv[optind++]);
	if (optind < argc || !*path || seconds <= 0) {
		fprintf(stderr, "%s: bad arguments\n", argv[0]);
		return usage(argv[0], 2);
	}

	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			     " CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)", NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES ('a row of about forty bytes of text')",
			       -1, &st, NULL)) {
		fprintf(stderr, "bench_sqlite_floor: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	start = now();
	do {
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		n++;
	} while ((end = now()) - start < seconds && n < 10000000);
	printf("sqlite_floor durable_commits=%ld seconds=%.2f rate=%.0f/s latency_us=%.0f\n", n,
	       end - start, (double)n / (end - start), (end - start) / (double)n * 1e6);
	sqlite3_finalize(st);
	sqlite3_close(db);
	unlink(path);
	return 0;
}
