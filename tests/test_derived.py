"""Weights records that are derived on this machine (derive=) or that include another model's
tensors (includes=): validation, and the host's handling of a missing include."""

from __future__ import annotations

import pytest

import zoo
from zoo.errors import InvalidRecordError
from zoo.registry import Registry

BASE = dict(repo_id="org/x", revision="a" * 40, sha256="b" * 64, size=1, config={}, license="mit", dataset="d")


def test_derive_must_be_an_import_path():
    with pytest.raises(InvalidRecordError, match="derive"):
        zoo.Weights(name="a.b", derive="not a path", **BASE)
    assert zoo.Weights(name="a.b", derive="pkg.mod:fn", **BASE).derive == "pkg.mod:fn"


@pytest.mark.parametrize("includes", [{"Enc oder": "vgg.x"}, {"encoder": "noarchtag"}, {"encoder": 3}])
def test_includes_must_map_a_prefix_to_a_weights_name(includes):
    with pytest.raises(InvalidRecordError, match="includes"):
        zoo.Weights(name="a.b", includes=includes, **BASE)


def test_weights_including_an_unregistered_model_are_dropped_with_the_plugins_reason():
    reg = Registry()
    reg.add(zoo.Architecture(name="a", builder="m:f", schema={}, default_tag="b", paper="", reference_code=""), "p")
    reg.add(zoo.Weights(name="a.b", includes={"encoder": "vgg.missing"}, **BASE), "p")
    problems = reg.check_consistency()
    assert problems == [("p", "weights 'a.b' include ['vgg.missing'], which no plugin registered")]
    assert "a.b" not in reg.weights


def test_every_include_of_a_registered_model_is_registered_and_fits_its_prefix():
    for name in zoo.list_models(pretrained=True):
        w = zoo.model_info(name).weights
        for prefix, other in w.includes.items():
            assert zoo.model_info(other).weights is not None, f"{name} includes {other}, which has no weights"
