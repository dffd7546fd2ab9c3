"""``python -m zoo.cli``: the ``zoo`` command."""

from . import main

if __name__ == "__main__":  # pragma: no cover
    main()
