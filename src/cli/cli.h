/* cli.h - what the gatehouse command's files share: parsed arguments, the
 * option-to-JSON mapping, the HTTP client and table printing.
 *
 * Conventions as elsewhere: functions return 0 or a GH_E* code with
 * gh_error_last() set; what comes back through **out belongs to the caller.
 * A usage problem (unknown option, bad value) is GH_EINVALID. */
#ifndef GH_CLI_H
#define GH_CLI_H

#include <jansson.h>
#include <stdio.h>

#include "gatehouse/gov.h"
#include "gatehouse/policy.h"

/* Exit codes of the command. */
enum {
	GH_EXIT_OK = 0,
	GH_EXIT_FAIL = 1,        /* the operation failed (refused, not found, ...) */
	GH_EXIT_USAGE = 2,       /* bad command line, or the server cannot be reached */
};

#define GH_CLI_MAX_ARGS 64       /* positional arguments and options, each */
#define GH_CLI_MAX_OPTNAME 32    /* bytes of an option name */

#define GH_CLI_DEFAULT_DB "gatehouse.db"
#define GH_CLI_DEFAULT_SERVER "http://127.0.0.1:8080"
#define GH_CLI_DEFAULT_LISTEN "127.0.0.1:8080"

typedef struct gh_cli_opt {
	char name[GH_CLI_MAX_OPTNAME]; /* without "--", '_' folded to '-' */
	const char *value;             /* NULL when given without a value */
} gh_cli_opt;

/* The command line after gh_cli_parse; strings are borrowed from argv (or
 * the environment after gh_cli_defaults). */
typedef struct gh_cli {
	const char *db;          /* --db: an SQLite path or a postgresql:// URL */
	char db_shown[1024];     /* db as messages show it: a URL without its password */
	const char *server;      /* --server */
	const char *token;       /* --token */
	int json;                /* --json: print the raw JSON answer */
	int help;                /* --help or -h */
	int all;                 /* --all: follow list pages */
	int version;             /* --version */
	int npos;
	const char *pos[GH_CLI_MAX_ARGS];   /* command words and arguments */
	int nopt;
	gh_cli_opt opt[GH_CLI_MAX_ARGS];    /* every other --name[=value] */
} gh_cli;

/* --- args.c: parsing and mapping, no I/O except --body ----------------- */

/* The global options (without "--"), NULL-ended: the only options allowed
 * before the command word. */
extern const char *const gh_cli_global_options[];

/* Splits argv (argv[0] is the program) into global options, command-specific
 * options and positional words. Before the command word only global options
 * are accepted (an unknown one is GH_EINVALID naming it, and never takes the
 * command word as its value); after it, options may appear anywhere and
 * global ones are recognised there too. "--" ends the options.
 * "--name value" takes the next word as its value unless that word starts
 * with "--"; "--name=value" always does. */
int gh_cli_parse(gh_cli *out, int argc, char **argv);

/* The candidate nearest to word by edit distance (at most 1 for words of up
 * to 4 bytes, 2 up to 8, else 3), or NULL when none is that close; the first
 * of equally near ones. candidates is NULL-ended (may be NULL). */
const char *gh_cli_nearest(const char *word, const char *const candidates[]);

/* Fills db, server and token from $GATEHOUSE_DB, $GATEHOUSE_SERVER and
 * $GATEHOUSE_TOKEN, or the defaults, where the command line left them unset,
 * and db_shown from db. */
void gh_cli_defaults(gh_cli *c);

/* 1 when db is a libpq URL (postgresql:// or postgres://): PostgreSQL, no
 * file; 0 for an SQLite path. */
int gh_cli_db_is_url(const char *db);
/* db as it may be shown (messages, output): a URL's password, in its user
 * part or a password= parameter, is left out; a path is kept. Cut to fit
 * outlen. */
void gh_cli_db_redact(char *out, size_t outlen, const char *db);

/* The value of the last --name (NULL when absent or given without value);
 * gh_cli_has says whether --name was given at all. */
const char *gh_cli_get(const gh_cli *c, const char *name);
int gh_cli_has(const gh_cli *c, const char *name);

/* Refuses any option not named in allowed (NULL-ended); what names the
 * command in the message, e.g. "identities create". */
int gh_cli_check_options(const gh_cli *c, const char *what, const char *const allowed[]);

/* How an option's text becomes a JSON value. */
typedef enum gh_cli_type {
	GH_CLI_STRING,           /* as is */
	GH_CLI_BOOL,             /* true/false/yes/no/1/0; bare --flag is true */
	GH_CLI_LIST,             /* "a,b" -> ["a","b"]; "" -> [] */
	GH_CLI_OBJECT,           /* JSON object text */
	GH_CLI_DURATION,         /* whole seconds become a number, "8h" stays text */
	GH_CLI_INT,              /* a decimal integer */
	GH_CLI_FILE,             /* a file's text ("-" reads standard input), at most 1 MiB */
} gh_cli_type;

/* One option that maps to a JSON field or a query parameter. */
typedef struct gh_cli_field {
	const char *option;      /* "expires-at" */
	const char *key;         /* "expires_at" */
	gh_cli_type type;
} gh_cli_field;

/* Builds a request body: the JSON object in --body FILE (or "-" for stdin,
 * at most GH_JSON_MAX_BODY bytes) if given, then each field option given
 * on the command line on top of it. fields ends with {NULL}. */
int gh_cli_body(json_t **out, const gh_cli *c, const gh_cli_field *fields);

/* "?k=v&k2=v2" (percent-encoded) for the field options given, or "" when
 * none; fields ends with {NULL}. extra_key/extra_value (may be NULL) adds
 * one more pair (used for paging). Caller frees. */
int gh_cli_query(char **out, const gh_cli *c, const gh_cli_field *fields,
		 const char *extra_key, const char *extra_value);

/* Percent-encodes s for a path segment or query value (RFC 3986: all but
 * unreserved characters). Caller frees; NULL when out of memory. */
char *gh_cli_escape(const char *s);

/* Expands each "{}" in tmpl with the next of args, percent-encoded.
 * GH_EINVALID when the counts differ. Caller frees. */
int gh_cli_path(char **out, const char *tmpl, const char *const args[], int nargs);

/* --- client.c: HTTP to a running server -------------------------------- */

typedef struct gh_client {
	const char *server;      /* base URL without trailing slash issues */
	const char *token;       /* bearer token, may be NULL */
	long timeout_s;          /* whole-request bound */
	const char *command;     /* the command as typed ("evidence export"), named in
				  * refusals; NULL: the HTTP route is named instead */
} gh_client;

typedef struct gh_response {
	long status;             /* HTTP status */
	char *body;              /* NUL-terminated; NULL when streamed or empty */
	size_t len;
} gh_response;

/* One request: method, path with query ("/v1/..."), an optional JSON body.
 * With stream set, a 2xx answer's body goes straight there (not kept).
 * 0 when an answer arrived (whatever its status); GH_ERROR when the server
 * could not be reached or the answer was cut off; GH_ETOOLARGE past 32 MiB. */
int gh_client_request(gh_response *out, const gh_client *c, const char *method,
		      const char *path, const json_t *body, FILE *stream);
void gh_response_free(gh_response *r);

/* One call whose answer must be a 2xx JSON document: 0 (GH_EXIT_OK) with
 * *doc (the caller's) and *r kept for printing the raw answer, else the exit
 * code with the failure printed (unreachable server: GH_EXIT_USAGE; a
 * problem document: GH_EXIT_FAIL). r is always the caller's to free. */
int gh_client_json(json_t **doc, gh_response *r, const gh_client *c, const char *method,
		   const char *path, const json_t *body);

/* Prints an error answer to stderr once: "gatehouse: <detail>", then one
 * line "  field: reason" per field error unless the detail already says the
 * only one. A role refusal (403 with "caller") says who the caller is and
 * its roles. Returns GH_EXIT_FAIL. */
int gh_client_report(const gh_response *r, const gh_client *c);
/* The same, naming the refused command ("requests approve") instead of the
 * HTTP route when the server says which roles the route needs. */
int gh_client_report_as(const gh_response *r, const gh_client *c, const char *command);

/* --- table.c ------------------------------------------------------------ */

typedef enum gh_col_kind {
	GH_COL_TEXT,             /* a scalar: string, number, bool; null is "-" */
	GH_COL_COUNT,            /* the length of an array */
	GH_COL_REF,              /* an id the client shows by name (else as text) */
} gh_col_kind;

typedef struct gh_table_col {
	const char *header;
	const char *key;
	gh_col_kind kind;
} gh_table_col;

/* Aligned columns, one row per item of the array items; cols ends with
 * {NULL}. Long cells are cut to GH_TABLE_MAX_CELL bytes. */
#define GH_TABLE_MAX_CELL 48
int gh_table_print(FILE *f, const json_t *items, const gh_table_col *cols);
/* "key  value" lines for one object; nested values in words (gh_table_text). */
int gh_table_print_object(FILE *f, const json_t *obj);
/* A JSON value as text people read (caller frees; NULL when out of memory):
 * scalars as they are (true "yes", null "-"); arrays joined with ", " ("-"
 * when empty); an object with a name by its name (an entitlement as
 * "system/name"); a decision ({"outcome","reasons",...}) as "outcome[, N
 * approvals]: reasons; policy V (determining)"; a policy activation's
 * "effects" (key) as counts; any other object as "key: value, ..." without
 * null members. Nesting past 3 levels reads "...", text past 4 KiB is cut. */
char *gh_table_text(const char *key, const json_t *v);
/* The text of one cell (sanitised, cut); caller frees. */
char *gh_table_cell(const json_t *item, const gh_table_col *col);

/* --- commands ----------------------------------------------------------- */

int gh_cmd_init(gh_cli *c);
int gh_cmd_serve(gh_cli *c);
int gh_cmd_audit_verify(gh_cli *c);
/* admin-token --identity NAME [--name N]: a new admin token, offline. */
int gh_cmd_admin_token(gh_cli *c);
/* gatehouse --db PATH jobs run-once [--max N]: runs the due provisioning jobs
 * in process (cmd_local.c). */
int gh_cmd_jobs_run_once(gh_cli *c);
/* gatehouse audit export: JSON lines or CEF to stdout, a file or syslog,
 * resumable with --state (cmd_export.c). */
int gh_cmd_audit_export(gh_cli *c);
void gh_cmd_export_usage(FILE *f);
int gh_cmd_demo(gh_cli *c);
/* gatehouse migrate --from FILE.db --to URL (cmd_migrate.c). */
int gh_cmd_migrate(gh_cli *c);
void gh_cmd_migrate_usage(FILE *f);
/* A resource subcommand (identities, groups, ... audit events/export);
 * returns an exit code. GH_EXIT_USAGE with a message for unknown ones. */
int gh_cmd_client(gh_cli *c);
/* 1 when name is a client resource. */
int gh_cmd_client_is_resource(const char *name);
/* Prints the usage of a resource (or all of them when NULL). */
void gh_cmd_client_usage(FILE *f, const char *resource);
/* Prints every option whose values are a fixed list, with the list. */
void gh_cmd_client_values(FILE *f);

/* --- cmd_credentials.c ------------------------------------------------- */
/* gatehouse introspect KEY ("-" reads it from standard input): POST
 * /v1/introspect; exit 0 when the key is active, 1 when not. */
int gh_cmd_introspect(gh_cli *c);
/* gatehouse evidence export REQUEST | verify FILE --key VKEY (cmd_evidence.c). */
int gh_cmd_evidence(gh_cli *c);

/* --- cmd_audit_proofs.c ------------------------------------------------ */
/* gatehouse audit tree | audit proof inclusion SEQ | audit proof consistency
 * OLD [NEW]: the Merkle tree's root and proofs from the server, proofs
 * checked locally; an exit code. */
int gh_cmd_audit_proofs(gh_cli *c);

/* --- cmd_policy.c: the Cedar engine from the command line -------------- */

/* gatehouse policy authorize|validate|format|simulate; an exit code. */
int gh_cmd_policy(gh_cli *c);
/* Prints the usage of the policy commands. */
void gh_cmd_policy_usage(FILE *f);

/* --- cmd_apply.c: catalog as code (docs/catalog-as-code.md) ------------ */

/* A whole file ("-": standard input) of at most max bytes, NUL-terminated;
 * GH_ETOOLARGE past max, GH_ERROR when it cannot be read. Caller frees *out. */
int gh_cli_read_file(char **out, size_t *len, const char *path, size_t max);

struct gh_yaml_doc;
/* gatehouse apply -f FILE [--dry-run]; an exit code. */
int gh_cmd_apply(gh_cli *c);
void gh_cmd_apply_usage(FILE *f);
/* Reads a catalog file's text into d (freed by the caller with gh_yaml_doc_free
 * whatever the result) and checks everything that needs no server: YAML, schema,
 * duplicates, policy files (read relative to dir; not read when dir is NULL).
 * *texts gets each policy's text (caller frees). 0, or GH_EINVALID /
 * GH_ETOOLARGE with d->problems naming path and line:column, GH_ERROR. */
int gh_apply_check(struct gh_yaml_doc *d, json_t **texts, const char *text, size_t len,
		   const char *dir);

/* 1 when the database holds an identity already (init has run), 0 when it
 * is empty, a GH_E* code (< 0) on error. */
int gh_cli_db_initialised(gh_gov *g);

/* --- cmd_checkpoint.c: signed checkpoints ------------------------------ */
/* The signing key's path: --signing-key, else $GATEHOUSE_SIGNING_KEY, else
 * "<db>.signing-key" for an SQLite file. A PostgreSQL database has no file
 * to put it beside: GH_ENOTFOUND (with the error set) when neither is given. */
int gh_cli_signing_key_path(char *out, size_t outlen, const gh_cli *c);
/* gatehouse key export: prints the verifier key (local, no server). */
int gh_cmd_key(gh_cli *c);
/* gatehouse checkpoint verify FILE --key VKEY (offline). */
int gh_cmd_checkpoint(gh_cli *c);
/* gatehouse audit checkpoint [--sign] (client). */
int gh_cmd_audit_checkpoint(gh_cli *c);
void gh_cmd_checkpoint_usage(FILE *f);

/* Prints "gatehouse: <message>" for the last error to stderr. */
void gh_cli_error(const char *what);

#endif
