"""The console script (``tconvcalc``) and ``python -m tconvcalc``."""

from tconvcalc import startup


def main() -> None:
    """Console-script entry point: the Ctrl-C handler first (:mod:`tconvcalc.startup`), then the app."""
    startup.prepare()
    from tconvcalc.cli.common import run_app  # the command's own module is imported by run_app

    run_app()


if __name__ == "__main__":
    main()
