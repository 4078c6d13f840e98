"""
Who may call what: every endpoint x every role, one asserted status per cell.

Every request asks for the data of ``alex``, a learner enrolled in the course (``username=alex``
where the endpoint takes one). The roles:

* ``anonymous``: no credentials;
* ``self``: alex;
* ``other``: sam, another learner enrolled in the same course;
* ``staff``: course staff (``CourseAccessRole`` ``staff``) of this course, not enrolled;
* ``instr``: instructor of this course, not enrolled;
* ``orgstf``: org-wide course staff of the course's org, not enrolled;
* ``elsewh``: course staff of another course, not enrolled in this one;
* ``global``: global staff (``is_staff``), not enrolled.

The v0 block completion POST has no ``username``: it always records the requester's own
completion (a ``username`` in the body is ignored), so enrolled callers get 201 and the
others 404 — see ``test_block_completion_is_always_the_requesters_own``.
"""
import pytest
from completion.models import BlockCompletion

from tests.helpers import build_course, learner

from .conftest import V0, V1, as_user, make_course_staff, store

pytestmark = pytest.mark.django_db

COURSE = "course-v1:edX+Agg+2026"
BLOCK = "block-v1:edX+Agg+2026+type@html+block@ch1_se1_ve1_ht1"  # not completed by anyone yet
ROLES = ("anonymous", "self", "other", "staff", "instr", "orgstf", "elsewh", "global")

# endpoint: (method, url, data)
ENDPOINTS = {
    "v1 list": ("get", f"{V1}/course/", {"username": "alex"}),
    "v1 detail GET": ("get", f"{V1}/course/{COURSE}/", {"username": "alex"}),
    "v1 detail POST": ("post", f"{V1}/course/{COURSE}/", {"username": "alex"}),
    "v1 detail GET all": ("get", f"{V1}/course/{COURSE}/", {}),
    "v1 detail POST all": ("post", f"{V1}/course/{COURSE}/", {}),
    "v1 stats": ("get", f"{V1}/stats/{COURSE}/", {}),
    "v0 list": ("get", f"{V0}/course/", {"username": "alex"}),
    "v0 detail": ("get", f"{V0}/course/{COURSE}/", {"username": "alex"}),
    "v0 detail all": ("get", f"{V0}/course/{COURSE}/", {}),
    "v0 block POST": ("post", f"{V0}/course/{COURSE}/blocks/{BLOCK}/", {"completion": 1.0, "username": "alex"}),
}

# "... all": no username, i.e. every learner for staff powers on v1, the requester's own entry
# otherwise (404 for a requester who is not enrolled). v0 always answers the requester's own
# entry, staff included (as the peer's v0; issue 17, point 1): staff here are not enrolled.
MATRIX = {
    #                     anonymous self other staff instr orgstf elsewh global
    "v1 list":            (401,     200, 403,  403,  403,  403,   403,   200),
    "v1 detail GET":      (401,     200, 403,  200,  200,  200,   403,   200),
    "v1 detail POST":     (401,     200, 403,  200,  200,  200,   403,   200),
    "v1 detail GET all":  (401,     200, 200,  200,  200,  200,   404,   200),
    "v1 detail POST all": (401,     200, 200,  200,  200,  200,   404,   200),
    "v1 stats":           (401,     403, 403,  200,  200,  200,   403,   200),
    "v0 list":            (401,     200, 403,  403,  403,  403,   403,   200),
    "v0 detail":          (401,     200, 403,  200,  200,  200,   403,   200),
    "v0 detail all":      (401,     200, 200,  404,  404,  404,   404,   404),
    "v0 block POST":      (401,     201, 201,  404,  404,  404,   404,   404),
}  # fmt: skip

CELLS = [
    pytest.param(endpoint, role, expected, id=f"{endpoint}-{role}")
    for endpoint, row in MATRIX.items()
    for role, expected in zip(ROLES, row, strict=True)
]


@pytest.fixture
def people():
    course_key, leaves = build_course(COURSE)
    other_key, _ = build_course("course-v1:Else+Other+2026", shape=(1, 1, 1, 1))
    alex = learner("alex", course_key)
    sam = learner("sam", course_key)
    store(alex, course_key, leaves[:4])
    staff = learner("teacher")
    make_course_staff(staff, course_key, role="staff")
    instructor = learner("instructor")
    make_course_staff(instructor, course_key, role="instructor")
    from completion_aggregator.standalone.models import CourseAccessRole

    org_staff = learner("orgstaff")
    CourseAccessRole.objects.create(user=org_staff, org=course_key.org, role="staff")
    elsewhere = learner("elsewhere")
    make_course_staff(elsewhere, other_key, role="instructor")
    return {
        "anonymous": None,
        "self": alex,
        "other": sam,
        "staff": staff,
        "instr": instructor,
        "orgstf": org_staff,
        "elsewh": elsewhere,
        "global": learner("admin", is_staff=True),
    }


def test_the_matrix_covers_every_endpoint_and_role():
    assert set(MATRIX) == set(ENDPOINTS)
    assert all(len(row) == len(ROLES) for row in MATRIX.values())


@pytest.mark.parametrize("endpoint,role,expected", CELLS)
def test_status(client, people, endpoint, role, expected):
    method, url, data = ENDPOINTS[endpoint]
    user = people[role]
    if user is not None:
        as_user(client, user)
    if method == "get":
        response = client.get(url, data)
    else:
        response = client.post(url, data, format="json")
    assert response.status_code == expected, response.content
    if expected == 200 and endpoint.endswith(" all") and role not in ("self", "other"):
        # Staff powers: every enrolled learner, not the requester's own entry.
        results = response.json()["results"]
        assert [entry["username"] for entry in results] == ["alex", "sam"]
    elif expected == 200 and endpoint != "v1 stats":
        body = response.json()
        entry = body if endpoint.startswith("v0 detail") else body["results"][0]
        assert entry["course_key"] == COURSE
        assert entry["completion"]["earned"] == (0.0 if role == "other" and endpoint.endswith(" all") else 4.0)


@pytest.mark.parametrize("role", ["self", "other"])
def test_block_completion_is_always_the_requesters_own(client, people, role):
    user = people[role]
    method, url, data = ENDPOINTS["v0 block POST"]
    assert as_user(client, user).post(url, data, format="json").status_code == 201
    assert list(BlockCompletion.objects.filter(block_key=BLOCK).values_list("user__username", flat=True)) == [
        user.username
    ]


@pytest.mark.parametrize("role", ["anonymous", "staff", "elsewh", "global"])
def test_refused_block_completion_writes_nothing(client, people, role):
    before = BlockCompletion.objects.count()
    user = people[role]
    if user is not None:
        as_user(client, user)
    method, url, data = ENDPOINTS["v0 block POST"]
    assert client.post(url, data, format="json").status_code in (401, 404)
    assert BlockCompletion.objects.count() == before
