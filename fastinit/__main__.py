import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while numpy and numba load: the one line, not a traceback
    print("fastinit: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
