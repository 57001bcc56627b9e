"""The handler's workflow for bench/load_test.py (a benchmark, not a test).

Each locust user logs in once as its own handler account (written by load_test.py to
LOAD_USERS_FILE, one account per user, each with its own open cases in its own 中支 客服部), then
loops:

    1 desk          GET /cases/                         the desk as the navigation opens it
    2 filter        GET /cases/?status=…&from=…         htmx partial (HX-Target: case-table)
    2 search        GET /cases/?q=…                     full-text search, in ~30 % of the loops
    3 case          GET /cases/<pk>/                    one of the user's own cases
    4 contact       POST /cases/<pk>/contact/           联系记录, expects 302 back to the case
    3b case (after POST)  GET the redirect target       what the browser loads next
    5 transition    POST /cases/<pk>/transition/<a>/    the one transition of accept / start /
                                                        pause / resume the case's status allows,
                                                        expects 302
    3b case (after POST)

Redirects are never followed silently: a POST must answer 302 to its case page, a GET must
answer 200 (a 302 to the login page would be a lost session). A 200 page that carries an error
(form error, a `msg-error` message, the 403/404/500 pages) is a failure, and so is a case page
that offers none of the four transitions. Users never share a case, so a 409 (stale version)
is never expected and counts as a failure too.

Environment: LOAD_USERS_FILE (JSON from load_test.py), LOAD_WAIT "min,max" think time in
seconds between steps ("0" for none), LOAD_RAW_FILE (every request's name, start, duration and
outcome, for exact percentiles), LOAD_SEARCH_SHARE (default 0.3).
"""

import datetime as dt
import itertools
import json
import os
import random
import re
import time
from urllib.parse import urlencode

from locust import FastHttpUser, between, constant, events, task
from locust.exception import StopUser

USERS = json.loads(open(os.environ["LOAD_USERS_FILE"], encoding="utf-8").read())
_wait = [float(x) for x in os.environ.get("LOAD_WAIT", "0").split(",")]
SEARCH_SHARE = float(os.environ.get("LOAD_SEARCH_SHARE", "0.3"))
_next_account = itertools.count()

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION_RE = re.compile(r'name="version" value="(\d+)"')
ACTION_RE = re.compile(r'data-testid="do-([a-z_]+)"')
ERROR_RE = re.compile(r'class="[^"]*\b(?:error|msg-error|has-error)\b[^"]*"')
# The transition a handler takes next, by the case's status: an endless cycle that keeps the case open.
NEXT_ACTION = ("accept", "start", "pause", "resume")
CONTACT_METHODS = ["电话", "上门", "接访", "信函", "短信", "微信"]
OUTCOMES = [
    "已电话联系客户, 告知处理进度",
    "客户要求尽快答复, 已登记诉求",
    "已向客户解释合同条款",
    "客户未接听, 稍后再联系",
    "已与客户约定补充材料时间",
]
WORK_ORDER_KINDS = ["咨询", "求助", "建议", "表扬"]
OPEN_STATUSES = ["登记", "受理", "处理中", "暂停"]
SEARCH_TERMS = [("骨髓移植", 4), ("退保损失", 4), ("骨折", 2)]  # rare, common (~10 %), 2 characters
HX = {"HX-Request": "true", "HX-Target": "case-table", "HX-Current-URL": "/cases/"}


def _date(days_ago: int) -> str:
    return (dt.date.today() - dt.timedelta(days=days_ago)).isoformat()


def filter_params(account: dict, rng: random.Random) -> dict:
    """One of the filters a handler uses: status, kind, channel, date range, unit, own cases, overdue."""
    choice = rng.randrange(7)
    if choice == 0:
        return {"status": rng.choice(OPEN_STATUSES), "from": _date(90), "to": _date(0)}
    if choice == 1:
        return {"view": "mine", "status": rng.choice(OPEN_STATUSES)}
    if choice == 2:
        return {"kind": rng.choice(WORK_ORDER_KINDS), "from": _date(365), "to": _date(0), "sort": "due"}
    if choice == 3:
        return {"status": "处理中", "channel": "4008热线", "from": _date(365), "to": _date(0)}
    if choice == 4:
        return {"unit": account["unit"], "from": _date(30), "to": _date(0), "page": str(rng.randint(2, 5))}
    if choice == 5:
        return {"view": "overdue"}
    return {"view": "mine"}


RAW: list = []


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, start_time=None, **kw):
    RAW.append((name, round(start_time or time.time(), 3), round(response_time, 2), exception is None))


@events.quitting.add_listener
def _dump(environment, **kw):
    path = os.environ.get("LOAD_RAW_FILE")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(RAW, fh)


class Handler(FastHttpUser):
    wait_time = constant(0) if _wait == [0.0] else between(_wait[0], _wait[-1])
    # 50 users against 2 cores queue up: allow slow answers, but never hang forever.
    network_timeout = 120.0
    connection_timeout = 30.0
    default_headers = {"Accept-Language": "zh-CN,zh;q=0.9"}

    def on_start(self):
        n = next(_next_account)
        if n >= len(USERS):
            raise StopUser(f"only {len(USERS)} accounts in LOAD_USERS_FILE")
        self.account = USERS[n]
        self.cases = list(self.account["cases"])
        self.rng = random.Random(n)
        self.turn = self.rng.randrange(len(self.cases))
        self.csrf = ""
        self.login()

    # --------------------------------------------------------------------------------------------

    def _fail(self, resp, why: str):
        snippet = ""
        if resp.text and ERROR_RE.search(resp.text):
            m = re.search(r'(?:class="[^"]*\berror\b[^"]*"|msg-error")[^>]*>([^<]{0,120})', resp.text)
            snippet = f": {m.group(1).strip()}" if m else ""
        resp.failure(f"{why} (HTTP {resp.status_code}){snippet}")

    def _page(self, url: str, name: str, must: str, headers=None) -> str | None:
        with self.client.get(
            url, name=name, headers=headers, allow_redirects=False, catch_response=True
        ) as resp:
            if resp.status_code != 200:
                self._fail(resp, f"expected 200, Location {resp.headers.get('Location', '-')}")
                return None
            text = resp.text or ""
            if must not in text:
                self._fail(resp, f"page without {must!r}")
                return None
            if ERROR_RE.search(text):
                self._fail(resp, "error on the page")
                return None
            m = CSRF_RE.search(text)
            if m:
                self.csrf = m.group(1)
            return text

    def _post(self, url: str, name: str, data: dict, expect_location: str) -> bool:
        data = {"csrfmiddlewaretoken": self.csrf, **data}
        with self.client.post(
            url,
            data=data,
            name=name,
            headers={"Referer": self.client.base_url + expect_location},
            allow_redirects=False,
            catch_response=True,
        ) as resp:
            location = resp.headers.get("Location", "")
            if resp.status_code != 302 or location.split("?")[0] not in (
                expect_location,
                self.client.base_url + expect_location,
            ):
                self._fail(resp, f"expected 302 to {expect_location}, got Location {location or '-'}")
                return False
            return True

    def login(self):
        text = self._page("/accounts/login/", "0 login page", 'name="password"')
        if text is None:
            raise StopUser("no login page")
        ok = False
        with self.client.post(
            "/accounts/login/",
            data={
                "csrfmiddlewaretoken": self.csrf,
                "username": self.account["username"],
                "password": self.account["password"],
            },
            name="0 login",
            allow_redirects=False,
            catch_response=True,
        ) as resp:
            if resp.status_code == 302 and "/accounts/login" not in resp.headers.get("Location", ""):
                ok = True
            else:
                self._fail(resp, "login refused")
        if not ok:
            raise StopUser("login failed")

    # --------------------------------------------------------------------------------------------

    @task
    def workflow(self):
        rng = self.rng
        if self._page("/cases/", "1 desk", 'data-testid="case-table"') is None:
            return
        self.wait()
        params = filter_params(self.account, rng)
        with_query = "/cases/?" + urlencode(params)
        self._page(with_query, "2 filter", 'data-testid="case-table"', headers=HX)
        self.wait()
        if rng.random() < SEARCH_SHARE:
            term = rng.choices([t for t, _ in SEARCH_TERMS], weights=[w for _, w in SEARCH_TERMS])[0]
            self._page(
                "/cases/?" + urlencode({"q": term}), "2 search", 'data-testid="case-table"', headers=HX
            )
            self.wait()

        pk = self.cases[self.turn % len(self.cases)]
        self.turn += 1
        case_url = f"/cases/{pk}/"
        text = self._page(case_url, "3 case", 'data-testid="case-status"')
        if text is None:
            return
        self.wait()
        ok = self._post(
            f"/cases/{pk}/contact/",
            "4 contact (POST)",
            {"method": rng.choice(CONTACT_METHODS), "at": "", "outcome": rng.choice(OUTCOMES), "note": ""},
            case_url,
        )
        if not ok:
            return
        text = self._page(case_url, "3b case (after POST)", 'data-testid="case-status"')
        if text is None:
            return
        self.wait()
        version = VERSION_RE.search(text)
        offered = set(ACTION_RE.findall(text))
        action = next((a for a in NEXT_ACTION if a in offered), None)
        if version is None or action is None:
            # Recorded as a failed step: every open case of the user should offer one of the four.
            events.request.fire(
                request_type="POST",
                name="5 transition (POST)",
                response_time=0,
                response_length=0,
                exception=RuntimeError(
                    f"case {pk}: no version or no workable transition in {sorted(offered)}"
                ),
                start_time=time.time(),
                context={},
                response=None,
                url=case_url,
            )
            return
        data = {"version": version.group(1), "reason": "压测: 处理人按流程办理"}
        if action == "pause":
            data["pause_reason"] = "待补充材料"
        if self._post(f"/cases/{pk}/transition/{action}/", "5 transition (POST)", data, case_url):
            self._page(case_url, "3b case (after POST)", 'data-testid="case-status"')
        self.wait()
