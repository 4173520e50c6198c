"""``python -m partnerprojekte.cli``: how the runner starts the web application (no console script needed)."""

from partnerprojekte.cli.program import main

main()
