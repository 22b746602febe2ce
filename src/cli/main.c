/* main.c - the gatehouse command: global options and dispatch to the subcommands. */
#include "cli/cli.h"

#include <string.h>

#include "gatehouse/errors.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gatehouse [--db PATH|URL] [--server URL] [--token TOKEN] [--json] [--all]\n"
		"                 COMMAND ...\n"
		"       gatehouse --version | --help\n"
		"\n"
		"local commands (open the database directly):\n"
		"  init                      create the database and print the admin token once\n"
		"  serve [--listen HOST:PORT] [--threads N] [--sla DURATION] [--workers N]\n"
		"        [--reconcile-every DURATION] [--signing-key PATH]\n"
		"        [--checkpoint-every DURATION] [--checkpoint-after-write DURATION|off]\n"
		"        [--config FILE] [--request-timeout DURATION]\n"
		"        [--auth-failures N] [--per-address-connections N]\n"
		"        [--node-id ID] [--poll-interval MS] [--job-lease DURATION]\n"
		"                            serve the HTTP API until SIGINT or SIGTERM\n"
		"  demo                      seed a realistic demo estate and print persona tokens\n"
		"  audit verify              recompute the audit hash chain and Merkle tree\n"
		"  admin-token --identity NAME  a new admin token when it is lost or expired\n"
		"  migrate --from FILE.db --to postgresql://...\n"
		"                            copy an SQLite installation into PostgreSQL and\n"
		"                            verify it there\n"
		"  key export|create         print the checkpoint verifier key / make a new key\n"
		"  checkpoint verify FILE --key VKEY\n"
		"                            verify a signed checkpoint offline\n"
		"  policy authorize|validate|format|simulate\n"
		"                            the Cedar policy engine on files ('policy --help')\n"
		"\n"
		"client commands (talk to a running server):\n"
		"  apply -f FILE.yaml [--dry-run] [--url URL]\n"
		"                            catalog as code: make the server match FILE\n"
		"  identities  list|get|create|update|suspend|activate|decommission|renew\n"
		"  groups      list|get|create|add-member|remove-member\n"
		"  systems     list|get|create|update\n"
		"  entitlements list|get|create|update\n"
		"  requests    list|get|submit|approve|reject|cancel|history|evidence\n"
		"  grants      list|get|revoke|review\n"
		"  delegations list|get|create|revoke\n"
		"  policies    list|get|active|propose|activate\n"
		"  changes     list|show|confirm|withdraw   (weakening changes: four eyes)\n"
		"  jobs        list|get|retry   (the provisioning outbox; 'jobs run-once' is local)\n"
		"  reconcile   SYSTEM [--revoke-shadow]\n"
		"  findings    list\n"
		"  tokens      list|create|rotate|revoke\n"
		"  credentials issue|rotate|revoke|list|get   (NHI API keys)\n"
		"  introspect KEY            check an API key (RFC 7662); '-' reads it from stdin\n"
		"  audit       events|export|checkpoint [--sign]|tree|proof inclusion SEQ|\n"
		"              proof consistency OLD [NEW]\n"
		"  evidence    export REQUEST | verify FILE --key VKEY   (bundles that verify offline)\n"
		"  version                   print the version (also --version)\n"
		"\n"
		"global options (before COMMAND only these; after it they may appear anywhere):\n"
		"  --db PATH|URL    SQLite database file, or a PostgreSQL URL\n"
		"                   (postgresql://USER@HOST:PORT/DB); default $GATEHOUSE_DB or\n"
		"                   ./gatehouse.db\n"
		"  --server URL     server for client commands (default $GATEHOUSE_SERVER or\n"
		"                   http://127.0.0.1:8080)\n"
		"  --token TOKEN    bearer token (default $GATEHOUSE_TOKEN)\n"
		"  --json           print the server's JSON instead of a table\n"
		"  --all            follow every page of a list\n"
		"  --version        print the version\n"
		"  --help, -h       this text; 'gatehouse COMMAND [SUBCOMMAND] --help' for one\n"
		"\n"
		"allowed values (the server refuses any other):\n");
	gh_cmd_client_values(f);
	fprintf(f,
		"\n"
		"exit status:\n"
		"  0  success; a request submitted that waits for approval is a success\n"
		"  1  refused or failed: the server's problem answer (invalid input, not found,\n"
		"     conflict, a role or policy refusal), a request that ends denied or failed\n"
		"     (requests submit, approve), an inactive key (introspect), a broken audit\n"
		"     chain, proof or signature (audit verify, audit proof, checkpoint and\n"
		"     evidence verify)\n"
		"  2  usage error (unknown command or option, bad value: nothing is sent), or the\n"
		"     server cannot be reached\n");
}

/* Every command word main dispatches, for "did you mean". */
static const char *const commands[] = {
	"init", "serve", "demo", "audit", "admin-token", "migrate", "key", "checkpoint", "policy",
	"apply", "introspect", "evidence", "identities", "groups", "systems", "entitlements", "requests",
	"grants", "delegations", "policies", "changes", "jobs", "reconcile", "findings", "tokens",
	"credentials", "help", "version", NULL};

static int local_usage(const char *cmd)
{
	if (strcmp(cmd, "init") == 0)
		printf("usage: gatehouse [--db PATH] init [--signing-key PATH]\n"
		       "  Creates the database, applies migrations, creates the 'admin' identity\n"
		       "  and prints its token once, and creates the checkpoint signing key\n"
		       "  (default $GATEHOUSE_SIGNING_KEY, else <db>.signing-key beside an SQLite\n"
		       "  file; a PostgreSQL URL needs one of the two), mode 0600. Refuses an\n"
		       "  initialised database and an existing key file.\n");
	else if (strcmp(cmd, "serve") == 0)
		printf("usage: gatehouse [--db PATH] serve [--listen HOST:PORT] [--threads N]"
		       " [--sla DURATION]\n"
		       "  Serves the HTTP API (default 127.0.0.1:8080) and runs the expiry/SLA\n"
		       "  scheduler until SIGINT or SIGTERM. --sla (or $GATEHOUSE_PENDING_SLA) is\n"
		       "  how long a request may wait for approval (default 72h).\n"
		       "  It signs a checkpoint of the audit log at start and every\n"
		       "  --checkpoint-every (default 1h) when the log grew, with the key at\n"
		       "  --signing-key (default <db>.signing-key).\n"
		       "  --request-timeout (default 30s) is how long a client may take to send\n"
		       "  a whole request before the connection is closed. --auth-failures\n"
		       "  (default 10) failed authentications from one address within a minute\n"
		       "  make it wait (429) before it may try again. --per-address-connections\n"
		       "  (default 32) is how many connections one address may hold open.\n");
	else if (strcmp(cmd, "admin-token") == 0)
		printf("usage: gatehouse [--db PATH] admin-token --identity NAME [--name N]\n"
		       "  For the operator with the database file, when the admin token is lost\n"
		       "  or expired: prints a new token (shown once) for the active identity\n"
		       "  NAME, which must hold the admin role. Audited as token.created by\n"
		       "  system:operator. Works while the server runs.\n");
	else if (strcmp(cmd, "demo") == 0)
		printf("usage: gatehouse [--db PATH] demo\n"
		       "  Creates the database if needed and seeds teams, people, non-human\n"
		       "  identities, systems, entitlements and requests in every state through\n"
		       "  the domain, then prints tokens for a few personas.\n");
	return GH_EXIT_OK;
}

int main(int argc, char **argv)
{
	gh_cli c;
	const char *cmd;

	/* "-f FILE" is short for "--file FILE" (gatehouse apply -f catalog.yaml) */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-f") == 0)
			argv[i] = (char *)"--file";
	}
	if (gh_cli_parse(&c, argc, argv)) {
		gh_cli_error(NULL);
		fprintf(stderr, "try 'gatehouse --help'\n");
		return GH_EXIT_USAGE;
	}
	gh_cli_defaults(&c);
	/* like --help, --version wins wherever it is given */
	if (c.version) {
		printf("gatehouse %s\n", GH_VERSION);
		return GH_EXIT_OK;
	}
	if (c.npos == 0) {
		if (c.help) {
			usage(stdout);
			return GH_EXIT_OK;
		}
		usage(stderr);
		return GH_EXIT_USAGE;
	}
	cmd = c.pos[0];
	if (strcmp(cmd, "version") == 0) {
		if (c.npos > 1 || c.nopt > 0) {
			fprintf(stderr, "usage: gatehouse version\n");
			return GH_EXIT_USAGE;
		}
		printf("gatehouse %s\n", GH_VERSION);
		return GH_EXIT_OK;
	}
	if (strcmp(cmd, "help") == 0) {
		if (c.npos > 1 && gh_cmd_client_is_resource(c.pos[1])) {
			printf("usage:\n");
			gh_cmd_client_usage(stdout, c.pos[1]);
		} else if (c.npos > 1 && strcmp(c.pos[1], "policy") == 0) {
			gh_cmd_policy_usage(stdout);
		} else if (c.npos > 1 && strcmp(c.pos[1], "apply") == 0) {
			gh_cmd_apply_usage(stdout);
		} else if (c.npos > 1 && strcmp(c.pos[1], "migrate") == 0) {
			gh_cmd_migrate_usage(stdout);
		} else if (c.npos > 1) {
			local_usage(c.pos[1]);
		} else {
			usage(stdout);
		}
		return GH_EXIT_OK;
	}
	if (strcmp(cmd, "init") == 0 || strcmp(cmd, "serve") == 0 || strcmp(cmd, "demo") == 0) {
		if (c.help)
			return local_usage(cmd);
		if (cmd[0] == 'i')
			return gh_cmd_init(&c);
		return cmd[0] == 's' ? gh_cmd_serve(&c) : gh_cmd_demo(&c);
	}
	if (strcmp(cmd, "audit") == 0 && c.npos >= 2 && strcmp(c.pos[1], "verify") == 0) {
		if (c.help) {
			printf("usage: gatehouse [--db PATH] audit verify\n"
			       "  Recomputes the audit hash chain and the Merkle tree over it; exit 1\n"
			       "  when either is broken.\n");
			return GH_EXIT_OK;
		}
		return gh_cmd_audit_verify(&c);
	}
	if (strcmp(cmd, "audit") == 0 && c.npos >= 2 &&
	    (strcmp(c.pos[1], "tree") == 0 || strcmp(c.pos[1], "proof") == 0))
		return gh_cmd_audit_proofs(&c);
	if (strcmp(cmd, "audit") == 0 && c.npos >= 2 && strcmp(c.pos[1], "checkpoint") == 0)
		return gh_cmd_audit_checkpoint(&c);
	if (strcmp(cmd, "admin-token") == 0) {
		if (c.help)
			return local_usage(cmd);
		return gh_cmd_admin_token(&c);
	}
	if (strcmp(cmd, "migrate") == 0)
		return gh_cmd_migrate(&c);
	if (strcmp(cmd, "key") == 0)
		return gh_cmd_key(&c);
	if (strcmp(cmd, "checkpoint") == 0)
		return gh_cmd_checkpoint(&c);
	if (strcmp(cmd, "policy") == 0)
		return gh_cmd_policy(&c);
	if (strcmp(cmd, "apply") == 0)
		return gh_cmd_apply(&c);
	if (strcmp(cmd, "introspect") == 0)
		return gh_cmd_introspect(&c);
	if (strcmp(cmd, "evidence") == 0)
		return gh_cmd_evidence(&c);
	if (gh_cmd_client_is_resource(cmd))
		return gh_cmd_client(&c);
	{
		const char *near = gh_cli_nearest(cmd, commands);

		if (near)
			fprintf(stderr, "gatehouse: unknown command '%s'; did you mean '%s'?\n", cmd,
				near);
		else
			fprintf(stderr, "gatehouse: unknown command '%s'\n", cmd);
	}
	fprintf(stderr, "try 'gatehouse --help'\n");
	return GH_EXIT_USAGE;
}
