"""
The HTML pages of the app: embeddable progress bars, and the course progress report.

* ``progress_bar/<course_key>/`` and ``progress_bar/<course_key>/<chapter_id>/``: the logged-in
  learner's completion (fresh when work is pending; 0 % when not enrolled; an embeddable
  "not available" page for an unknown course or chapter), embeddable from the site's own
  origins plus ``COMPLETION_AGGREGATOR_PROGRESS_BAR_FRAME_ANCESTORS`` (CSP frame-ancestors).
* ``report/<course_key>/`` (+ ``report/<course_key>/csv/``): course staff and global staff.

Anonymous visitors are sent to the login page; both are never cached (``private, no-store``).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey

from . import api
from .api.exceptions import BlockNotInCourse, CourseNotFound, NotEnrolled
from .conf import get_setting
from .data import AggregateData
from .keys import InvalidCourseKey, parse_course_key, parse_usage_key
from .rest_api.permissions import has_course_staff_powers

NO_STORE = "private, no-store"

P = ParamSpec("P")
ResponseT = TypeVar("ResponseT", bound=HttpResponseBase)


def _course_key(value: str) -> CourseKey:
    """The course key of a report URL; Http404 ``Invalid course key: '…'.`` for another text."""
    try:
        return parse_course_key(value)
    except InvalidCourseKey:
        raise Http404(f"Invalid course key: '{value}'.") from None


def _login_required(
    view: Callable[Concatenate[HttpRequest, P], ResponseT],
) -> Callable[Concatenate[HttpRequest, P], ResponseT | HttpResponseRedirect]:
    """Anonymous → redirect to the host's login page (``LOGIN_URL``) and back."""

    @wraps(view)
    def wrapped(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> ResponseT | HttpResponseRedirect:
        if not request.user.is_authenticated:
            response = redirect_to_login(request.get_full_path())
            response["Cache-Control"] = NO_STORE
            return response
        return view(request, *args, **kwargs)

    return wrapped


def _viewer(request: HttpRequest) -> AbstractBaseUser:
    """
    The logged-in user of a view behind :func:`_login_required`.

    Raises:
        PermissionDenied: an anonymous visitor (not reached: the decorator redirects them).
    """
    user = request.user
    if not isinstance(user, AbstractBaseUser):
        raise PermissionDenied("Log in to see this page.")
    return user


#: Characters that would end a CSP source (or the header): such a configured value is dropped.
_NOT_IN_A_SOURCE = re.compile(r"[\s;,\x00-\x1f\x7f]")


def frame_ancestors() -> str:
    """
    The CSP header value naming who may embed the progress bar.

    The page's own origin (``'self'``), the host's other course origins (``adapter.site_origins()``: in edx-platform
    the LMS, the Learning MFE, Studio and the LMS preview host), and the extra sources of
    ``COMPLETION_AGGREGATOR_PROGRESS_BAR_FRAME_ANCESTORS``. A setting of ``'none'`` alone
    forbids embedding. Source: issue 17, point 2 (the peer sends no CSP and is embeddable
    anywhere; ADR 0013).
    """
    extra = get_setting("COMPLETION_AGGREGATOR_PROGRESS_BAR_FRAME_ANCESTORS") or ()
    if isinstance(extra, str):
        extra = extra.split()
    extra = [str(source).strip() for source in extra if str(source).strip()]
    if extra == ["'none'"]:
        return "frame-ancestors 'none'"
    sources = ["'self'", *api.site_origins(), *extra]
    kept = [source for source in sources if source != "'none'" and not _NOT_IN_A_SOURCE.search(source)]
    return "frame-ancestors " + " ".join(dict.fromkeys(kept))


def _embeddable(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = NO_STORE
    response["Content-Security-Policy"] = frame_ancestors()
    return response


#: Why a progress bar is not available (``data-reason`` of the page, for tests and themes).
INVALID_COURSE_KEY = "invalid-course-key"
INVALID_CHAPTER_ID = "invalid-chapter-id"
UNKNOWN_COURSE = "unknown-course"
UNKNOWN_CHAPTER = "unknown-chapter"
NOTHING_YET = "nothing-to-complete"


def _unavailable(request: HttpRequest, reason: str, chapter: bool, status: int = 200) -> HttpResponse:
    """
    The embeddable "not available" page.

    200 for an unknown course or chapter, 400 for a key or chapter id that cannot be one
    (issue 17, point 5; issue 18). Never echoes the input.
    """
    response = render(
        request,
        "completion_aggregator/progress_bar_unavailable.html",
        {"reason": reason, "chapter": chapter},
        status=status,
    )
    return _embeddable(response)


def _parse_bar_keys(course_key: str, chapter_id: str | None) -> tuple[CourseKey, UsageKey | None]:
    r"""
    The course key and the chapter's usage key of a progress bar URL.

    Raises:
        ValueError: ``(reason, …)``: the course key or the chapter id cannot be a key (the
            chapter id must be a valid block id: ``[\\w.~:-]+``; a space, ``<``, NUL or a
            byte that is not UTF-8 is not).
    """
    try:
        key = parse_course_key(course_key)
    except (InvalidKeyError, ValueError, TypeError):
        raise ValueError(INVALID_COURSE_KEY) from None
    if chapter_id is None:
        return key, None
    try:
        block = key.make_usage_key("chapter", chapter_id)
        parse_usage_key(str(block))  # the block id is checked when the key is parsed
    except (InvalidKeyError, ValueError, TypeError):
        raise ValueError(INVALID_CHAPTER_ID) from None
    return key, block


@require_safe
@xframe_options_exempt
@_login_required
def progress_bar(request: HttpRequest, course_key: str, chapter_id: str | None = None) -> HttpResponse:
    """
    The learner's completion of a course (or of one chapter) as an accessible progress bar.

    0 % for a learner who is not enrolled; the embeddable "not available" page for an unknown
    course or chapter (200) and for a course key or chapter id that cannot be one (400).
    """
    chapter = chapter_id is not None
    try:
        key, root_block = _parse_bar_keys(course_key, chapter_id)
    except ValueError as exc:
        return _unavailable(request, str(exc), chapter, status=400)
    percent = 0.0
    try:
        progress = api.get_learner_progress(_viewer(request), key, root_block)
    except CourseNotFound:
        return _unavailable(request, UNKNOWN_COURSE, chapter)
    except BlockNotInCourse:
        return _unavailable(request, UNKNOWN_CHAPTER, chapter)
    except NotEnrolled:
        if root_block is not None and not api.block_is_known(_viewer(request), key, root_block):
            return _unavailable(request, UNKNOWN_CHAPTER, chapter)
    else:
        measured_value: AggregateData | None
        if root_block is None:
            measured_value = progress.course
        else:  # 0 % when the chapter's type has no stored aggregate
            measured_value = next((block for block in progress.blocks if block.block_key == str(root_block)), None)
        if measured_value is not None and measured_value.possible <= 0:
            # Nothing the learner can complete here (yet): a course that has not started or is
            # hidden from them, or empty content. The API's figures are 0/0 = 1.0, but a bar
            # saying "100 % complete" would mislead (issue 18, point 2).
            return _unavailable(request, NOTHING_YET, chapter)
        percent = measured_value.percent if measured_value is not None else 0.0
    whole = max(0, min(100, api.whole_percent(percent)))
    measured = _bar_subject(key, root_block)
    response = render(
        request,
        "completion_aggregator/progress_bar.html",
        {
            "course_key": str(key),
            "chapter_id": chapter_id,
            "percent": whole,
            "subject": measured,
            "label": f"{measured}: {whole} % complete",
        },
    )
    return _embeddable(response)


def _bar_subject(key: CourseKey, root_block: UsageKey | None) -> str:
    """What a bar measures, as its text says it: "Course", or the section's display name."""
    if root_block is None:
        return "Course"
    try:
        name = api.get_block_display_names(key, [str(root_block)]).get(str(root_block))
    except CourseNotFound:
        name = None
    return name or "Section"


def _staff_course(request: HttpRequest, course_key: str) -> CourseKey:
    key = _course_key(course_key)
    if not has_course_staff_powers(_viewer(request), key):
        raise PermissionDenied("Only staff of this course may see its progress report.")
    return key


@require_safe
@_login_required
def course_report(request: HttpRequest, course_key: str) -> HttpResponse:
    """The course progress report: histogram, chapter means, learner table (staff only)."""
    key = _staff_course(request, course_key)
    try:
        report = api.build_course_report(
            key, _viewer(request), page_number=request.GET.get("page"), query=request.GET.get("q", "")
        )
    except CourseNotFound:
        raise Http404(f"Course not found: '{key}'.") from None
    response = render(request, "completion_aggregator/course_report.html", {"report": report})
    response["Cache-Control"] = NO_STORE
    return response


@require_safe
@_login_required
def course_report_csv(request: HttpRequest, course_key: str) -> StreamingHttpResponse:
    """Every learner's course and chapter percentages as CSV, streamed (staff only)."""
    key = _staff_course(request, course_key)
    try:
        lines = api.iter_course_csv(key, _viewer(request))
    except CourseNotFound:
        raise Http404(f"Course not found: '{key}'.") from None
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    filename = f"completion-{key.org}-{key.course}-{key.run}.csv".replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = NO_STORE
    return response
