"""
The HTML pages of the app: embeddable progress bars, and the course progress report.

* ``progress_bar/<course_key>/`` and ``progress_bar/<course_key>/<chapter_id>/``: the logged-in
  learner's completion (fresh when work is pending; 0 % when not enrolled), embeddable from
  the origins in ``COMPLETION_AGGREGATOR_PROGRESS_BAR_FRAME_ANCESTORS`` (CSP frame-ancestors).
* ``report/<course_key>/`` (+ ``report/<course_key>/csv/``): course staff and global staff.

Anonymous visitors are sent to the login page; both are never cached (``private, no-store``).
"""
from __future__ import annotations

from functools import wraps
from typing import Optional

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from .adapters import get_adapter
from .adapters.base import CourseNotFound
from .api import report_page, reports
from .api.progress import BlockNotInCourse
from .conf import get_setting
from .rest_api.permissions import has_course_staff_powers

NO_STORE = "private, no-store"


def _course_key(value: str) -> CourseKey:
    try:
        return CourseKey.from_string(value)
    except InvalidKeyError:
        raise Http404(f"Invalid course key: '{value}'.") from None


def _login_required(view):
    """Anonymous → redirect to the host's login page (``LOGIN_URL``) and back."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            response = redirect_to_login(request.get_full_path())
            response["Cache-Control"] = NO_STORE
            return response
        return view(request, *args, **kwargs)

    return wrapped


def frame_ancestors() -> str:
    """The CSP header value that lets the configured origins embed a page."""
    sources = get_setting("COMPLETION_AGGREGATOR_PROGRESS_BAR_FRAME_ANCESTORS") or ()
    if isinstance(sources, str):
        sources = sources.split()
    return "frame-ancestors " + (" ".join(sources) if sources else "'none'")


@require_safe
@xframe_options_exempt
@_login_required
def progress_bar(request: HttpRequest, course_key: str, chapter_id: Optional[str] = None) -> HttpResponse:
    """The learner's completion of a course (or of one chapter) as an accessible progress bar."""
    key = _course_key(course_key)
    root_block = key.make_usage_key("chapter", chapter_id) if chapter_id else None
    percent = 0.0
    if get_adapter().is_enrolled(request.user, key):
        try:
            progress = reports.get_learner_progress(request.user, key, root_block)
        except (reports.NotEnrolled, CourseNotFound):
            progress = None
        except BlockNotInCourse:
            raise Http404(f"No chapter '{chapter_id}' in course '{key}'.") from None
        if progress is not None:
            percent = progress.course.percent
    whole = max(0, min(100, report_page.whole_percent(percent)))
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
    response["Cache-Control"] = NO_STORE
    response["Content-Security-Policy"] = frame_ancestors()
    return response


def _bar_subject(key: CourseKey, root_block) -> str:
    """What a bar measures, as its text says it: "Course", or the section's display name."""
    if root_block is None:
        return "Course"
    try:
        name = reports.get_block_display_names(key, [str(root_block)]).get(str(root_block))
    except CourseNotFound:
        name = None
    return name or "Section"


def _staff_course(request: HttpRequest, course_key: str) -> CourseKey:
    key = _course_key(course_key)
    if not has_course_staff_powers(request.user, key):
        raise PermissionDenied("Only staff of this course may see its progress report.")
    return key


@require_safe
@_login_required
def course_report(request: HttpRequest, course_key: str) -> HttpResponse:
    """The course progress report: histogram, chapter means, learner table (staff only)."""
    key = _staff_course(request, course_key)
    try:
        report = report_page.build_course_report(
            key, request.user, page_number=request.GET.get("page"), query=request.GET.get("q", "")
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
        lines = report_page.iter_course_csv(key, request.user)
    except CourseNotFound:
        raise Http404(f"Course not found: '{key}'.") from None
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    filename = f"completion-{key.org}-{key.course}-{key.run}.csv".replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = NO_STORE
    return response
