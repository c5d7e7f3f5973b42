{{/* Names, labels and the pieces every runtime's pod shares. */}}

{{- define "simptu.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "simptu.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A component's name: <fullname>-<component> (fullname ≤ 52 leaves room for the suffix). */}}
{{- define "simptu.componentName" -}}
{{- printf "%s-%s" (include "simptu.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "simptu.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "simptu.labels" -}}
helm.sh/chart: {{ include "simptu.chart" . }}
app.kubernetes.io/name: {{ include "simptu.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: simptu
{{- end -}}

{{/* Labels of a component's objects: {"root": $, "component": "api"}. */}}
{{- define "simptu.componentLabels" -}}
{{ include "simptu.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "simptu.selectorLabels" -}}
app.kubernetes.io/name: {{ include "simptu.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The platform image, by digest when one is pinned. */}}
{{- define "simptu.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "simptu.agentImage" -}}
{{- default (include "simptu.image" .) .Values.operator.agent.image -}}
{{- end -}}

{{- define "simptu.configName" -}}
{{- printf "%s-config" (include "simptu.fullname" .) -}}
{{- end -}}

{{- define "simptu.operatorServiceAccount" -}}
{{- include "simptu.componentName" (dict "root" . "component" "operator") -}}
{{- end -}}

{{- define "simptu.runtimeServiceAccount" -}}
{{- include "simptu.componentName" (dict "root" . "component" "runtime") -}}
{{- end -}}

{{- define "simptu.webhookCertSecret" -}}
{{- include "simptu.componentName" (dict "root" . "component" "webhook-cert") -}}
{{- end -}}

{{- define "simptu.webhookService" -}}
{{- include "simptu.componentName" (dict "root" . "component" "operator-webhook") -}}
{{- end -}}

{{- define "simptu.publicBaseUrl" -}}
{{- if .Values.publicBaseUrl -}}
{{- .Values.publicBaseUrl -}}
{{- else if and .Values.ingress.enabled .Values.ingress.platformHost -}}
{{- printf "https://%s" .Values.ingress.platformHost -}}
{{- end -}}
{{- end -}}

{{/* A Secret key as an env var: {"name": VAR, "secret": name, "key": key, "optional": bool}. */}}
{{- define "simptu.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret | quote }}
      key: {{ .key | quote }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end -}}

{{/* What every runtime takes from Secrets: Postgres, Redis, OpenBao. */}}
{{- define "simptu.coreSecretEnv" -}}
{{ include "simptu.secretEnv" (dict "name" "SIMPTU_DATABASE_URL" "secret" .Values.postgres.existingSecret "key" .Values.postgres.urlKey) }}
{{ include "simptu.secretEnv" (dict "name" "SIMPTU_REDIS_URL" "secret" .Values.redis.existingSecret "key" .Values.redis.urlKey) }}
{{- if eq .Values.openbao.auth "token" }}
{{ include "simptu.secretEnv" (dict "name" "SIMPTU_BAO_TOKEN" "secret" .Values.openbao.existingSecret "key" .Values.openbao.tokenKey) }}
{{- end }}
{{- end -}}

{{/* A component's own Kafka login from its Secret, when the brokers take SASL: the operator's
(kafka.sasl.existingSecret) or a runtime's (kafka.sasl.runtimeSecrets.<component>); none for
other pods (migrations). {"root": $, "component": "api"}. */}}
{{- define "simptu.kafkaLoginEnv" -}}
{{- $sasl := .root.Values.kafka.sasl -}}
{{- $secret := ternary $sasl.existingSecret (get $sasl.runtimeSecrets .component) (eq .component "operator") -}}
{{- if and $sasl.mechanism $secret }}
{{ include "simptu.secretEnv" (dict "name" "SIMPTU_KAFKA_USERNAME" "secret" $secret "key" $sasl.usernameKey) }}
{{ include "simptu.secretEnv" (dict "name" "SIMPTU_KAFKA_PASSWORD" "secret" $secret "key" $sasl.passwordKey) }}
{{- end }}
{{- end -}}

{{/* The API's and the hub's: the guest-token secret. */}}
{{- define "simptu.edgeSecretEnv" -}}
{{ include "simptu.secretEnv" (dict "name" "SIMPTU_GUEST_TOKEN_SECRET" "secret" .Values.platformSecrets.existingSecret "key" .Values.platformSecrets.guestTokenSecretKey) }}
{{- end -}}

{{/*
A runtime's pod spec around its container: {"root": $, "component": "api", "values": .Values.api,
"args": [...], "port": 3003, "env": "<yaml list>", "probes": "<yaml>", "volumes": "", "mounts": ""}.
*/}}
{{- define "simptu.podSpec" -}}
{{- $root := .root -}}
{{- $v := .values -}}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
serviceAccountName: {{ default (include "simptu.runtimeServiceAccount" $root) .serviceAccount }}
automountServiceAccountToken: {{ .automountToken | default false }}
enableServiceLinks: false
{{- if $root.Values.hostNetwork }}
hostNetwork: true
dnsPolicy: ClusterFirstWithHostNet
{{- end }}
{{- with $root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
terminationGracePeriodSeconds: {{ default 30 $v.terminationGracePeriodSeconds }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- if $root.Values.topologySpread.enabled }}
topologySpreadConstraints:
  {{- range $root.Values.topologySpread.topologyKeys }}
  - maxSkew: 1
    topologyKey: {{ . }}
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "simptu.selectorLabels" (dict "root" $root "component" $.component) | nindent 8 }}
  {{- end }}
{{- end }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  - name: {{ .component }}
    image: {{ include "simptu.image" $root }}
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    args:
      {{- toYaml .args | nindent 6 }}
    ports:
      - name: http
        containerPort: {{ .port }}
        protocol: TCP
      {{- with .extraPorts }}
      {{- . | nindent 6 }}
      {{- end }}
    {{- if not .noConfig }}
    envFrom:
      - configMapRef:
          name: {{ include "simptu.configName" $root }}
    {{- end }}
    env:
      {{- .env | nindent 6 }}
      {{- include "simptu.kafkaLoginEnv" (dict "root" $root "component" .component) | indent 6 }}
      {{- if eq $root.Values.openbao.auth "kubernetes" }}
      - name: SIMPTU_BAO_ROLE
        value: {{ ternary $root.Values.openbao.kubernetesAuth.operatorRole $root.Values.openbao.kubernetesAuth.runtimeRole (eq .component "operator") | quote }}
      {{- end }}
      {{- with $v.extraEnv }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
    {{- .probes | nindent 4 }}
    {{- if $v.preStopSleepSeconds }}
    lifecycle:
      # Still serving while the Service and the ingress controller drop the pod's endpoint.
      preStop:
        sleep:
          seconds: {{ $v.preStopSleepSeconds }}
    {{- end }}
    resources:
      {{- toYaml $v.resources | nindent 6 }}
    securityContext:
      {{- toYaml $root.Values.containerSecurityContext | nindent 6 }}
    volumeMounts:
      - name: tmp
        mountPath: /tmp
      {{- if eq $root.Values.openbao.auth "kubernetes" }}
      - name: openbao-token
        mountPath: /var/run/secrets/openbao
        readOnly: true
      {{- end }}
      {{- with .mounts }}
      {{- . | nindent 6 }}
      {{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ $root.Values.tmpSizeLimit }}
  {{- if eq $root.Values.openbao.auth "kubernetes" }}
  # OpenBao login: a token for OpenBao's audience only, short-lived, renewed by the kubelet.
  - name: openbao-token
    projected:
      sources:
        - serviceAccountToken:
            audience: {{ $root.Values.openbao.kubernetesAuth.audience | quote }}
            expirationSeconds: 600
            path: token
  {{- end }}
  {{- with .volumes }}
  {{- . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* Probes on /healthz and /readyz of the named port; {"root": $, "live": path, "ready": path}.
A runtime bound to one address (hostNetwork with bindAddress 127.0.0.1) is probed there: the
kubelet would otherwise ask the pod's IP, the node's address. */}}
{{- define "simptu.httpProbes" -}}
{{- $host := "" -}}
{{- if not (has .root.Values.bindAddress (list "0.0.0.0" "::")) -}}
{{- $host = printf ", host: %s" (.root.Values.bindAddress | quote) -}}
{{- end -}}
startupProbe:
  httpGet: {path: {{ default "/healthz" .live }}, port: http{{ $host }}}
  periodSeconds: 2
  failureThreshold: 90
livenessProbe:
  httpGet: {path: {{ default "/healthz" .live }}, port: http{{ $host }}}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
readinessProbe:
  httpGet: {path: {{ default "/readyz" .ready }}, port: http{{ $host }}}
  periodSeconds: 5
  timeoutSeconds: 5
  failureThreshold: 2
{{- end -}}

{{/* Pod template annotations: a changed config rolls the pods. */}}
{{- define "simptu.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
The webhook's certificate as the data of a kubernetes.io/tls Secret (base64 values): the one the
live Secret holds (kept across upgrades, found with `lookup`), else a new CA and serving
certificate. Memoised in .Values so every template sees the same one within a render.
*/}}
{{- define "simptu.webhookCert" -}}
{{- if not (hasKey .Values "__webhookCert") -}}
{{- $secretName := include "simptu.webhookCertSecret" . -}}
{{- $live := lookup "v1" "Secret" .Release.Namespace $secretName -}}
{{- $data := dict -}}
{{- if and $live $live.data (hasKey $live.data "tls.crt") (hasKey $live.data "tls.key") (hasKey $live.data "ca.crt") -}}
{{- $data = dict "tls.crt" (index $live.data "tls.crt") "tls.key" (index $live.data "tls.key") "ca.crt" (index $live.data "ca.crt") -}}
{{- else -}}
{{- $service := include "simptu.webhookService" . -}}
{{- $days := int .Values.operator.webhook.certValidityDays -}}
{{- $ca := genCA (printf "%s-ca" $service) $days -}}
{{- $names := list $service (printf "%s.%s" $service .Release.Namespace) (printf "%s.%s.svc" $service .Release.Namespace) (printf "%s.%s.svc.cluster.local" $service .Release.Namespace) -}}
{{- $cert := genSignedCert $service nil $names $days $ca -}}
{{- $data = dict "tls.crt" ($cert.Cert | b64enc) "tls.key" ($cert.Key | b64enc) "ca.crt" ($ca.Cert | b64enc) -}}
{{- end -}}
{{- $_ := set .Values "__webhookCert" $data -}}
{{- end -}}
{{- toYaml (get .Values "__webhookCert") -}}
{{- end -}}
