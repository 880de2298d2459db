"""notifier: signed, retried, ordered webhooks for partner systems.

The composition root (``app.py``) wires :class:`~services.notifier.dispatcher.Dispatcher`,
a :class:`~services.notifier.store.NotifierStore` and the subscription views together.
"""
