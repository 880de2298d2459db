"""`make chaos`: faults against the real stack, counted.

`python -m tools.chaos <scenario>...` starts the four services as processes (the launcher
`make run` uses) on a real broker, with two partners, runs each scenario and prints one
`CHAOS <scenario> key=value ...` line per scenario and a last line
`CHAOS total lost=<n> duplicated=<n> allowed=<n> server_errors=<n>`.
"""
