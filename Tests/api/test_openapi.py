"""Contract tests: the OpenAPI document at /openapi.json is valid and true.

Runs against a running server (YIDAI_BASE_URL, set by scripts/test.sh). It checks that
  1. the document validates as OpenAPI 3.1;
  2. every documented operation exists on the server, and every /api/v1 route the Swift controllers
     register is documented;
  3. sandbox person P01 walks the whole journey through the API and every answer matches the documented
     schema for its status;
  4. bad input to every operation gets a documented 4xx in the error shape, naming the field at fault,
     and leaves the application unchanged;
  5. the published loan-quote vectors come back in the documented schema, to the fen.

The walk uses P01's ID card images, name, ID number and debit card, with a fresh phone number per run:
the sandbox treats any phone that is not in the table like P01's, and a fresh one keeps this file
independent of other tests on the same server (the browser walk also uses P01) and of the limit of one
SMS code per phone per 60 s. The journey needs three codes on one phone, so it waits about two minutes.
"""
import base64
import json
import os
import random
import re
import time
import urllib.error
import urllib.request
import uuid
from datetime import date, datetime
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BASE = os.environ.get("YIDAI_BASE_URL", "").rstrip("/")
ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.skipif(not BASE, reason="set YIDAI_BASE_URL to a running server (scripts/test.sh does)")

P01 = {
    "name": "张伟",
    "idNumber": "440305198803152013",
    "card": "6222020200110000102",
    "income": "25000",
}
CREDIT_CARD = "6225880000110000405"  # domain.md: a credit card, refused (debit cards only)
APP = "/api/v1/applications/{applicationID}"


# ---------------------------------------------------------------- HTTP


class Answer:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw

    @property
    def json(self):
        return json.loads(self.raw.decode("utf-8"))

    def __repr__(self):
        return f"<{self.status} {self.raw[:400]!r}>"


CAPTURE = {}  # YIDAI_CAPTURE_EXAMPLES=file.json: real requests and answers, for the document's examples


def call(method, path, body=None, token=None, raw=None, content_type="application/json", accept="application/json"):
    CAPTURE["last_request"] = body
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode("utf-8"))
    request = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None and content_type:
        request.add_header("Content-Type", content_type)
    if accept:
        request.add_header("Accept", accept)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())


# ---------------------------------------------------------------- the document


_DOC = {}


def doc():
    if "doc" not in _DOC:
        answer = call("GET", "/openapi.json")
        assert answer.status == 200, answer
        assert answer.headers.get("Content-Type", "").startswith("application/json")
        _DOC["doc"] = answer.json
    return _DOC["doc"]


DOC_URI = "urn:yidai:openapi"
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value):
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
        raise ValueError(f"not an RFC 3339 date-time: {value!r}")
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@FORMATS.checks("date", raises=ValueError)
def _is_date(value):
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


@FORMATS.checks("uuid", raises=ValueError)
def _is_uuid(value):
    if isinstance(value, str):
        uuid.UUID(value)
    return True


def resolve(node):
    """Follows an OpenAPI $ref (responses, request bodies) inside the document."""
    while isinstance(node, dict) and "$ref" in node:
        target = doc()
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def pointer(*parts):
    return "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def validate(instance, schema_pointer):
    """Validates instance against the schema at a JSON pointer in the document, resolving $refs."""
    registry = Registry().with_resource(DOC_URI, Resource(contents=doc(), specification=DRAFT202012))
    validator = jsonschema.Draft202012Validator({"$ref": DOC_URI + schema_pointer}, registry=registry, format_checker=FORMATS)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, f"does not match {schema_pointer}:\n" + "\n".join(
        f"  at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in errors[:10])


def operation(method, template):
    paths = doc()["paths"]
    assert template in paths, f"{template} is not documented"
    assert method.lower() in paths[template], f"{method} {template} is not documented"
    return paths[template][method.lower()]


def check(answer, method, template, expect=None):
    """The answer's status is documented for the operation and its body matches that response's schema."""
    if expect is not None:
        statuses = expect if isinstance(expect, (set, tuple, list)) else {expect}
        assert answer.status in statuses, f"{method} {template}: expected {statuses}, got {answer}"
    responses = operation(method, template)["responses"]
    key = str(answer.status)
    assert key in responses, f"{method} {template} answered {answer.status}, which is not documented: {answer}"
    response = resolve(responses[key])
    content = response.get("content", {})
    assert "application/json" in content, f"{method} {template} {key}: no JSON content documented"
    assert answer.headers.get("Content-Type", "").startswith("application/json"), answer.headers.get("Content-Type")
    body = answer.json
    if os.environ.get("YIDAI_CAPTURE_EXAMPLES"):
        op_id = operation(method, template)["operationId"]
        if answer.status < 300:
            CAPTURE.setdefault(f"{op_id}.{key}", body)
            if CAPTURE.get("last_request") is not None:
                CAPTURE.setdefault(f"{op_id}.request", CAPTURE["last_request"])
        else:
            CAPTURE.setdefault("errors", {}).setdefault(key, body)
            CAPTURE.setdefault(f"{op_id}.{key}", body)
        with open(os.environ["YIDAI_CAPTURE_EXAMPLES"], "w") as f:
            json.dump({k: v for k, v in CAPTURE.items() if k != "last_request"}, f, ensure_ascii=False, indent=1)
    # The pointer of the schema: components/responses/X or the inline response.
    ref = responses[key].get("$ref")
    base = ref.lstrip("#/").split("/") if ref else ["paths", template, method.lower(), "responses", key]
    validate(body, pointer(*base, "content", "application/json", "schema"))
    for name, header in response.get("headers", {}).items():
        if header.get("required"):
            assert answer.headers.get(name), f"{method} {template} {key}: header {name} missing"
    return body


def expect_error(answer, method, template, field=None, status=None):
    """A documented 4xx in the error shape; `field` names the field at fault when given."""
    assert 400 <= answer.status < 500, f"{method} {template}: expected a 4xx, got {answer}"
    body = check(answer, method, template, status)
    validate(body, "#/components/schemas/Error")
    if field is not None:
        assert body["error"].get("field") == field, f"{method} {template}: expected field {field!r}, got {body}"
    return body["error"]


# ---------------------------------------------------------------- sandbox helpers


def fresh_phone():
    """A valid phone that is not a sandbox person's (those are 13800000001-13800000011)."""
    return "139" + "".join(random.choice("0123456789") for _ in range(8))


class CodeBox:
    """SMS codes from the sandbox outbox; waits out the 60 s resend limit per phone."""

    def __init__(self, phone):
        self.phone = phone
        self.last_sent = None

    def wait_for_resend(self):
        if self.last_sent is not None:
            left = 61 - (time.monotonic() - self.last_sent)
            if left > 0:
                time.sleep(left)

    def sent(self):
        self.last_sent = time.monotonic()

    def newest(self):
        answer = call("GET", f"/sandbox/sms?phone={self.phone}")
        assert answer.status == 200, answer
        messages = [m for m in answer.json if "验证码" in m["text"]]  # codes, not milestone notifications
        assert messages, f"no SMS in the sandbox outbox for {self.phone}"
        match = re.search(r"(?<!\d)\d{6}(?!\d)", messages[0]["text"])
        assert match, messages[0]
        return match.group(0)


def card_image(side):
    answer = call("GET", f"/sandbox/cards/P01-{side}.png", accept=None)
    assert answer.status == 200, answer
    assert answer.raw[:8] == b"\x89PNG\r\n\x1a\n"
    return base64.b64encode(answer.raw).decode("ascii")


# ---------------------------------------------------------------- 1. the document is valid OpenAPI 3.1


def test_the_document_is_valid_openapi_3_1():
    from openapi_spec_validator import validate as validate_spec

    document = doc()
    assert document["openapi"].startswith("3.1")
    validate_spec(document)
    # The file in the repository is what the server serves.
    assert json.loads((ROOT / "Resources" / "openapi.json").read_text("utf-8")) == document


def test_every_operation_has_an_example_and_every_example_matches_its_schema():
    for template, item in doc()["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            if "requestBody" in op:
                media = resolve(op["requestBody"])["content"]["application/json"]
                assert "example" in media, f"{method} {template}: request has no example"
                validate(media["example"], pointer("paths", template, method, "requestBody", "content", "application/json", "schema"))
            for status, response in op["responses"].items():
                base = response["$ref"].lstrip("#/").split("/") if "$ref" in response else ["paths", template, method, "responses", status]
                media = resolve(response).get("content", {}).get("application/json")
                if template == "/openapi.json":
                    continue
                if media is None and resolve(response).get("content"):
                    continue  # a download (PDF, CMS signature, PEM): its schema is the media type, no JSON example
                assert media and "example" in media, f"{method} {template} {status}: no example"
                validate(media["example"], pointer(*base, "content", "application/json", "schema"))
            if template.startswith("/api/v1/"):
                errors = [s for s in op["responses"] if s.startswith("4")]
                assert errors, f"{method} {template}: no error responses documented"


# ---------------------------------------------------------------- 2. documented operations = server routes


def documented_operations():
    return {(m.upper(), t) for t, item in doc()["paths"].items() for m in item if m != "parameters"}


def concrete(template):
    """The path with a fresh UUID for every path parameter."""
    return re.sub(r"\{\w+\}", lambda _: str(uuid.uuid4()), template)


def secured(op):
    return bool(op.get("security", doc().get("security")))


ROUTE_404 = {}


def is_route_404(answer):
    if "body" not in ROUTE_404:
        probe = call("GET", "/api/v1/no-such-route-" + uuid.uuid4().hex)
        assert probe.status == 404, probe
        ROUTE_404["body"] = probe.json
    return answer.status == 404 and answer.status != 401 and answer.json == ROUTE_404["body"]


def test_an_unknown_api_route_answers_404_in_the_error_shape():
    answer = call("GET", "/api/v1/no-such-route")
    assert answer.status == 404
    validate(answer.json, "#/components/schemas/Error")
    assert answer.json["error"]["code"] == "not_found"


def test_every_documented_operation_exists_on_the_server():
    for method, template in sorted(documented_operations()):
        body = {} if method in ("POST", "PUT", "PATCH") else None
        answer = call(method, concrete(template), body=body)
        assert not is_route_404(answer), f"{method} {template} is documented but the server has no such route: {answer}"
        assert answer.status < 500, f"{method} {template}: {answer}"
        if secured(operation(method, template)):
            # Routes that need the session token answer 401 without one, in the documented shape.
            expect_error(answer, method, template, status=401)


def swift_routes():
    """The /api/v1 routes that the route collections registered in routes.swift declare (method, OpenAPI path)."""
    routes_swift = (ROOT / "Sources" / "App" / "routes.swift").read_text("utf-8")
    prefixes = {"app": []}
    # Groups of groups (`let applicant = api.grouped(Authenticator(), ...)`) add their path segments to the base's.
    for var, base, args in re.findall(r"let (\w+) = (\w+)\.grouped\((.*)\)", routes_swift):
        if base in prefixes:
            prefixes[var] = prefixes[base] + re.findall(r'"([^"]*)"', args)
    collections = re.findall(r"(\w+)\.register\(collection: (\w+)\(", routes_swift)
    assert any(prefixes.get(var) == ["api", "v1"] for var, _ in collections), "no controllers registered under /api/v1: update this parser"
    sources = {p: p.read_text("utf-8") for p in (ROOT / "Sources" / "App").rglob("*.swift")}
    found = set()
    # Routes that routes.swift itself registers on a group (`api.get("contract-signing", "ca.pem", use: ...)`).
    for var, method, args in re.findall(r"^\s*(\w+)\.(get|post|put|patch|delete)\((.*)\)$", routes_swift, re.M):
        if var in prefixes:
            segments = prefixes[var] + re.findall(r'"([^"]*)"', args.split("use:")[0])
            path = "/" + "/".join("{" + s[1:] + "}" if s.startswith(":") else s for s in segments)
            if path.startswith("/api/v1/"):
                found.add((method.upper(), path.rstrip("/")))
    for var, name in collections:
        text = next((t for t in sources.values() if re.search(rf"struct {name}\s*:\s*RouteCollection", t)), None)
        assert text, f"cannot find {name}"
        boot = text[text.index("func boot(routes: RoutesBuilder)"):]
        boot = boot[: boot.index("\n    }\n")]
        groups = {"routes": prefixes.get(var, [])}
        for line in boot.splitlines():
            line = line.strip()
            m = re.match(r"let (\w+) = (\w+)\.grouped\((.*)\)$", line)
            if m:
                groups[m.group(1)] = groups[m.group(2)] + re.findall(r'"([^"]*)"', m.group(3))
                continue
            m = re.match(r"(\w+)\.(get|post|put|patch|delete)\((.*)\)$", line)
            if m:
                method, args = m.group(2).upper(), m.group(3)
            else:
                m = re.match(r"(\w+)\.on\(\.(\w+),(.*)\)$", line)
                if not m:
                    continue
                method, args = m.group(2).upper(), m.group(3)
            segments = groups[m.group(1)] + re.findall(r'"([^"]*)"', args.split("use:")[0].split("body:")[0])
            path = "/" + "/".join("{" + s[1:] + "}" if s.startswith(":") else s for s in segments)
            if path.startswith("/api/v1/"):
                found.add((method, path.rstrip("/")))
    # Routes declared in routes.swift itself (the staff API: groups by permission, `x.requiring(.action).get(...)`).
    groups = dict(prefixes)
    for line in routes_swift.splitlines():
        line = line.strip()
        m = re.match(r"let (\w+) = (\w+)\.grouped\((.*)\)$", line)
        if m and m.group(2) in groups:
            groups[m.group(1)] = groups[m.group(2)] + re.findall(r'"([^"]*)"', m.group(3))
            continue
        m = re.match(r"(\w+)(?:\.requiring\(\.\w+\))?\.(get|post|put|patch|delete)\((.*)\)$", line)
        if m and m.group(1) in groups:
            segments = groups[m.group(1)] + re.findall(r'"([^"]*)"', m.group(3).split("use:")[0])
            path = "/" + "/".join("{" + s[1:] + "}" if s.startswith(":") else s for s in segments)
            if path.startswith("/api/v1/"):
                found.add((m.group(2).upper(), path.rstrip("/")))
    return found


# What the API offers (kept by hand as well, so a route that the parser misses still shows up here).
EXPECTED_OPERATIONS = {
    ("GET", "/health"), ("GET", "/health/ready"), ("GET", "/metrics"), ("GET", "/openapi.json"),
    ("POST", "/api/v1/sms-codes"), ("POST", "/api/v1/sessions"), ("GET", APP),
    ("POST", APP + "/id-card"), ("POST", APP + "/id-card/confirm"), ("POST", APP + "/face"),
    ("POST", APP + "/bank-card"), ("POST", APP + "/bank-card/confirm"),
    ("GET", APP + "/credit-authorization"), ("POST", APP + "/credit-authorization/sms-code"), ("POST", APP + "/credit-authorization"),
    ("PUT", APP + "/about-you"), ("POST", APP + "/decision"), ("POST", APP + "/loan-request"), ("POST", APP + "/cancel"),
    ("POST", "/api/v1/loan-quotes"),
    ("POST", APP + "/disbursement"), ("GET", "/api/v1/loans"), ("GET", "/api/v1/loans/{loanID}"),
    ("GET", "/api/v1/loans/{loanID}/payoff-quote"), ("POST", "/api/v1/loans/{loanID}/prepayment-quote"),
    ("POST", "/api/v1/loans/{loanID}/repayments"),
    ("GET", APP + "/contract"), ("GET", APP + "/contract.pdf"), ("GET", APP + "/contract.p7s"),
    ("GET", APP + "/contract/evidence.json"), ("GET", APP + "/contract/evidence.p7s"),
    ("POST", APP + "/contract/sms-code"), ("POST", APP + "/contract/sign"), ("GET", "/api/v1/contract-signing/ca.pem"),
    ("POST", "/api/v1/staff/sessions"), ("DELETE", "/api/v1/staff/sessions/current"), ("POST", "/api/v1/staff/enrolment"),
    ("GET", "/api/v1/staff/applications"), ("GET", "/api/v1/staff/applications/{applicationID}"),
    ("POST", "/api/v1/staff/applications/{applicationID}/review"), ("POST", "/api/v1/staff/applications/{applicationID}/review/confirmation"),
    ("POST", "/api/v1/staff/applications/{applicationID}/reveal"),
    ("PUT", "/api/v1/staff/members/{login}"), ("POST", "/api/v1/staff/members/{login}/second-factor/reset"),
    ("POST", "/api/v1/leads"), ("GET", APP + "/messages"), ("POST", APP + "/messages"),
    ("GET", "/api/v1/staff/leads"), ("PATCH", "/api/v1/staff/leads/{leadID}"), ("GET", "/api/v1/staff/customers"),
    ("POST", "/api/v1/staff/customers/{applicationID}/nudge"), ("GET", "/api/v1/staff/applications/{applicationID}/messages"),
    ("POST", "/api/v1/staff/applications/{applicationID}/messages"),
    ("GET", "/api/v1/staff/branches"), ("PUT", "/api/v1/staff/branches/{code}"), ("GET", "/api/v1/staff/reports/funnel"), ("GET", "/api/v1/staff/reports/daily"),
    ("GET", "/api/v1/staff/audit-entries"), ("GET", "/api/v1/staff/audit-entries/export"), ("GET", "/api/v1/staff/audit-verification"),
    ("GET", "/api/v1/staff/reveals"), ("GET", "/api/v1/staff/privacy-requests"),
    ("POST", "/api/v1/privacy/step-up"), ("GET", "/api/v1/privacy/data"), ("PATCH", "/api/v1/privacy/data"),
    ("POST", "/api/v1/privacy/exports"), ("GET", "/api/v1/privacy/exports/{exportID}"), ("GET", "/api/v1/privacy/consents"),
    ("DELETE", "/api/v1/privacy/consents/{purpose}"), ("POST", "/api/v1/privacy/erasure-requests"),
    ("GET", "/api/v1/staff/policies"), ("POST", "/api/v1/staff/policies"), ("POST", "/api/v1/staff/policies/{versionID}/shadow-replays"),
    ("GET", "/api/v1/staff/shadow-replays/{replayID}"), ("POST", "/api/v1/staff/policies/{versionID}/rollback"),
    ("POST", "/api/v1/staff/policy-changes/{changeID}/confirmation"),
    ("GET", "/api/v1/staff/me/qr-code.png"), ("GET", "/api/v1/staff/me/qr-code.svg"), ("GET", "/api/v1/staff/me/mini-program-code.png"),
    ("GET", "/api/v1/staff/me/poster.png"), ("GET", "/api/v1/staff/me/landings"),
    ("GET", "/api/v1/staff/managers/{managerCode}/qr-code.png"), ("GET", "/api/v1/staff/managers/{managerCode}/qr-code.svg"),
    ("GET", "/api/v1/staff/managers/{managerCode}/mini-program-code.png"), ("GET", "/api/v1/staff/managers/{managerCode}/poster.png"),
}


def test_every_api_route_of_the_controllers_is_documented():
    if not (ROOT / "Sources" / "App" / "routes.swift").exists():
        pytest.skip("no Swift sources next to the tests")
    routes = swift_routes()
    assert len(routes) >= 16, f"the route parser found only {sorted(routes)}"
    missing = routes - documented_operations()
    assert not missing, f"routes not in openapi.json: {sorted(missing)}"
    api_documented = {op for op in documented_operations() if op[1].startswith("/api/v1/")}
    stale = api_documented - routes
    assert not stale, f"documented but not registered by any controller: {sorted(stale)}"
    assert EXPECTED_OPERATIONS <= documented_operations(), f"not documented: {sorted(EXPECTED_OPERATIONS - documented_operations())}"


# ---------------------------------------------------------------- 3 + 4. the journey, with bad input at every step


class Journey:
    phone = None
    codes = None
    token = None
    id = None
    application = None
    authorization = None


J = Journey()


def app_path(template, application_id=None):
    return template.replace("{applicationID}", application_id or J.id)


def show():
    answer = call("GET", app_path(APP), token=J.token)
    assert "no-store" in answer.headers.get("Cache-Control", ""), "personal data must not be cached"
    return check(answer, "GET", APP, 200)


def rejected(method, template, body, field, status=None, raw=None, content_type="application/json", unchanged=True, ignore=()):
    """Sends bad input; expects a documented 4xx naming `field`, and the application as it was."""
    before = show() if (unchanged and J.id) else None
    answer = call(method, app_path(template) if J.id else template, body=body, raw=raw, token=J.token, content_type=content_type)
    error = expect_error(answer, method, template, field=field, status=status)
    if before is not None:
        after = show()
        for key in ignore:
            before.pop(key, None)
            after.pop(key, None)
        assert after == before, f"{method} {template} with bad input changed the application"
    return error


def require_walk(step):
    if J.application is None or step not in J.application.get("completedSteps", []) and J.application.get("nextStep") != step:
        pytest.skip(f"the walk did not reach {step}")


def test_walk_1_phone_and_sms_code_start_an_application():
    start_background_walks()  # P08 and P11 walk meanwhile, so their SMS waits overlap P01's
    J.phone = os.environ.get("YIDAI_API_TEST_PHONE") or fresh_phone()
    J.codes = CodeBox(J.phone)
    op, template = "POST", "/api/v1/sms-codes"
    # bad input: nothing is sent
    rejected(op, template, {}, "phone", status=400)
    rejected(op, template, {"phone": 13800000001}, "phone", status=400)
    rejected(op, template, {"phone": "12345"}, "phone", status=422)
    rejected(op, template, {"phone": "23800000001"}, "phone", status=422)
    rejected(op, template, {"phone": None}, "phone", status=400)
    rejected(op, template, None, None, raw=b'{"phone": ', status=400)
    rejected(op, template, None, None, raw=b"[]", status=400)
    rejected(op, template, None, None, raw=b"<phone>13800000001</phone>", content_type="application/xml", status=415)

    answer = call(op, template, {"phone": J.phone})
    J.codes.sent()
    sent = check(answer, op, template, 202)
    assert sent["sentTo"] == J.phone[:3] + "****" + J.phone[-4:]
    # a second code within 60 s: 429 with Retry-After
    again = call(op, template, {"phone": J.phone})
    expect_error(again, op, template, status=429)
    assert 1 <= int(again.headers["Retry-After"]) <= 60

    op, template = "POST", "/api/v1/sessions"
    rejected(op, template, {}, "phone", status=400)
    rejected(op, template, {"phone": J.phone}, "code", status=400)
    rejected(op, template, {"phone": J.phone, "code": 123456}, "code", status=400)
    rejected(op, template, {"phone": J.phone, "code": "12ab"}, "code", status=422)
    rejected(op, template, {"phone": "1380000000", "code": "123456"}, "phone", status=422)
    code = J.codes.newest()
    wrong = "%06d" % ((int(code) + 1) % 1_000_000)
    assert rejected(op, template, {"phone": J.phone, "code": wrong}, "code", status=422)["code"] == "code_incorrect"

    answer = call(op, template, {"phone": J.phone, "code": code, "cm": "SZ-0001", "ch": "poster"})
    session = check(answer, op, template, 201)
    J.token, J.id, J.application = session["token"], session["application"]["id"], session["application"]
    assert J.application["state"] == "started"
    assert J.application["nextStep"] == "id_card"
    assert J.application["applicant"]["phone"] == J.phone[:3] + "****" + J.phone[-4:]
    # the code is used up
    rejected(op, template, {"phone": J.phone, "code": code}, "code", status=422)


def test_application_routes_need_the_token_and_answer_404_for_another_id():
    require_walk("id_card")
    for method, template in sorted(documented_operations()):
        if not secured(operation(method, template)):
            continue
        body = {} if method in ("POST", "PUT") else None
        expect_error(call(method, concrete(template), body=body), method, template, status=401)
        expect_error(call(method, concrete(template), body=body, token="not-a-token"), method, template, status=401)
        if not template.startswith(APP):
            continue
        other = call(method, app_path(template, str(uuid.uuid4())), body=body, token=J.token)
        assert expect_error(other, method, template, status=404)["code"] == "not_found"
        assert not is_route_404(other)
        not_uuid = call(method, app_path(template, "not-a-uuid"), body=body, token=J.token)
        expect_error(not_uuid, method, template, status=404)


def test_steps_out_of_order_get_409_naming_the_next_step():
    require_walk("id_card")
    before = show()
    for method, template, body in [
        ("POST", APP + "/face", {"simulate": True}),
        ("POST", APP + "/bank-card", {"cardNumber": P01["card"]}),
        ("POST", APP + "/bank-card/confirm", {"code": "123456"}),
        ("POST", APP + "/credit-authorization/sms-code", None),
        ("PUT", APP + "/about-you", {}),
        ("POST", APP + "/decision", None),
        ("POST", APP + "/loan-request", {"amount": "10000", "termMonths": 12, "method": "equal-installment", "purpose": "travel"}),
    ]:
        error = expect_error(call(method, app_path(template), body=body, token=J.token), method, template, status=409)
        assert error["code"] == "step_out_of_order", error
        assert "ID card" in error["message"], error
    assert show() == before


def test_walk_2_id_card_upload_and_confirm():
    require_walk("id_card")
    op, template = "POST", APP + "/id-card/confirm"
    error = rejected(op, template, {"name": P01["name"], "idNumber": P01["idNumber"], "address": "广东省深圳市南山区", "validUntil": "长期"}, None, status=409)
    assert error["code"] == "step_out_of_order"

    op, template = "POST", APP + "/id-card"
    rejected(op, template, {}, "frontImage", status=400)
    rejected(op, template, {"frontImage": 1, "backImage": 2}, "frontImage", status=400)
    rejected(op, template, {"frontImage": "@@@", "backImage": "@@@"}, "frontImage", status=422)
    junk = base64.b64encode(b"this is not a photo of an ID card").decode()
    # Bytes that are no image at all: the photo is damaged (a real photo of something else would be card_unreadable).
    assert rejected(op, template, {"frontImage": junk, "backImage": junk}, "frontImage", status=422)["code"] == "image_damaged"
    front, back = card_image("front"), card_image("back")
    rejected(op, template, {"frontImage": front}, "backImage", status=400)

    reading = check(call(op, app_path(template), {"frontImage": front, "backImage": back}, token=J.token), op, template, 200)
    assert reading["name"] == P01["name"] and reading["idNumber"] == P01["idNumber"], reading
    # a data: URL works too
    reading2 = check(call(op, app_path(template), {"frontImage": "data:image/png;base64," + front, "backImage": back}, token=J.token), op, template, 200)
    assert reading2 == reading

    op, template = "POST", APP + "/id-card/confirm"
    good = {"name": reading["name"], "idNumber": reading["idNumber"], "address": reading["address"] or "广东省深圳市南山区", "validUntil": reading["validUntil"] or "长期"}
    rejected(op, template, {}, "name", status=400)
    rejected(op, template, dict(good, name="Zhang Wei"), "name")
    rejected(op, template, dict(good, name=3), "name", status=400)
    rejected(op, template, dict(good, idNumber="440305198803152014"), "idNumber")
    rejected(op, template, dict(good, idNumber="4403051988"), "idNumber")
    rejected(op, template, {k: v for k, v in good.items() if k != "idNumber"}, "idNumber")
    rejected(op, template, dict(good, address="深圳"), "address")
    rejected(op, template, dict(good, validUntil="2020-01-01"), "validUntil")
    rejected(op, template, dict(good, validUntil="someday"), "validUntil")
    rejected(op, template, {k: v for k, v in good.items() if k != "validUntil"}, "validUntil", status=400)

    J.application = check(call(op, app_path(template), good, token=J.token), op, template, 200)
    assert J.application["nextStep"] == "face"
    assert J.application["applicant"]["name"] == "张*"
    assert J.application["applicant"]["idNumber"] == "4403**********2013"


def test_walk_3_face():
    require_walk("face")
    op, template = "POST", APP + "/face"
    rejected(op, template, {}, "capture", status=400)
    rejected(op, template, {"simulate": "yes"}, "simulate", status=400)
    rejected(op, template, {"capture": "@@@"}, "capture", status=422)
    result = check(call(op, app_path(template), {"simulate": True}, token=J.token), op, template, 200)
    assert result["passed"] is True and result["livenessPassed"] is True, result
    J.application = result["application"]
    assert J.application["nextStep"] == "bank_card"


def test_walk_4_bank_card_and_its_sms_code():
    require_walk("bank_card")
    op, template = "POST", APP + "/bank-card/confirm"
    assert rejected(op, template, {"code": "123456"}, None, status=409)["code"] == "step_out_of_order"

    op, template = "POST", APP + "/bank-card"
    rejected(op, template, {}, "cardNumber")
    rejected(op, template, {"cardNumber": 6222020200110000102}, "cardNumber", status=400)
    rejected(op, template, {"cardNumber": "6222020200110000103"}, "cardNumber")  # Luhn
    rejected(op, template, {"cardNumber": "62220202"}, "cardNumber")
    # a credit card is refused by UnionPay (the carrier check before it is recorded, so updatedAt may move)
    assert rejected(op, template, {"cardNumber": CREDIT_CARD}, "cardNumber", status=422, ignore=("updatedAt",))["code"] == "not_debit_card"

    J.codes.wait_for_resend()
    answer = call(op, app_path(template), {"cardNumber": P01["card"]}, token=J.token)
    J.codes.sent()
    check(answer, op, template, 202)

    op, template = "POST", APP + "/bank-card/confirm"
    rejected(op, template, {}, "code", status=400)
    rejected(op, template, {"code": 123456}, "code", status=400)
    rejected(op, template, {"code": "12ab56"}, "code", status=422)
    code = J.codes.newest()
    rejected(op, template, {"code": "%06d" % ((int(code) + 1) % 1_000_000)}, "code", status=422)
    J.application = check(call(op, app_path(template), {"code": code}, token=J.token), op, template, 200)
    assert J.application["state"] == "identity_verified"
    assert J.application["nextStep"] == "authorization"
    assert J.application["applicant"]["bankCard"] == "6222 **** **** 0102"


def test_walk_5_credit_authorization():
    require_walk("authorization")
    op, template = "GET", APP + "/credit-authorization"
    J.authorization = check(call(op, app_path(template), token=J.token), op, template, 200)
    assert len(J.authorization["text"]) > 200

    op, template = "POST", APP + "/credit-authorization/sms-code"
    J.codes.wait_for_resend()
    answer = call(op, app_path(template), token=J.token)
    J.codes.sent()
    check(answer, op, template, 202)

    op, template = "POST", APP + "/credit-authorization"
    good = {"version": J.authorization["version"], "sha256": J.authorization["sha256"], "agree": True}
    rejected(op, template, {}, "version", status=400)
    rejected(op, template, dict(good, version="1999-01"), "version")
    rejected(op, template, dict(good, sha256="0" * 64), "sha256")
    rejected(op, template, dict(good, agree=False), "agree")
    rejected(op, template, dict(good, agree="yes"), "agree", status=400)
    rejected(op, template, good, "code", status=400)
    rejected(op, template, dict(good, code="12"), "code", status=422)
    code = J.codes.newest()
    J.application = check(call(op, app_path(template), dict(good, code=code), token=J.token), op, template, 200)
    assert J.application["state"] == "credit_authorized"
    assert J.application["nextStep"] == "about_you"


ABOUT_YOU = {
    "employer": "深圳市前海科技有限公司", "employmentType": "salaried", "monthlyIncome": P01["income"], "housing": "rented",
    "maritalStatus": "married", "education": "bachelor", "loanPurpose": "consumption",
    "emergencyContact": {"name": "李娜", "relationship": "spouse", "phone": "13900000001"},
}


def test_walk_6_about_you():
    require_walk("about_you")
    op, template = "PUT", APP + "/about-you"
    good = ABOUT_YOU
    rejected(op, template, {k: v for k, v in good.items() if k != "employer"}, "employer")
    rejected(op, template, dict(good, employer="某" * 61), "employer")
    rejected(op, template, dict(good, employmentType="astronaut"), "employmentType")
    rejected(op, template, dict(good, monthlyIncome="-5"), "monthlyIncome")
    rejected(op, template, dict(good, monthlyIncome="lots"), "monthlyIncome")
    rejected(op, template, dict(good, monthlyIncome=25000), "monthlyIncome", status=400)
    rejected(op, template, dict(good, housing="castle"), "housing")
    rejected(op, template, dict(good, maritalStatus="it's complicated"), "maritalStatus")
    rejected(op, template, dict(good, education="none"), "education")
    rejected(op, template, dict(good, loanPurpose="housing"), "loanPurpose")
    rejected(op, template, dict(good, emergencyContact="李娜"), "emergencyContact", status=400)
    rejected(op, template, dict(good, emergencyContact=dict(good["emergencyContact"], phone=J.phone)), "emergencyContact.phone")
    rejected(op, template, dict(good, emergencyContact=dict(good["emergencyContact"], phone="12")), "emergencyContact.phone")
    rejected(op, template, dict(good, emergencyContact=dict(good["emergencyContact"], relationship="boss")), "emergencyContact.relationship")
    rejected(op, template, dict(good, emergencyContact={"relationship": "spouse", "phone": "13900000001"}), "emergencyContact.name")
    J.application = check(call(op, app_path(template), good, token=J.token), op, template, 200)
    assert J.application["state"] == "info_completed"
    assert J.application["nextStep"] == "decision"


def test_walk_7_decision_approves_p01():
    require_walk("decision")
    op, template = "POST", APP + "/decision"
    J.application = check(call(op, app_path(template), token=J.token), op, template, 200)
    assert J.application["state"] == "approved", J.application
    decision = J.application["decision"]
    assert decision["outcome"] == "approved"
    assert float(decision["creditLimit"]) > 0 and float(decision["apr"]) > 0
    assert J.application["nextStep"] == "loan_request"
    # asking again: the decision is made
    error = expect_error(call(op, app_path(template), token=J.token), op, template)
    assert error["code"] in ("step_out_of_order", "application_closed", "rate_limited"), error


def test_walk_8_loan_request():
    require_walk("loan_request")
    op, template = "POST", APP + "/loan-request"
    limit = J.application["decision"]["creditLimit"]
    good = {"amount": "50000", "termMonths": 12, "method": "equal-installment", "purpose": "travel"}
    rejected(op, template, {k: v for k, v in good.items() if k != "amount"}, "amount")
    rejected(op, template, dict(good, amount="999"), "amount")
    rejected(op, template, dict(good, amount="50050"), "amount")
    rejected(op, template, dict(good, amount="abc"), "amount")
    rejected(op, template, dict(good, amount="%d" % (float(limit) + 100)), "amount")
    rejected(op, template, dict(good, termMonths=7), "termMonths")
    rejected(op, template, dict(good, termMonths="12"), "termMonths", status=400)
    rejected(op, template, {k: v for k, v in good.items() if k != "termMonths"}, "termMonths")
    rejected(op, template, dict(good, method="balloon"), "method")
    rejected(op, template, dict(good, method="interest-first", termMonths=24), "method")
    rejected(op, template, dict(good, purpose="securities"), "purpose")
    J.application = check(call(op, app_path(template), good, token=J.token), op, template, 200)
    assert J.application["state"] == "loan_requested"
    loan = J.application["loanRequest"]
    assert loan["amount"] == "50000.00" and loan["termMonths"] == 12 and loan["method"] == "equal-installment"
    assert show() == J.application


def test_walk_9_cancel():
    require_walk("done")
    op, template = "POST", APP + "/cancel"
    J.application = check(call(op, app_path(template), token=J.token), op, template, 200)
    assert J.application["state"] == "cancelled"
    error = expect_error(call(op, app_path(template), token=J.token), op, template, status=409)
    assert error["code"] == "cannot_cancel"
    check(call("GET", app_path(APP), token=J.token), "GET", APP, 200)
    answer = call("POST", app_path(APP + "/decision"), token=J.token)
    expect_error(answer, "POST", APP + "/decision", status=409)


# ---------------------------------------------------------------- stopped journeys (P03 identity, P04 face)


def sign_in_new_applicant():
    phone = fresh_phone()
    check(call("POST", "/api/v1/sms-codes", {"phone": phone}), "POST", "/api/v1/sms-codes", 202)
    session = check(call("POST", "/api/v1/sessions", {"phone": phone, "code": CodeBox(phone).newest()}), "POST", "/api/v1/sessions", 201)
    return session["token"], session["application"]["id"]


def upload_and_confirm(token, application_id, person):
    images = {}
    for side in ("front", "back"):
        answer = call("GET", f"/sandbox/cards/{person}-{side}.png", accept=None)
        assert answer.status == 200, answer
        images[side] = base64.b64encode(answer.raw).decode("ascii")
    template = APP + "/id-card"
    reading = check(call("POST", app_path(template, application_id), {"frontImage": images["front"], "backImage": images["back"]}, token=token),
                    "POST", template, 200)
    template = APP + "/id-card/confirm"
    body = {"name": reading["name"], "idNumber": reading["idNumber"], "address": reading["address"], "validUntil": reading["validUntil"] or "长期"}
    return call("POST", app_path(template, application_id), body, token=token)


def test_p03_is_stopped_at_identity_and_every_answer_matches_the_document():
    token, application_id = sign_in_new_applicant()
    template = APP + "/id-card/confirm"
    error = expect_error(upload_and_confirm(token, application_id, "P03"), "POST", template, status=422)
    assert error["code"] == "identity_mismatch" and error.get("field") == "name", error
    application = check(call("GET", app_path(APP, application_id), token=token), "GET", APP, 200)
    assert application["nextStep"] == "stopped"
    assert application["stopped"]["step"] == "id_card" and application["stopped"]["reason"] == "identity_mismatch"
    error = expect_error(call("POST", app_path(APP + "/face", application_id), {"simulate": True}, token=token), "POST", APP + "/face", status=409)
    assert error["code"] == "application_stopped", error
    if J.id:
        # P03's token on P01's real application answers exactly like an application that does not exist
        for method, template in sorted(documented_operations()):
            if template.startswith(APP):
                body = {} if method in ("POST", "PUT") else None
                theirs = call(method, app_path(template, J.id), body=body, token=token)
                nobody = call(method, app_path(template, str(uuid.uuid4())), body=body, token=token)
                expect_error(theirs, method, template, status=404)
                assert (theirs.status, theirs.json) == (nobody.status, nobody.json)


def test_p04_fails_liveness_three_times_then_the_face_step_is_locked():
    token, application_id = sign_in_new_applicant()
    application = check(upload_and_confirm(token, application_id, "P04"), "POST", APP + "/id-card/confirm", 200)
    assert application["nextStep"] == "face"
    template = APP + "/face"
    for left in (2, 1, 0):
        result = check(call("POST", app_path(template, application_id), {"simulate": True}, token=token), "POST", template, 200)
        assert result["passed"] is False and result["livenessPassed"] is False and result["attemptsLeft"] == left, result
    assert result.get("lockedUntil"), result
    assert result["application"]["stopped"]["step"] == "face" and result["application"]["stopped"].get("retryAfter"), result
    error = expect_error(call("POST", app_path(template, application_id), {"simulate": True}, token=token), "POST", template)
    assert error["code"] == "face_locked", error


# ---------------------------------------------------------------- P08 declined, P11 referred (walked in the background)

# key: (test debit card from the sandbox, declared income, expected outcome), from domain.md's sandbox table
BACKGROUND_PERSONS = {"P08": ("6222020200110000805", "9000", "declined"), "P11": ("6222020200110001100", "12000", "referred")}
BACKGROUND = {}


def walk_to_decision(person, card, income):
    """Walks a sandbox person to the decision, validating every answer; returns the decided application."""
    phone = fresh_phone()
    codes = CodeBox(phone)
    check(call("POST", "/api/v1/sms-codes", {"phone": phone}), "POST", "/api/v1/sms-codes", 202)
    codes.sent()
    session = check(call("POST", "/api/v1/sessions", {"phone": phone, "code": codes.newest()}), "POST", "/api/v1/sessions", 201)
    token, application_id = session["token"], session["application"]["id"]

    def step(method, sub, body=None, status=200):
        return check(call(method, app_path(APP + sub, application_id), body, token=token), method, APP + sub, status)

    check(upload_and_confirm(token, application_id, person), "POST", APP + "/id-card/confirm", 200)
    assert step("POST", "/face", {"simulate": True})["passed"] is True
    codes.wait_for_resend()
    step("POST", "/bank-card", {"cardNumber": card}, 202)
    codes.sent()
    step("POST", "/bank-card/confirm", {"code": codes.newest()})
    text = step("GET", "/credit-authorization")
    codes.wait_for_resend()
    step("POST", "/credit-authorization/sms-code", None, 202)
    codes.sent()
    step("POST", "/credit-authorization", {"version": text["version"], "sha256": text["sha256"], "agree": True, "code": codes.newest()})
    step("PUT", "/about-you", dict(ABOUT_YOU, monthlyIncome=income))
    return step("POST", "/decision")


def start_background_walks():
    import threading

    def run(person):
        try:
            BACKGROUND[person] = walk_to_decision(person, *BACKGROUND_PERSONS[person][:2])
        except BaseException as error:  # reported by the test that waits for it
            BACKGROUND[person] = error

    for person in BACKGROUND_PERSONS:
        if person not in BACKGROUND and f"{person}-thread" not in BACKGROUND:
            thread = threading.Thread(target=run, args=(person,), daemon=True)
            BACKGROUND[f"{person}-thread"] = thread
            thread.start()


@pytest.mark.parametrize("person", sorted(BACKGROUND_PERSONS))
def test_declined_and_referred_decisions_match_the_document(person):
    start_background_walks()
    BACKGROUND[f"{person}-thread"].join(timeout=300)
    result = BACKGROUND.get(person)
    if isinstance(result, BaseException):
        raise result
    assert result is not None, f"{person}'s walk did not finish"
    expected = BACKGROUND_PERSONS[person][2]
    assert result["state"] == expected and result["decision"]["outcome"] == expected, result
    assert result["nextStep"] == "done"
    assert "creditLimit" not in result["decision"] or result["decision"]["creditLimit"] is None
    if expected == "declined":
        reasons = result["decision"]["reasons"]
        assert reasons and all(r["message"] and r["message"] != r["code"] for r in reasons), reasons


# ---------------------------------------------------------------- 5. loan quotes


VECTORS = json.loads((HERE / "vectors" / "loan-quotes.json").read_text("utf-8"))


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_published_loan_quote_vectors_match_the_schema_to_the_fen(vector):
    quote = check(call("POST", "/api/v1/loan-quotes", vector["request"]), "POST", "/api/v1/loan-quotes", 200)
    expect = vector["expect"]
    rows = {row["number"]: row for row in quote["installments"]}
    for wanted in expect.get("installments", []):
        row = rows[wanted["number"]]
        for key, value in wanted.items():
            assert row[key] == value, f"installment {wanted['number']} {key}: {row[key]} != {value}"
    for key, value in expect.items():
        if key != "installments":
            assert quote[key] == value, f"{key}: {quote[key]} != {value}"
    assert len(quote["installments"]) == vector["request"]["termMonths"]
    assert quote["installments"][-1]["remainingPrincipal"] == "0.00"


def test_loan_quote_with_every_option_matches_the_schema():
    body = {"principal": "100000.00", "annualRate": "12", "termMonths": 12, "method": "equal-installment",
            "startDate": "2026-01-31", "installmentRounding": "0.01", "upfrontFee": "1000.00"}
    quote = check(call("POST", "/api/v1/loan-quotes", body), "POST", "/api/v1/loan-quotes", 200)
    assert quote["installments"][0]["dueDate"] == "2026-02-28"
    assert float(quote["apr"]) > 12.68  # the fee raises the APR above the nominal rate's 12.68
    for method in ("equal-principal", "interest-first"):
        check(call("POST", "/api/v1/loan-quotes", dict(body, method=method)), "POST", "/api/v1/loan-quotes", 200)


@pytest.mark.parametrize("body,field,status", [
    ({"annualRate": "12", "termMonths": 12, "method": "equal-installment"}, "principal", 400),
    ({"principal": "-1", "annualRate": "12", "termMonths": 12, "method": "equal-installment"}, "principal", 422),
    ({"principal": "abc", "annualRate": "12", "termMonths": 12, "method": "equal-installment"}, "principal", 422),
    ({"principal": "0", "annualRate": "12", "termMonths": 12, "method": "equal-installment"}, "principal", 422),
    ({"principal": "100000000.01", "annualRate": "12", "termMonths": 12, "method": "equal-installment"}, "principal", 422),
    ({"principal": True, "annualRate": "12", "termMonths": 12, "method": "equal-installment"}, "principal", 400),
    ({"principal": "1000", "termMonths": 12, "method": "equal-installment"}, "annualRate", 400),
    ({"principal": "1000", "annualRate": "36.01", "termMonths": 12, "method": "equal-installment"}, "annualRate", 422),
    ({"principal": "1000", "annualRate": "-1", "termMonths": 12, "method": "equal-installment"}, "annualRate", 422),
    ({"principal": "1000", "annualRate": "12", "method": "equal-installment"}, "termMonths", 400),
    ({"principal": "1000", "annualRate": "12", "termMonths": 0, "method": "equal-installment"}, "termMonths", 422),
    ({"principal": "1000", "annualRate": "12", "termMonths": 1000, "method": "equal-installment"}, "termMonths", 422),
    ({"principal": "1000", "annualRate": "12", "termMonths": "12", "method": "equal-installment"}, "termMonths", 400),
    ({"principal": "1000", "annualRate": "12", "termMonths": 1.5, "method": "equal-installment"}, "termMonths", 422),
    ({"principal": "1000", "annualRate": "12", "termMonths": 12}, "method", 400),
    ({"principal": "1000", "annualRate": "12", "termMonths": 12, "method": "balloon"}, "method", 422),
    ({"principal": "1000", "annualRate": "12", "termMonths": 12, "method": "equal-installment", "startDate": "2026-13-01"}, "startDate", 422),
    ({"principal": "1000", "annualRate": "12", "termMonths": 12, "method": "equal-installment", "upfrontFee": "1000"}, "upfrontFee", 422),
    ({"principal": "1000", "annualRate": "12", "termMonths": 12, "method": "equal-installment", "upfrontFee": "-1"}, "upfrontFee", 422),
    ({"principal": "1000", "annualRate": "12", "termMonths": 12, "method": "equal-installment", "installmentRounding": "0"}, "installmentRounding", 422),
])
def test_bad_loan_quote_input_names_the_field(body, field, status):
    expect_error(call("POST", "/api/v1/loan-quotes", body), "POST", "/api/v1/loan-quotes", field=field, status=status)


@pytest.mark.parametrize("raw,content_type", [
    (b"", "application/json"),
    (b'{"principal": ', "application/json"),
    (b"[1, 2]", "application/json"),
    (b"null", "application/json"),
    (b"principal=1000", "application/x-www-form-urlencoded"),
])
def test_malformed_loan_quote_bodies_get_a_documented_4xx(raw, content_type):
    expect_error(call("POST", "/api/v1/loan-quotes", raw=raw, content_type=content_type), "POST", "/api/v1/loan-quotes")


def test_an_oversized_body_gets_413_in_the_error_shape():
    big = json.dumps({"principal": "1000", "annualRate": "12", "termMonths": 12, "method": "equal-installment", "pad": "x" * (2 * 1024 * 1024)})
    answer = call("POST", "/api/v1/loan-quotes", raw=big.encode())
    expect_error(answer, "POST", "/api/v1/loan-quotes", status=413)
    assert call("GET", "/health").status == 200


def test_health_matches_the_document():
    body = check(call("GET", "/health"), "GET", "/health", 200)
    assert body["status"] == "ok"
