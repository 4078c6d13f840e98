"""
v1 REST views: thin, they parse input, check permissions and call the Python API.

They hand frozen data to ``encoding`` (answers as plain dicts, written from the field lists of ``spec``,
which also describe every answer in the OpenAPI schema: ``openapi``). v0
(``rest_api.v0.views``) subclasses these.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib import import_module
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from opaque_keys.edx.keys import CourseKey, UsageKey
from rest_framework.exceptions import NotAuthenticated, NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import api
from ...api.exceptions import BlockNotInCourse, CourseNotFound, NotEnrolled
from ..authentication import AUTHENTICATION_CLASSES
from ..encoding import Shaping
from ..openapi import schema_serializer
from ..pagination import CompletionPagination
from ..params import (
    LOCKED,
    MEAN,
    USERNAME,
    BadRequest,
    parse_cohort,
    parse_course_key,
    parse_flag,
    parse_requested_fields,
    parse_roles,
    parse_usage_key,
    parse_user_ids,
    parse_username,
    requestable_aggregation_names,
)
from ..parsers import PARSER_CLASSES
from ..permissions import has_course_staff_powers, resolve_user
from ..renderers import JSONRenderer, with_orjson
from ..serializers import CourseDetailRequestSerializer
from ..spec import COURSE_ENTRY, COURSE_STATS_RESPONSE

# Imported for its side effect: it registers the JWT scheme with drf-spectacular.
import_module("completion_aggregator.rest_api.schema")

_ERRORS = {
    400: OpenApiResponse(description="Invalid parameter value (the message names it)."),
    401: OpenApiResponse(description="Not authenticated."),
    403: OpenApiResponse(description="Not allowed to see this user's (or course's) data."),
    404: OpenApiResponse(description="Invalid course key or root block, unknown user, or not enrolled."),
}
#: Responses of the endpoints that take a request body (DRF refuses a body it cannot parse).
UNSUPPORTED_MEDIA_TYPE = {415: OpenApiResponse(description="The request body's media type is not supported.")}
COURSE_KEY_PARAM = OpenApiParameter(
    "course_key", OpenApiTypes.STR, OpenApiParameter.PATH, description="A course key, e.g. course-v1:edX+DemoX+Demo."
)
USERNAME_PARAM = OpenApiParameter(
    "username", OpenApiTypes.STR, description="Whose completion (default: the requesting user; others: staff only)."
)
REQUESTED_FIELDS_PARAM = OpenApiParameter(
    "requested_fields",
    OpenApiTypes.STR,
    description="Comma list: each aggregation name (the course entry's array fields: the configured block "
    "types but course) adds that array of block entries; "
    "'mean' adds the course mean; 'username' adds the username; 'locked' adds the figures over the blocks "
    "the learner may not open (locked).",
)
INCLUDE_OPTIONAL_PARAM = OpenApiParameter(
    "include_optional", OpenApiTypes.BOOL, description="'true' adds optional_completion to every entry."
)
PAGE_PARAMS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="Page number (from 1)."),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="Results per page (capped by the server)."),
]


#: The answer of the v1 list and detail endpoints: course entries (paginated by the pagination class).
COURSE_LIST = schema_serializer(COURSE_ENTRY)(many=True)


class CompletionView(APIView):
    """What every completion endpoint shares: authentication, permission, pagination, shaping."""

    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = (IsAuthenticated,)
    parser_classes = PARSER_CLASSES
    pagination_class: type[CompletionPagination] | None = CompletionPagination
    schema = AutoSchema()
    #: v0 completion objects also carry ``ratio``.
    with_ratio = False
    #: Field names ``requested_fields`` may list besides the aggregation names.
    extra_fields: tuple[str, ...] = (MEAN, USERNAME, LOCKED)

    # Input ------------------------------------------------------------------------------
    def params(self, request: Request) -> Any:
        """Where the parameters are: the query string (GET) or the JSON body (POST)."""
        return request.query_params

    def requested_fields(self, params: Any) -> list[str]:
        """
        The ``requested_fields`` names, in request order.

        Raises:
            BadRequest: a name that is neither an aggregation name nor one of ``extra_fields``.
        """
        accepted = [*requestable_aggregation_names(), *self.extra_fields]
        return parse_requested_fields(params.get("requested_fields"), accepted)

    def shaping(
        self, params: Any, fields: list[str], course_keys: Iterable[CourseKey] = (), with_username: bool = False
    ) -> Shaping:
        """
        What to put in the course entries (means are computed here, once per course).

        Raises:
            BadRequest: ``include_optional`` is not a boolean.
        """
        return Shaping(
            aggregation_names=tuple(name for name in fields if name not in self.extra_fields),
            include_optional=parse_flag(params.get("include_optional"), "include_optional"),
            include_username=with_username or USERNAME in fields,
            means={str(key): api.get_mean(key) for key in course_keys} if MEAN in fields else {},
            with_ratio=self.with_ratio,
        )

    def requester(self) -> AbstractBaseUser:
        """
        The authenticated user who sent the request.

        Raises:
            NotAuthenticated: an anonymous request (``IsAuthenticated`` refuses them first).
        """
        user = self.request.user
        if isinstance(user, AnonymousUser) or not user.is_authenticated:
            raise NotAuthenticated()
        return user

    # Output -----------------------------------------------------------------------------
    def get_renderers(self) -> list[Any]:
        """The host's renderers, DRF's JSON renderer written by orjson (``renderers``, ADR 0022)."""
        return [renderer() for renderer in with_orjson(self.renderer_classes)]

    def paginate(self, items: Sequence[Any] | QuerySet[Any]) -> list[Any]:
        """The current page of ``items`` (a list or queryset)."""
        assert self.pagination_class is not None, "a paginated view"
        self.paginator = self.pagination_class()
        return list(self.paginator.paginate_queryset(items, self.request, view=self) or [])

    def paginated(self, data: list[Any]) -> Response:
        """The pagination envelope around ``data`` (the page ``paginate`` chose)."""
        response: Response = self.paginator.get_paginated_response(data)
        return response


class CourseCompletionListView(CompletionView):
    """
    The effective user's active enrollments, each with its course completion.

    Ordered by course key; stale data of this one user is recomputed so that answers are fresh.
    """

    @extend_schema(
        operation_id="completion_course_list",
        parameters=[
            USERNAME_PARAM,
            REQUESTED_FIELDS_PARAM,
            INCLUDE_OPTIONAL_PARAM,
            OpenApiParameter("mobile_only", OpenApiTypes.BOOL, description="'true': only courses available on mobile."),
            *PAGE_PARAMS,
        ],
        responses={200: COURSE_LIST, **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        """The effective user's active enrollments (see the class docstring)."""
        params = self.params(request)
        fields = self.requested_fields(params)
        user = resolve_user(self.requester(), parse_username(params.get("username")))
        course_keys = api.get_user_course_keys(user, mobile_only=parse_flag(params.get("mobile_only"), "mobile_only"))
        page = self.paginate(course_keys)
        progress = api.get_user_progress(user, page, with_locked=LOCKED in fields)
        return self.paginated(self.shaping(params, fields, page).course_entries(progress))


class CourseCompletionDetailView(CompletionView):
    """One course's completion: of one learner (fresh), or of every active enrollment (staff, stored)."""

    #: v0 has neither ``root_block`` nor ``user_ids``, and answers a single learner unpaginated.
    supports_root_block = True
    supports_user_ids = True
    paginate_single = True
    #: v1: staff without ``username`` get every learner; v0 always defaults to the requester.
    lists_learners = True

    def handle(self, request: Request, course_key: str) -> Response:
        """
        GET and POST: one learner's entry, or every learner's for staff without ``username``.

        Raises:
            NotFound, BadRequest, PermissionDenied: as the schema's responses list them.
        """
        params = self.params(request)
        key = parse_course_key(course_key)
        fields = self.requested_fields(params)
        root_block = parse_usage_key(params.get("root_block")) if self.supports_root_block else None
        user_ids = parse_user_ids(params.get("user_ids")) if self.supports_user_ids else None
        username = parse_username(params.get("username"))
        if username is None and self.lists_learners and has_course_staff_powers(self.requester(), key):
            return self.every_learner(params, key, fields, root_block, user_ids)
        user = resolve_user(self.requester(), username, key)
        try:
            progress = api.get_learner_progress(user, key, root_block, with_locked=LOCKED in fields)
        except CourseNotFound:
            raise NotFound(f"Course not found: '{key}'.") from None
        except NotEnrolled:
            raise NotFound(f"User '{user.get_username()}' is not enrolled in course '{key}'.") from None
        except BlockNotInCourse:
            raise NotFound(f"Invalid root_block: '{root_block}' is not in course '{key}'.") from None
        shaping = self.shaping(params, fields, [key])
        if not self.paginate_single:
            return Response(shaping.course_entry(progress))
        self.paginate([progress])
        return self.paginated(shaping.course_entries([progress]))

    def every_learner(
        self, params: Any, key: CourseKey, fields: list[str], root_block: UsageKey | None, user_ids: list[int] | None
    ) -> Response:
        """Staff without ``username``: every active enrollment, by user id, from stored values."""
        try:
            learners = api.enrolled_learners(key, user_ids)
        except CourseNotFound:
            raise NotFound(f"Course not found: '{key}'.") from None
        page = list(self.paginate(learners))
        shaping = self.shaping(params, fields, [key], with_username=True)
        try:
            progress = api.get_stored_progress_many(
                key,
                page,
                shaping.aggregation_names,
                root_block,
                timestamps=False,
                optional=shaping.include_optional,
                locked=LOCKED in fields,
            )
        except CourseNotFound:
            raise NotFound(f"Course not found: '{key}'.") from None
        except BlockNotInCourse:
            raise NotFound(f"Invalid root_block: '{root_block}' is not in course '{key}'.") from None
        renderer, media_type = self.request.accepted_renderer, self.request.accepted_media_type or ""
        if isinstance(renderer, JSONRenderer) and renderer.writes_compact(media_type, {}):
            return self.paginated(shaping.course_entries_json(progress))  # bytes per entry, not dicts
        return self.paginated(shaping.course_entries(progress))

    @extend_schema(
        operation_id="completion_course_detail",
        parameters=[
            COURSE_KEY_PARAM,
            USERNAME_PARAM,
            REQUESTED_FIELDS_PARAM,
            INCLUDE_OPTIONAL_PARAM,
            OpenApiParameter(
                "root_block",
                OpenApiTypes.STR,
                description="A usage key: the block lists hold only that subtree (the root block "
                "included, in its type's list); completion stays the course's.",
            ),
            OpenApiParameter(
                "user_ids", OpenApiTypes.STR, description="Staff listing only: comma- or period-separated user ids."
            ),
            *PAGE_PARAMS,
        ],
        responses={200: COURSE_LIST, **_ERRORS},
    )
    def get(self, request: Request, course_key: str) -> Response:
        """The parameters in the query string."""
        return self.handle(request, course_key)

    @extend_schema(
        operation_id="completion_course_detail_post",
        parameters=[COURSE_KEY_PARAM, *PAGE_PARAMS],
        request=CourseDetailRequestSerializer,
        responses={200: COURSE_LIST, **_ERRORS, **UNSUPPORTED_MEDIA_TYPE},
        description="Like GET, with the parameters in a JSON body (for id lists too long for a URL).",
    )
    def post(self, request: Request, course_key: str) -> Response:
        """The parameters in the body."""
        return self.handle(request, course_key)

    def params(self, request: Request) -> Any:
        """
        The query string (GET) or the body (POST).

        Raises:
            BadRequest: a POST body that is not a JSON object.
        """
        if request.method == "POST":
            if not isinstance(request.data, dict):
                raise BadRequest("The request body must be a JSON object.")
            return request.data
        return request.query_params


class CourseStatsView(CompletionView):
    """The mean completion of a course's active enrollments (staff and course staff only)."""

    pagination_class = None
    extra_fields = (MEAN,)

    @extend_schema(
        operation_id="completion_course_stats",
        parameters=[
            COURSE_KEY_PARAM,
            OpenApiParameter("exclude_roles", OpenApiTypes.STR, description="Comma list of course roles to leave out."),
            OpenApiParameter("cohorts", OpenApiTypes.INT, description="A cohort id: only its members."),
            OpenApiParameter(
                "requested_fields",
                OpenApiTypes.STR,
                description="Comma list: 'mean', and aggregation names (chapter, …) for per-block statistics.",
            ),
        ],
        responses={200: schema_serializer(COURSE_STATS_RESPONSE), **_ERRORS},
    )
    def get(self, request: Request, course_key: str) -> Response:
        """
        ``{"results": [course statistics]}``.

        Raises:
            PermissionDenied: not staff of the course (before the parameters are read).
            NotFound, BadRequest: as the schema's responses list them.
        """
        params = self.params(request)
        key = parse_course_key(course_key)
        if not has_course_staff_powers(self.requester(), key):  # before the parameters: 403 whatever they are
            raise PermissionDenied("Only staff of this course may see its statistics.")
        fields = self.requested_fields(params)
        roles = parse_roles(params.get("exclude_roles"))
        cohort = parse_cohort(params.get("cohorts"))
        aggregation_names = [name for name in fields if name not in self.extra_fields]
        try:
            stats = api.get_course_stats(key, roles, cohort, aggregation_names, viewer=self.requester())
        except CourseNotFound:
            raise NotFound(f"Course not found: '{key}'.") from None
        shaping = Shaping(
            aggregation_names=tuple(aggregation_names), means={str(key): api.get_mean(key)} if MEAN in fields else {}
        )
        return Response(shaping.stats_response(stats))
