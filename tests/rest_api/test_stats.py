"""v1 GET /stats/<course_key>/: mean completion of the course's learners (staff only)."""
import pytest

from completion_aggregator.api.reports import MEAN_CACHE_KEY, get_mean
from completion_aggregator.standalone.models import Cohort, CohortMembership
from tests.helpers import build_course, learner

from .conftest import as_user, make_course_staff, stats_url, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort_of(course):
    def make(name, *users):
        course_key, _leaves = course
        cohort = Cohort.objects.create(course_key=course_key, name=name)
        for user in users:
            CohortMembership.objects.create(cohort=cohort, user=user, course_key=course_key)
        return cohort

    return make


@pytest.fixture
def three_learners(course):
    """alex 8/16, sam 4/16, kim never started (16 possible)."""
    course_key, leaves = course
    alex, sam, kim = (learner(name, course_key) for name in ("alex", "sam", "kim"))
    store(alex, course_key, leaves[:8])  # all of chapter 0
    store(sam, course_key, leaves[:4])
    return alex, sam, kim


def test_mean_completion_counts_learners_without_rows_as_zero(client, course, staff, three_learners):
    course_key, _leaves = course
    response = as_user(client, staff).get(stats_url(course_key))
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "course_key": str(course_key),
                "mean_completion": {"earned": 4.0, "possible": 16.0, "percent": 0.25},
            }
        ]
    }


def test_mean_and_per_block_statistics(client, course, staff, three_learners):
    course_key, _leaves = course
    response = as_user(client, staff).get(stats_url(course_key), {"requested_fields": "mean,chapter,sequential"})
    result = response.json()["results"][0]
    assert result["mean"] == pytest.approx((0.5 + 0.25 + 0.0) / 3)
    assert result["chapter"] == [
        {
            "block_key": str(course_key.make_usage_key("chapter", "ch0")),
            "mean_completion": {"earned": 4.0, "possible": 8.0, "percent": 0.5},
            "completed_count": 1,
        },
        {
            "block_key": str(course_key.make_usage_key("chapter", "ch1")),
            "mean_completion": {"earned": 0.0, "possible": 8.0, "percent": 0.0},
            "completed_count": 0,
        },
    ]
    assert [block["completed_count"] for block in result["sequential"]] == [2, 1, 0, 0]
    assert [block["mean_completion"]["earned"] for block in result["sequential"]] == [
        pytest.approx(8 / 3),
        pytest.approx(4 / 3),
        0.0,
        0.0,
    ]


def test_exclude_roles_leaves_role_holders_out(client, course, staff, three_learners):
    course_key, _leaves = course
    alex, _sam, _kim = three_learners
    make_course_staff(alex, course_key, role="beta_testers")
    result = as_user(client, staff).get(stats_url(course_key), {"exclude_roles": "beta_testers,staff"}).json()
    assert result["results"][0]["mean_completion"] == {"earned": 2.0, "possible": 16.0, "percent": 0.125}


def test_cohorts_keeps_only_that_cohorts_members(client, course, staff, three_learners, cohort_of):
    course_key, _leaves = course
    alex, sam, kim = three_learners
    cohort = cohort_of("A", alex, kim)
    cohort_of("B", sam)
    result = as_user(client, staff).get(stats_url(course_key), {"cohorts": str(cohort.pk)}).json()
    assert result["results"][0]["mean_completion"] == {"earned": 4.0, "possible": 16.0, "percent": 0.25}


@pytest.mark.parametrize("cohorts", ["abc", "1,2", "-1"])
def test_non_integer_cohorts_get_400(client, course, staff, cohorts):
    course_key, _leaves = course
    response = as_user(client, staff).get(stats_url(course_key), {"cohorts": cohorts})
    assert response.status_code == 400
    assert f"'{cohorts}'" in response.json()["detail"]


def test_bad_requested_fields_get_400(client, course, staff):
    course_key, _leaves = course
    response = as_user(client, staff).get(stats_url(course_key), {"requested_fields": "mean,username,foo"})
    assert response.status_code == 400
    assert "'username'" in response.json()["detail"] and "'foo'" in response.json()["detail"]


def test_invalid_course_key_gets_404(client, staff):
    response = as_user(client, staff).get(stats_url("nonsense"))
    assert response.status_code == 404
    assert response.json()["detail"] == "Invalid course key: 'nonsense'."
    assert client.get(stats_url("course-v1:edX+Nowhere+2026")).status_code == 404


def test_learners_may_not_see_statistics(client, course, three_learners):
    course_key, _leaves = course
    alex, _sam, _kim = three_learners
    assert as_user(client, alex).get(stats_url(course_key)).status_code == 403


def test_course_staff_see_statistics_of_their_course_only(client, course, three_learners):
    course_key, _leaves = course
    other_key, _ = build_course("course-v1:edX+Other+2026", shape=(1, 1, 1, 2))
    teacher = learner("teacher")
    make_course_staff(teacher, course_key)
    as_user(client, teacher)
    result = client.get(stats_url(course_key)).json()["results"][0]
    # The teacher is not enrolled, so the three learners are still the population.
    assert result["mean_completion"]["earned"] == 4.0
    assert client.get(stats_url(other_key)).status_code == 403


def test_an_empty_course(client, course, staff):
    course_key, _leaves = course
    result = as_user(client, staff).get(stats_url(course_key), {"requested_fields": "chapter"}).json()["results"][0]
    assert result["mean_completion"] == {"earned": 0.0, "possible": 16.0, "percent": 0.0}
    assert [block["completed_count"] for block in result["chapter"]] == [0, 0]


def test_the_mean_excludes_every_role_holder_and_is_cached(course, three_learners, django_assert_num_queries):
    course_key, leaves = course
    alex, sam, _kim = three_learners
    make_course_staff(alex, course_key, role="beta_testers")
    assert get_mean(course_key) == pytest.approx((0.25 + 0.0) / 2)
    store(sam, course_key, leaves[4:8])  # changes are not seen until the cache expires
    with django_assert_num_queries(0):
        assert get_mean(course_key) == pytest.approx(0.125)
    from django.core.cache import cache

    assert cache.get(MEAN_CACHE_KEY.format(course_key=course_key)) == pytest.approx(0.125)
