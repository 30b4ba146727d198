"""The console script (``tconvcalc``) and ``python -m tconvcalc``."""

from tconvcalc import startup


def main() -> None:
    """Console-script entry point: the Ctrl-C handler first (:mod:`tconvcalc.startup`), then the app."""
    startup.prepare()
    import tconvcalc.cli  # noqa: F401 (the app and its commands)
    from tconvcalc.cli.app import run_app

    run_app()


if __name__ == "__main__":
    main()
