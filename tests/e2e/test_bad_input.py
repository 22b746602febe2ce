#!/usr/bin/env python3
"""test_bad_input.py - hostile and broken input on every kind of write route:
each answered with a 4xx application/problem+json document naming the field at
fault, nothing changed in the database, and the server keeps serving (also
after raw non-HTTP bytes and truncated requests)."""

import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ghtest  # noqa: E402
from ghtest import eq, expect, problem, status  # noqa: E402

ZERO = "0000000000000000"


class World:
    pass


def setup(srv, w):
    srv.start()
    w.admin = srv.token
    w.owner, w.owner_tok = srv.user("bi-owner", ["requester"])
    w.other = srv.human("bi-other", [])
    w.appr, w.appr_tok = srv.user("bi-approver", ["approver"])
    w.grp = srv.group("bi-owners", [w.appr])
    w.sys = srv.system("bi-db", w.owner["id"])
    w.low = srv.entitlement(w.sys["id"], "ro", "low", "8h", w.grp["id"])
    w.med = srv.entitlement(w.sys["id"], "rw", "medium", "8h", w.grp["id"])
    w.nhi = srv.nhi("bi-bot", w.owner["id"])
    w.nhi2 = srv.nhi("bi-bot2", w.owner["id"])
    w.req = srv.request(w.nhi["id"], w.med["id"])
    eq(w.req["state"], "pending_approval", "pending request")
    # submitted by the NHI's owner: the admin created the entitlement, and
    # whoever set its controls is never auto-approved (four eyes)
    g = srv.request(w.nhi["id"], w.low["id"], token=w.owner_tok)
    eq(g["state"], "active", "granted request")
    w.grant = ghtest.grant_id_of(g)
    w.cover = srv.group("bi-cover", [])
    w.dlg = status(srv.post("/v1/delegations", {
        "from_group": w.grp["id"], "to_group": w.cover["id"], "system": w.sys["id"],
        "expires_in": "1d", "reason": "cover"}), 201, "a delegation")
    # issue 5: an API key of a credential system's grant
    w.ksys = srv.system("bi-keys", w.owner["id"], connector="credential")
    w.kent = srv.entitlement(w.ksys["id"], "key", "low", "8h", w.grp["id"])
    k = srv.request(w.nhi["id"], w.kent["id"], token=w.owner_tok)
    eq(k["state"], "active", "a credential grant")
    w.kgrant = ghtest.grant_id_of(k)
    w.cred = status(srv.post("/v1/grants/%s/credentials" % w.kgrant, {}), 201, "a key")["id"]


def valid_bodies(w):
    """Per write route: a body that would succeed (so only the damage done to
    it is at fault), the token to send it with, and its required fields."""
    return [
        ("POST", "/v1/identities",
         {"kind": "service_account", "name": "bi-new-bot", "owner": w.owner["id"],
          "purpose": "p", "environment": "prod", "expires_at": ghtest.future(30),
          "display_name": "New", "attributes": {"a": "b"}, "roles": ["requester"]},
         w.admin, ["kind", "name"]),
        ("POST", "/v1/groups", {"name": "bi-new-grp", "description": "d"}, w.admin, ["name"]),
        ("POST", "/v1/systems",
         {"name": "bi-new-sys", "owner": w.owner["id"], "description": "d",
          "connector": "manual", "connector_settings": {}}, w.admin, ["name", "owner"]),
        ("POST", "/v1/entitlements",
         {"system": w.sys["id"], "name": "bi-new-ent", "risk_tier": "low",
          "data_sensitivity": "internal", "environment": "prod",
          "control_owner_group": w.grp["id"], "max_duration": "1h", "requestable": True,
          "incompatible_with": [w.med["id"]], "attributes": {}, "description": "d"},
         w.admin, ["system", "name", "risk_tier", "data_sensitivity", "environment",
                   "control_owner_group", "max_duration"]),
        ("POST", "/v1/requests",
         {"channel": "portal", "subject": w.nhi2["id"], "entitlement": w.low["id"],
          "justification": "j", "duration": "1h", "emergency": False}, w.admin,
         ["channel", "subject", "entitlement", "justification", "duration"]),
        ("POST", "/v1/tokens", {"identity": w.other["id"], "name": "t", "expires_in": "1h"},
         w.admin, ["identity", "name"]),
        ("PATCH", "/v1/identities/" + w.nhi["id"],
         {"purpose": "new purpose", "display_name": "x", "expires_at": ghtest.future(60)},
         w.admin, []),
        ("PATCH", "/v1/entitlements/" + w.low["id"],
         {"description": "x", "max_duration": "2h", "requestable": False}, w.admin, []),
        ("POST", "/v1/requests/%s/approve" % w.req["id"], {"comment": "ok"}, w.appr_tok, []),
        ("POST", "/v1/requests/%s/reject" % w.req["id"], {"comment": "no"}, w.appr_tok,
         ["comment"]),
        ("POST", "/v1/requests/%s/cancel" % w.req["id"], {"reason": "r"}, w.admin, ["reason"]),
        ("POST", "/v1/grants/%s/revoke" % w.grant, {"reason": "r"}, w.admin, ["reason"]),
        ("POST", "/v1/identities/%s/suspend" % w.nhi2["id"], {"reason": "r"}, w.admin,
         ["reason"]),
        ("POST", "/v1/groups/%s/members" % w.grp["id"], {"identity": w.other["id"]}, w.admin,
         []),
        # issue 4: break-glass intake, delegations, reviews
        ("POST", "/v1/requests",
         {"channel": "portal", "subject": w.nhi2["id"], "entitlement": w.med["id"],
          "justification": "j", "duration": "1h", "break_glass": True,
          "incident_ref": "INC-1"}, w.admin,
         ["channel", "subject", "entitlement", "justification", "duration"]),
        ("POST", "/v1/delegations",
         {"from_group": w.grp["id"], "to_group": w.cover["id"], "system": w.sys["id"],
          "expires_in": "2d", "reason": "r"}, w.admin,
         ["from_group", "to_group", "system", "reason"]),
        ("POST", "/v1/delegations/%s/revoke" % w.dlg["id"], {"reason": "r"}, w.admin,
         ["reason"]),
        ("POST", "/v1/grants/%s/review" % w.grant, {"outcome": "confirm", "comment": "c"},
         w.appr_tok, ["outcome", "comment"]),
        # issue 5: NHI credentials
        ("POST", "/v1/grants/%s/credentials" % w.kgrant, {"expires_in": "1h"}, w.admin, []),
        ("POST", "/v1/credentials/%s/rotate" % w.cred, {"overlap": "1h"}, w.admin, []),
        ("POST", "/v1/credentials/%s/revoke" % w.cred, {"reason": "r"}, w.admin, ["reason"]),
    ]


DURATION_FIELDS = {"max_duration", "duration", "expires_in", "overlap"}


def wrong_type(field, value):
    if field in DURATION_FIELDS:
        return True  # a duration may be a string or a number, never a boolean
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, str):
        return 123
    if isinstance(value, list):
        return {"a": 1}
    if isinstance(value, dict):
        return [1]
    return "x"


def case(name, method, path, token, status_code=400, code="invalid", fields=(),
         any_field=None, **kw):
    return {"name": name, "method": method, "path": path, "token": token,
            "status": status_code, "code": code, "fields": list(fields),
            "any_field": any_field, "kw": kw}


def body_cases(w):
    out = []
    big = b'{"name": "' + b"a" * (70 * 1024) + b'"}'
    deep_arr = b'{"attributes": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    deep_obj = b'{"attributes": ' + b'{"a":' * 1000 + b"1" + b"}" * 1000 + b"}"
    just_past = b'{"attributes": ' + b"[" * 33 + b"]" * 33 + b"}"
    for method, path, good, tok, required in valid_bodies(w):
        tag = "%s %s" % (method, path.split("/")[2] + ("/" + path.split("/")[-1]
                                                        if path.count("/") > 3 else ""))
        raw_good = json.dumps(good).encode()
        out += [
            case(tag + ": malformed JSON", method, path, tok, fields=["body"],
                 raw=raw_good[:-3]),
            case(tag + ": trailing garbage", method, path, tok, fields=["body"],
                 raw=raw_good + b" x"),
            case(tag + ": duplicate key", method, path, tok, any_field=("body",),
                 raw=b'{"name":"a","name":"b"}'),
            case(tag + ": JSON array", method, path, tok, fields=["body"], raw=b"[]"),
            case(tag + ": JSON string", method, path, tok, fields=["body"], raw=b'"x"'),
            case(tag + ": JSON number", method, path, tok, fields=["body"], raw=b"1"),
            case(tag + ": JSON null", method, path, tok, fields=["body"], raw=b"null"),
            case(tag + ": unknown field", method, path, tok, fields=["bogus_field"],
                 body=dict(good, bogus_field=1)),
            case(tag + ": wrong content type", method, path, tok, 415,
                 "unsupported_media_type", raw=raw_good, content_type="text/plain"),
            case(tag + ": form content type", method, path, tok, 415, "unsupported_media_type",
                 raw=b"a=b", content_type="application/x-www-form-urlencoded"),
            case(tag + ": oversized with Content-Length", method, path, tok, 413, "too_large",
                 raw=big),
            case(tag + ": oversized chunked", method, path, tok, 413, "too_large",
                 chunks=[big[i:i + 8192] for i in range(0, len(big), 8192)]),
            case(tag + ": nested 1000 arrays", method, path, tok, 413, "too_large",
                 raw=deep_arr),
            case(tag + ": nested 1000 objects", method, path, tok, 413, "too_large",
                 raw=deep_obj),
            case(tag + ": nested 33", method, path, tok, 413, "too_large", raw=just_past),
            case(tag + ": invalid UTF-8", method, path, tok, any_field=("body",) + tuple(good),
                 raw=raw_good[:-1] + b', "x\xff\xfe": "\xc3\x28"}'),
            case(tag + ": raw NUL byte", method, path, tok, any_field=("body",) + tuple(good),
                 raw=raw_good[:-1] + b', "z": "a\x00b"}'),
            case(tag + ": no token", method, path, None, 401, "unauthenticated", body=good),
            case(tag + ": garbage token", method, path, "garbage", 401, "unauthenticated",
                 body=good),
        ]
        if required:
            out.append(case(tag + ": empty body", method, path, tok, fields=["body"], raw=b""))
            out.append(case(tag + ": {} names every required field", method, path, tok,
                            fields=required, body={}))
            for f in required:
                out.append(case(tag + ": missing " + f, method, path, tok, fields=[f],
                                body={k: v for k, v in good.items() if k != f}))
        wrong = {f: wrong_type(f, v) for f, v in good.items()}
        out.append(case(tag + ": every field of the wrong type at once", method, path, tok,
                        fields=list(good), body=wrong))
        for f, v in good.items():
            out.append(case(tag + ": %s of the wrong type" % f, method, path, tok, fields=[f],
                            body=dict(good, **{f: wrong[f]})))
        for f, v in good.items():
            if isinstance(v, str):
                # the JSON parser refuses \u0000 outright (the body is at fault)
                # or the field check does (the field is named): either is fine
                out.append(case(tag + ": NUL in " + f, method, path, tok, any_field=(f, "body"),
                                body=dict(good, **{f: v + "\u0000x"})))
    bg = {"channel": "portal", "subject": w.nhi2["id"], "entitlement": w.med["id"],
          "justification": "j", "duration": "1h"}
    out += [
        case("POST requests: break_glass without incident_ref", "POST", "/v1/requests", w.admin,
             fields=["incident_ref"], body=dict(bg, break_glass=True)),
        case("POST requests: incident_ref without break_glass", "POST", "/v1/requests", w.admin,
             fields=["incident_ref"], body=dict(bg, incident_ref="INC-2")),
        case("POST requests: incident_ref over 128", "POST", "/v1/requests", w.admin,
             fields=["incident_ref"], body=dict(bg, break_glass=True, incident_ref="i" * 129)),
        case("POST delegations: system and tag", "POST", "/v1/delegations", w.admin,
             fields=["tag"], body={"from_group": w.grp["id"], "to_group": w.cover["id"],
                                   "system": w.sys["id"], "tag": "x", "expires_in": "1d",
                                   "reason": "r"}),
        case("POST delegations: expires_at and expires_in", "POST", "/v1/delegations", w.admin,
             fields=["expires_in"], body={"from_group": w.grp["id"], "to_group": w.cover["id"],
                                          "tag": "x", "expires_in": "1d",
                                          "expires_at": ghtest.future(1), "reason": "r"}),
        case("POST delegations: longer than 90 days", "POST", "/v1/delegations", w.admin,
             fields=["expires_in"], body={"from_group": w.grp["id"], "to_group": w.cover["id"],
                                          "tag": "x", "expires_in": "91d", "reason": "r"}),
        case("POST grants review: unknown outcome", "POST", "/v1/grants/%s/review" % w.grant,
             w.appr_tok, fields=["outcome"], body={"outcome": "maybe", "comment": "c"}),
        case("POST credentials rotate: overlap over 24h", "POST",
             "/v1/credentials/%s/rotate" % w.cred, w.admin, fields=["overlap"],
             body={"overlap": "25h"}),
        case("POST credentials rotate: negative overlap", "POST",
             "/v1/credentials/%s/rotate" % w.cred, w.admin, fields=["overlap"],
             body={"overlap": -1}),
    ]
    # introspection takes a form or JSON: RFC 7662 fields, each once
    form = "application/x-www-form-urlencoded"
    for what, kw, fields, st, code in (
            ("JSON {}", {"body": {}}, ["token"], 400, "invalid"),
            ("JSON token a number", {"body": {"token": 5}}, ["token"], 400, "invalid"),
            ("JSON token empty", {"body": {"token": ""}}, ["token"], 400, "invalid"),
            ("JSON unknown field", {"body": {"token": "x", "bogus": 1}}, ["bogus"], 400,
             "invalid"),
            ("JSON hint not a string", {"body": {"token": "x", "token_type_hint": 1}},
             ["token_type_hint"], 400, "invalid"),
            ("JSON array", {"raw": b"[]"}, ["body"], 400, "invalid"),
            ("malformed JSON", {"raw": b'{"token":'}, ["body"], 400, "invalid"),
            ("form empty", {"raw": b"", "content_type": form}, ["token"], 400, "invalid"),
            ("form token twice", {"raw": b"token=a&token=b", "content_type": form},
             ["token"], 400, "invalid"),
            ("form bad escape", {"raw": b"token=%zz", "content_type": form}, ["token"], 400,
             "invalid"),
            ("form NUL", {"raw": b"token=a%00b", "content_type": form}, ["token"], 400,
             "invalid"),
            ("form not UTF-8", {"raw": b"token=%ff%fe", "content_type": form}, ["token"], 400,
             "invalid"),
            ("form unknown field", {"raw": b"token=x&client_secret=y", "content_type": form},
             ["client_secret"], 400, "invalid"),
            ("form latin1 charset", {"raw": b"token=x", "content_type": form +
                                     "; charset=latin1"}, [], 415, "unsupported_media_type"),
            ("text/plain", {"raw": b"token=x", "content_type": "text/plain"}, [], 415,
             "unsupported_media_type"),
            ("oversized form", {"raw": b"token=" + b"a" * (70 * 1024), "content_type": form},
             [], 413, "too_large")):
        out.append(case("POST introspect: " + what, "POST", "/v1/introspect", w.admin, st, code,
                        fields=fields, **kw))
    out.append(case("POST introspect: no token", "POST", "/v1/introspect", None, 401,
                    "unauthenticated", raw=b"token=x", content_type=form))
    return out


def value_cases(w):
    """Field values that parse as JSON but are wrong."""
    ident = {"kind": "service_account", "name": "bi-val-bot", "owner": w.owner["id"],
             "purpose": "p", "environment": "prod", "expires_at": ghtest.future(30)}
    ent = {"system": w.sys["id"], "name": "bi-val-ent", "risk_tier": "low",
           "data_sensitivity": "internal", "environment": "prod",
           "control_owner_group": w.grp["id"], "max_duration": "1h"}
    req = {"channel": "portal", "subject": w.nhi2["id"], "entitlement": w.low["id"],
           "justification": "j", "duration": "1h"}
    tok = {"identity": w.other["id"], "name": "t"}
    A = w.admin
    out = []

    def add(route, base, field, value, what, raw=None):
        path = "/v1/" + route
        if raw is not None:
            # numbers the JSON parser cannot hold fail the body, others the field
            out.append(case("%s: %s %s" % (route, field, what), "POST", path, A,
                            any_field=(field, "body"), raw=raw))
        else:
            out.append(case("%s: %s %s" % (route, field, what), "POST", path, A, fields=[field],
                            body=dict(base, **{field: value})))

    def raw_with(base, field, text):
        rest = json.dumps({k: v for k, v in base.items() if k != field})
        return (rest[:-1] + ', "%s": %s}' % (field, text)).encode()

    for v, what in (("robot", "not a kind"), ("", "empty"), ("HUMAN", "upper case")):
        add("identities", ident, "kind", v, what)
    for v, what in (("Bad Name!", "with spaces and !"), ("a" * 65, "65 characters"),
                    ("-lead", "leading dash"), ("", "empty"), ("x/y", "a slash")):
        add("identities", ident, "name", v, what)
    for v, what in (("2026-13-01T00:00:00Z", "month 13"), ("2026-11-26 10:00:00Z", "a space"),
                    ("2030-11-26T10:00:00", "no zone"), ("tomorrow", "a word"),
                    ("", "empty"), ("2001-01-01T00:00:00Z", "in the past"),
                    ("2023-02-29T00:00:00Z", "not a leap year")):
        add("identities", ident, "expires_at", v, what)
    add("identities", ident, "expires_at", None, "a number", raw=raw_with(ident, "expires_at",
                                                                          "1795000000"))
    add("identities", ident, "owner", "idn_" + ZERO, "unknown id")
    add("identities", ident, "owner", "nobody-here", "unknown name")
    add("identities", ident, "roles", ["superuser"], "unknown role")
    add("identities", ident, "roles", "admin", "not an array")
    add("identities", ident, "attributes", "x", "not an object")
    add("identities", ident, "purpose", "line\nbreak\x01", "control characters")
    for v, what in (("8x", "unknown unit"), ("-5m", "negative"), ("0s", "zero"),
                    ("1h1h", "repeated unit"), ("", "empty"), ("99999999999d", "overflowing"),
                    ("4000d", "over ten years"), (0, "zero seconds"), (-5, "negative seconds"),
                    (1.5, "fractional seconds"), ("8 h", "a space"), ("h", "no number")):
        add("entitlements", ent, "max_duration", v, what)
    for text, what in (("1e400", "1e400"), ("123456789012345678901234567890", "30 digits"),
                       ("-123456789012345678901234567890", "minus 30 digits"),
                       ("9223372036854775807", "INT64_MAX")):
        add("entitlements", ent, "max_duration", None, what, raw=raw_with(ent, "max_duration",
                                                                          text))
    add("entitlements", ent, "risk_tier", "extreme", "not a tier")
    add("entitlements", ent, "data_sensitivity", "secret", "not a sensitivity")
    add("entitlements", ent, "system", "sys_" + ZERO, "unknown id")
    add("entitlements", ent, "control_owner_group", "grp_" + ZERO, "unknown id")
    add("entitlements", ent, "incompatible_with", ["ent_" + ZERO], "unknown id")
    add("entitlements", ent, "incompatible_with", [1, 2], "not strings")
    add("entitlements", ent, "requestable", "true", "a string")
    for v, what in (("8x", "unknown unit"), ("-5m", "negative"), ("0s", "zero"), ("", "empty"),
                    (0, "zero seconds"), ("11000d", "over ten years")):
        add("requests", req, "duration", v, what)
    for text, what in (("1e400", "1e400"), ("123456789012345678901234567890", "30 digits")):
        add("requests", req, "duration", None, what, raw=raw_with(req, "duration", text))
    add("requests", req, "channel", "fax", "not a channel")
    add("requests", req, "subject", "idn_" + ZERO, "unknown id")
    add("requests", req, "entitlement", "ent_" + ZERO, "unknown id")
    add("requests", req, "entitlement", "no-such-entitlement", "unknown name")
    add("requests", req, "requester", "idn_" + ZERO, "unknown id")
    add("requests", req, "emergency", "yes", "not a boolean")
    add("requests", req, "justification", "", "empty")
    add("requests", dict(req, entitlement=w.kent["id"]), "subject", w.other["id"],
        "a human for an API key")
    add("tokens", tok, "identity", "idn_" + ZERO, "unknown id")
    add("tokens", tok, "expires_in", "forever", "not a duration")
    add("groups", {"name": "g"}, "name", "Not Valid", "not a name")
    add("systems", {"name": "bi-val-sys", "owner": w.owner["id"]}, "owner", "idn_" + ZERO,
        "unknown id")
    out.append(case("group member: unknown identity", "POST",
                    "/v1/groups/%s/members" % w.grp["id"], A, fields=["identity"],
                    body={"identity": "idn_" + ZERO}))
    out.append(case("group member: both identity and group", "POST",
                    "/v1/groups/%s/members" % w.grp["id"], A,
                    body={"identity": w.other["id"], "group": w.grp["id"]}))
    out.append(case("group member: itself (a cycle)", "POST",
                    "/v1/groups/%s/members" % w.grp["id"], A, status_code=(400, 409),
                    code=("invalid", "conflict"), body={"group": w.grp["id"]}))
    return out


def auth_cases(w):
    p = "/v1/identities"
    body = {"kind": "human", "name": "bi-auth"}
    out = []
    for what, hdr in (("no scheme", w.admin), ("Basic", "Basic dXNlcjpwYXNz"),
                      ("empty bearer", "Bearer "), ("bearer only", "Bearer"),
                      ("garbage", "Bearer !!!***"), ("gh_ but unknown", "Bearer gh_" + "x" * 40),
                      ("admin token with a changed last char",
                       "Bearer " + w.admin[:-1] + ("a" if w.admin[-1] != "a" else "b")),
                      ("admin token with a suffix", "Bearer " + w.admin + "x"),
                      ("admin token prefix", "Bearer " + w.admin[:len(w.admin) // 2]),
                      ("very long", "Bearer gh_" + "A" * 4000),
                      ("lower-case scheme twice", "bearer bearer " + w.admin)):
        out.append(case("401: " + what, "POST", p, None, 401, "unauthenticated", body=body,
                        headers={"Authorization": hdr}))
    out.append(case("401: no token on a read", "GET", p, None, 401, "unauthenticated"))
    out.append(case("401: garbage token on the audit log", "GET", "/v1/audit/export",
                    "garbage", 401, "unauthenticated"))
    return out


def path_and_query_cases(w):
    A = w.admin
    out = []
    for path in ("/v1/identities/idn_" + ZERO, "/v1/identities/no-such-name",
                 "/v1/groups/grp_" + ZERO, "/v1/systems/sys_" + ZERO,
                 "/v1/entitlements/ent_" + ZERO, "/v1/requests/req_" + ZERO,
                 "/v1/requests/req_%s/history" % ZERO, "/v1/grants/grt_" + ZERO,
                 "/v1/requests/not-an-id", "/v1/identities/" + "x" * 2000):
        out.append(case("404 GET " + path[:60], "GET", path, A, (404, 400),
                        ("not_found", "invalid")))
    for method, path, body in (
            ("POST", "/v1/requests/req_%s/approve" % ZERO, {}),
            ("POST", "/v1/requests/req_%s/reject" % ZERO, {"comment": "x"}),
            ("POST", "/v1/requests/req_%s/cancel" % ZERO, {"reason": "x"}),
            ("POST", "/v1/grants/grt_%s/revoke" % ZERO, {"reason": "x"}),
            ("POST", "/v1/identities/idn_%s/decommission" % ZERO, {"reason": "x"}),
            ("POST", "/v1/identities/idn_%s/suspend" % ZERO, {"reason": "x"}),
            ("PATCH", "/v1/identities/idn_" + ZERO, {"purpose": "x"}),
            ("PATCH", "/v1/systems/sys_" + ZERO, {"description": "x"}),
            ("PATCH", "/v1/entitlements/ent_" + ZERO, {"description": "x"}),
            ("POST", "/v1/groups/grp_%s/members" % ZERO, {"identity": w.other["id"]}),
            ("DELETE", "/v1/groups/%s/members/idn_%s" % (w.grp["id"], ZERO), None),
            ("DELETE", "/v1/tokens/tok_" + ZERO, None),
            ("POST", "/v1/grants/grt_%s/credentials" % ZERO, {}),
            ("POST", "/v1/credentials/crd_%s/rotate" % ZERO, {}),
            ("POST", "/v1/credentials/crd_%s/revoke" % ZERO, {"reason": "x"}),
            ("DELETE", "/v1/tokens/" + ZERO, None)):
        out.append(case("404 %s %s" % (method, path[:60]), method, path, A, 404, "not_found",
                        body=body))
    for method, path in (("GET", "/v1/nope"), ("GET", "/v2/identities"), ("GET", "/"),
                         ("POST", "/v1/healthz"), ("GET", "/v1/identities/x/y/z")):
        out.append(case("unknown route %s %s" % (method, path), method, path, A, 404,
                        "not_found", body={} if method == "POST" else None))
    for method, path in (("DELETE", "/v1/identities"), ("PUT", "/v1/requests"),
                         ("PATCH", "/v1/requests/" + w.req["id"]),
                         ("GET", "/v1/requests/%s/approve" % w.req["id"]),
                         ("DELETE", "/v1/grants/" + w.grant)):
        out.append(case("405 %s %s" % (method, path[:50]), method, path, A, 405,
                        "method_not_allowed"))
    for q, field in (("limit=0", "limit"), ("limit=abc", "limit"), ("limit=501", "limit"),
                     ("limit=-1", "limit"), ("limit=", "limit"), ("limit=1e3", "limit"),
                     ("limit=99999999999999999999", "limit"), ("bogus=1", "bogus"),
                     ("after=idn_" + ZERO, "after"), ("limit=5%00", "limit")):
        out.append(case("bad query " + q, "GET", "/v1/identities?" + q, A, fields=[field]))
    for q, field in (("after_seq=abc", "after_seq"), ("after_seq=-1", "after_seq"),
                     ("limit=0", "limit"), ("limit=abc", "limit"), ("bogus=1", "bogus")):
        out.append(case("bad audit query " + q, "GET", "/v1/audit/events?" + q, A,
                        fields=[field]))
    out.append(case("bad export query", "GET", "/v1/audit/export?after_seq=x", A,
                    fields=["after_seq"]))
    # issue 6: the Merkle tree's parameters
    for path, field in (("/v1/audit/tree?size=abc", "size"), ("/v1/audit/tree?size=-1", "size"),
                        ("/v1/audit/tree?size=99999999999999999999", "size"),
                        ("/v1/audit/tree?bogus=1", "bogus"),
                        ("/v1/audit/proofs/inclusion", "seq"),
                        ("/v1/audit/proofs/inclusion?seq=0", "seq"),
                        ("/v1/audit/proofs/inclusion?seq=1e3", "seq"),
                        ("/v1/audit/proofs/inclusion?seq=1&size=0", "size"),
                        ("/v1/audit/proofs/inclusion?seq=999999999", "seq"),
                        ("/v1/audit/proofs/consistency", "old"),
                        ("/v1/audit/proofs/consistency?old=x", "old"),
                        ("/v1/audit/proofs/consistency?old=1&new=999999999", "new"),
                        ("/v1/audit/proofs/consistency?old=1&new=-2", "new")):
        out.append(case("bad merkle query " + path[9:], "GET", path, A, fields=[field]))
    out.append(case("bad grants filter", "GET", "/v1/grants?bogus=1", A, fields=["bogus"]))
    out.append(case("bad credentials filter", "GET", "/v1/credentials?status=bogus&bogus=1", A,
                    fields=["bogus"]))
    out.append(case("bad credentials status", "GET", "/v1/credentials?status=bogus", A,
                    fields=["status"]))
    out.append(case("bad requests query", "GET", "/v1/requests?limit=0", A, fields=["limit"]))
    # issue 5: jobs, findings, reconciliation
    for q, field in (("state=bogus", "state"), ("system=nosuch", "system"), ("grant=x", "grant"),
                     ("limit=0", "limit"), ("bogus=1", "bogus"), ("after=job_" + ZERO, "after")):
        out.append(case("bad jobs query " + q, "GET", "/v1/jobs?" + q, A, fields=[field]))
    for q, field in (("kind=odd", "kind"), ("status=weird", "status"),
                     ("system=nosuch", "system"), ("limit=501", "limit"), ("bogus=1", "bogus")):
        out.append(case("bad findings query " + q, "GET", "/v1/findings?" + q, A,
                        fields=[field]))
    out.append(case("404 GET /v1/jobs/job_" + ZERO, "GET", "/v1/jobs/job_" + ZERO, A, 404,
                    "not_found"))
    out.append(case("404 POST /v1/jobs/job_%s/retry" % ZERO, "POST",
                    "/v1/jobs/job_%s/retry" % ZERO, A, 404, "not_found"))
    out.append(case("404 POST /v1/systems/sys_%s/reconcile" % ZERO, "POST",
                    "/v1/systems/sys_%s/reconcile" % ZERO, A, 404, "not_found", body={}))
    for body, fields in (({"revoke_shadow": "yes"}, ["revoke_shadow"]),
                         ({"revoke_shadow": 1, "x": 1}, ["revoke_shadow", "x"]),
                         ([], None)):
        out.append(case("bad reconcile body %s" % json.dumps(body), "POST",
                        "/v1/systems/%s/reconcile" % w.sys["id"], A, fields=fields or (),
                        body=body))
    out.append(case("bad system connector_settings", "PATCH", "/v1/systems/" + w.sys["id"], A,
                    fields=["connector_settings"], body={"connector_settings": "x"}))
    out.append(case("bad system connector", "PATCH", "/v1/systems/" + w.sys["id"], A,
                    fields=["connector"], body={"connector": "nosuch"}))
    return out


def run_case(srv, base, c):
    expect(srv.alive(), "the server is no longer running")
    r = srv.call(c["method"], c["path"], token=c["token"], **c["kw"])
    st = c["status"]
    codes = st if isinstance(st, tuple) else None
    problem(r, code=None if codes else st, codes=codes, problem_code=c["code"],
            field=c["fields"] or None, what=c["name"])
    if c["any_field"]:
        named = ghtest.error_fields(r.json)
        expect(any(f in named for f in c["any_field"]),
               "%s: errors name none of %r: %r" % (c["name"], c["any_field"], r.json.get("errors")))
    ghtest.unchanged(srv, base[0], c["name"])


def raw_garbage(srv):
    payloads = [
        ("TLS client hello", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(range(64))),
        ("random bytes", bytes((i * 73 + 11) % 256 for i in range(4096))),
        ("a line of text", b"GARBAGE\r\n\r\n"),
        ("HTTP/0.9", b"GET /\r\n"),
        ("truncated request line", b"GET /v1/identi"),
        ("truncated headers", b"POST /v1/identities HTTP/1.1\r\nHost: x\r\nAuthoriz"),
        ("truncated body", b"POST /v1/identities HTTP/1.1\r\nHost: x\r\nContent-Type: "
                           b"application/json\r\nAuthorization: Bearer " + srv.token.encode() +
                           b"\r\nContent-Length: 100\r\n\r\n{\"kind\":\"hu"),
        ("negative Content-Length", b"POST /v1/groups HTTP/1.1\r\nHost: x\r\n"
                                    b"Content-Length: -1\r\n\r\n{}"),
        ("non-numeric Content-Length", b"POST /v1/groups HTTP/1.1\r\nHost: x\r\n"
                                       b"Content-Length: abc\r\n\r\n{}"),
        ("huge Content-Length", b"POST /v1/groups HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                                + srv.token.encode() + b"\r\nContent-Type: application/json\r\n"
                                b"Content-Length: 99999999999999999999\r\n\r\n{}"),
        ("bad chunk size", b"POST /v1/groups HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                           + srv.token.encode() + b"\r\nContent-Type: application/json\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
        ("100 KB header", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 +
                          b"\r\n\r\n"),
        ("1000 headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" +
                         b"".join(b"X-H%d: v\r\n" % i for i in range(1000)) + b"\r\n"),
        ("NUL in request line", b"GET /v1/\x00identities HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("pipelined garbage after a good request", b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                                                    b"\x00\x01\x02\x03 nonsense\r\n\r\n"),
    ]
    before = srv.snapshot()
    for what, data in payloads:
        back = ghtest.raw_exchange(srv.port, data, timeout=5)
        expect(srv.alive(), "the server died after %s (got %r)" % (what, back[:200]))
        expect(srv.healthy(), "the server does not serve /healthz after %s" % what)
        if back.startswith(b"HTTP/1."):
            code = int(back[9:12])
            expect(code < 500, "%s answered %d" % (what, code))
    # half-open connections that never finish do not block others
    socks = []
    try:
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            s.sendall(b"POST /v1/groups HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{")
            socks.append(s)
        expect(srv.healthy(), "the server does not serve /healthz with 20 stalled connections")
    finally:
        for s in socks:
            s.close()
    ghtest.unchanged(srv, before, "raw garbage")


def token_state_cases(srv, w, base):
    """A revoked token and a suspended identity's token are refused."""
    ident, tok = srv.user("bi-temp", ["iam"])
    info = status(srv.post("/v1/tokens", {"identity": ident["id"], "name": "second"}), 201)
    second = info["token"]
    status(srv.get("/v1/identities", token=second), 200, "a fresh token works")
    r = srv.delete("/v1/tokens/" + info["id"])
    eq(r.status, 204, "DELETE /v1/tokens/{id}")
    base[0] = srv.snapshot()
    run_case(srv, base, case("401: a revoked token", "POST", "/v1/groups", second, 401,
                             "unauthenticated", body={"name": "bi-revoked"}))
    status(srv.get("/v1/identities", token=tok), 200, "the other token still works")
    status(srv.post("/v1/identities/%s/suspend" % ident["id"], {"reason": "test"}), 200)
    base[0] = srv.snapshot()
    run_case(srv, base, case("401: a suspended identity's token", "POST", "/v1/groups", tok, 401,
                             "unauthenticated", body={"name": "bi-suspended"}))
    status(srv.post("/v1/identities/%s/activate" % ident["id"], {"reason": "test"}), 200)
    status(srv.get("/v1/identities", token=tok), 200, "works again after activation")
    base[0] = srv.snapshot()


def body(t, binary):
    # hundreds of bad tokens on purpose: the per-address limit on failed
    # authentications (test_trust_http.py) would answer most of them 429
    srv = t.server(binary, name="bad", serve_args=["--auth-failures", "1000000"])
    w = World()
    if not t.case("setup", setup, srv, w):
        return
    base = [srv.snapshot()]
    groups = (("body", body_cases(w)), ("value", value_cases(w)), ("auth", auth_cases(w)),
              ("path/query", path_and_query_cases(w)))
    for label, cases in groups:
        for c in cases:
            t.case("%s: %s" % (label, c["name"]), run_case, srv, base, c)
    t.case("revoked and suspended tokens are refused", token_state_cases, srv, w, base)
    t.case("raw non-HTTP bytes and truncated requests", raw_garbage, srv)

    def still_works():
        expect(srv.healthy(), "healthz")
        r = status(srv.get("/v1/requests/" + w.req["id"]), 200)
        eq(r["state"], "pending_approval", "the pending request survived every attack")
        status(srv.get("/v1/grants/" + w.grant), 200)
        g = status(srv.post("/v1/groups", {"name": "bi-after"}), 201, "a good write still works")
        eq(g["name"], "bi-after", "name")
    t.case("the server still serves and writes afterwards", still_works)

    def verify():
        t.stop(srv)
        v = srv.cli("audit", "verify")
        eq(v.returncode, 0, "audit verify (%s)" % (v.stdout + v.stderr)[-300:])
    t.case("audit verify exits 0", verify)


if __name__ == "__main__":
    ghtest.main(body)
