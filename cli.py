"""The `jingzhun` command (console script `jingzhun = cli:main`); the commands live in entrypoints/cli/."""
import sys

from entrypoints.cli.main import cli, main
from entrypoints.cli.printing import err, out

__all__ = ["cli", "main", "out", "err"]

if __name__ == "__main__":
    sys.exit(main())
