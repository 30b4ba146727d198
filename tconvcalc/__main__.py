"""``python -m tconvcalc``."""

from tconvcalc.cli import main

if __name__ == "__main__":
    main()
