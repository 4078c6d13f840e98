"""
v0 REST views: the v1 views, parametrised.

Completions carry ``ratio``; the course detail has neither ``root_block`` nor ``user_ids``
and answers a single learner without the pagination envelope. The block completion endpoint
records a learner's completion of one block.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from ... import api
from ...api.exceptions import BlockNotInCourse, CompletionTrackingDisabled, CourseNotFound, NotEnrolled
from ..encoding import Shaping
from ..openapi import schema_serializer
from ..params import parse_block_key, parse_completion, parse_course_key
from ..parsers import JSONParser
from ..serializers import BlockCompletionRequestSerializer
from ..spec import BLOCK_COMPLETION_RESULT, COURSE_ENTRY, Recorded
from ..v1 import views as v1

_ERRORS = v1._ERRORS  # pylint: disable=protected-access


class CourseCompletionListView(v1.CourseCompletionListView):
    """v0 list of the effective user's enrollments (completions carry ``ratio``)."""

    with_ratio = True

    @extend_schema(
        operation_id="completion_v0_course_list",
        parameters=[
            v1.USERNAME_PARAM,
            v1.REQUESTED_FIELDS_PARAM,
            v1.INCLUDE_OPTIONAL_PARAM,
            OpenApiParameter("mobile_only", OpenApiTypes.BOOL, description="'true': only courses available on mobile."),
            *v1.PAGE_PARAMS,
        ],
        responses={200: schema_serializer(COURSE_ENTRY, with_ratio=True)(many=True), **_ERRORS},
    )
    def get(self, request: Request) -> Response:
        """The effective user's enrollments (v1's answer, completions with ``ratio``)."""
        return super().get(request)


class CourseCompletionDetailView(v1.CourseCompletionDetailView):
    """
    v0 course detail: one learner's bare entry; GET only.

    The requester's entry unless ``username`` names another learner (whom staff may ask for).
    Unlike v1, staff without ``username`` get their own entry, not a listing of every learner
    (as the peer's v0).
    """

    http_method_names = ["get", "head", "options"]
    with_ratio = True
    supports_root_block = False
    supports_user_ids = False
    paginate_single = False
    #: The peer's v0 detail defaults to the requesting user, staff included (issue 17, point 1).
    lists_learners = False

    @extend_schema(
        operation_id="completion_v0_course_detail",
        parameters=[
            v1.COURSE_KEY_PARAM,
            v1.USERNAME_PARAM,
            v1.REQUESTED_FIELDS_PARAM,
            v1.INCLUDE_OPTIONAL_PARAM,
        ],
        responses={200: schema_serializer(COURSE_ENTRY, with_ratio=True), **_ERRORS},
        description="One learner's entry, bare (not paginated): the requesting user's unless username names another.",
    )
    def get(self, request: Request, course_key: str) -> Response:
        """One learner's bare entry (see the class docstring)."""
        return super().get(request, course_key)


class ServiceUnavailable(APIException):
    """503: completion tracking is disabled, nothing can be recorded."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Completion tracking is disabled."
    default_code = "service_unavailable"


class LenientJSONParser(JSONParser):
    """
    JSON that may hold ``NaN``/``Infinity`` literals.

    The view then refuses them with its own message (naming the accepted range) rather than a
    parse error.
    """

    strict = False


class BlockCompletionView(v1.CompletionView):
    """
    Record the requesting learner's completion (0.0–1.0) of one block.

    The body is JSON, form-encoded or multipart (``completion`` a number or a numeric string);
    the block key may be an old-Mongo ``i4x://`` key of an old-style course.
    """

    pagination_class = None
    parser_classes = (LenientJSONParser, FormParser, MultiPartParser)

    @extend_schema(
        operation_id="completion_v0_block_completion",
        parameters=[
            v1.COURSE_KEY_PARAM,
            OpenApiParameter("block_key", OpenApiTypes.STR, OpenApiParameter.PATH, description="A usage key."),
        ],
        request=BlockCompletionRequestSerializer,
        responses={
            201: schema_serializer(BLOCK_COMPLETION_RESULT),
            200: schema_serializer(BLOCK_COMPLETION_RESULT),
            400: OpenApiResponse(description="completion missing or not a number between 0.0 and 1.0."),
            401: _ERRORS[401],
            404: OpenApiResponse(description="Invalid course or block key, not enrolled, or block not in course."),
            **v1.UNSUPPORTED_MEDIA_TYPE,
            503: OpenApiResponse(description="Completion tracking is disabled (nothing can be recorded)."),
        },
    )
    def post(self, request: Request, course_key: str, block_key: str) -> Response:
        """
        Record the completion; 201 when the learner had none for the block, 200 when it changed.

        Raises:
            NotFound, BadRequest, ServiceUnavailable: as the schema's responses list them.
        """
        key = parse_course_key(course_key)
        body = request.data if hasattr(request.data, "get") else {}
        try:
            block = parse_block_key(block_key, key)
            completion = parse_completion(body.get("completion"))
            created = api.submit_block_completion(self.requester(), key, block, completion)
        except CourseNotFound:
            raise NotFound(f"Course not found: '{key}'.") from None
        except NotEnrolled:
            raise NotFound(f"User '{self.requester().get_username()}' is not enrolled in course '{key}'.") from None
        except BlockNotInCourse:
            raise NotFound(f"Block '{block_key}' is not in course '{key}'.") from None
        except CompletionTrackingDisabled:
            raise ServiceUnavailable() from None
        return Response(
            Shaping().encoder(BLOCK_COMPLETION_RESULT)(Recorded(key, block, completion)),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
