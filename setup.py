"""Packaging for completion_aggregator."""
import os
import re

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def read(*parts):
    with open(os.path.join(HERE, *parts), encoding="utf-8") as handle:
        return handle.read()


def version():
    match = re.search(r'^__version__ = "([^"]+)"', read("completion_aggregator", "__init__.py"), re.M)
    return match.group(1)


def requirements(path):
    """Read the unpinned requirements of a ``.in`` file (skipping -r/-c lines)."""
    lines = []
    for line in read("requirements", path).splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith(("-r", "-c")):
            lines.append(line)
    return lines


setup(
    name="completion-aggregator",
    version=version(),
    description="Course, section and unit completion for Open edX, kept ready and served over REST.",
    long_description=read("README.rst"),
    long_description_content_type="text/x-rst",
    license="AGPL-3.0",
    packages=find_packages(include=["completion_aggregator", "completion_aggregator.*"]),
    include_package_data=True,
    python_requires=">=3.11",
    install_requires=requirements("base.in"),
    extras_require={"mysql": requirements("mysql.in"), "xapi": requirements("xapi.in")},
    zip_safe=False,
    entry_points={
        "lms.djangoapp": ["completion_aggregator = completion_aggregator.apps:CompletionAggregatorAppConfig"],
        "cms.djangoapp": ["completion_aggregator = completion_aggregator.apps:CompletionAggregatorAppConfig"],
        "openedx.block_structure_transformer": [
            "completion_aggregator_annotator = completion_aggregator.transformers:AggregatorAnnotationTransformer",
        ],
    },
    classifiers=[
        "Framework :: Django",
        "Framework :: Django :: 4.2",
        "Framework :: Django :: 5.2",
        "License :: OSI Approved :: GNU Affero General Public License v3",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
    ],
)
