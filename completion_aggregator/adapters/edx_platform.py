"""
The edx-platform adapter: the only module that imports edx-platform, at call time.

Every edx-platform import happens inside a method, through :func:`_platform`, which turns a
missing module or name into ``ImproperlyConfigured`` with a message (never a silent fallback).

Course structures: the collected structure (``get_course_in_cache``) is loaded once per
course and structure version, not once per learner; each learner's tree is then
``get_course_blocks`` with their access transformers on that collected structure. Learners
whose visible trees are identical get one shared ``CourseStructureData`` (same ``version``:
the platform's structure version plus a digest of the visible tree), so the api compiles one
graph for all of them.

No side effects (ADR 0011): in a cohorted course the platform's ``UserPartitionTransformer``
reads each learner's content group through the cohort scheme, whose ``get_cohort`` **assigns**
a cohort to a learner without one (edx-platform.md §3, §11). A non-staff learner whom the
platform has not placed yet (the course is cohorted and they have no ``CohortMembership``) is
therefore never run through the transformers: they get the *unplaced view*, the tree the
access transformers give ``AnonymousUser`` (no cohort, no enrollment track; the cohort scheme
never assigns an anonymous user), computed once per batch. Once the platform places them (their
first courseware visit), the cohort signal makes the app recompute them with their own tree.

Locked blocks (ADR 0011): the UserPartition and ContentTypeGate transformers keep a block the
learner may not open when the partition has an access-denied message, setting the xblock
field ``authorization_denial_reason``; such a block (and its subtree) is ``BlockData.locked``.
It stays in the tree, so it counts in ``possible`` as it does for the peer.
"""
from __future__ import annotations

import hashlib
import importlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet
from opaque_keys.edx.keys import CourseKey

from ..conf import get_setting
from ..data import BlockData, CourseStartDatesData, CourseStructureData
from ..keys import parse_usage_key
from .base import COURSE_STAFF_ROLES, CourseNotFound, HostAdapter

log = logging.getLogger(__name__)

_CACHE_SIZE = 64  # structure variants kept
_COLLECTED_CACHE_SIZE = 16  # collected course structures kept (they can be large)


def _platform(module: str, *names: str, required: bool = True) -> Any:
    """
    Import ``names`` from edx-platform's ``module`` (one value for one name, else a tuple).

    Raises:
        ImproperlyConfigured: ``required`` and the module or a name is missing (not running in
            edx-platform, or an edx-platform release without that interface).
    """
    try:
        imported = importlib.import_module(module)
        values = tuple(getattr(imported, name) for name in names)
    except (ImportError, AttributeError) as exc:
        if not required:
            return None
        raise ImproperlyConfigured(
            f"completion_aggregator's edx-platform adapter needs {module}.{'/'.join(names)}, "
            f"which cannot be imported ({exc}). It runs only inside edx-platform (LMS or Studio); "
            "elsewhere set COMPLETION_AGGREGATOR_ADAPTER = "
            "'completion_aggregator.standalone.adapter.StandaloneAdapter' and install "
            "'completion_aggregator.standalone'."
        ) from exc
    return values[0] if len(names) == 1 else values


def bearer_authentication_class() -> type | None:
    """
    edx-platform's ``BearerAuthenticationAllowInactiveUser`` (OAuth2 tokens), or None outside it.

    The REST API lists it between JWT and the session, as the peer does.
    """
    return _platform("openedx.core.lib.api.authentication", "BearerAuthenticationAllowInactiveUser", required=False)


def platform_signals() -> dict[str, Any]:
    """
    The edx-platform signals the app reacts to, by name, for those importable in this process
    (``item_deleted``/``course_published`` exist in both LMS and Studio; the others may not).
    Used by ``platform_receivers.connect`` to wire receivers; a missing one is skipped.
    """
    found = {}
    handler = _platform("xmodule.modulestore.django", "SignalHandler", required=False)
    if handler is not None:
        found["course_published"] = handler.course_published
        found["item_deleted"] = handler.item_deleted
    cohort = _platform(
        "openedx.core.djangoapps.course_groups.signals.signals", "COHORT_MEMBERSHIP_UPDATED", required=False
    )
    if cohort is not None:
        found["cohort_membership_updated"] = cohort
    track = _platform("common.djangoapps.student.signals.signals", "ENROLLMENT_TRACK_UPDATED", required=False)
    if track is not None:
        found["enrollment_track_updated"] = track
    # User retirement (LMS only; plugins import these under try/except ImportError).
    retirement = "openedx.core.djangoapps.user_api.accounts.signals"
    for name in ("USER_RETIRE_LMS_MISC", "USER_RETIRE_LMS_CRITICAL"):
        signal = _platform(retirement, name, required=False)
        if signal is not None:
            found[name.lower()] = signal
    return found


#: Block types whose children the platform shows in a per-learner order (ContentLibraryOrderTransformer).
_SHUFFLED_TYPES = frozenset({"library_content", "itembank"})


def _children(structure, key) -> list:
    """The block's children; a library block's in key order (their shuffled order counts for nothing)."""
    children = structure.get_children(key)
    return sorted(children, key=str) if key.block_type in _SHUFFLED_TYPES else list(children)


def _locked(structure, key) -> bool:
    """True when the access transformers kept the block but denied it (``authorization_denial_reason``)."""
    return bool(structure.get_xblock_field(key, "authorization_denial_reason", None))


#: edx-platform settings naming where course content is shown: full URLs (``LMS_ROOT_URL``,
#: ``LEARNING_MICROFRONTEND_URL`` with its path, ``CMS_ROOT_URL``) or bare hosts (``CMS_BASE``:
#: Studio, whose unit previews render HTML components; ``PREVIEW_LMS_BASE``: the LMS preview
#: host), the latter served with the scheme of ``LMS_ROOT_URL``.
SITE_ORIGIN_SETTINGS = ("LMS_ROOT_URL", "LEARNING_MICROFRONTEND_URL", "CMS_ROOT_URL", "CMS_BASE", "PREVIEW_LMS_BASE")


def origin_of(value: Any, default_scheme: str = "https") -> str | None:
    """
    ``scheme://host[:port]`` of a URL or a bare ``host[:port]`` (``default_scheme`` then), or
    None for an empty or malformed value (never a CSP source that could break the header).
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if "://" not in text:
        text = f"{default_scheme}://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host or any(char in host for char in " ;,'\"\\"):
        return None
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _structure_digest(structure, root) -> str:
    """A digest of the tree (keys, child lists, optional and locked flags): what a compiled graph depends on."""
    digest = hashlib.sha1()
    for key in sorted(structure, key=str):
        digest.update(str(key).encode())
        if structure.get_xblock_field(key, "optional_completion", False):
            digest.update(b"?")
        if _locked(structure, key):
            digest.update(b"!")
        digest.update(b">")
        digest.update(",".join(str(child) for child in _children(structure, key)).encode())
        digest.update(b"\n")
    digest.update(str(root).encode())
    return digest.hexdigest()[:16]


class EdxPlatformAdapter(HostAdapter):
    """Answers the aggregator's questions with edx-platform's own functions and models."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # {course_key: (platform structure version, collected BlockStructureBlockData)}
        self._collected: OrderedDict[str, tuple[str, Any]] = OrderedDict()
        # {(course_key, base version, tree digest): CourseStructureData}
        self._variants: OrderedDict[tuple, CourseStructureData] = OrderedDict()

    def clear_cache(self) -> None:
        """Forget cached collected structures and variants (tests)."""
        with self._lock:
            self._collected.clear()
            self._variants.clear()

    def site_origins(self) -> list[str]:
        """
        The origins of the LMS, the Learning MFE, Studio and the LMS preview host, from the
        platform's settings (``SITE_ORIGIN_SETTINGS``): where courses embed the progress bar.
        """
        scheme = urlsplit(str(getattr(django_settings, "LMS_ROOT_URL", "") or "https://")).scheme or "https"
        origins = (origin_of(getattr(django_settings, name, None), scheme) for name in SITE_ORIGIN_SETTINGS)
        return list(dict.fromkeys(origin for origin in origins if origin))

    # Course structure -------------------------------------------------------------------
    def _base_version(self, course_key: CourseKey) -> str:
        """``get_block_structure_version`` where this edx-platform has it, else ''."""
        get_version = _platform(
            "openedx.core.djangoapps.content.block_structure.api", "get_block_structure_version", required=False
        )
        return str(get_version(course_key) or "") if get_version is not None else ""

    def _collected_structure(self, course_key: CourseKey) -> tuple[str, Any]:
        """
        The collected structure and its version, loaded at most once per version.

        On edx-platform master the version is ``get_block_structure_version`` (the course's
        ``course_version``: it changes on publish, not on a rebuild), read again after a load
        that built the structure. Sumac, Teak, Ulmo and Verawood lack that function (reference
        §12): there the structure is loaded on every call (once per batch) and versioned by its
        root's ``subtree_edited_on`` (collected by ``GradesTransformer``) or ``course_version``
        field, else by a digest of the whole collected tree.

        Raises:
            CourseNotFound: no such course, or no block structure for it.
        """
        get_course_in_cache = _platform("openedx.core.djangoapps.content.block_structure.api", "get_course_in_cache")
        not_found = tuple(
            exc
            for exc in (
                _platform("xmodule.modulestore.exceptions", "ItemNotFoundError", required=False),
                _platform(
                    "openedx.core.djangoapps.content.block_structure.exceptions", "BlockStructureNotFound", required=False
                ),
            )
            if exc is not None
        )
        name = str(course_key)
        version = self._base_version(course_key)
        if version:
            with self._lock:
                hit = self._collected.get(name)
                if hit is not None and hit[0] == version:
                    self._collected.move_to_end(name)
                    return hit
        try:
            collected = get_course_in_cache(course_key)
        except not_found as exc:
            raise CourseNotFound(f"no block structure for {course_key}: {exc}") from exc
        if collected is None or len(collected) == 0:
            raise CourseNotFound(f"no block structure for {course_key}")
        if not version:
            # On master a structure that this very load built (none was stored) has a version now.
            version = self._base_version(course_key)
        if not version:
            root = collected.root_block_usage_key
            stamp = collected.get_xblock_field(root, "subtree_edited_on") or collected.get_xblock_field(
                root, "course_version"
            )
            version = f"e:{stamp}" if stamp else f"h:{_structure_digest(collected, root)}"
            return version, collected
        with self._lock:
            self._collected[name] = (version, collected)
            while len(self._collected) > _COLLECTED_CACHE_SIZE:
                self._collected.popitem(last=False)
        return version, collected

    def _variant(self, course_key: CourseKey, base_version: str, transformed) -> CourseStructureData:
        root = transformed.root_block_usage_key
        digest = _structure_digest(transformed, root)
        key = (str(course_key), base_version, digest)
        with self._lock:
            found = self._variants.get(key)
            if found is not None:
                self._variants.move_to_end(key)
                return found
        blocks = {}
        for usage_key in transformed:
            optional = transformed.get_xblock_field(usage_key, "optional_completion", False)
            blocks[str(usage_key)] = BlockData(
                key=str(usage_key),
                block_type=usage_key.block_type,
                children=tuple(str(child) for child in _children(transformed, usage_key)),
                optional=bool(optional),
                locked=_locked(transformed, usage_key),
            )
        data = CourseStructureData(
            course_key=str(course_key), root=str(root), blocks=blocks, version=f"{base_version}:{digest}"
        )
        with self._lock:
            self._variants[key] = data
            while len(self._variants) > _CACHE_SIZE:
                self._variants.popitem(last=False)
        return data

    def get_course_structures(
        self, course_key: CourseKey, users: Sequence[AbstractBaseUser]
    ) -> Mapping[int, CourseStructureData]:
        """
        Each user's structure as ``get_course_blocks`` shows it (their access transformers on
        the collected structure; unreleased blocks only with
        ``COMPLETION_AGGREGATOR_AGGREGATE_UNRELEASED_BLOCKS``).

        Raises:
            CourseNotFound: no such course or no block structure.
            ImproperlyConfigured: not running inside edx-platform.
        """
        get_course_blocks, get_course_block_access_transformers = _platform(
            "lms.djangoapps.course_blocks.api", "get_course_blocks", "get_course_block_access_transformers"
        )
        BlockStructureTransformers = _platform(
            "openedx.core.djangoapps.content.block_structure.transformers", "BlockStructureTransformers"
        )
        base_version, collected = self._collected_structure(course_key)
        root = collected.root_block_usage_key
        unreleased = bool(get_setting("COMPLETION_AGGREGATOR_AGGREGATE_UNRELEASED_BLOCKS"))
        unplaced = self.unplaced_learner_ids(course_key, users)
        unplaced_view: CourseStructureData | None = None

        def structure_for(user) -> CourseStructureData:
            transformed = get_course_blocks(
                user,
                root,
                transformers=BlockStructureTransformers(get_course_block_access_transformers(user)),
                collected_block_structure=collected,
                allow_start_dates_in_future=unreleased,
            )
            if transformed is None or root not in transformed:
                # Nothing visible (e.g. the course itself starts later): an empty course.
                return CourseStructureData(
                    course_key=str(course_key),
                    root=str(root),
                    blocks={str(root): BlockData(str(root), root.block_type)},
                    version=f"{base_version}:empty",
                    root_hidden=True,
                )
            return self._variant(course_key, base_version, transformed)

        result: dict[int, CourseStructureData] = {}
        for user in users:
            if user.pk in unplaced:
                if unplaced_view is None:
                    unplaced_view = structure_for(_platform("django.contrib.auth.models", "AnonymousUser")())
                result[user.pk] = unplaced_view
            else:
                result[user.pk] = structure_for(user)
        return result

    def unplaced_learner_ids(self, course_key: CourseKey, users: Sequence[AbstractBaseUser]) -> set[int]:
        """
        Ids of the ``users`` whose own course tree would make the platform assign them a cohort.

        That is, in a cohorted course (``is_course_cohorted``), the non-staff users without a
        ``CohortMembership`` (edx-platform.md §3, §11: staff are never passed to the partition
        schemes). Read-only: at most three queries per call, none when the course is not cohorted.

        Raises:
            ImproperlyConfigured: not running inside edx-platform.
        """
        if not users:
            return set()
        is_course_cohorted = _platform("openedx.core.djangoapps.course_groups.cohorts", "is_course_cohorted")
        Http404 = _platform("django.http", "Http404")
        try:
            if not is_course_cohorted(course_key):
                return set()
        except Http404:  # no such course: nothing will be computed for it either
            return set()
        candidates = {user.pk for user in users if not getattr(user, "is_staff", False)}
        if not candidates:
            return set()
        candidates -= self.role_holder_ids(course_key, COURSE_STAFF_ROLES)
        CohortMembership = _platform("openedx.core.djangoapps.course_groups.models", "CohortMembership")
        placed = set(
            CohortMembership.objects.filter(course_id=course_key, user_id__in=sorted(candidates)).values_list(
                "user_id", flat=True
            )
        )
        return candidates - placed

    def course_start_dates(self, course_key: CourseKey) -> CourseStartDatesData:
        """
        The distinct start dates of the course's blocks, read from the collected structure:
        ``StartDateTransformer``'s merged start (``merged_start_date``, the block's effective
        start, which its ``collect`` stores) where present, else the collected ``start`` field.
        Personalised start dates come from edx-when (``learner_starts``, see
        :meth:`personal_start_dates`).

        Raises:
            CourseNotFound: no such course or no block structure.
            ImproperlyConfigured: not running inside edx-platform.
        """
        _version, collected = self._collected_structure(course_key)
        starts = set()
        for usage_key in collected:
            start = collected.get_transformer_block_field(usage_key, "start_date", "merged_start_date")
            if not isinstance(start, datetime):
                start = collected.get_xblock_field(usage_key, "start")
            if isinstance(start, datetime):
                starts.add(start)
        return CourseStartDatesData(
            course_key=str(course_key),
            starts=tuple(sorted(starts)),
            learner_starts=self.personal_start_dates(course_key),
        )

    def personal_start_dates(self, course_key: CourseKey) -> tuple[tuple[int, datetime], ...]:
        """
        The learners' personalised ``start`` dates in edx-when, as sorted ``(user id, start)``.

        edx-when's public API (``edx_when.api``) has no call listing a course's overrides per
        field, so the cost is bounded by the overrides, not by the enrollments:

        * ``get_dates_for_course(course_key)``: the course-wide dates (one query, cached by
          edx-when). An override needs the course-wide date of its block and field
          (``set_date_for_block`` raises ``MissingDateError`` otherwise), so only blocks with a
          course-wide ``start`` can carry a personal start; none, no further call.
        * ``get_overrides_for_block(course_key, block)`` per such block: ``(username, full_name,
          date)``, one per learner, any field of the block, latest first (one query, plus
          edx-when's per-row user lookups).
        * The block has no other dated field: that date is the learner's start. Otherwise
          (``start`` and ``due``/``end``) the field is unknown, so
          ``get_dates_for_course(course_key, user=user_id)`` (one query) gives that learner's
          effective starts, once per such learner.

        One query maps usernames to user ids. Relative (schedule) dates are edx-when's
        ``due`` dates and are not read. edx-when (or one of these two functions) not installed
        (older deployments): ``()``, no error. Imported at call time.
        """
        when_api = _platform("edx_when.api", "get_dates_for_course", "get_overrides_for_block", required=False)
        if when_api is None:
            return ()
        get_dates_for_course, get_overrides_for_block = when_api
        course_dates = get_dates_for_course(course_key)
        start_blocks = sorted({block for (block, field) in course_dates if field == "start"}, key=str)
        other_dated = {block for (block, field) in course_dates if field != "start"}
        pairs: set[tuple[str, datetime]] = set()
        unsure: set[str] = set()
        for block in start_blocks:
            for username, _full_name, date in get_overrides_for_block(course_key, block):
                if block in other_dated:
                    unsure.add(username)
                elif isinstance(date, datetime):
                    pairs.add((username, date))
        if not pairs and not unsure:
            return ()
        users = get_user_model()
        ids = dict(
            users.objects.filter(username__in=sorted({name for name, _ in pairs} | unsure)).values_list("username", "pk")
        )
        result = {(ids[name], date) for name, date in pairs if name in ids}
        for name in sorted(unsure):
            if name not in ids:
                continue
            own = get_dates_for_course(course_key, user=ids[name])
            for block in start_blocks:
                date = own.get((block, "start"))
                if isinstance(date, datetime) and date != course_dates.get((block, "start")):
                    result.add((ids[name], date))
        return tuple(sorted(result))

    def block_display_names(self, course_key: CourseKey, block_keys: Iterable[str]) -> dict[str, str]:
        """
        The ``display_name`` xblock field of the collected block structure (requested by our
        transformer's ``collect``, and by the course blocks API's own transformer).

        Raises:
            CourseNotFound: no such course or no block structure.
        """
        from opaque_keys import InvalidKeyError

        _version, collected = self._collected_structure(course_key)
        names = {}
        for key in block_keys:
            try:
                usage_key = parse_usage_key(str(key))
            except InvalidKeyError:
                continue
            name = collected.get_xblock_field(usage_key, "display_name") if usage_key in collected else None
            if name:
                names[str(key)] = str(name)
        return names

    def course_exists(self, course_key: CourseKey) -> bool:
        """True when a ``CourseOverview`` exists (edx-platform creates it on publish)."""
        CourseOverview = _platform("openedx.core.djangoapps.content.course_overviews.models", "CourseOverview")
        return CourseOverview.objects.filter(id=course_key).exists()

    def all_course_keys(self) -> list[CourseKey]:
        """Every course with a ``CourseOverview``."""
        CourseOverview = _platform("openedx.core.djangoapps.content.course_overviews.models", "CourseOverview")
        return list(CourseOverview.objects.order_by("id").values_list("id", flat=True))

    # Enrollments ------------------------------------------------------------------------
    def enrolled_users(self, course_key: CourseKey) -> QuerySet:
        """``CourseEnrollment.objects.users_enrolled_in(course_key)`` (active enrollments)."""
        CourseEnrollment = _platform("common.djangoapps.student.models", "CourseEnrollment")
        return CourseEnrollment.objects.users_enrolled_in(course_key)

    def is_enrolled(self, user: AbstractBaseUser, course_key: CourseKey) -> bool:
        CourseEnrollment = _platform("common.djangoapps.student.models", "CourseEnrollment")
        return bool(CourseEnrollment.is_enrolled(user, course_key))

    def user_course_keys(self, user: AbstractBaseUser) -> list[CourseKey]:
        CourseEnrollment = _platform("common.djangoapps.student.models", "CourseEnrollment")
        return list(
            CourseEnrollment.objects.filter(user_id=user.pk, is_active=True)
            .order_by("course_id")
            .values_list("course_id", flat=True)
        )

    # Roles, cohorts, mobile -------------------------------------------------------------
    def role_holder_ids(self, course_key: CourseKey, roles: Iterable[str] | None = None) -> set[int]:
        """Holders of ``CourseAccessRole`` rows for the course, or org-wide (blank course) for its org."""
        CourseAccessRole = _platform("common.djangoapps.student.models", "CourseAccessRole")
        from opaque_keys.edx.django.models import CourseKeyField

        query = CourseAccessRole.objects.filter(
            Q(course_id=course_key) | (Q(course_id=CourseKeyField.Empty) & Q(org__iexact=course_key.org))
        )
        if roles is not None:
            query = query.filter(role__in=list(roles))
        return set(query.values_list("user_id", flat=True))

    def cohort_member_ids(self, course_key: CourseKey, cohort_id: int) -> set[int]:
        """Members of the cohort, read from ``CohortMembership`` (never assigns anyone)."""
        CohortMembership, CourseUserGroup = _platform(
            "openedx.core.djangoapps.course_groups.models", "CohortMembership", "CourseUserGroup"
        )
        return set(
            CohortMembership.objects.filter(
                course_user_group_id=cohort_id,
                course_user_group__course_id=course_key,
                course_user_group__group_type=CourseUserGroup.COHORT,
                course_id=course_key,
            ).values_list("user_id", flat=True)
        )

    def mobile_available(self, course_keys: Iterable[CourseKey]) -> set[CourseKey]:
        CourseOverview = _platform("openedx.core.djangoapps.content.course_overviews.models", "CourseOverview")
        return set(
            CourseOverview.objects.filter(id__in=list(course_keys), mobile_available=True).values_list("id", flat=True)
        )
