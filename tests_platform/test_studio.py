"""
Studio never aggregates in-process (issue 16 point 1; ADR 0010).

Studio (the CMS) runs the app too: it enrolls a course's creator on create and rerun
(``initialize_permissions`` → ``CourseEnrollment.enroll``) and its modulestore reads the draft
branch (``MODULESTORE_BRANCH = 'draft-preferred'``). A structure collected there is stored where
the LMS reads it (on the named releases). So Studio's receivers only queue tasks,
routed to an LMS queue, and the LMS worker computes from the published branch.
"""
from __future__ import annotations

import pytest

from completion_aggregator.models import Aggregator, StaleCompletion

from .conftest import COURSE, course_blocks, key, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def studio(settings):
    """The CMS process: ``SERVICE_VARIANT = 'cms'`` and draft-preferred reads (cms/envs/common.py)."""
    settings.SERVICE_VARIANT = "cms"
    settings.MODULESTORE_BRANCH = "draft-preferred"
    return settings


@pytest.fixture
def queued():
    """The tasks published to the broker (not run): ``[(task name, args, kwargs)]``."""
    from celery import current_app
    from celery.signals import before_task_publish

    published = []

    def record(sender=None, body=None, **kwargs):
        args, task_kwargs, _embed = body
        published.append((sender, tuple(args), dict(task_kwargs)))

    before_task_publish.connect(record, weak=False, dispatch_uid="tests_platform.queued")
    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = False
    yield published
    current_app.conf.task_always_eager = eager
    before_task_publish.disconnect(dispatch_uid="tests_platform.queued")


def run_on_an_lms_worker(tasks, settings):
    """What an LMS worker does with the queued tasks: the LMS process's settings, each task run."""
    from celery import current_app

    settings.SERVICE_VARIANT = "lms"
    settings.MODULESTORE_BRANCH = "published-only"
    for name, args, kwargs in tasks:
        current_app.tasks[name].apply(args=args, kwargs=kwargs)


def collected_leaves():
    from openedx.core.djangoapps.content.block_structure.manager import STORE
    from xmodule.modulestore.django import modulestore

    stored = STORE.get(modulestore().make_course_usage_key(COURSE))
    return None if stored is None else sorted(k.block_id for k in stored[1] if k.block_type == "html")


def test_studio_enrolling_the_course_creator_computes_nothing_there(
    studio, queued, settings, django_capture_on_commit_callbacks
):
    from common.djangoapps.student.models import CourseEnrollment
    from openedx.core.djangoapps.content.course_overviews.models import CourseOverview
    from xmodule.modulestore.django import modulestore

    # A course whose block structure the LMS has not built yet (its rebuild comes 30 s after a
    # publish), with an unpublished edit in Studio: h7 exists on the draft branch only.
    modulestore().publish_fixture(COURSE, course_blocks(), emit_signals=False)
    CourseOverview.load_from_module_store(COURSE)
    modulestore().update_draft(COURSE, course_blocks(extra_leaf=True))
    creator = make_user("creator")

    with django_capture_on_commit_callbacks(execute=True):
        CourseEnrollment.enroll(creator, COURSE)  # Studio's initialize_permissions

    assert not Aggregator.objects.exists()  # nothing computed in Studio …
    assert collected_leaves() is None  # … and nothing collected from its draft-preferred modulestore
    assert StaleCompletion.objects.filter(username="creator", resolved=False).count() == 1
    assert sorted(name for name, _args, _kwargs in queued) == [
        "completion_aggregator.tasks.aggregation_tasks.aggregate_learners",
        "completion_aggregator.tasks.aggregation_tasks.sync_statistics_learners",
    ]

    run_on_an_lms_worker(queued, settings)
    row = Aggregator.objects.get(user=creator, aggregation_name="course")
    assert (row.earned, row.possible) == (0.0, 2.0)  # the published course: never the draft's h7
    assert "h7" not in collected_leaves()
    assert not StaleCompletion.objects.filter(resolved=False).exists()


def test_studio_publishes_and_completions_only_queue_work(studio, queued, settings, django_capture_on_commit_callbacks):
    from completion.models import BlockCompletion
    from xmodule.modulestore.django import modulestore

    modulestore().publish_fixture(COURSE, course_blocks(), emit_signals=False)
    ann = make_user("ann")
    with django_capture_on_commit_callbacks(execute=True):
        modulestore().publish_fixture(COURSE, course_blocks(extra_leaf=True))  # course_published
        BlockCompletion.objects.submit_completion(ann, key("html", "h1"), 1.0)
    assert not Aggregator.objects.exists()
    assert sorted(name for name, _args, _kwargs in queued) == [
        "completion_aggregator.tasks.aggregation_tasks.aggregate_learners",
        "completion_aggregator.tasks.handler_tasks.mark_all_stale",
    ]


def test_in_studio_is_detected_as_edx_platform_plugins_do(settings):
    from completion_aggregator.conf import in_studio

    assert not in_studio()  # the LMS
    settings.SERVICE_VARIANT = "cms"
    assert in_studio()
    del settings.SERVICE_VARIANT
    settings.ROOT_URLCONF = "cms.urls"
    assert in_studio()
    settings.ROOT_URLCONF = "lms.urls"
    assert not in_studio()
