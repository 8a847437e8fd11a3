"""Docs in step with the code: the API reference is generated from the docstrings and lists every public
name; every public callable has a docstring of its own; every initializer's docstring states its law."""
import importlib
import importlib.util
import inspect
import pathlib
import re

import pytest

import fastinit

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
ADAPTERS = {"fastinit.torch": "torch", "fastinit.dask": "dask", "fastinit.jax": "jax"}


def _module(name):
    if name in ADAPTERS:
        pytest.importorskip(ADAPTERS[name])
    return importlib.import_module(name)


def _gen_api():
    spec = importlib.util.spec_from_file_location("gen_api", DOCS / "gen_api.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("module", ["fastinit", "fastinit.torch", "fastinit.dask", "fastinit.jax", "fastinit.io",
                                    "fastinit.precompile"])
def test_api_reference_lists_every_public_name(module):
    page = (DOCS / "api.md").read_text(encoding="utf-8")
    missing = [n for n in _module(module).__all__ if f"### `{module}.{n}`\n" not in page]
    assert not missing, f"docs/api.md lacks {missing}: run python docs/gen_api.py"


def test_api_reference_is_the_generated_text():
    for module in ADAPTERS:
        _module(module)
    expected = _gen_api().render()
    assert (DOCS / "api.md").read_text(encoding="utf-8") == expected, "run python docs/gen_api.py"


def _public(module):
    mod = _module(module)
    return [(n, getattr(mod, n)) for n in mod.__all__ if callable(getattr(mod, n))]


@pytest.mark.parametrize("module", ["fastinit", "fastinit.torch", "fastinit.dask", "fastinit.jax", "fastinit.io",
                                    "fastinit.precompile"])
def test_every_public_callable_has_a_docstring_of_its_own(module):
    for name, obj in _public(module):
        if not inspect.isfunction(obj) and not inspect.isclass(obj):
            continue  # an instance (fastinit.default_generator) is documented by its class
        doc = obj.__doc__ if inspect.isfunction(obj) else vars(obj).get("__doc__")
        assert doc and doc.strip(), f"{module}.{name} has no docstring"
        assert not doc.startswith(f"{name}("), f"{module}.{name} has only dataclass's generated docstring"


# (names matching, what the docstring must mention): the law in symbols or words
LAWS = [
    (r"uniform", r"U\[|U\(|\\mathcal\{U\}|bound|limit"),
    (r"normal", r"N\(|\\mathcal\{N\}|std"),
    (r"xavier|glorot|kaiming|^he_|lecun|fan_in|variance_scaling", r"fan"),
    (r"orthogonal", r"orthogonal"),
    (r"sparse", r"zeros|non-zero"),
    (r"^eye", r"identity"),
    (r"dirac", r"Dirac"),
    (r"^(constant|zeros|ones)", r"val|zeros|ones"),
    (r"bias", r"log|constant|entries equal|prior"),
]


def test_every_initializer_docstring_states_its_law():
    initializers = [n for n, obj in _public("fastinit") if inspect.isfunction(obj)
                    and any(re.search(pat, n) for pat, _ in LAWS)]
    assert len(initializers) >= 45  # every in-place initializer and allocating twin
    for name in initializers:
        doc = inspect.getdoc(getattr(fastinit, name))
        twin = re.search(r":func:`fastinit\.(\w+_)`", doc)  # an allocating twin may defer to its in-place twin
        if twin and twin.group(1) == name + "_":
            doc += inspect.getdoc(getattr(fastinit, twin.group(1)))
        for pattern, law in LAWS:
            if re.search(pattern, name):
                assert re.search(law, doc), f"fastinit.{name}'s docstring does not state its law ({law!r})"


def test_guide_links_resolve_and_it_shows_every_command():
    guide = (DOCS / "guide.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#:]+\.md)\)", guide):
        path = DOCS / target
        if target == "gpu.md" and not path.exists():
            continue  # written with the GPU kernels (issue #7)
        assert path.exists(), f"docs/guide.md links to missing {target}"
    for command in ("init", "fill", "bench", "check", "variance", "compile"):
        assert f"`fastinit {command}" in guide
    assert "W = fastinit.glorot_uniform(n_in, n_out)" in guide and "fastinit.recommend" in guide


def _readme_blocks():
    text = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("index", range(len(_readme_blocks())))
def test_readme_python_examples_run_as_written(index):
    """Each Python block of the README runs in a fresh namespace, as a reader would paste it."""
    code = _readme_blocks()[index]
    for module in ("torch", "jax"):
        if re.search(rf"^import {module}\b", code, flags=re.M):
            pytest.importorskip(module)
    namespace: dict = {}
    exec(compile(code, f"README.md python block {index}", "exec"), namespace)
    assert "fastinit" in namespace


_NEEDS = {**ADAPTERS, "fastinit.materialize": "torch"}
_EXAMPLES = sorted(p.stem for p in (DOCS.parent / "fastinit").glob("*.py") if ">>> " in p.read_text())


@pytest.mark.parametrize("stem", _EXAMPLES)
def test_docstring_examples_run_as_shown(stem):
    """The ``>>>`` examples of every module's docstrings (doctest), so help() shows what the code does."""
    import doctest

    name = "fastinit" if stem == "__init__" else f"fastinit.{stem}"
    if name in _NEEDS:
        pytest.importorskip(_NEEDS[name])
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted and not result.failed, result
