"""The `make run` demo: keys, activities, a partner import, a webhook subscription, a change.

Each step talks to the running services over HTTP only (the registry key excepted: it is
created with the registry's own operator CLI, as an operator would).
"""
