"""charts/simptu as helm and the API server see it: it lints strictly, renders with the minimal
values a platform team sets and with every optional feature on, every rendered object is
accepted by the stack's real kube-apiserver (server-side dry run), its pods meet the restricted
Pod Security Standard, the operator's RBAC lists only what the operator touches, the webhook's
certificate survives upgrades, and wrong values are refused with a message naming the value."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.integration.chart.conftest import (
    CHART,
    EVERYTHING,
    GITOPS_VALUES,
    MINIMAL,
    Helm,
    by_kind,
    named,
)
from tests.integration.operator.conftest import Kubectl

RUNTIMES = ("api", "ws", "relay", "channels")


def containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    return list(deployment["spec"]["template"]["spec"]["containers"])


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}


def test_lint_strict_passes_with_the_minimal_values_and_with_every_feature_on(
        helm: Helm) -> None:
    helm.run("lint", "--strict", str(CHART), "-f", str(MINIMAL))
    helm.run("lint", "--strict", str(CHART), "-f", str(MINIMAL), "-f", str(EVERYTHING))


def test_the_gitops_examples_values_pass_the_charts_schema(helm: Helm) -> None:
    helm.run("lint", "--strict", str(CHART), "-f", str(GITOPS_VALUES))


def test_each_runtime_and_the_operator_run_the_one_image_with_their_module(helm: Helm) -> None:
    objects = helm.template(MINIMAL)
    modules = {"api": ["simptu.runtime.api"], "ws": ["simptu.runtime.ws"],
               "relay": ["simptu.runtime.core.events", "relay", "--metrics-port", "58091"],
               "channels": ["simptu.runtime.channels", "sender"],
               "operator": ["simptu.operator"]}
    for component, args in modules.items():
        container = containers(named(objects, "Deployment", f"-{component}"))[0]
        assert container["image"] == "simptu/simptu:0.1.0"
        assert container["args"] == args


def test_every_pod_meets_the_restricted_pod_security_standard(helm: Helm) -> None:
    objects = helm.template(MINIMAL, EVERYTHING)
    for workload in by_kind(objects, "Deployment") + by_kind(objects, "Job"):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert not pod.get("hostNetwork")
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["readOnlyRootFilesystem"] is True
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]  # noqa: S108
            assert container["resources"]["requests"]
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if workload["kind"] == "Deployment":
                    assert container[probe]["httpGet"]["port"] == "http"
                    assert "host" not in container[probe]["httpGet"]
        assert {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}} in pod["volumes"]


def test_the_runtimes_get_no_kubernetes_token_and_the_operator_its_identity(
        helm: Helm) -> None:
    objects = helm.template(MINIMAL)
    for component in RUNTIMES:
        pod = named(objects, "Deployment", f"-{component}")["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False
        assert pod["serviceAccountName"].endswith("-runtime")
        probe = containers(named(objects, "Deployment", f"-{component}"))[0]["readinessProbe"]
        assert probe["httpGet"]["path"] == ("/metrics" if component == "relay" else "/readyz")
    operator = named(objects, "Deployment", "-operator")
    pod = operator["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is True
    assert pod["serviceAccountName"].endswith("-operator")
    assert operator["spec"]["replicas"] == 2
    env = env_of(pod["containers"][0])
    assert env["POD_ID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["SIMPTU_OPERATOR_WEBHOOK_MANAGED"]["value"] == "false"
    runtime_account = named(objects, "ServiceAccount", "-runtime")
    assert runtime_account["automountServiceAccountToken"] is False
    bound = {subject["name"] for binding in by_kind(objects, "ClusterRoleBinding")
             for subject in binding["subjects"]}
    assert bound == {operator["spec"]["template"]["spec"]["serviceAccountName"]}
    assert not by_kind(objects, "Role")
    assert not by_kind(objects, "RoleBinding")


def test_migrations_run_with_the_new_image_before_install_and_upgrade(helm: Helm) -> None:
    job = by_kind(helm.template(MINIMAL, EVERYTHING), "Job")[0]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    pod = job["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    container = pod["containers"][0]
    assert container["args"] == ["simptu.runtime", "migrate"]
    assert container["image"].startswith("registry.example.com/simptu/simptu@sha256:")
    # A pooled URL does not suit migrations' session state: the direct one is used.
    assert env_of(container)["SIMPTU_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "simptu-postgres", "key": "direct-url"}
    assert "envFrom" not in container  # the ConfigMap does not exist before a first install


def test_credentials_come_only_from_the_existing_secrets(helm: Helm) -> None:
    objects = helm.template(MINIMAL)
    assert not [s for s in by_kind(objects, "Secret") if not s["metadata"]["name"].endswith(
        "-webhook-cert")], "the chart makes no Secret but the webhook's certificate"
    config = by_kind(objects, "ConfigMap")[0]["data"]
    assert not [key for key in config if key.endswith(("_URL", "_TOKEN", "_PASSWORD", "_SECRET"))
                and key not in ("SIMPTU_KEYCLOAK_URL", "SIMPTU_PUBLIC_BASE_URL",
                                "SIMPTU_META_GRAPH_URL", "SIMPTU_TWILIO_API_URL",
                                "SIMPTU_MAIL_IMAP_URL")]
    api = env_of(containers(named(objects, "Deployment", "-api"))[0])
    assert api["SIMPTU_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "simptu-postgres", "key": "url"}
    assert api["SIMPTU_GUEST_TOKEN_SECRET"]["valueFrom"]["secretKeyRef"] == {
        "name": "simptu-platform", "key": "guest-token-secret"}
    operator = env_of(containers(named(objects, "Deployment", "-operator"))[0])
    assert operator["SIMPTU_KEYCLOAK_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "simptu-keycloak-admin", "key": "password"}
    assert config["SIMPTU_OPERATOR_AGENT_IMAGE"] == "simptu/simptu:0.1.0"



def kafka_login(container: dict[str, Any]) -> set[str]:
    """The Secrets the container's Kafka user name and password come from."""
    env = env_of(container)
    return {env[name]["valueFrom"]["secretKeyRef"]["name"] + "/"
            + env[name]["valueFrom"]["secretKeyRef"]["key"]
            for name in ("SIMPTU_KAFKA_USERNAME", "SIMPTU_KAFKA_PASSWORD") if name in env}


def test_with_sasl_each_runtime_logs_in_to_kafka_as_its_own_user_from_its_secret(
        helm: Helm) -> None:
    objects = helm.template(MINIMAL, EVERYTHING)
    config = by_kind(objects, "ConfigMap")[0]["data"]
    assert config["SIMPTU_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    own = {component: f"simptu-kafka-{component}" for component in RUNTIMES}
    own["operator"] = "simptu-kafka-admin"  # only the operator gets the super user
    for component, secret in own.items():
        container = containers(named(objects, "Deployment", f"-{component}"))[0]
        assert kafka_login(container) == {f"{secret}/username", f"{secret}/password"}
    migrate = by_kind(objects, "Job")[0]["spec"]["template"]["spec"]["containers"][0]
    assert not kafka_login(migrate)
    plaintext = helm.template(MINIMAL)
    assert "SIMPTU_KAFKA_SASL_MECHANISM" not in by_kind(plaintext, "ConfigMap")[0]["data"]
    for deployment in by_kind(plaintext, "Deployment"):
        assert not kafka_login(containers(deployment)[0])


def test_sasl_without_the_logins_secrets_is_refused_naming_each(helm: Helm) -> None:
    def refusal(*sets: str) -> str:
        done = helm.run("template", "simptu", str(CHART), "-f", str(MINIMAL),
                        *[arg for s in sets for arg in ("--set", s)], check=False)
        assert done.returncode != 0
        return done.stderr

    missing = refusal("kafka.sasl.mechanism=SCRAM-SHA-256")
    for login in ("existingSecret", "runtimeSecrets/api", "runtimeSecrets/ws",
                  "runtimeSecrets/relay", "runtimeSecrets/channels"):
        assert f"at '/kafka/sasl/{login}': minLength: got 0, want 1" in missing, missing
    logins = ",".join(f"kafka.sasl.runtimeSecrets.{c}=simptu-kafka-{c}" for c in RUNTIMES[:3])
    without_channels = refusal("kafka.sasl.mechanism=SCRAM-SHA-256",
                               "kafka.sasl.existingSecret=simptu-kafka-admin", logins)
    assert "at '/kafka/sasl/runtimeSecrets/channels': minLength" in without_channels
    assert "/kafka/sasl/existingSecret" not in without_channels
    helm.template(MINIMAL, sets=("kafka.sasl.mechanism=SCRAM-SHA-256", "channels.enabled=false",
                                 "kafka.sasl.existingSecret=simptu-kafka-admin", logins))


def test_the_agents_direct_postgres_address_reaches_the_operator_only(helm: Helm) -> None:
    objects = helm.template(MINIMAL, EVERYTHING)
    for deployment in by_kind(objects, "Deployment"):
        env = env_of(containers(deployment)[0])
        address = env.get("SIMPTU_OPERATOR_AGENT_DATABASE_ADDRESS")
        if deployment["metadata"]["name"].endswith("-operator"):
            assert address == {"name": "SIMPTU_OPERATOR_AGENT_DATABASE_ADDRESS",
                               "value": "postgresql://postgres.db.svc:5432/simptu"}
        else:
            assert address is None
    assert "SIMPTU_OPERATOR_AGENT_DATABASE_ADDRESS" not in env_of(
        containers(named(helm.template(MINIMAL), "Deployment", "-operator"))[0])

def test_the_operators_cluster_role_lists_only_what_it_touches(helm: Helm) -> None:
    def rules(*values: Any) -> dict[tuple[str, str], set[str]]:
        role = by_kind(helm.template(*values), "ClusterRole")[0]
        found: dict[tuple[str, str], set[str]] = {}
        for rule in role["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    found.setdefault((group, resource), set()).update(rule["verbs"])
        return found

    minimal = rules(MINIMAL)
    assert all("*" not in verbs for verbs in minimal.values())
    assert all("*" not in key for key in minimal)
    assert minimal[("simptu.io", "tenants")] == {"get", "list", "watch", "patch"}
    assert minimal[("", "namespaces")] == {"get", "create", "patch", "delete"}
    assert minimal[("apps", "deployments")] == {"get", "create", "patch"}
    # Neither the webhook configuration (the chart owns it) nor pods, nodes or RBAC objects.
    assert not {key for key in minimal if key[1] in (
        "validatingwebhookconfigurations", "pods", "nodes", "roles", "rolebindings",
        "clusterroles", "clusterrolebindings", "kafkatopics")}
    strimzi = rules(MINIMAL, EVERYTHING)
    assert strimzi[("kafka.strimzi.io", "kafkatopics")] == {"get", "create", "patch", "delete"}


def test_one_ingress_routes_every_tenant_host_and_the_platform_host(helm: Helm) -> None:
    objects = helm.template(MINIMAL)
    ingress = by_kind(objects, "Ingress")[0]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["*.chat.example.com", "api.example.com"],
                                       "secretName": "simptu-example-tls"}]
    assert ingress["metadata"]["annotations"][
        "nginx.ingress.kubernetes.io/proxy-read-timeout"] == "3600"
    for rule in ingress["spec"]["rules"]:
        paths = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
        assert paths["/socket"].endswith("-ws")
        assert paths["/"].endswith("-api")
    everything = helm.template(MINIMAL, EVERYTHING)
    annotations = by_kind(everything, "Ingress")[0]["metadata"]["annotations"]
    assert annotations["cert-manager.io/cluster-issuer"] == "letsencrypt-dns"
    route = by_kind(everything, "HTTPRoute")[0]
    assert route["spec"]["hostnames"] == ["*.chat.example.com", "api.example.com"]


def test_network_policies_deny_everything_but_the_designed_flows(helm: Helm) -> None:
    objects = helm.template(MINIMAL)
    policies = {p["metadata"]["name"]: p["spec"] for p in by_kind(objects, "NetworkPolicy")}
    deny = policies.pop("simptu-default-deny")
    assert deny["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny
    assert sorted(policies) == sorted(f"simptu-{c}" for c in (*RUNTIMES, "operator", "migrate"))
    assert "ingress" not in policies["simptu-migrate"]  # it takes no traffic at all

    def ports_out(component: str) -> set[int]:
        return {port["port"] for rule in policies[f"simptu-{component}"]["egress"]
                for port in rule["ports"]}

    # The relay talks to neither Keycloak nor the providers; only the senders reach providers.
    assert 587 not in ports_out("relay")
    assert 8443 not in ports_out("relay")
    assert 587 in ports_out("channels")
    assert 587 not in ports_out("api")
    assert 443 in ports_out("operator")  # the kube-apiserver
    edge = policies["simptu-api"]["ingress"][0]
    assert edge["ports"] == [{"protocol": "TCP", "port": 3003}]
    assert not [rule for rule in policies["simptu-relay"]["ingress"]
                if "ingress-nginx" in json.dumps(rule)]


def test_host_network_and_each_runtimes_port_are_values(helm: Helm) -> None:
    sets = ("hostNetwork=true", "bindAddress=127.0.0.1", "api.port=53003", "ws.port=54000",
            "relay.port=58191", "channels.port=58194", "operator.port=58181",
            "operator.webhook.port=58543")
    objects = helm.template(MINIMAL, sets=sets)
    expected = {"api": 53003, "ws": 54000, "relay": 58191, "channels": 58194, "operator": 58181}
    for component, port in expected.items():
        deployment = named(objects, "Deployment", f"-{component}")
        pod = deployment["spec"]["template"]["spec"]
        assert pod["hostNetwork"] is True
        assert pod["dnsPolicy"] == "ClusterFirstWithHostNet"
        # On the node's network a new pod needs the old one's port: no surge.
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0
        assert pod["containers"][0]["ports"][0]["containerPort"] == port
        # Bound to loopback, so probed there (the kubelet would ask the node's address).
        assert pod["containers"][0]["readinessProbe"]["httpGet"]["host"] == "127.0.0.1"
    api = env_of(containers(named(objects, "Deployment", "-api"))[0])
    assert api["SIMPTU_API_PORT"]["value"] == "53003"
    assert api["SIMPTU_API_HOST"]["value"] == "127.0.0.1"
    operator = containers(named(objects, "Deployment", "-operator"))[0]
    assert {"name": "webhook", "containerPort": 58543, "protocol": "TCP"} in operator["ports"]


def test_large_integers_reach_the_settings_as_integers(helm: Helm) -> None:
    """Helm holds YAML numbers as floats: a clock-based peering priority must not become
    '9.66269048e+08', which the operator refuses."""
    objects = helm.template(MINIMAL, sets=("operator.priority=966269048",
                                           "postgres.poolMax=250",
                                           "operator.maxConcurrentReconciles=64"))
    config = by_kind(objects, "ConfigMap")[0]["data"]
    assert config["SIMPTU_OPERATOR_PRIORITY"] == "966269048"
    assert config["SIMPTU_DATABASE_POOL_MAX"] == "250"
    assert config["SIMPTU_OPERATOR_MAX_CONCURRENT_RECONCILES"] == "64"


def test_the_api_serves_the_images_web_builds_unless_the_folder_is_emptied(helm: Helm) -> None:
    folders = {"SIMPTU_API_WIDGET_DIR": "/opt/simptu/web/widget",
               "SIMPTU_API_INBOX_DIR": "/opt/simptu/web/inbox",
               "SIMPTU_API_GUIDES_DIR": "/opt/simptu/web/guides"}
    config = by_kind(helm.template(MINIMAL), "ConfigMap")[0]["data"]
    assert {name: config.get(name) for name in folders} == folders
    emptied = by_kind(helm.template(MINIMAL, sets=("api.webAssetsDir=",)), "ConfigMap")[0]
    assert not set(folders) & set(emptied["data"])


def test_every_pod_logs_in_to_openbao_with_a_projected_token_and_none_holds_a_bao_token(
        helm: Helm) -> None:
    objects = helm.template(MINIMAL)
    config = by_kind(objects, "ConfigMap")[0]["data"]
    assert config["SIMPTU_BAO_AUTH"] == "kubernetes"
    assert config["SIMPTU_BAO_AUTH_MOUNT"] == "kubernetes"
    assert config["SIMPTU_OPERATOR_AGENT_BAO_AUDIENCE"] == "openbao"
    roles = dict.fromkeys(RUNTIMES, "simptu-runtime") | {
        "operator": "simptu-operator"}
    for component, role in roles.items():
        pod = named(objects, "Deployment", f"-{component}")["spec"]["template"]["spec"]
        container = pod["containers"][0]
        env = env_of(container)
        assert env["SIMPTU_BAO_ROLE"]["value"] == role
        assert "SIMPTU_BAO_TOKEN" not in env
        volume = next(v for v in pod["volumes"] if v["name"] == "openbao-token")
        assert volume["projected"]["sources"] == [{"serviceAccountToken": {
            "audience": "openbao", "expirationSeconds": 600, "path": "token"}}]
        assert {"name": "openbao-token", "mountPath": "/var/run/secrets/openbao",
                "readOnly": True} in container["volumeMounts"]
    token = helm.template(MINIMAL, sets=("openbao.auth=token",
                                          "openbao.existingSecret=simptu-openbao"))
    env = env_of(containers(named(token, "Deployment", "-api"))[0])
    assert env["SIMPTU_BAO_TOKEN"]["valueFrom"]["secretKeyRef"] == {
        "name": "simptu-openbao", "key": "token"}
    assert "SIMPTU_BAO_ROLE" not in env


def _crd(group: str, kind: str, plural: str, versions: tuple[str, ...]) -> dict[str, Any]:
    """A CRD that accepts any object of the kind: enough for the API server to dry-run the
    chart's optional objects of products this stack does not run (Prometheus Operator,
    cert-manager, Gateway API)."""
    # Groups under k8s.io need the approval annotation (Gateway API's own CRDs carry theirs).
    approval = {"api-approved.kubernetes.io": "https://github.com/kubernetes-sigs/gateway-api/pull/1538"
                } if group.endswith(".k8s.io") else {}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}", "labels": {"simptu.io/test": "chart"},
                         "annotations": approval},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
                     "versions": [{"name": v, "served": True, "storage": i == 0, "schema": {
                         "openAPIV3Schema": {"type": "object",
                                             "x-kubernetes-preserve-unknown-fields": True}}}
                                  for i, v in enumerate(versions)]}}


FOREIGN_CRDS = [
    _crd("monitoring.coreos.com", "ServiceMonitor", "servicemonitors", ("v1",)),
    _crd("monitoring.coreos.com", "PodMonitor", "podmonitors", ("v1",)),
    _crd("monitoring.coreos.com", "PrometheusRule", "prometheusrules", ("v1",)),
    _crd("cert-manager.io", "Issuer", "issuers", ("v1",)),
    _crd("cert-manager.io", "Certificate", "certificates", ("v1",)),
    _crd("gateway.networking.k8s.io", "HTTPRoute", "httproutes", ("v1",)),
]


@pytest.fixture(scope="module")
def foreign_crds(kubectl: Kubectl) -> Iterator[None]:
    """Stand-in CRDs for the optional kinds, made only where the kind is not served yet, and
    removed afterwards (a real install of those products is left alone)."""
    made: list[str] = []
    try:
        for crd in FOREIGN_CRDS:
            name = crd["metadata"]["name"]
            if kubectl.run("get", "crd", name, check=False).returncode != 0:
                kubectl.run("create", "-f", "-", stdin=json.dumps(crd))
                made.append(name)
        if made:
            kubectl.run("wait", "--for=condition=Established", "--timeout=60s",
                        *(f"crd/{name}" for name in made))
        yield
    finally:
        if made:
            kubectl.run("delete", "crd", *made, "--wait=false", check=False)


@pytest.mark.parametrize("values", ["minimal", "everything"])
def test_every_rendered_object_is_accepted_by_the_api_server(
        helm: Helm, kubectl: Kubectl, chart_namespace: str, foreign_crds: None,
        values: str) -> None:
    files = (MINIMAL,) if values == "minimal" else (MINIMAL, EVERYTHING)
    objects = helm.template(*files, namespace=chart_namespace)
    crds = [yaml.safe_load(path.read_text()) for path in sorted((CHART / "crds").iterdir())]
    manifest = {"apiVersion": "v1", "kind": "List", "items": crds + objects}
    done = kubectl.run("apply", "--dry-run=server", "-n", chart_namespace, "-f", "-",
                       "-o", "name", stdin=json.dumps(manifest))
    accepted = done.stdout.split()
    assert len(accepted) == len(crds) + len(objects), done.stdout


def test_the_webhook_certificate_is_kept_across_upgrades(
        helm: Helm, kubectl: Kubectl, chart_namespace: str) -> None:
    """Rendered against the cluster (as `helm upgrade` does), the chart reuses the certificate
    the live Secret holds, and the webhook configuration trusts its CA."""
    first = helm.template(MINIMAL, namespace=chart_namespace)
    secret = named(first, "Secret", "-webhook-cert")
    kubectl.run("apply", "-n", chart_namespace, "-f", "-", stdin=json.dumps(secret))
    args = ["template", "simptu", str(CHART), "-n", chart_namespace, "-f", str(MINIMAL),
            "--dry-run=server"]
    again = [doc for doc in yaml.safe_load_all(helm.run(*args).stdout) if doc]
    assert named(again, "Secret", "-webhook-cert")["data"] == secret["data"]
    configuration = by_kind(again, "ValidatingWebhookConfiguration")[0]
    for webhook in configuration["webhooks"]:
        assert webhook["clientConfig"]["caBundle"] == secret["data"]["ca.crt"]
        assert webhook["failurePolicy"] == "Ignore"
    ca = base64.b64decode(secret["data"]["ca.crt"]).decode()
    assert ca.startswith("-----BEGIN CERTIFICATE-----")
    # Without a live Secret (a fresh install) a new certificate is made.
    fresh = named(helm.template(MINIMAL), "Secret", "-webhook-cert")
    assert fresh["data"]["tls.crt"] != secret["data"]["tls.crt"]


def test_with_cert_manager_the_webhook_ca_is_injected(helm: Helm) -> None:
    objects = helm.template(MINIMAL, EVERYTHING)
    configuration = by_kind(objects, "ValidatingWebhookConfiguration")[0]
    assert configuration["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == \
        "simptu/simptu-webhook-cert"
    assert all("caBundle" not in w["clientConfig"] for w in configuration["webhooks"])
    assert not by_kind(objects, "Secret")
    certificate = named(objects, "Certificate", "-webhook-cert")
    assert "simptu-operator-webhook.simptu.svc" in certificate["spec"]["dnsNames"]


def test_the_alerts_use_metrics_the_platform_exports(helm: Helm) -> None:
    rule = by_kind(helm.template(MINIMAL, EVERYTHING), "PrometheusRule")[0]
    expressions = " ".join(r["expr"] for g in rule["spec"]["groups"] for r in g["rules"])
    for metric in ("simptu_operator_reconciles_total", "simptu_operator_tenants",
                   "simptu_outbox_lag_seconds_bucket", "simptu_api_requests_total",
                   "simptu_ws_connections"):
        assert metric in expressions


def test_the_default_values_alone_name_every_external_service_to_set(helm: Helm) -> None:
    """The chart embeds no service and invents no credential: without them it is refused,
    and the refusal lists each value a platform team must set."""
    done = helm.run("template", "simptu", str(CHART), check=False)
    assert done.returncode != 0
    for path in ("/postgres/existingSecret", "/redis/existingSecret", "/kafka/bootstrap",
                 "/openbao/address", "/keycloak/url",
                 "/keycloak/existingSecret", "/platformSecrets/existingSecret",
                 "/ingress/baseDomain", "/ingress/platformHost"):
        assert f"at '{path}'" in done.stderr, done.stderr


# Wrong values and the words of the refusal: the value's path and what is wrong with it.
BAD_VALUES = [
    ("postgres.existingSecret=", "/postgres/existingSecret", "minLength"),
    ("redis.existingSecret=", "/redis/existingSecret", "minLength"),
    ("kafka.bootstrap=kafka", "/kafka/bootstrap", "does not match pattern"),
    ("kafka.topicsBackend=zookeeper", "/kafka/topicsBackend", "'kafka', 'strimzi'"),
    ("openbao.address=openbao:8200", "/openbao/address", "does not match pattern"),
    ("keycloak.existingSecret=", "/keycloak/existingSecret", "minLength"),
    ("platformSecrets.existingSecret=Not_A_Name", "/platformSecrets/existingSecret",
     "does not match pattern"),
    ("api.port=70000", "/api/port", "maximum"),
    ("operator.replicas=0", "/operator/replicas", "minimum"),
    ("operator.agent.readiness=sometimes", "/operator/agent/readiness",
     "'available', 'declared'"),
    ("ingress.baseDomain=", "/ingress/baseDomain", "does not match pattern"),
    ("hostNetwork=yes", "/hostNetwork", "want boolean"),
    ("api.logLevel=LOUD", "/api/logLevel", "'DEBUG', 'INFO', 'WARNING', 'ERROR'"),
    ("api.webAssetsDir=web", "/api/webAssetsDir", "does not match pattern"),
    ("ingress.tls.certManager=true", "/ingress/tls/clusterIssuer", "minLength"),
    ("config.DATABASE_URL=x", "invalid propertyName 'DATABASE_URL'", "^SIMPTU_"),
    ("postgress.existingSecret=typo", "postgress", "additional properties"),
    ("openbao.auth=root", "/openbao/auth", "'kubernetes', 'token'"),
    ("openbao.auth=token", "/openbao/existingSecret", "minLength"),
    ("openbao.kubernetesAuth.mount=/kubernetes", "/openbao/kubernetesAuth/mount",
     "does not match pattern"),
    ("openbao.kubernetesAuth.runtimeRole=", "/openbao/kubernetesAuth/runtimeRole", "minLength"),
    ("kafka.sasl.mechanism=PLAIN", "/kafka/sasl/mechanism",
     "'', 'SCRAM-SHA-512', 'SCRAM-SHA-256'"),
    ("kafka.sasl.runtimeSecrets.api=Not_A_Name", "/kafka/sasl/runtimeSecrets/api",
     "does not match pattern"),
    ("postgres.pooled=true", "/postgres/agentAddress", "minLength"),
    ("postgres.agentAddress=postgres:5432", "/postgres/agentAddress", "does not match pattern"),
    ("postgres.agentAddress=postgresql://simptu:secret@postgres:5432/simptu",
     "/postgres/agentAddress", "does not match pattern"),
]


@pytest.mark.parametrize(("assignment", "path", "words"), BAD_VALUES,
                         ids=[bad[0].split("=")[0] for bad in BAD_VALUES])
def test_the_schema_refuses_wrong_values_with_a_message_naming_them(
        helm: Helm, assignment: str, path: str, words: str) -> None:
    done = helm.run("template", "simptu", str(CHART), "-f", str(MINIMAL), "--set", assignment,
                    check=False)
    assert done.returncode != 0
    assert "values don't meet the specifications of the schema" in done.stderr, done.stderr
    assert path in done.stderr, done.stderr
    assert words in done.stderr, done.stderr
