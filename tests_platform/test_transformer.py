"""The block-structure transformer, run by the (fake) platform's machinery."""
from __future__ import annotations

import pytest

from completion_aggregator.transformers import AggregatorAnnotationTransformer

from .conftest import COURSE, key, make_user

pytestmark = pytest.mark.django_db


def test_registration_identity_matches_the_peer():
    assert AggregatorAnnotationTransformer.name() == "completion_aggregator_annotator"
    assert AggregatorAnnotationTransformer.READ_VERSION == AggregatorAnnotationTransformer.WRITE_VERSION == 1


def test_it_is_registered_and_annotates_non_excluded_blocks(published):
    from lms.djangoapps.course_blocks.api import get_course_block_access_transformers, get_course_blocks
    from openedx.core.djangoapps.content.block_structure.api import get_course_in_cache
    from openedx.core.djangoapps.content.block_structure.transformer_registry import TransformerRegistry
    from openedx.core.djangoapps.content.block_structure.transformers import BlockStructureTransformers

    assert AggregatorAnnotationTransformer in TransformerRegistry.get_registered_transformers()
    learner = make_user("ann")
    transformers = BlockStructureTransformers(
        get_course_block_access_transformers(learner) + [AggregatorAnnotationTransformer()]
    )
    structure = get_course_blocks(learner, key("course", "course"), transformers=transformers,
                                  collected_block_structure=get_course_in_cache(COURSE))

    def aggregators(block_type, block_id):
        return structure.get_transformer_block_field(key(block_type, block_id), "completion_aggregator_annotator", "aggregators")

    assert aggregators("html", "h1") == sorted(
        str(key(t, i)) for t, i in [("course", "course"), ("chapter", "ch1"), ("sequential", "s1"), ("vertical", "v1")]
    )
    assert aggregators("course", "course") == []
    assert aggregators("discussion", "d1") is None  # excluded: not annotated
    assert key("html", "h4") not in structure  # unreleased content is filtered before annotation


def test_collect_requests_the_fields_it_needs(published):
    from openedx.core.djangoapps.content.block_structure.api import get_course_in_cache

    collected = get_course_in_cache(COURSE)
    block = collected[key("html", "h1")]
    assert block.location == key("html", "h1")
    assert collected.get_transformer_data("completion_aggregator_annotator", "_version") == 1
