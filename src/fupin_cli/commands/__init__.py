"""One module per CLI command (mirroring `fupin_cli.cli`): its runner and its `--json` document.

`cli/<command>.py` parses options, calls `commands/<command>.py` and renders; the work is here.
"""
