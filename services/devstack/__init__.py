"""The local stack: the four services as supervised child processes, for `make run` and e2e.

Public surface (everything else in this package is private to it):

- `ServiceSpec`, `SERVICES` — how each service is started and configured;
- `StackConfig`, `build_env`, `caller_env` — the environment each child gets;
- `Stack` — starts the children, waits on `/readyz`, stops them in reverse order;
- `RestartPolicy`, `Restart` — restart-on-crash with exponential backoff under a `Stack`;
- `Broker`, `ensure_broker` — a Kafka broker that answers, started locally if needed;
- `BrokerProcess` — a broker the caller owns: start, stop, SIGKILL, restart, wipe;
- `apply_topics` — the topic definitions applied to it (`tools.topics`, when present);
- `WebhookReceiver`, `Delivery`, `verify_signature` — a signed-webhook receiver on loopback;
- `free_port`.
"""

from services.devstack.broker import Broker, ensure_broker
from services.devstack.broker_process import BrokerProcess
from services.devstack.config import StackConfig, build_env, caller_env
from services.devstack.errors import StackError
from services.devstack.ports import free_port
from services.devstack.receiver import Delivery, WebhookReceiver, verify_signature
from services.devstack.restart import Restart, RestartPolicy
from services.devstack.specs import SERVICES, ServiceSpec
from services.devstack.stack import Stack
from services.devstack.topics import TopicsOutcome, apply_topics

__all__ = [
    "SERVICES",
    "Broker",
    "BrokerProcess",
    "Delivery",
    "Restart",
    "RestartPolicy",
    "ServiceSpec",
    "Stack",
    "StackConfig",
    "StackError",
    "TopicsOutcome",
    "WebhookReceiver",
    "apply_topics",
    "build_env",
    "caller_env",
    "ensure_broker",
    "free_port",
    "verify_signature",
]
