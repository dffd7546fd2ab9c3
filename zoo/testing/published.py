"""Conformance checks of published weights: :func:`check_weights`, :func:`check_revision`,
:func:`check_card`.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import SizeMismatchError
from ..repos.hub import sha256_file
from .common import _fail, _host, _weights


def check_weights(name: str) -> Path:
    """The weights file of ``name``: found like zoo.load finds it, sha256 and size as pinned, loads strictly."""

    from ..loading import build_for_loading, load_state, weights_path
    from ..repos.check import compare_tensors, meta_state
    from ..repos.folder import read_safetensors_header

    info = _weights(name)
    w = info.weights
    subject = f"weights {info.name!r}"
    try:
        path = weights_path(w)  # found like zoo.load finds it (derived on this machine for derive= records)
    except SizeMismatchError as e:  # sizes are compared before hashing: tell a size typo from a wrong file
        found = Path(e.path)
        if not found.is_file() or sha256_file(found) != w.sha256:
            raise
        path = found
    size = path.stat().st_size
    if size != w.size:
        raise _fail(subject, f"the file is {size} bytes, the record says {w.size}",
                    f"set size={size} in the Weights record (the sha256 matched, so the size is a typo)")
    _, expected = meta_state(info.architecture.name, dict(w.config))
    # tensors under an included model's prefix come from that model's own file
    own = {k: v for k, v in expected.items() if k.split(".", 1)[0] not in w.includes}
    compare_tensors(own, read_safetensors_header(path), f"{subject} ({path})")
    includes = {prefix: str(weights_path(_host().registry.weights[other])) for prefix, other in w.includes.items()}
    model = build_for_loading(info.architecture, info.architecture.validate_config(dict(w.config)))
    load_state(model, str(path), name=info.name, includes=includes)
    return path


def check_revision(name: str) -> str:
    """The revision ``name``'s Weights record pins is in some source; returns which one.

    Sources, as zoo.load tries them: the Hugging Face cache (a snapshot at that revision), the endpoint
    (unless offline), then each mirror folder, whose revision is the commit sha its first publication
    gets (``zoo.publish.folder_revision``, what ``zoo push --dry-run`` prints). A mirror folder matches
    the sha256 of a file whatever the revision, so a mistyped or stale pin would otherwise go unseen
    until a user without the mirror fails to download it. Weights derived on the machine are skipped.
    """
    from ..errors import FileNotInRepoError, HubUnreachableError, NotOnHubError, RevisionNotFoundError
    from ..repos.hub import _endpoint_name, file_metadata, from_cache
    from ..repos.publish import folder_revision

    info = _weights(name)
    w = info.weights
    subject = f"weights {info.name!r}"
    if w.derive:
        return "derived on this machine"
    settings = _host().settings
    looked: list[str] = []
    if from_cache(w.repo_id, w.filename, w.revision) is not None:
        return "the Hugging Face cache"
    looked.append("the Hugging Face cache has no snapshot at it")
    endpoint = _endpoint_name(settings)
    if settings.offline:
        looked.append(f"{endpoint} was not asked (offline)")
    else:
        try:
            file_metadata(w.repo_id, w.filename, w.revision, settings)
            return endpoint
        except (RevisionNotFoundError, NotOnHubError, FileNotInRepoError) as e:
            looked.append(str(e).rstrip("."))
        except HubUnreachableError as e:
            looked.append(f"{endpoint} could not be asked ({e})".rstrip("."))
    for mirror in settings.mirrors:
        folder = Path(mirror) / w.repo_id
        if not (folder / w.filename).is_file():
            continue
        have = folder_revision(folder)
        if have == w.revision:
            return str(mirror)
        looked.append(f"the mirror folder {folder} is at revision {have}")
    if not any("mirror folder" in x for x in looked):
        looked.append(f"no mirror folder holds {w.repo_id}/{w.filename}")
    raise _fail(subject, f"no source has its pinned revision {w.revision!r} of {w.repo_id}: " + "; ".join(looked),
                "pin the revision that was published: `zoo push FOLDER --dry-run` prints it for a folder "
                "(zoo.publish.folder_revision), the Hub shows it for a repo; or publish that commit (`zoo push`)")


def check_card(name: str):
    """The card of ``name`` passes the schema, shows zoo.load of this name, and agrees on the licence."""
    from ..cards import card_for, parse_card

    info = _weights(name)
    w = info.weights
    subject = f"card of {info.name!r}"
    card = card_for(info.name)
    parsed = parse_card(str(card))
    how = next((text for heading, (_, text) in parsed.sections.items()
                if heading.startswith(("how to use", "usage"))), "")
    spelled = {info.name, w.architecture} if w.tag == info.architecture.default_tag else {info.name}
    if not any(f'zoo.load("{n}"' in how or f"zoo.load('{n}'" in how for n in spelled):
        raise _fail(subject, f"'How to use' does not load this model (no zoo.load(\"{info.name}\"))",
                    f'show `zoo.load("{info.name}")` in the snippet')
    lic = str(parsed.metadata.get("license", "")).lower()
    if lic != w.license.lower():
        raise _fail(subject, f"the card says license {lic!r}, the Weights record {w.license!r}",
                    "make them agree")
    return card
