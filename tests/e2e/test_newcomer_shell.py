"""What the README promises a newcomer: after `eval "$(make -s env)"`, the usual clients reach
every service of the stack."""

from __future__ import annotations

import subprocess
import sys

from simptu.devstack.stack import Stack

CLIENTS = {
    "kubectl": "kubectl get namespace default -o name",
    "psql": "psql -tAc 'select 41 + 1'",
    "redis-cli": 'redis-cli --no-auth-warning -u "$SIMPTU_REDIS_URL" ping',
    "curl": 'curl -sf "$SIMPTU_KEYCLOAK_URL/realms/master" -o /dev/null -w "%{http_code}"',
    "bao": "bao status -format=json | grep -c '\"sealed\": false'",
    "helm": "helm version --short",
}
EXPECTED = {"kubectl": "namespace/default", "psql": "42", "redis-cli": "PONG", "curl": "200",
            "bao": "1", "helm": "v3.19.5"}


def test_shell_exports_let_the_usual_clients_reach_every_service(local_stack: Stack) -> None:
    for client, command in CLIENTS.items():
        script = f'eval "$({sys.executable} -m simptu.devstack env)" && {command}'
        result = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                                timeout=60, check=False)
        assert result.returncode == 0, f"{client}: {result.stderr}"
        assert EXPECTED[client] in result.stdout, f"{client} printed {result.stdout!r}"
