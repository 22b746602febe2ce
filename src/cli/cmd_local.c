/* cmd_local.c - the commands that open the database themselves: init, serve,
 * audit verify, jobs run-once. */
#include "cli/cli.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "audit/audit.h"
#include "common/error.h"
#include "common/util.h"
#include "gov/gov.h"

void gh_cli_error(const char *what)
{
	const gh_error *e = gh_error_last();
	size_t i;

	fprintf(stderr, "gatehouse: %s%s%s\n", what ? what : "", what ? ": " : "",
		e->message[0] ? e->message : gh_error_code_name(e->code));
	for (i = 0; e->fields && i < json_array_size(e->fields); i++) {
		json_t *f = json_array_get(e->fields, i);

		fprintf(stderr, "  %s: %s\n", json_string_value(json_object_get(f, "field")),
			json_string_value(json_object_get(f, "reason")));
	}
}

static int open_existing(gh_gov **out, const char *db, const gh_gov_options *opts)
{
	int rc = gh_gov_open(out, db, 0, opts);

	if (rc == GH_ENOTFOUND)
		fprintf(stderr, "gatehouse: database %s does not exist; run 'gatehouse init' first"
			" (or pass --db PATH)\n", db);
	else if (rc)
		gh_cli_error(db);
	return rc;
}

int gh_cli_db_initialised(gh_gov *g)
{
	gh_actor cli = {"system:cli", GH_ROLE_ADMIN};
	gh_page page = {1, NULL};
	json_t *list = NULL;
	int rc;

	if ((rc = gh_gov_identity_list(&list, g, &cli, &page, NULL, NULL, NULL)))
		return rc;
	rc = json_array_size(json_object_get(list, "items")) > 0;
	json_decref(list);
	return rc;
}

int gh_cmd_init(gh_cli *c)
{
	gh_gov *g = NULL;
	char *token = NULL;
	int rc, exit_code = GH_EXIT_FAIL;

	if (gh_cli_check_options(c, "init", NULL) || c->npos != 1) {
		if (c->npos != 1)
			gh_error_set(GH_EINVALID, "init takes no arguments");
		gh_cli_error(NULL);
		return GH_EXIT_USAGE;
	}
	if ((rc = gh_gov_open(&g, c->db, 1, NULL))) {
		gh_cli_error(c->db);
		return GH_EXIT_FAIL;
	}
	if ((rc = gh_cli_db_initialised(g)) != 0) {
		if (rc > 0)
			fprintf(stderr, "gatehouse: %s is already initialised; nothing was changed\n",
				c->db);
		else
			gh_cli_error("checking the database");
		goto cleanup;
	}
	if ((rc = gh_gov_bootstrap(&token, g, "admin")) || !token) {
		if (rc == GH_ECONFLICT || !rc)
			fprintf(stderr, "gatehouse: %s is already initialised; nothing was changed\n",
				c->db);
		else
			gh_cli_error("creating the admin identity");
		goto cleanup;
	}
	/* the token comes before the path, so that the first "gh_" on the
	 * output is the token whatever the path looks like */
	printf("gatehouse: database initialised (schema version %d)\n",
	       gh_store_version(gh_gov_store(g)));
	printf("admin token: %s\n", token);
	printf("This token is shown once and will not be shown again; keep it safe.\n");
	printf("database: %s\n", c->db);
	printf("use it with: export GATEHOUSE_TOKEN=<the admin token>\n");
	exit_code = GH_EXIT_OK;
cleanup:
	if (token) {
		memset(token, 0, strlen(token));
		free(token);
	}
	gh_gov_free(g);
	return exit_code;
}

/* Seconds from "90", "15m", "72h", ...; 0 or GH_EINVALID. */
static int parse_seconds(int64_t *out, const char *s)
{
	char *end;
	long long v;

	if (*s >= '0' && *s <= '9') {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (!errno && !*end) {
			if (v < 1)
				return GH_EINVALID;
			*out = v;
			return 0;
		}
	}
	return gh_duration_parse(out, s);
}

int gh_cmd_serve(gh_cli *c)
{
	static const char *const allowed[] = {"listen", "threads", "sla", "workers",
					      "reconcile-every", NULL};
	const char *listen = gh_cli_get(c, "listen"), *threads = gh_cli_get(c, "threads");
	const char *sla = gh_cli_get(c, "sla"), *colon, *workers = gh_cli_get(c, "workers");
	const char *every = gh_cli_get(c, "reconcile-every");
	int64_t every_s = 0;
	long nworkers = 2;
	gh_gov_options gopts = {0};
	gh_api_options aopts = {0};
	gh_gov *g = NULL;
	gh_api *api = NULL;
	sigset_t set;
	int sig = 0, exit_code = GH_EXIT_FAIL, sched = 0;
	char host[256];

	if (gh_cli_check_options(c, "serve", allowed)) {
		gh_cli_error(NULL);
		return GH_EXIT_USAGE;
	}
	if (c->npos != 1 || (gh_cli_has(c, "listen") && !listen) ||
	    (gh_cli_has(c, "threads") && !threads) || (gh_cli_has(c, "sla") && !sla) ||
	    (gh_cli_has(c, "workers") && !workers) ||
	    (gh_cli_has(c, "reconcile-every") && !every)) {
		fprintf(stderr, "usage: gatehouse serve [--listen HOST:PORT] [--threads N] [--sla DURATION]"
			" [--workers N] [--reconcile-every DURATION]\n");
		return GH_EXIT_USAGE;
	}
	if (workers) {
		char *end;

		errno = 0;
		nworkers = strtol(workers, &end, 10);
		if (errno || *end || nworkers < 1 || nworkers > 64) {
			fprintf(stderr, "gatehouse: --workers %s: expected 1 to 64\n", workers);
			return GH_EXIT_USAGE;
		}
	}
	if (every && (parse_seconds(&every_s, every) || every_s < 1)) {
		fprintf(stderr, "gatehouse: --reconcile-every %s: expected a duration such as 1h\n",
			every);
		return GH_EXIT_USAGE;
	}
	if (!listen)
		listen = GH_CLI_DEFAULT_LISTEN;
	if (!(colon = strrchr(listen, ':')) || colon == listen ||
	    (size_t)(colon - listen) >= sizeof(host)) {
		fprintf(stderr, "gatehouse: --listen %s: expected HOST:PORT\n", listen);
		return GH_EXIT_USAGE;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
	if (threads) {
		char *end;
		long n;

		errno = 0;
		n = strtol(threads, &end, 10);
		if (errno || *end || n < 0 || n > 256) {
			fprintf(stderr, "gatehouse: --threads %s: expected 0 to 256\n", threads);
			return GH_EXIT_USAGE;
		}
		aopts.threads = (int)n;
	}
	if (!sla && getenv("GATEHOUSE_PENDING_SLA") && *getenv("GATEHOUSE_PENDING_SLA"))
		sla = getenv("GATEHOUSE_PENDING_SLA");
	if (sla && parse_seconds(&gopts.pending_sla, sla)) {
		fprintf(stderr, "gatehouse: pending SLA %s: expected a duration such as 72h\n", sla);
		return GH_EXIT_USAGE;
	}
	aopts.listen = listen;

	/* every thread started from here on inherits the blocked set, so only
	 * sigwait below sees SIGINT and SIGTERM */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		fprintf(stderr, "gatehouse: cannot block signals\n");
		return GH_EXIT_FAIL;
	}
	signal(SIGPIPE, SIG_IGN);

	if (open_existing(&g, c->db, &gopts))
		goto cleanup;
	if (gh_api_start(&api, g, &aopts)) {
		gh_cli_error("starting the HTTP server");
		goto cleanup;
	}
	if (gh_gov_sched_start(g, 1000)) {
		gh_cli_error("starting the scheduler");
		goto cleanup;
	}
	sched = 1;
	if (gh_gov_workers_start(g, (int)nworkers)) {
		gh_cli_error("starting the provisioning workers");
		goto cleanup;
	}
	if (every_s > 0 && gh_gov_reconcile_every(g, every_s)) {
		gh_cli_error("scheduling reconciliation");
		goto cleanup;
	}
	printf("gatehouse: serving http://%s:%u\n", host, gh_api_port(api));
	fflush(stdout);
	while (sigwait(&set, &sig) != 0)
		;
	fprintf(stderr, "gatehouse: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	exit_code = GH_EXIT_OK;
cleanup:
	gh_api_stop(api);
	if (sched)
		gh_gov_sched_stop(g);
	gh_gov_free(g);
	return exit_code;
}

int gh_cmd_audit_verify(gh_cli *c)
{
	gh_audit_report report;
	gh_gov *g = NULL;
	int rc, exit_code = GH_EXIT_FAIL;

	if (gh_cli_check_options(c, "audit verify", NULL) || c->npos != 2) {
		if (c->npos != 2)
			gh_error_set(GH_EINVALID, "audit verify takes no arguments");
		gh_cli_error(NULL);
		return GH_EXIT_USAGE;
	}
	if (open_existing(&g, c->db, NULL))
		return GH_EXIT_FAIL;
	rc = gh_audit_verify(&report, gh_gov_store(g));
	if (rc == 0) {
		printf("audit chain intact: %lld events\n", (long long)report.events);
		exit_code = GH_EXIT_OK;
	} else if (rc == GH_EINVALID) {
		printf("audit chain broken at sequence %lld: %s\n", (long long)report.bad_seq,
		       report.reason);
	} else {
		gh_cli_error("verifying the audit chain");
	}
	gh_gov_free(g);
	return exit_code;
}

int gh_cmd_jobs_run_once(gh_cli *c)
{
	static const char *const allowed[] = {"max", NULL};
	const char *max = gh_cli_get(c, "max");
	gh_gov *g = NULL;
	long n = 0;
	int ran = 0, rc;

	if (gh_cli_check_options(c, "jobs run-once", allowed)) {
		gh_cli_error(NULL);
		return GH_EXIT_USAGE;
	}
	if (c->help || c->npos != 2 || (gh_cli_has(c, "max") && !max)) {
		fprintf(c->help ? stdout : stderr, "usage: gatehouse [--db PATH] jobs run-once"
			" [--max N]\n  Runs the provisioning jobs due now, one after another.\n");
		return c->help ? GH_EXIT_OK : GH_EXIT_USAGE;
	}
	if (max) {
		char *end;

		errno = 0;
		n = strtol(max, &end, 10);
		if (errno || *end || n < 1 || n > 1000000) {
			fprintf(stderr, "gatehouse: --max %s: expected 1 to 1000000\n", max);
			return GH_EXIT_USAGE;
		}
	}
	if (open_existing(&g, c->db, NULL))
		return GH_EXIT_FAIL;
	rc = gh_gov_jobs_run_once(g, gh_now(), (int)n, &ran);
	if (rc)
		gh_cli_error("running jobs");
	else
		printf("%d job attempt%s run\n", ran, ran == 1 ? "" : "s");
	gh_gov_free(g);
	return rc ? GH_EXIT_FAIL : GH_EXIT_OK;
}
