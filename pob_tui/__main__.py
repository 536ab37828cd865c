"""`python -m pob_tui` is the same as `pob`."""

from pob_tui.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
