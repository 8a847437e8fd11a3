"""Optional dependencies (pyproject's extras): the ImportError that says which extra to install."""


def missing(error: ImportError, extra: str, user: str) -> ImportError:
    """For ``raise missing(e, extra, user) from None`` in an ``except ImportError as e`` around an optional module's
    imports: an ImportError naming ``pip install 'fastinit[extra]'`` when ``e`` says a package is not installed;
    ``e`` itself for anything else (a broken or too old install, missing a module of its own, keeps its message)."""
    package = (error.name or "") if isinstance(error, ModuleNotFoundError) else ""
    if not package or "." in package:
        return error
    return ImportError(f"{user} needs {package}, which is not installed: pip install 'fastinit[{extra}]' "
                       f"(or {package} itself)")
