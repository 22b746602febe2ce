/* cmd_migrate.c - gatehouse migrate --from FILE.db --to postgresql://...:
 * copies an installation into an empty database and verifies it there (the
 * domain's gh_gov_migrate), printing a summary. */
#include "cli/cli.h"

#include <string.h>

#include "gatehouse/errors.h"
#include "gatehouse/gov.h"

void gh_cmd_migrate_usage(FILE *f)
{
	fprintf(f, "usage: gatehouse migrate --from FILE.db --to postgresql://USER@HOST/DB\n"
		   "  Copies the installation in the SQLite file FILE.db into an empty\n"
		   "  database (every table, rows exactly as stored, the audit log and its\n"
		   "  Merkle tree, settings, checkpoints), then verifies over the target the\n"
		   "  audit chain, the Merkle tree and every table's row count. Stop the\n"
		   "  server first. A target that holds data is refused and nothing changes;\n"
		   "  a copy that fails verification is deleted from the target again.\n"
		   "  The signing key file is not in the database: keep using it with\n"
		   "  --signing-key. Exit 0 only when the copy is complete and verified.\n");
}

int gh_cmd_migrate(gh_cli *c)
{
	static const char *const allowed[] = {"from", "to", NULL};
	const char *from = gh_cli_get(c, "from"), *to = gh_cli_get(c, "to");
	char from_shown[1024], to_shown[1024];
	gh_gov_migrate_report r;
	int64_t total = 0;
	int rc;

	if (c->help) {
		gh_cmd_migrate_usage(stdout);
		return GH_EXIT_OK;
	}
	if (gh_cli_check_options(c, "migrate", allowed)) {
		gh_cli_error(NULL);
		return GH_EXIT_USAGE;
	}
	if (c->npos != 1 || !from || !to) {
		gh_cmd_migrate_usage(stderr);
		return GH_EXIT_USAGE;
	}
	gh_cli_db_redact(from_shown, sizeof(from_shown), from);
	gh_cli_db_redact(to_shown, sizeof(to_shown), to);
	rc = gh_gov_migrate(&r, from, to);
	if (rc == GH_ECONFLICT || (rc && !r.copied)) {
		gh_cli_error("migrate");
		return GH_EXIT_FAIL;
	}
	printf("gatehouse migrate: %s -> %s\n", from_shown, to_shown);
	printf("  %-24s %10s %10s\n", "table", "source", "target");
	for (size_t i = 0; i < r.ntables; i++) {
		char target[32];

		if (r.tables[i].target_rows < 0)
			snprintf(target, sizeof(target), "-");
		else
			snprintf(target, sizeof(target), "%lld", (long long)r.tables[i].target_rows);
		printf("  %-24s %10lld %10s\n", r.tables[i].name,
		       (long long)r.tables[i].source_rows, target);
		total += r.tables[i].source_rows;
	}
	if (rc) {
		printf("verification FAILED: %s\n", r.reason[0] ? r.reason
			: gh_error_last()->message);
		printf("the copy was deleted from the target again; the source is unchanged\n");
		if (!r.reason[0])
			gh_cli_error("verifying the copy");
		return GH_EXIT_FAIL;
	}
	printf("copied %lld rows in %zu tables; every table's row count matches\n",
	       (long long)total, r.ntables);
	printf("audit chain and Merkle tree intact on arrival: %lld events\n",
	       (long long)r.events);
	return GH_EXIT_OK;
}
