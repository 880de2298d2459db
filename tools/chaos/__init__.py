"""`make chaos`: faults against the real stack, counted.

`python -m tools.chaos <scenario>...` starts the four services as processes (the launcher
`make run` uses) on a real broker, with two partners, runs each scenario and prints one
`CHAOS <scenario> key=value ...` line per scenario and a last line
`CHAOS total lost=<n> duplicated=<n> allowed=<n> server_errors=<n>`.

Scenarios: `hostile`, `ssrf`, `auth` (inputs and access), `receiver-outage`,
`service-kills`, `broker-kills` (the flow registry → topic → webhook under faults, see
`tools.chaos.flow`) and `cluster` (a broker replaced by an empty one). When one of them
kills or wipes the broker, or no `KAFKA_BOOTSTRAP_SERVERS` is set, the suite runs on a
broker of its own (`tools.chaos.broker`).
"""
