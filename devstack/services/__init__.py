"""The services of the local stack, in the order they start.

Adding a component to `make up` is one line in `ALL_SERVICES`.
"""

from simptu.devstack.services.agent import Agent
from simptu.devstack.services.api import Api
from simptu.devstack.services.base import Service
from simptu.devstack.services.booking_com import BookingCom
from simptu.devstack.services.channels import ChannelSenders
from simptu.devstack.services.etcd import Etcd
from simptu.devstack.services.kafka import Kafka
from simptu.devstack.services.keycloak import Keycloak
from simptu.devstack.services.kube import KubeApiserver, KubeControllerManager
from simptu.devstack.services.mail import Mailboxes, MailTransfer
from simptu.devstack.services.meta_graph import MetaGraph
from simptu.devstack.services.openbao import OpenBao
from simptu.devstack.services.operator import Operator
from simptu.devstack.services.pgbouncer import PgBouncer
from simptu.devstack.services.postgres import Postgres
from simptu.devstack.services.redis import Redis
from simptu.devstack.services.relay import OutboxRelay
from simptu.devstack.services.twilio_api import TwilioApi
from simptu.devstack.services.ws import WsHub

ALL_SERVICES: tuple[Service, ...] = (
    Postgres(),
    PgBouncer(),
    Redis(),
    Mailboxes(),
    MailTransfer(),
    MetaGraph(),
    TwilioApi(),
    BookingCom(),
    Kafka(),
    Etcd(),
    OpenBao(),
    KubeApiserver(),
    KubeControllerManager(),
    Keycloak(),
    Operator(),
    OutboxRelay(),
    Api(),
    WsHub(),
    Agent(),
    ChannelSenders(),
)
