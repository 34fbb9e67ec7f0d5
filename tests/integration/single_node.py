"""Fixture `node`: one single-node cluster (behind its gateway) shared by the
tests of a module that only read from it or clean up after themselves.
Import it into a test module: `from single_node import node  # noqa: F401`."""

import pytest

from conftest import ClusterFactory


@pytest.fixture(scope="module")
def node(tmp_path_factory, kafka):
    f = ClusterFactory(tmp_path_factory, kafka)
    try:
        yield f(nodes=1)
    finally:
        f.close()
