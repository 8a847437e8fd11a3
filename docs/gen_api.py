"""Generate docs/api.md — the API reference — from the docstrings of every public name.

    python docs/gen_api.py            # rewrite docs/api.md
    python docs/gen_api.py --check    # exit 1 if docs/api.md is out of step with the docstrings

Covers ``fastinit.__all__`` and the ``__all__`` of the optional adapters fastinit.torch,
fastinit.dask, fastinit.jax and fastinit.io (their libraries must be installed to generate the page),
and of fastinit.precompile;
tests/test_docs.py checks the committed page equals :func:`render`.
"""
from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

PAGE = Path(__file__).with_name("api.md")
sys.path.insert(0, str(PAGE.parent.parent))  # the checkout's fastinit, installed or not
MODULES = {
    "fastinit": "The core: in-place initializers (`name_`), allocating twins (NumPy arrays, `layout='keras'`), "
                "fans and gains, seeding, biases and guidance.",
    "fastinit.torch": "Drop-in for `torch.nn.init` on CPU and CUDA tensors (needs torch; CUDA: numba-cuda).",
    "fastinit.dask": "Lazy dask arrays bit-identical to the local initializers (needs dask).",
    "fastinit.jax": "Drop-in for `jax.nn.initializers` with fastinit's values, eager, jitted or vmapped (needs jax).",
    "fastinit.io": "Out-of-core safetensors checkpoints (needs safetensors for reading them back).",
    "fastinit.archs": "Embedded architectures and Hugging Face configs as tensor specs (`fastinit init`).",
    "fastinit.precompile": "Every CPU kernel compiled into numba's cache up front (`fastinit compile`).",
    "fastinit.variance": "Variance propagation through deep nets by activation and init (`fastinit variance`).",
}


class _Text:
    """An annotation shown as written (``from __future__ import annotations`` keeps them as strings)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def signature(obj) -> str:
    """``obj``'s call signature without private parameters, annotations unquoted."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"
    params = []
    for p in sig.parameters.values():
        if p.name.startswith("_"):
            continue
        if isinstance(p.annotation, str):
            p = p.replace(annotation=_Text(p.annotation))
        params.append(p)
    ret = sig.return_annotation
    if isinstance(ret, str):
        ret = _Text(ret)
    return str(sig.replace(parameters=params, return_annotation=ret))


def _doc(obj) -> str:
    doc = inspect.getdoc(obj) or ""
    return f"```text\n{doc}\n```\n" if doc else ""


def entry(module: str, name: str, obj) -> str:
    """The Markdown section of one public name."""
    head = f"### `{module}.{name}`\n\n"
    if inspect.isclass(obj):
        text = head + f"```python\nclass {name}{signature(obj).removesuffix(' -> None')}\n```\n\n" + _doc(obj)
        for meth_name, meth in vars(obj).items():
            if meth_name.startswith("_") or not callable(meth) and not isinstance(meth, (staticmethod, classmethod)):
                continue
            fn = getattr(obj, meth_name)
            text += f"\n```python\n{name}.{meth_name}{signature(fn)}\n```\n\n" + _doc(fn)
        return text
    if callable(obj):
        return head + f"```python\n{name}{signature(obj)}\n```\n\n" + _doc(obj)
    kind = type(obj).__name__
    if type(obj).__module__.startswith("fastinit"):  # an instance of a fastinit class, e.g. default_generator
        return head + f"An instance of `{kind}` (see `{type(obj).__module__.split('._')[0]}.{kind}`).\n"
    if isinstance(obj, dict) and " at 0x" in repr(obj):  # functions among the values: their keys (addresses vary)
        return head + f"```python\n{name}: {kind} = {{{', '.join(f'{k!r}: ...' for k in obj)}}}\n```\n"
    return head + f"```python\n{name}: {kind} = {obj!r}\n```\n"


def render() -> str:
    """The whole page, deterministic for a given source tree."""
    parts = ["# API reference\n",
             ("Generated from the docstrings by `python docs/gen_api.py`; `tests/test_docs.py` fails when this "
              "page and the code are out of step.  Narrative docs: [guide.md](guide.md).\n")]
    parts.append("\n".join(f"* [`{m}`](#{m.replace('.', '')}) — {d}" for m, d in MODULES.items()) + "\n")
    for module, description in MODULES.items():
        mod = importlib.import_module(module)
        parts.append(f"## {module}\n\n{description}\n")
        parts.extend(entry(module, name, getattr(mod, name)) for name in mod.__all__)
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE} is out of step with the docstrings: run python docs/gen_api.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
