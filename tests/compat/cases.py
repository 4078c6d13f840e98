"""
Recorded requests and the responses a client of the peer relies on, written from the contract
(``docs/rest_api.rst``) and the behaviours of issue 17 — not copied from the other package.

Each ``Case`` is one request: who sends it (a name of ``conftest.world``), how, and what comes
back: the status, the *shape* a client parses (``PAGE``: the namespaced pagination envelope of
course entries; ``ENTRY``: a bare v0 course entry; ``STATS``; ``BLOCK``: the block POST answer;
``ERROR``: ``{"detail": str}``; ``BAR``/``UNAVAILABLE``: the progress bar pages; ``LOGIN``: a
redirect to the login page) and a few values (``expect``: dotted path → value; ``len:`` prefix
for a list's length).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .conftest import GONE, OLD, C

V1 = "/completion-aggregator/v1"
V0 = "/completion-aggregator/v0"
BAR = "/completion-aggregator/progress_bar"

PAGE, ENTRY, STATS, BLOCK, ERROR, BAR_PAGE, UNAVAILABLE, LOGIN = (
    "page",
    "entry",
    "stats",
    "block",
    "error",
    "bar",
    "unavailable",
    "login",
)


def leaf(course: str, block_id: str) -> str:
    return f"block-v1:{course.split(':', 1)[1]}+type@html+block@{block_id}"


def chapter(block_id: str, course: str = C) -> str:
    return f"block-v1:{course.split(':', 1)[1]}+type@chapter+block@{block_id}"


DONE = leaf(C, "ch0_se0_ve0_ht0")  # completed by alex
NEW = leaf(C, "ch1_se1_ve1_ht1")  # completed by nobody
OLD_I4X = "i4x://edX/Old/html/ch0_se0_ve0_ht0"


@dataclass(frozen=True)
class Case:
    id: str
    who: str | None  # None: anonymous
    method: str
    path: str
    data: Any = None  # GET params, or the POST body
    status: int = 200
    shape: str = PAGE
    fmt: str = "json"  # POST body: json, form (urlencoded), multipart, raw (JSON text as is)
    expect: dict = field(default_factory=dict)
    v0: bool = False  # completions carry ratio


def detail(version: str, course: str = C) -> str:
    return f"{version}/course/{course}/"


def blocks(block_key: str, course: str = C) -> str:
    return f"{V0}/course/{course}/blocks/{block_key}/"


ALEX_C = {"earned": 4.0, "possible": 16.0, "percent": 0.25}
ALEX_C0 = {**ALEX_C, "ratio": 0.25}

CASES: list[Case] = [
    # v1 list -------------------------------------------------------------------------------
    Case("v1 list learner", "learner", "GET", f"{V1}/course/", expect={"pagination.count": 3, "results.0.completion": ALEX_C,
         "results.0.course_key": C, "results.1.course_key": GONE, "results.2.course_key": OLD}),
    Case("v1 list learner own username any case", "learner", "GET", f"{V1}/course/", {"username": "ALEX"}, expect={"pagination.count": 3}),
    Case("v1 list learner chapter", "learner", "GET", f"{V1}/course/", {"requested_fields": "chapter"},
         expect={"results.0.chapter.0.completion": {"earned": 4.0, "possible": 8.0, "percent": 0.5}, "len:results.0.chapter": 2}),
    Case("v1 list learner page_size 1", "learner", "GET", f"{V1}/course/", {"page_size": 1},
         expect={"pagination.num_pages": 3, "len:results": 1, "pagination.previous": None}),
    Case("v1 list learner page 2", "learner", "GET", f"{V1}/course/", {"page_size": 2, "page": 2}, expect={"len:results": 1, "pagination.next": None}),
    Case("v1 list learner mobile_only", "learner", "GET", f"{V1}/course/", {"mobile_only": "true"}, expect={"pagination.count": 0}),
    Case("v1 list learner username field", "learner", "GET", f"{V1}/course/", {"requested_fields": "username"}, expect={"results.0.username": "alex"}),
    Case("v1 list learner optional", "learner", "GET", f"{V1}/course/", {"include_optional": "TRUE"},
         expect={"results.0.optional_completion": {"earned": 0.0, "possible": 0.0, "percent": 1.0}}),
    Case("v1 list other learner's", "other", "GET", f"{V1}/course/", {"username": "alex"}, 403, ERROR),
    Case("v1 list other own", "other", "GET", f"{V1}/course/", expect={"pagination.count": 1,
         "results.0.completion": {"earned": 0.0, "possible": 16.0, "percent": 0.0}}),
    Case("v1 list course staff for alex", "staff", "GET", f"{V1}/course/", {"username": "alex"}, 403, ERROR),
    Case("v1 list course staff own", "staff", "GET", f"{V1}/course/", expect={"pagination.count": 0}),
    Case("v1 list instructor for alex", "instructor", "GET", f"{V1}/course/", {"username": "alex"}, 403, ERROR),
    Case("v1 list org staff for alex", "org", "GET", f"{V1}/course/", {"username": "alex"}, 403, ERROR),
    Case("v1 list global staff for alex", "global", "GET", f"{V1}/course/", {"username": "alex"}, expect={"pagination.count": 3}),
    Case("v1 list global staff own", "global", "GET", f"{V1}/course/", expect={"pagination.count": 0, "results": []}),
    Case("v1 list global staff unknown user", "global", "GET", f"{V1}/course/", {"username": "nobody"}, 404, ERROR,
         expect={"detail": "Unknown username: 'nobody'."}),
    Case("v1 list beta tester", "beta", "GET", f"{V1}/course/", expect={"results.0.completion.percent": 0.5}),
    Case("v1 list inactive", "inactive", "GET", f"{V1}/course/", expect={"results.0.completion.percent": 0.125}),
    Case("v1 list anonymous", None, "GET", f"{V1}/course/", status=401, shape=ERROR),
    # v1 detail GET --------------------------------------------------------------------------
    Case("v1 detail learner", "learner", "GET", detail(V1), expect={"pagination.count": 1, "results.0.completion": ALEX_C}),
    Case("v1 detail learner all fields", "learner", "GET", detail(V1), {"requested_fields": "chapter,sequential,vertical,mean,username"},
         expect={"len:results.0.chapter": 2, "len:results.0.sequential": 4, "len:results.0.vertical": 8, "results.0.username": "alex"}),
    Case("v1 detail learner root_block keeps the course's completion", "learner", "GET", detail(V1),
         {"root_block": chapter("ch0"), "requested_fields": "chapter,sequential"},
         expect={"results.0.completion": ALEX_C, "len:results.0.chapter": 1, "results.0.chapter.0.block_key": chapter("ch0"),
                 "len:results.0.sequential": 2}),
    Case("v1 detail learner user_ids ignored", "learner", "GET", detail(V1), {"user_ids": "1,2"}, expect={"pagination.count": 1}),
    Case("v1 detail other asks for alex", "other", "GET", detail(V1), {"username": "alex"}, 403, ERROR),
    Case("v1 detail other own", "other", "GET", detail(V1), expect={"results.0.completion.earned": 0.0}),
    Case("v1 detail course staff lists learners", "staff", "GET", detail(V1),
         expect={"pagination.count": 4, "results.0.username": "alex", "results.1.username": "sam", "results.2.username": "bea",
                 "results.3.username": "ghost", "results.0.completion": ALEX_C}),
    Case("v1 detail course staff for alex", "staff", "GET", detail(V1), {"username": "alex"}, expect={"results.0.completion": ALEX_C}),
    Case("v1 detail instructor lists learners", "instructor", "GET", detail(V1), {"page_size": 2},
         expect={"pagination.count": 4, "pagination.num_pages": 2, "len:results": 2}),
    Case("v1 detail org staff lists learners", "org", "GET", detail(V1), expect={"pagination.count": 4}),
    Case("v1 detail global lists learners with chapter", "global", "GET", detail(V1), {"requested_fields": "chapter"},
         expect={"len:results.0.chapter": 2, "results.1.chapter.0.completion.earned": 0.0}),
    Case("v1 detail global user_ids", "global", "GET", detail(V1), {"user_ids": "USER:sam.USER:bea"}, expect={"pagination.count": 2}),
    Case("v1 detail global root_block listing", "global", "GET", detail(V1), {"root_block": chapter("ch1"), "requested_fields": "chapter"},
         expect={"results.0.completion": ALEX_C, "results.0.chapter.0.completion.earned": 0.0}),
    Case("v1 detail beta tester for alex", "beta", "GET", detail(V1), {"username": "alex"}, 403, ERROR),
    Case("v1 detail beta tester own", "beta", "GET", detail(V1), expect={"results.0.completion.earned": 8.0}),
    Case("v1 detail inactive own", "inactive", "GET", detail(V1), expect={"results.0.completion.earned": 2.0}),
    Case("v1 detail old-style course", "learner", "GET", detail(V1, OLD), expect={"results.0.course_key": OLD,
         "results.0.completion": {"earned": 0.0, "possible": 2.0, "percent": 0.0}}),
    Case("v1 detail deleted course learner", "learner", "GET", detail(V1, GONE), expect={"results.0.completion": {"earned": 1.0, "possible": 2.0, "percent": 0.5}}),
    Case("v1 detail deleted course staff listing", "global", "GET", detail(V1, GONE), expect={"pagination.count": 1, "results.0.username": "alex"}),
    Case("v1 detail staff of C on another course", "staff", "GET", detail(V1, GONE), {"username": "alex"}, 403, ERROR),
    Case("v1 detail anonymous", None, "GET", detail(V1), status=401, shape=ERROR),
    # v1 detail POST -------------------------------------------------------------------------
    Case("v1 detail POST learner", "learner", "POST", detail(V1), {}, expect={"results.0.completion": ALEX_C}),
    Case("v1 detail POST learner fields list", "learner", "POST", detail(V1), {"requested_fields": ["chapter"], "include_optional": True},
         expect={"len:results.0.chapter": 2, "results.0.chapter.0.optional_completion.percent": 1.0}),
    Case("v1 detail POST staff user_ids", "staff", "POST", detail(V1), {"user_ids": ["USER:alex", "USER:ghost"]},
         expect={"pagination.count": 2, "results.1.username": "ghost"}),
    Case("v1 detail POST global username", "global", "POST", detail(V1), {"username": "bea"}, expect={"results.0.completion.percent": 0.5}),
    Case("v1 detail POST other for alex", "other", "POST", detail(V1), {"username": "alex"}, 403, ERROR),
    Case("v1 detail POST org root_block", "org", "POST", detail(V1), {"root_block": chapter("ch0"), "requested_fields": ["sequential"]},
         expect={"len:results.0.sequential": 2}),
    Case("v1 detail POST anonymous", None, "POST", detail(V1), {}, 401, ERROR),
    # v1 stats -------------------------------------------------------------------------------
    Case("v1 stats course staff", "staff", "GET", f"{V1}/stats/{C}/", shape=STATS, expect={"results.0.course_key": C,
         "results.0.mean_completion.possible": 16.0}),
    Case("v1 stats instructor mean", "instructor", "GET", f"{V1}/stats/{C}/", {"requested_fields": "mean"}, shape=STATS),
    Case("v1 stats org chapter", "org", "GET", f"{V1}/stats/{C}/", {"requested_fields": "chapter"}, shape=STATS,
         expect={"len:results.0.chapter": 2, "results.0.chapter.0.block_key": chapter("ch0")}),
    Case("v1 stats global exclude roles", "global", "GET", f"{V1}/stats/{C}/", {"exclude_roles": "beta_testers"}, shape=STATS),
    Case("v1 stats global unknown cohort", "global", "GET", f"{V1}/stats/{C}/", {"cohorts": "999"}, shape=STATS,
         expect={"results.0.mean_completion.earned": 0.0}),
    Case("v1 stats learner", "learner", "GET", f"{V1}/stats/{C}/", status=403, shape=ERROR),
    Case("v1 stats beta tester", "beta", "GET", f"{V1}/stats/{C}/", status=403, shape=ERROR),
    Case("v1 stats inactive", "inactive", "GET", f"{V1}/stats/{C}/", status=403, shape=ERROR),
    Case("v1 stats anonymous", None, "GET", f"{V1}/stats/{C}/", status=401, shape=ERROR),
    Case("v1 stats deleted course global", "global", "GET", f"{V1}/stats/{GONE}/", {"requested_fields": "mean,chapter"}, shape=STATS,
         expect={"results.0.course_key": GONE, "results.0.mean_completion": {"earned": 1.0, "possible": 2.0, "percent": 0.5},
                 "results.0.mean": 0.5, "len:results.0.chapter": 1, "results.0.chapter.0.block_key": chapter("ch0", GONE),
                 "results.0.chapter.0.completed_count": 0}),
    Case("v1 stats deleted course org staff", "org", "GET", f"{V1}/stats/{GONE}/", shape=STATS,
         expect={"results.0.mean_completion.possible": 2.0}),
    Case("v1 stats deleted course staff of another course", "staff", "GET", f"{V1}/stats/{GONE}/", status=403, shape=ERROR),
    Case("v1 stats deleted course learner", "learner", "GET", f"{V1}/stats/{GONE}/", status=403, shape=ERROR),
    # v0 list --------------------------------------------------------------------------------
    Case("v0 list learner", "learner", "GET", f"{V0}/course/", v0=True, expect={"pagination.count": 3, "results.0.completion": ALEX_C0}),
    Case("v0 list learner vertical", "learner", "GET", f"{V0}/course/", {"requested_fields": "vertical"}, v0=True,
         expect={"len:results.0.vertical": 8, "results.0.vertical.0.completion.ratio": 1.0}),
    Case("v0 list other for alex", "other", "GET", f"{V0}/course/", {"username": "alex"}, 403, ERROR),
    Case("v0 list course staff for alex", "staff", "GET", f"{V0}/course/", {"username": "alex"}, 403, ERROR),
    Case("v0 list global for alex", "global", "GET", f"{V0}/course/", {"username": "alex"}, v0=True, expect={"pagination.count": 3}),
    Case("v0 list beta", "beta", "GET", f"{V0}/course/", v0=True, expect={"results.0.completion.ratio": 0.5}),
    Case("v0 list inactive", "inactive", "GET", f"{V0}/course/", v0=True, expect={"results.0.completion.ratio": 0.125}),
    Case("v0 list anonymous", None, "GET", f"{V0}/course/", status=401, shape=ERROR),
    # v0 detail ------------------------------------------------------------------------------
    Case("v0 detail learner bare", "learner", "GET", detail(V0), shape=ENTRY, v0=True, expect={"completion": ALEX_C0, "course_key": C}),
    Case("v0 detail learner chapter mean username", "learner", "GET", detail(V0), {"requested_fields": "chapter,mean,username"},
         shape=ENTRY, v0=True, expect={"username": "alex", "len:chapter": 2}),
    Case("v0 detail other for alex", "other", "GET", detail(V0), {"username": "alex"}, 403, ERROR),
    Case("v0 detail other own", "other", "GET", detail(V0), shape=ENTRY, v0=True, expect={"completion.ratio": 0.0}),
    Case("v0 detail course staff for alex", "staff", "GET", detail(V0), {"username": "alex"}, shape=ENTRY, v0=True, expect={"completion": ALEX_C0}),
    Case("v0 detail course staff without username: own, not enrolled", "staff", "GET", detail(V0), status=404, shape=ERROR,
         expect={"detail": f"User 'teacher' is not enrolled in course '{C}'."}),
    Case("v0 detail instructor for sam", "instructor", "GET", detail(V0), {"username": "sam"}, shape=ENTRY, v0=True),
    Case("v0 detail org staff for bea", "org", "GET", detail(V0), {"username": "bea"}, shape=ENTRY, v0=True, expect={"completion.ratio": 0.5}),
    Case("v0 detail global without username: own", "global", "GET", detail(V0), status=404, shape=ERROR),
    Case("v0 detail enrolled beta tester: own bare entry", "beta", "GET", detail(V0), shape=ENTRY, v0=True, expect={"completion.earned": 8.0}),
    Case("v0 detail inactive", "inactive", "GET", detail(V0), shape=ENTRY, v0=True, expect={"completion.earned": 2.0}),
    Case("v0 detail optional", "learner", "GET", detail(V0), {"include_optional": "true"}, shape=ENTRY, v0=True,
         expect={"optional_completion": {"earned": 0.0, "possible": 0.0, "percent": 1.0, "ratio": 1.0}}),
    Case("v0 detail deleted course", "learner", "GET", detail(V0, GONE), shape=ENTRY, v0=True, expect={"completion.ratio": 0.5}),
    Case("v0 detail old-style course", "learner", "GET", detail(V0, OLD), shape=ENTRY, v0=True, expect={"course_key": OLD}),
    Case("v0 detail POST not allowed", "learner", "POST", detail(V0), {}, 405, ERROR),
    Case("v0 detail anonymous", None, "GET", detail(V0), status=401, shape=ERROR),
    # v0 block POST --------------------------------------------------------------------------
    Case("block POST JSON number created", "learner", "POST", blocks(NEW), {"completion": 0.5}, status=201, shape=BLOCK,
         expect={"completion": 0.5, "block_key": NEW, "course_key": C}),
    Case("block POST JSON number updated", "learner", "POST", blocks(DONE), {"completion": 1}, shape=BLOCK, expect={"completion": 1.0}),
    Case("block POST JSON numeric string", "learner", "POST", blocks(NEW), {"completion": "0.75"}, status=201, shape=BLOCK, expect={"completion": 0.75}),
    Case("block POST form-encoded", "learner", "POST", blocks(NEW), "completion=0.25", 201, BLOCK, fmt="form", expect={"completion": 0.25}),
    Case("block POST multipart", "learner", "POST", blocks(NEW), {"completion": "1"}, 201, BLOCK, fmt="multipart", expect={"completion": 1.0}),
    Case("block POST i4x key old course", "learner", "POST", blocks(OLD_I4X, OLD), {"completion": 1.0}, status=201, shape=BLOCK,
         expect={"block_key": OLD_I4X, "course_key": OLD}),
    Case("block POST other learner", "other", "POST", blocks(NEW), {"completion": 1.0}, status=201, shape=BLOCK),
    Case("block POST beta", "beta", "POST", blocks(NEW), {"completion": 0.0}, status=201, shape=BLOCK, expect={"completion": 0.0}),
    Case("block POST inactive", "inactive", "POST", blocks(NEW), {"completion": 1.0}, status=201, shape=BLOCK),
    Case("block POST course staff not enrolled", "staff", "POST", blocks(NEW), {"completion": 1.0}, 404, ERROR,
         expect={"detail": f"User 'teacher' is not enrolled in course '{C}'."}),
    Case("block POST global not enrolled", "global", "POST", blocks(NEW), {"completion": 1.0}, 404, ERROR),
    Case("block POST anonymous", None, "POST", blocks(NEW), {"completion": 1.0}, 401, ERROR),
    # Progress bars --------------------------------------------------------------------------
    Case("bar course learner", "learner", "GET", f"{BAR}/{C}/", shape=BAR_PAGE, expect={"aria-valuenow": 25}),
    Case("bar chapter learner", "learner", "GET", f"{BAR}/{C}/ch0/", shape=BAR_PAGE, expect={"aria-valuenow": 50}),
    Case("bar other chapter learner", "learner", "GET", f"{BAR}/{C}/ch1/", shape=BAR_PAGE, expect={"aria-valuenow": 0}),
    Case("bar beta", "beta", "GET", f"{BAR}/{C}/", shape=BAR_PAGE, expect={"aria-valuenow": 50}),
    Case("bar other learner", "other", "GET", f"{BAR}/{C}/", shape=BAR_PAGE, expect={"aria-valuenow": 0}),
    Case("bar course staff not enrolled: 0 %", "staff", "GET", f"{BAR}/{C}/", shape=BAR_PAGE, expect={"aria-valuenow": 0}),
    Case("bar global not enrolled: 0 %", "global", "GET", f"{BAR}/{C}/ch0/", shape=BAR_PAGE, expect={"aria-valuenow": 0}),
    Case("bar deleted course", "learner", "GET", f"{BAR}/{GONE}/", shape=BAR_PAGE, expect={"aria-valuenow": 50}),
    Case("bar old-style course", "learner", "GET", f"{BAR}/{OLD}/", shape=BAR_PAGE, expect={"aria-valuenow": 0}),
    Case("bar unknown course", "learner", "GET", f"{BAR}/course-v1:No+Such+Course/", shape=UNAVAILABLE, expect={"reason": "unknown-course"}),
    Case("bar unknown chapter", "learner", "GET", f"{BAR}/{C}/nope/", shape=UNAVAILABLE, expect={"reason": "unknown-chapter"}),
    Case("bar anonymous", None, "GET", f"{BAR}/{C}/", status=302, shape=LOGIN),
]

# Bad inputs: each a clear 4xx naming what is wrong, never a 500 -----------------------------
BAD: list[Case] = [
    Case("bad course key v1 detail", "learner", "GET", detail(V1, "not-a-key"), status=404, shape=ERROR,
         expect={"detail": "Invalid course key: 'not-a-key'."}),
    Case("bad course key v0 detail", "learner", "GET", detail(V0, "not-a-key"), status=404, shape=ERROR),
    Case("bad course key stats", "global", "GET", f"{V1}/stats/not-a-key/", status=404, shape=ERROR),
    Case("bad course key block POST", "learner", "POST", blocks(NEW, "not-a-key"), {"completion": 1}, 404, ERROR),
    Case("unknown course v1 detail", "learner", "GET", detail(V1, "course-v1:No+Such+Course"), status=404, shape=ERROR,
         expect={"detail": "Course not found: 'course-v1:No+Such+Course'."}),
    Case("unknown course staff listing", "global", "GET", detail(V1, "course-v1:No+Such+Course"), status=404, shape=ERROR,
         expect={"detail": "Course not found: 'course-v1:No+Such+Course'."}),
    Case("unknown course stats", "global", "GET", f"{V1}/stats/course-v1:No+Such+Course/", status=404, shape=ERROR,
         expect={"detail": "Course not found: 'course-v1:No+Such+Course'."}),
    Case("not enrolled v1 detail", "other", "GET", detail(V1, OLD), status=404, shape=ERROR,
         expect={"detail": f"User 'sam' is not enrolled in course '{OLD}'."}),
    Case("bad requested_fields v1 list", "learner", "GET", f"{V1}/course/", {"requested_fields": "chapter,bogus"}, 400, ERROR),
    Case("bad requested_fields v1 detail", "learner", "GET", detail(V1), {"requested_fields": "course"}, 400, ERROR),
    Case("bad requested_fields v0 list", "learner", "GET", f"{V0}/course/", {"requested_fields": "x"}, 400, ERROR),
    Case("bad requested_fields stats", "global", "GET", f"{V1}/stats/{C}/", {"requested_fields": "username"}, 400, ERROR),
    Case("bad requested_fields POST type", "learner", "POST", detail(V1), {"requested_fields": {"a": 1}}, 400, ERROR),
    Case("user_ids not integers", "global", "GET", detail(V1), {"user_ids": "a,b"}, 400, ERROR,
         expect={"detail": "Invalid user_ids: 'a', 'b' (expected integers)."}),
    Case("user_ids too large", "global", "GET", detail(V1), {"user_ids": "99999999999999999999"}, 400, ERROR),
    Case("user_ids POST strings", "global", "POST", detail(V1), {"user_ids": ["x"]}, 400, ERROR),
    Case("cohorts not integer", "global", "GET", f"{V1}/stats/{C}/", {"cohorts": "abc"}, 400, ERROR),
    Case("include_optional POST number", "learner", "POST", detail(V1), {"include_optional": 1}, 400, ERROR),
    Case("username POST list", "learner", "POST", detail(V1), {"username": ["alex"]}, 400, ERROR),
    Case("detail POST body array", "learner", "POST", detail(V1), "[1, 2]", 400, ERROR, fmt="raw"),
    Case("detail POST body broken JSON", "learner", "POST", detail(V1), "{oops", 400, ERROR, fmt="raw"),
    Case("root_block invalid", "learner", "GET", detail(V1), {"root_block": "nope"}, 404, ERROR, expect={"detail": "Invalid root_block: 'nope'."}),
    Case("root_block not in course", "learner", "GET", detail(V1), {"root_block": chapter("zz")}, 404, ERROR),
    Case("page 0", "learner", "GET", f"{V1}/course/", {"page": "0"}, 404, ERROR, expect={"detail": "Invalid page."}),
    Case("page abc", "global", "GET", detail(V1), {"page": "abc"}, 404, ERROR),
    Case("block POST NaN literal", "learner", "POST", blocks(NEW), '{"completion": NaN}', 400, ERROR, fmt="raw"),
    Case("block POST Infinity string", "learner", "POST", blocks(NEW), {"completion": "Infinity"}, status=400, shape=ERROR),
    Case("block POST boolean", "learner", "POST", blocks(NEW), {"completion": True}, status=400, shape=ERROR),
    Case("block POST above 1", "learner", "POST", blocks(NEW), {"completion": 1.5}, status=400, shape=ERROR,
         expect={"detail": "Invalid completion: '1.5' (expected a number between 0.0 and 1.0)."}),
    Case("block POST negative form", "learner", "POST", blocks(NEW), "completion=-0.5", 400, ERROR, fmt="form"),
    Case("block POST words", "learner", "POST", blocks(NEW), {"completion": "half"}, status=400, shape=ERROR),
    Case("block POST missing", "learner", "POST", blocks(NEW), {}, status=400, shape=ERROR),
    Case("block POST invalid block key", "learner", "POST", blocks("not-a-block"), {"completion": 1}, 404, ERROR,
         expect={"detail": "Invalid block key: 'not-a-block'."}),
    Case("block POST block of another course", "learner", "POST", blocks(leaf(GONE, "ch0_se0_ve0_ht0")), {"completion": 1}, 404, ERROR),
    Case("block POST i4x of another org", "learner", "POST", blocks("i4x://Other/Old/html/ch0_se0_ve0_ht0", OLD), {"completion": 1}, 404, ERROR),
    Case("block POST deleted course", "learner", "POST", blocks(leaf(GONE, "ch0_se0_ve0_ht1"), GONE), {"completion": 1}, 404, ERROR,
         expect={"detail": f"Course not found: '{GONE}'."}),
    Case("bar invalid course key", "learner", "GET", f"{BAR}/not-a-key/", status=400, shape=UNAVAILABLE, expect={"reason": "invalid-course-key"}),
    Case("bar chapter with a space", "learner", "GET", f"{BAR}/{C}/abc%20def/", status=400, shape=UNAVAILABLE, expect={"reason": "invalid-chapter-id"}),
    Case("bar chapter markup", "learner", "GET", f"{BAR}/{C}/%3Cscript%3E/", status=400, shape=UNAVAILABLE),
    Case("bar chapter NUL", "learner", "GET", f"{BAR}/{C}/a%00b/", status=400, shape=UNAVAILABLE),
    Case("bar chapter invalid UTF-8", "learner", "GET", f"{BAR}/{C}/%FF%FE/", status=400, shape=UNAVAILABLE),
    Case("bar POST", "learner", "POST", f"{BAR}/{C}/", {}, status=405, shape="any"),
]

ALL = CASES + BAD
