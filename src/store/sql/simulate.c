/* simulate.c - what a policy simulation re-decides (store/simulate.h). */
#include "store/simulate.h"
#include "store/sql.h"
#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_col(char *out, size_t outlen, gh_sql *q, int col)
{
	const char *t = gh_sql_column_text(q, col);

	snprintf(out, outlen, "%s", t ? t : "");
}

/* Reads every row of q (the columns of both queries below) into *out. */
static int items_load(gh_store_sim_item **out, size_t *n, gh_sql *q)
{
	gh_store_sim_item *p;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	while ((rc = gh_sql_step(q)) == GH_SQL_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			if (!(p = realloc(*out, cap * sizeof(*p)))) {
				rc = gh_error_set(GH_ERROR,
						  "out of memory simulating a policy version");
				goto fail;
			}
			*out = p;
		}
		p = &(*out)[(*n)++];
		memset(p, 0, sizeof(*p));
		copy_col(p->id, sizeof(p->id), q, 0);
		copy_col(p->subject, sizeof(p->subject), q, 1);
		copy_col(p->ent, sizeof(p->ent), q, 2);
		copy_col(p->requester, sizeof(p->requester), q, 3);
		copy_col(p->submitted_by, sizeof(p->submitted_by), q, 4);
		copy_col(p->channel, sizeof(p->channel), q, 5);
		p->has_ticket = !gh_sql_column_null(q, 6);
		copy_col(p->ticket, sizeof(p->ticket), q, 6);
		p->duration = gh_sql_column_int64(q, 7);
		p->emergency = gh_sql_column_int(q, 8) != 0;
		p->required = gh_sql_column_int(q, 9);
		p->approvals = gh_sql_column_int(q, 10);
		p->expires_at = gh_sql_column_int64(q, 11);
		copy_col(p->request, sizeof(p->request), q, 12);
	}
	if (rc == GH_SQL_DONE) {
		gh_sql_reset(q);
		return 0;
	}
	rc = gh_sql_fail(q, "reading what a policy decides");
fail:
	gh_sql_reset(q);
	free(*out);
	*out = NULL;
	*n = 0;
	return rc;
}

int gh_store_sim_pending(gh_store_sim_item **out, size_t *n, gh_store *s)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT r.id, r.subject_id, r.entitlement_id, r.requester_id,"
				 " r.submitted_by, r.channel, r.ticket_ref, r.duration, r.emergency,"
				 " r.required_approvals, (SELECT count(*) FROM approvals a"
				 "  WHERE a.request_id = r.id AND a.decision = 'approve'), 0, r.id"
				 " FROM requests r WHERE r.state = 'pending_approval' ORDER BY r.pk")))
		return rc;
	return items_load(out, n, q);
}

int gh_store_sim_grants(gh_store_sim_item **out, size_t *n, gh_store *s)
{
	gh_sql *q;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = gh_sql_prepare(&q, s,
				 "SELECT gr.id, gr.subject_id, gr.entitlement_id, r.requester_id,"
				 " r.submitted_by, r.channel, r.ticket_ref, r.duration, r.emergency,"
				 " 0, 0, gr.expires_at, r.id"
				 " FROM grants gr JOIN requests r ON r.id = gr.request_id"
				 " WHERE gr.status = 'active' ORDER BY gr.pk")))
		return rc;
	return items_load(out, n, q);
}
