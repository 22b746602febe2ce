/* siem.h - audit events for SIEMs: CEF lines, RFC 5424 syslog framing and the
 * state file of a resumable export (`gatehouse audit export`).
 *
 * Conventions as elsewhere: functions return 0 or a GH_E* code with
 * gh_error_last() set; what comes back through **out belongs to the caller. */
#ifndef GH_SIEM_H
#define GH_SIEM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define GH_SIEM_CEF_VENDOR "Gatehouse"
#define GH_SIEM_CEF_PRODUCT "Gatehouse"
#define GH_SIEM_CEF_VERSION "1.0"
#define GH_SIEM_CEF_MAX_HEADER_FIELD 512      /* bytes of one escaped header field */
#define GH_SIEM_MAX_LINE (8u * 1024 * 1024)   /* bytes of one encoded event */
#define GH_SIEM_SYSLOG_MAX 65000              /* bytes of one datagram; longer is cut */
#define GH_SIEM_STATE_MAX 4096                /* bytes of a state file */

/* Appends s[0..n) escaped for a CEF header field (header != 0: '\' and '|'
 * escaped, line breaks and other control characters become spaces, at most
 * GH_SIEM_CEF_MAX_HEADER_FIELD bytes) or an extension value (header == 0:
 * '\' and '=' escaped, CR and LF as \r and \n, other control characters
 * become spaces). Malformed UTF-8 becomes U+FFFD, so the result is valid
 * UTF-8 with no raw line break. *out is realloc'ed; *len and *cap track it. */
int gh_siem_cef_escape(char **out, size_t *len, size_t *cap, const char *s, size_t n,
		       int header);

/* The CEF severity (0-10) Gatehouse gives an audit action: break glass 9,
 * failures 7, revocations, suspensions, rejections and findings 6, policy,
 * token and credential changes 5, anything else 3. */
int gh_siem_cef_severity(const char *action);

/* One audit event (the JSON of GET /v1/audit/events) as a CEF line without
 * its line end:
 *   CEF:0|Gatehouse|Gatehouse|1.0|<action>|<action>|<severity>|rt=<ms>
 *   suser=<actor> cs1Label=objectType cs1=<type> cs2Label=objectId cs2=<id>
 *   cn1Label=seq cn1=<seq> msg=<details as compact JSON>
 * Missing fields are empty; a non-object event is GH_EINVALID. NUL-terminated. */
int gh_siem_cef(char **out, size_t *len, const json_t *event);

/* An RFC 5424 message: "<PRI>1 TIMESTAMP HOSTNAME gatehouse PROCID audit - MSG"
 * with the event time ts_us (microseconds; <= 0 gives "-"), facility
 * authpriv and a severity from cef_severity (>= 7 warning, >= 5 notice,
 * else informational). host is sanitised to printable ASCII. The whole
 * message is cut to max bytes at a UTF-8 boundary. NUL-terminated. */
int gh_siem_syslog(char **out, size_t *len, int64_t ts_us, int cef_severity, const char *host,
		   long pid, const char *msg, size_t msg_len, size_t max);

/* Where a resumable export has got to (the --state FILE). */
typedef struct gh_siem_state {
	int64_t seq;             /* the last event delivered */
	char format[8];          /* "json" or "cef" */
	char output[8];          /* "stdout", "file" or "syslog" */
	int64_t offset;          /* file: its size after the last complete batch */
	int64_t dev, ino;        /* file: which file that was */
} gh_siem_state;

/* Reads a state file. GH_ENOTFOUND when it does not exist; GH_EINVALID
 * with a message naming the file and the problem when it is corrupt. */
int gh_siem_state_read(gh_siem_state *out, const char *path);

/* Writes a state file atomically: "<path>.tmp", fsync, rename over path,
 * fsync of the directory. After a crash path holds the old or new state. */
int gh_siem_state_write(const char *path, const gh_siem_state *st);

/* Writes all n bytes to fd, retrying short writes and EINTR; 0 or -1 (errno). */
int gh_siem_write_all(int fd, const char *p, size_t n);

#endif
