"""``manage.py import_course`` on the standalone host (database)."""
import io
import json
import tarfile

import pytest
from completion.models import BlockCompletion
from django.core.management import CommandError, call_command
from opaque_keys.edx.keys import CourseKey

from completion_aggregator.api import compute_course_progress
from completion_aggregator.models import StaleCompletion
from completion_aggregator.standalone.models import Course, CourseBlock, CourseStructure
from completion_aggregator.standalone.olx import import_course, parse_course
from tests.helpers import learner

from .conftest import DEMO_DIR, DEMO_KEY, DEMO_TAR, course_files, make_tar, needs_demo, tar_member

pytestmark = pytest.mark.django_db

JSON_KEYS = [
    "course_key", "blocks", "blocks_by_type", "leaves", "completable", "excluded", "unknown_types", "unreleased",
    "staff_only",
]


def run(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_course", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def stored_keys(course_key, version):
    structure = CourseStructure.objects.get(course__course_key=CourseKey.from_string(course_key), version=version)
    return sorted(str(key) for key in structure.blocks.values_list("block_key", flat=True))


def assert_nothing_written():
    assert not Course.objects.exists()
    assert not CourseStructure.objects.exists()
    assert not CourseBlock.objects.exists()


@needs_demo
def test_demo_folder_and_tarball_import_with_the_same_keys():
    out, _ = run(str(DEMO_DIR), json=True)
    result = json.loads(out)  # only one JSON object on stdout
    assert list(result) == JSON_KEYS
    assert result["course_key"] == DEMO_KEY
    assert (result["blocks"], result["leaves"], result["completable"], result["excluded"]) == (401, 318, 317, 1)
    assert result["blocks_by_type"]["html"] == 266 and result["unknown_types"] == {}
    run(str(DEMO_TAR), json=True)
    run(str(DEMO_TAR), json=True)
    versions = list(CourseStructure.objects.order_by("version").values_list("version", flat=True))
    assert versions == [1, 2, 3]
    assert stored_keys(DEMO_KEY, 1) == stored_keys(DEMO_KEY, 2) == stored_keys(DEMO_KEY, 3)
    assert len(stored_keys(DEMO_KEY, 3)) == 401
    course = Course.objects.get()
    assert course.display_name == "Open edX Demo Course"
    structure = CourseStructure.objects.get(version=3)
    assert str(structure.root_block_key) == "block-v1:OpenedX+DemoX+DemoCourse+type@course+block@course"
    library = structure.blocks.get(block_type="library_content")
    assert len(library.children) == 6


@needs_demo
def test_human_output_names_the_key_and_the_summary():
    out, _ = run(str(DEMO_TAR))
    lines = out.splitlines()
    assert lines[0] == DEMO_KEY
    assert "structure version 1" in lines[1]
    assert "Blocks: 401 (html 266, vertical 58, problem 29, sequential 17, video 11, chapter 6," in out
    assert "Leaves: 318; completable: 317; excluded: 1" in out
    assert "Unknown types (counted as excluded): none" in out
    assert "Not yet released (start in the future): 0" in out
    assert "Staff-only: 0" in out


@needs_demo
def test_course_key_option_imports_elsewhere():
    out, _ = run(str(DEMO_DIR), course_key="course-v1:Mine+Demo+2026", json=True)
    assert json.loads(out)["course_key"] == "course-v1:Mine+Demo+2026"
    assert list(Course.objects.values_list("course_key", flat=True)) == [CourseKey.from_string("course-v1:Mine+Demo+2026")]


@needs_demo
def test_completing_the_demo_course():
    """
    Staff see every completable leaf (317); a learner without a cohort sees 311 (docs/standalone.rst:
    not the 2 content-group html blocks, 2 of the library's 6 problems). Per-learner figures are
    checked in depth in tests/standalone/test_demo_rules.py.
    """
    summary = import_course(DEMO_TAR)
    course_key = CourseKey.from_string(DEMO_KEY)
    parsed = parse_course(DEMO_TAR)
    from completion_aggregator.completion_modes import mode_lookup
    from completion_aggregator.data import CompletionMode

    mode_of = mode_lookup()
    completable = [block for block in parsed.blocks if mode_of(block.block_type) is CompletionMode.COMPLETABLE]
    assert len(completable) == summary.completable == 317
    alex = learner("alex", course_key)
    boss = learner("boss", course_key, is_staff=True)
    html = next(block for block in completable if block.block_type == "html" and "group_access" not in block.extra)
    for user in (alex, boss):
        BlockCompletion.objects.create(user=user, context_key=course_key, block_key=html.key, block_type="html", completion=1.0)
    assert compute_course_progress(boss, course_key).course.possible == 317
    progress = compute_course_progress(alex, course_key)
    assert progress.course.possible == 311
    assert progress.course.percent == pytest.approx(1 / 311)
    for user in (alex, boss):
        BlockCompletion.objects.bulk_create(
            BlockCompletion(user=user, context_key=course_key, block_key=block.key, block_type=block.block_type, completion=1.0)
            for block in completable
            if block is not html
        )
    progress = compute_course_progress(alex, course_key)
    assert (progress.course.earned, progress.course.percent) == (311, 1.0)
    progress = compute_course_progress(boss, course_key)
    assert (progress.course.earned, progress.course.percent) == (317, 1.0)


@needs_demo
def test_reimport_marks_enrolled_learners_stale(django_capture_on_commit_callbacks, settings):
    settings.COMPLETION_AGGREGATOR_PUBLISH_COUNTDOWN = 0
    import_course(DEMO_DIR)
    alex = learner("alex", CourseKey.from_string(DEMO_KEY))
    StaleCompletion.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        summary = import_course(DEMO_DIR)
    assert summary.structure_version == 2
    assert callbacks
    assert StaleCompletion.objects.filter(username=alex.username, course_key=DEMO_KEY, force=True).exists()


def test_synthetic_import_with_unreleased_staff_only_and_unknown_blocks(olx):
    body = (
        '<chapter url_name="future" start="2999-01-01T00:00:00Z"><html url_name="f1">x</html></chapter>'
        '<chapter url_name="staff" visible_to_staff_only="true"><html url_name="s1">x</html><ubcpi url_name="u" x="1"/></chapter>'
        '<chapter url_name="now"><html url_name="n1">x</html><mystery url_name="m" x="1"/></chapter>'
    )
    out, _ = run(str(olx(course_files(body, 'start="2020-01-01"'))), json=True)
    result = json.loads(out)
    assert result["course_key"] == "course-v1:Org+Num+run"
    assert (result["blocks"], result["leaves"], result["unreleased"], result["staff_only"]) == (9, 5, 2, 3)
    assert result["unknown_types"] == {"mystery": 1}
    assert (result["completable"], result["excluded"]) == (4, 1)
    stored = {str(row.block_key).rsplit("@", 1)[1]: row for row in CourseBlock.objects.all()}
    assert stored["s1"].visible_to_staff_only and stored["f1"].start.year == 2999


# Bad input: a CommandError naming the problem, and nothing written. -----------------------
def _not_a_path(tmp_path, olx):
    return [str(tmp_path / "nowhere")], {}, "no such file or folder"


def _plain_file(tmp_path, olx):
    path = tmp_path / "course.zip"
    path.write_bytes(b"PK\x03\x04 not a tarball")
    return [str(path)], {}, "not a course export folder nor a readable .tar.gz"


def _no_course_xml(tmp_path, olx):
    return [str(olx({"about/overview.html": "<p/>"}))], {}, "no course.xml"


def _malformed_xml(tmp_path, olx):
    files = course_files('<chapter url_name="ch"/>', chapter__ch_xml='<chapter>\n<sequential url_name="s"\n</chapter>')
    return [str(olx(files))], {}, r"chapter/ch\.xml: malformed XML at line 3, column \d+"


def _malformed_course_xml(tmp_path, olx):
    return [str(olx({"course.xml": "<course url_name='x' org='O' course='C'>"}))], {}, r"course\.xml: malformed XML at line 1"


def _missing_pointer(tmp_path, olx):
    files = course_files('<chapter url_name="ch"/>', chapter__ch_xml='<chapter><sequential url_name="gone"/></chapter>')
    message = r'chapter/ch\.xml: <sequential url_name="gone"> points to .*sequential/gone\.xml, which does not exist'
    return [str(olx(files))], {}, message


def _bad_policy(tmp_path, olx):
    files = course_files("")
    files["policies/run/policy.json"] = '{\n  "course/run": {"start": }\n}'
    return [str(olx(files))], {}, r"policies/run/policy\.json: malformed JSON at line 2"


def _invalid_key(tmp_path, olx):
    return [str(olx(course_files("")))], {"course_key": "not-a-key"}, "invalid course key 'not-a-key'"


def _escaping_member(tmp_path, olx):
    tar = make_tar(tmp_path / "evil.tar.gz", olx(course_files("")), members=[tar_member("course/../../x.xml")])
    return [str(tar)], {}, r"member 'course/../../x.xml' escapes the archive's folder"


def _link_member(tmp_path, olx):
    member = tar_member("course/chapter/ch.xml", kind=tarfile.SYMTYPE, linkname="/etc/passwd")
    tar = make_tar(tmp_path / "link.tar.gz", olx(course_files('<chapter url_name="ch"/>')), members=[member])
    return [str(tar)], {}, "is a link"


def _pointer_in_tarball_to_missing_file(tmp_path, olx):
    tar = make_tar(tmp_path / "c.tar.gz", olx(course_files('<chapter url_name="ch"/>')))
    return [str(tar)], {}, r"chapter/ch\.xml, which does not exist"


@pytest.mark.parametrize(
    "case",
    [
        _not_a_path, _plain_file, _no_course_xml, _malformed_xml, _malformed_course_xml, _missing_pointer,
        _bad_policy, _invalid_key, _escaping_member, _link_member, _pointer_in_tarball_to_missing_file,
    ],
    ids=lambda case: case.__name__.strip("_"),
)
def test_bad_input_is_a_command_error_and_writes_nothing(case, tmp_path, olx):
    args, options, message = case(tmp_path, olx)
    with pytest.raises(CommandError, match=message):
        run(*args, **options)
    assert_nothing_written()


def test_bad_input_after_a_good_import_keeps_the_old_version(olx):
    good = olx(course_files('<chapter url_name="ch"><html>x</html></chapter>'), "good")
    run(str(good), json=True)
    bad = olx(course_files('<chapter url_name="ch"><html url_name="h"/></chapter>'), "bad")
    with pytest.raises(CommandError, match="html/h.xml, which does not exist"):
        run(str(bad))
    assert list(CourseStructure.objects.values_list("version", flat=True)) == [1]
    assert CourseBlock.objects.count() == 3
