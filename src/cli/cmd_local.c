/* cmd_local.c - the commands that open the database themselves: init, serve,
 * audit verify, jobs run-once. */
#include "cli/cli.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gatehouse/api.h"
#include "gatehouse/config.h"
#include "gatehouse/errors.h"
#include "gatehouse/common.h"
#include "gatehouse/gov.h"

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

/* Opens c's database, which must exist (init made it). Messages name the
 * database without a URL's password. */
static int open_existing(gh_gov **out, const gh_cli *c, const gh_gov_options *opts)
{
	int rc = gh_gov_open(out, c->db, 0, opts);

	if (rc == GH_ENOTFOUND && !gh_cli_db_is_url(c->db))
		fprintf(stderr, "gatehouse: database %s does not exist; run 'gatehouse init' first"
			" (or pass --db PATH)\n", c->db_shown);
	else if (rc)
		gh_cli_error(c->db_shown);
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
	static const char *const allowed[] = {"signing-key", NULL};
	gh_gov *g = NULL;
	char *token = NULL, keypath[4096], origin[64], vkey[256];
	int rc, exit_code = GH_EXIT_FAIL;

	if (gh_cli_check_options(c, "init", allowed) || c->npos != 1 ||
	    gh_cli_signing_key_path(keypath, sizeof(keypath), c)) {
		if (c->npos != 1)
			gh_error_set(GH_EINVALID, "init takes no arguments");
		gh_cli_error(NULL);
		return GH_EXIT_USAGE;
	}
	if ((rc = gh_gov_open(&g, c->db, 1, NULL))) {
		gh_cli_error(c->db_shown);
		return GH_EXIT_FAIL;
	}
	if ((rc = gh_cli_db_initialised(g)) != 0) {
		if (rc > 0)
			fprintf(stderr, "gatehouse: %s is already initialised; nothing was changed\n",
				c->db_shown);
		else
			gh_cli_error("checking the database");
		goto cleanup;
	}
	/* a key is never overwritten: refuse before anything is created */
	if (access(keypath, F_OK) == 0) {
		fprintf(stderr, "gatehouse: signing key %s already exists; move it away or pass"
			" --signing-key PATH; nothing was initialised\n", keypath);
		goto cleanup;
	}
	if ((rc = gh_gov_bootstrap(&token, g, "admin")) || !token) {
		if (rc == GH_ECONFLICT || !rc)
			fprintf(stderr, "gatehouse: %s is already initialised; nothing was changed\n",
				c->db_shown);
		else
			gh_cli_error("creating the admin identity");
		goto cleanup;
	}
	/* the token comes before the path, so that the first "gh_" on the
	 * output is the token whatever the path looks like */
	printf("gatehouse: database initialised (schema version %d)\n",
	       gh_gov_schema_version(g));
	printf("admin token: %s\n", token);
	printf("This token is shown once and will not be shown again; keep it safe.\n");
	printf("database: %s\n", c->db_shown);
	printf("use it with: export GATEHOUSE_TOKEN=<the admin token>\n");
	fflush(stdout);
	if (gh_gov_checkpoint_key_create(origin, sizeof(origin), vkey, sizeof(vkey), g, keypath)) {
		gh_cli_error("creating the checkpoint signing key");
		goto cleanup;
	}
	printf("checkpoint origin: %s\n", origin);
	printf("signing key: %s (mode 0600; back it up, never share it)\n", keypath);
	printf("verifier key: %s\n", vkey);
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

/* The server configuration named by --config or GATEHOUSE_CONFIG into cfg
 * (empty when neither): 0, or -1 with every problem printed. */
static int config_read(gh_config *cfg, gh_cli *c)
{
	const char *path = gh_cli_get(c, "config");
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (!path && getenv("GATEHOUSE_CONFIG") && *getenv("GATEHOUSE_CONFIG"))
		path = getenv("GATEHOUSE_CONFIG");
	if (!path)
		return 0;
	if ((rc = gh_config_load(cfg, path)) == 0)
		return 0;
	if (rc == GH_EINVALID || (rc == GH_ETOOLARGE && json_array_size(cfg->doc.problems)))
		gh_config_print_problems(stderr, cfg, path);
	else
		gh_cli_error("reading the server configuration");
	return -1;
}

/* Warns about systems naming an instance this server does not have. */
static void warn_unconfigured(gh_gov *g)
{
	json_t *list = NULL, *v;
	size_t i;

	if (gh_gov_systems_unconfigured(&list, g) != 0)
		return;
	json_array_foreach(list, i, v)
		fprintf(stderr, "gatehouse: warning: system %s names connector instance %s, which "
			"is not configured on this server: its jobs fail and are retried until it "
			"is (see --config)\n", json_string_value(json_object_get(v, "name")),
			json_string_value(json_object_get(v, "connector")));
	json_decref(list);
}

int gh_cmd_serve(gh_cli *c)
{
	static const char *const allowed[] = {"listen", "threads", "sla", "workers",
					      "reconcile-every", "signing-key",
					      "checkpoint-every", "checkpoint-after-write",
					      "config", "request-timeout",
					      "auth-failures", "per-address-connections",
					      "node-id", "poll-interval", "job-lease", NULL};
	const char *ck_every = gh_cli_get(c, "checkpoint-every");
	const char *ck_after = gh_cli_get(c, "checkpoint-after-write");
	int64_t ck_every_s = 3600, ck_after_s = 0;   /* 0: the signer's default */
	char keypath[4096];
	const char *listen = gh_cli_get(c, "listen"), *threads = gh_cli_get(c, "threads");
	const char *sla = gh_cli_get(c, "sla"), *colon, *workers = gh_cli_get(c, "workers");
	const char *every = gh_cli_get(c, "reconcile-every");
	const char *req_timeout = gh_cli_get(c, "request-timeout");
	const char *auth_failures = gh_cli_get(c, "auth-failures");
	const char *per_address = gh_cli_get(c, "per-address-connections");
	const char *poll = gh_cli_get(c, "poll-interval"), *job_lease = gh_cli_get(c, "job-lease");
	gh_gov_cluster_options copts = {.node_id = gh_cli_get(c, "node-id")};
	int64_t every_s = 0, req_timeout_s = 0;
	long nworkers = 2;
	gh_gov_options gopts = {0};
	gh_api_options aopts = {0};
	gh_config cfg;
	gh_gov *g = NULL;
	gh_api *api = NULL;
	sigset_t set;
	int sig = 0, exit_code = GH_EXIT_FAIL, sched = 0, rc;
	char host[256];

	if (gh_cli_check_options(c, "serve", allowed)) {
		gh_cli_error(NULL);
		return GH_EXIT_USAGE;
	}
	if (c->npos != 1 || (gh_cli_has(c, "listen") && !listen) ||
	    (gh_cli_has(c, "threads") && !threads) || (gh_cli_has(c, "sla") && !sla) ||
	    (gh_cli_has(c, "workers") && !workers) ||
	    (gh_cli_has(c, "reconcile-every") && !every) ||
	    (gh_cli_has(c, "checkpoint-every") && !ck_every) ||
	    (gh_cli_has(c, "checkpoint-after-write") && !ck_after) ||
	    (gh_cli_has(c, "request-timeout") && !req_timeout) ||
	    (gh_cli_has(c, "auth-failures") && !auth_failures) ||
	    (gh_cli_has(c, "per-address-connections") && !per_address) ||
	    (gh_cli_has(c, "node-id") && !copts.node_id) ||
	    (gh_cli_has(c, "poll-interval") && !poll) ||
	    (gh_cli_has(c, "job-lease") && !job_lease) ||
	    (gh_cli_has(c, "signing-key") && !gh_cli_get(c, "signing-key")) ||
	    (gh_cli_has(c, "config") && !gh_cli_get(c, "config"))) {
		fprintf(stderr, "usage: gatehouse serve [--listen HOST:PORT] [--threads N] [--sla DURATION]"
			" [--workers N] [--reconcile-every DURATION] [--signing-key PATH]"
			" [--checkpoint-every DURATION] [--checkpoint-after-write DURATION|off]"
			" [--config FILE] [--request-timeout DURATION]"
			" [--auth-failures N] [--per-address-connections N]"
			" [--node-id ID] [--poll-interval MS] [--job-lease DURATION]\n");
		return GH_EXIT_USAGE;
	}
	if (poll) {
		char *end;
		long n;

		errno = 0;
		n = strtol(poll, &end, 10);
		if (errno || *end || n < 50 || n > 60000) {
			fprintf(stderr, "gatehouse: --poll-interval %s: expected 50 to 60000"
				" (milliseconds)\n", poll);
			return GH_EXIT_USAGE;
		}
		copts.poll_ms = (int)n;
	}
	if (job_lease && (parse_seconds(&copts.job_lease, job_lease) || copts.job_lease < 1 ||
			  copts.job_lease > 86400)) {
		fprintf(stderr, "gatehouse: --job-lease %s: expected a duration from 1s to 1d\n",
			job_lease);
		return GH_EXIT_USAGE;
	}
	if (req_timeout && (parse_seconds(&req_timeout_s, req_timeout) || req_timeout_s < 1 ||
			    req_timeout_s > 3600)) {
		fprintf(stderr, "gatehouse: --request-timeout %s: expected a duration from 1s to 1h\n",
			req_timeout);
		return GH_EXIT_USAGE;
	}
	aopts.request_timeout = (int)req_timeout_s;
	if (auth_failures) {
		char *end;
		long n;

		errno = 0;
		n = strtol(auth_failures, &end, 10);
		if (errno || *end || n < 1 || n > 1000000) {
			fprintf(stderr, "gatehouse: --auth-failures %s: expected 1 to 1000000\n",
				auth_failures);
			return GH_EXIT_USAGE;
		}
		gopts.auth_failures = (int)n;
	}
	if (per_address) {
		char *end;
		long n;

		errno = 0;
		n = strtol(per_address, &end, 10);
		if (errno || *end || n < 1 || n > 1000) {
			fprintf(stderr, "gatehouse: --per-address-connections %s: expected 1 to 1000\n",
				per_address);
			return GH_EXIT_USAGE;
		}
		aopts.per_address_connections = (int)n;
	}
	if (ck_every && (parse_seconds(&ck_every_s, ck_every) || ck_every_s < 1)) {
		fprintf(stderr, "gatehouse: --checkpoint-every %s: expected a duration such as 1h\n",
			ck_every);
		return GH_EXIT_USAGE;
	}
	if (ck_after && strcmp(ck_after, "off") == 0) {
		ck_after_s = -1;
	} else if (ck_after && (parse_seconds(&ck_after_s, ck_after) || ck_after_s < 1 ||
				ck_after_s > 3600)) {
		fprintf(stderr, "gatehouse: --checkpoint-after-write %s: expected a duration from 1s"
			" to 1h, or off\n", ck_after);
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
	/* read once, at start: the operator's decisions, not any caller's */
	if (config_read(&cfg, c)) {
		gh_config_free(&cfg);
		return GH_EXIT_USAGE;
	}
	gopts.config = &cfg;
	gopts.nhi_max_lifetime = cfg.nhi_max_lifetime;
	gopts.orphan_grace = cfg.orphan_grace;
	gopts.token_lifetime = cfg.token_lifetime;
	/* a flag on the command line wins over the file */
	if (!aopts.per_address_connections)
		aopts.per_address_connections = cfg.per_address_connections;
	aopts.header_limit = cfg.header_limit;
	if (!aopts.request_timeout)
		aopts.request_timeout = cfg.request_timeout;
	if (!gopts.auth_failures)
		gopts.auth_failures = cfg.auth_failures;

	/* every thread started from here on inherits the blocked set, so only
	 * sigwait below sees SIGINT and SIGTERM */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		fprintf(stderr, "gatehouse: cannot block signals\n");
		gh_config_free(&cfg);
		return GH_EXIT_FAIL;
	}
	signal(SIGPIPE, SIG_IGN);

	if (open_existing(&g, c, &gopts))
		goto cleanup;
	warn_unconfigured(g);
	/* before the signer: it signs on its own only under this node's lease */
	if (gh_gov_cluster_start(g, &copts)) {
		gh_cli_error("starting the cluster follower");
		goto cleanup;
	}
	if ((rc = gh_cli_signing_key_path(keypath, sizeof(keypath), c)) == GH_ENOTFOUND) {
		/* a URL and no key named: as with a missing key file, no checkpoints */
		fprintf(stderr, "gatehouse: %s; checkpoints are off\n", gh_error_last()->message);
		keypath[0] = '\0';
	} else if (rc) {
		gh_cli_error("finding the checkpoint signing key");
		goto cleanup;
	}
	if (keypath[0]) {
		long workers_n = aopts.threads ? aopts.threads : 8 * sysconf(_SC_NPROCESSORS_ONLN);
		gh_gov_checkpoint_options co = {
			.key_path = keypath,
			.key_required = gh_cli_has(c, "signing-key"),
			.after_ms = ck_after_s < 0 ? -1 : ck_after_s * 1000,
			.every_ms = ck_every_s * 1000,
			/* a waiting auditor holds an HTTP worker: at most a quarter of them */
			.max_waiters = workers_n >= 4 ? (int)(workers_n / 4) : 1,
		};
		int off = 0;

		/* signs at start when the log grew since the latest checkpoint */
		if (gh_gov_checkpoints_start(g, &co, &off)) {
			gh_cli_error("starting the checkpoint signer");
			goto cleanup;
		}
		if (off)
			fprintf(stderr, "gatehouse: no signing key at %s: checkpoints are off\n",
				keypath);
	}
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
	printf("gatehouse %s: serving http://%s:%u\n", GH_VERSION, host, gh_api_port(api));
	fflush(stdout);
	while (sigwait(&set, &sig) != 0)
		;
	fprintf(stderr, "gatehouse: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	exit_code = GH_EXIT_OK;
cleanup:
	gh_gov_checkpoints_stop(g);     /* waiting requests answer at once */
	gh_api_stop(api);
	if (sched)
		gh_gov_sched_stop(g);
	gh_gov_free(g);                 /* and the signer, after the API */
	gh_config_free(&cfg);
	return exit_code;
}

/* admin-token: a new admin token from the database file itself, for the
 * operator whose admin token is lost or expired. */
int gh_cmd_admin_token(gh_cli *c)
{
	static const char *const allowed[] = {"identity", "name", NULL};
	const char *identity = gh_cli_get(c, "identity"), *name = gh_cli_get(c, "name");
	json_t *out = NULL;
	gh_gov *g = NULL;
	int exit_code = GH_EXIT_FAIL;

	if (gh_cli_check_options(c, "admin-token", allowed)) {
		gh_cli_error(NULL);
		return GH_EXIT_USAGE;
	}
	if (c->npos != 1 || !identity || (gh_cli_has(c, "name") && !name)) {
		fprintf(stderr, "usage: gatehouse [--db PATH] admin-token --identity NAME [--name N]\n");
		return GH_EXIT_USAGE;
	}
	if (open_existing(&g, c, NULL))
		return GH_EXIT_FAIL;
	if (gh_gov_admin_token(&out, g, identity, name)) {
		gh_cli_error("issuing an admin token");
		goto cleanup;
	}
	printf("admin token: %s\n", json_string_value(json_object_get(out, "token")));
	printf("token id: %s (identity %s), expires %s\n",
	       json_string_value(json_object_get(out, "id")),
	       json_string_value(json_object_get(out, "identity")),
	       json_string_value(json_object_get(out, "expires_at")));
	printf("This token is shown once and will not be shown again; keep it safe.\n");
	exit_code = GH_EXIT_OK;
cleanup:
	if (out) {
		json_t *t = json_object_get(out, "token");
		if (json_is_string(t))
			sodium_memzero((char *)json_string_value(t), strlen(json_string_value(t)));
	}
	json_decref(out);
	gh_gov_free(g);
	return exit_code;
}

int gh_cmd_audit_verify(gh_cli *c)
{
	gh_gov_audit_report report;
	gh_gov *g = NULL;
	int rc, exit_code = GH_EXIT_FAIL;

	if (gh_cli_check_options(c, "audit verify", NULL) || c->npos != 2) {
		if (c->npos != 2)
			gh_error_set(GH_EINVALID, "audit verify takes no arguments");
		gh_cli_error(NULL);
		return GH_EXIT_USAGE;
	}
	if (open_existing(&g, c, NULL))
		return GH_EXIT_FAIL;
	rc = gh_gov_audit_verify(&report, g);
	if (rc == 0) {
		printf("audit chain and Merkle tree intact: %lld events\n", (long long)report.events);
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
	static const char *const allowed[] = {"max", "config", NULL};
	const char *max = gh_cli_get(c, "max");
	gh_gov_options gopts = {0};
	gh_config cfg;
	gh_gov *g = NULL;
	long n = 0;
	int ran = 0, rc;

	if (gh_cli_check_options(c, "jobs run-once", allowed)) {
		gh_cli_error(NULL);
		return GH_EXIT_USAGE;
	}
	if (c->help || c->npos != 2 || (gh_cli_has(c, "max") && !max) ||
	    (gh_cli_has(c, "config") && !gh_cli_get(c, "config"))) {
		fprintf(c->help ? stdout : stderr, "usage: gatehouse [--db PATH] jobs run-once"
			" [--max N] [--config FILE]\n  Runs the provisioning jobs due now, one after"
			" another, with the connector instances of the server configuration.\n");
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
	if (config_read(&cfg, c)) {
		gh_config_free(&cfg);
		return GH_EXIT_USAGE;
	}
	gopts.config = &cfg;
	if (open_existing(&g, c, &gopts)) {
		gh_config_free(&cfg);
		return GH_EXIT_FAIL;
	}
	rc = gh_gov_jobs_run_once(g, gh_now(), (int)n, &ran);
	if (rc)
		gh_cli_error("running jobs");
	else
		printf("%d job attempt%s run\n", ran, ran == 1 ? "" : "s");
	gh_gov_free(g);
	gh_config_free(&cfg);
	return rc ? GH_EXIT_FAIL : GH_EXIT_OK;
}
