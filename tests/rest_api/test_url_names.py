"""
URL names (issue 17, point 6): ours reverse to the contract's paths, and every alias kept for
the peer's names reverses to the same path as its target.
"""
import pytest
from django.urls import resolve, reverse

from completion_aggregator import url_names
from completion_aggregator.rest_api.v1 import urls as v1_urls

C = "course-v1:edX+Agg+2026"
OLD = "edX/Agg/2026"
BLOCK = "block-v1:edX+Agg+2026+type@html+block@h1"
I4X = "i4x://edX/Agg/html/h1"

# Our names → the contract's paths (docs/rest_api.rst and docs/pages.rst).
OURS = [
    ("completion_aggregator:v1:course-list", {}, "/completion-aggregator/v1/course/"),
    ("completion_aggregator:v1:course-detail", {"course_key": C}, f"/completion-aggregator/v1/course/{C}/"),
    ("completion_aggregator:v1:course-detail", {"course_key": OLD}, f"/completion-aggregator/v1/course/{OLD}/"),
    ("completion_aggregator:v1:course-stats", {"course_key": C}, f"/completion-aggregator/v1/stats/{C}/"),
    ("completion_aggregator:v0:course-list", {}, "/completion-aggregator/v0/course/"),
    ("completion_aggregator:v0:course-detail", {"course_key": C}, f"/completion-aggregator/v0/course/{C}/"),
    (
        "completion_aggregator:v0:block-completion",
        {"course_key": C, "block_key": BLOCK},
        f"/completion-aggregator/v0/course/{C}/blocks/{BLOCK}/",
    ),
    (
        "completion_aggregator:v0:block-completion",
        {"course_key": OLD, "block_key": I4X},
        f"/completion-aggregator/v0/course/{OLD}/blocks/{I4X}/",
    ),
    ("completion_aggregator:progress-bar", {"course_key": C}, f"/completion-aggregator/progress_bar/{C}/"),
    (
        "completion_aggregator:progress-bar-chapter",
        {"course_key": C, "chapter_id": "ch0"},
        f"/completion-aggregator/progress_bar/{C}/ch0/",
    ),
]


@pytest.mark.parametrize("name, kwargs, path", OURS)
def test_our_names_reverse_to_the_contract_paths_and_back(name, kwargs, path):
    assert reverse(name, kwargs=kwargs) == path
    match = resolve(path)
    assert f"{match.namespace}:{match.url_name}" == name
    assert match.kwargs == kwargs  # the old-Mongo block key reaches the view whole


def test_the_alias_mechanism_registers_an_old_name_beside_ours():
    made = url_names.alias_patterns(v1_urls.urlpatterns, {"v1:old-detail-name": "v1:course-detail"}, "v1:")
    assert [(pattern.name, pattern.callback) for pattern in made] == [
        ("old-detail-name", next(p.callback for p in v1_urls.urlpatterns if p.name == "course-detail"))
    ]
    assert str(made[0].pattern) == str(next(p.pattern for p in v1_urls.urlpatterns if p.name == "course-detail"))
    with pytest.raises(LookupError):
        url_names.alias_patterns(v1_urls.urlpatterns, {"v1:x": "v1:no-such-name"}, "v1:")
