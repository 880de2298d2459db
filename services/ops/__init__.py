"""Operator tooling behind the `ta-bridge` command (see `services.cli`).

status_client, status_table        `ta-bridge status`: the four status views in one table
spans, trace_tree                  `ta-bridge trace`: JSON-lines spans drawn as a tree
dead_letters, dead_letter_table    `ta-bridge dlq list`: peek at a DLQ (commits nothing)
redrive                            `ta-bridge dlq redrive`: re-publish to the original topic
offset_reset                       `ta-bridge replay`: move a stopped group's offsets to a time
webhooks                           `ta-bridge webhooks redrive`: the notifier's own redrive
moments, settings, columns         `--since TIME`, the command's settings, aligned columns

The services' side of `status` (`GET /v1/status`) is `shared.add_status_route`, with each
service's details in `services/<service>/status.py`.
"""
