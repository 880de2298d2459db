"""Topic definitions applied to a cluster: `python -m tools.topics plan|apply|wait`.

The definitions themselves are `shared.events.topic_specs` (the services create the same
topics on start when they are missing); this package adds what an operator needs on top:
a replication profile (`profiles`), a diff between the definitions and a cluster
(`plan`), and the admin-client adapter that reads and changes the cluster (`cluster`).
"""
