{{/* Rules across values the schema cannot state, refused with a message (configmap.yaml calls it). */}}
{{- define "simptu.validate" -}}
{{- $ports := dict -}}
{{- if and .Values.operator.webhook.enabled (eq (int .Values.operator.port) (int .Values.operator.webhook.port)) -}}
{{- fail (printf "operator.port and operator.webhook.port are both %v: the operator's pod needs two ports" .Values.operator.port) -}}
{{- end -}}
{{- if .Values.hostNetwork -}}
{{- $named := list (list "api.port" .Values.api.port) (list "ws.port" .Values.ws.port) (list "relay.port" .Values.relay.port) (list "operator.port" .Values.operator.port) -}}
{{- if .Values.channels.enabled }}{{ $named = append $named (list "channels.port" .Values.channels.port) }}{{ end -}}
{{- if .Values.operator.webhook.enabled }}{{ $named = append $named (list "operator.webhook.port" .Values.operator.webhook.port) }}{{ end -}}
{{- range $named -}}
{{- $key := toString (index . 1) -}}
{{- if hasKey $ports $key -}}
{{- fail (printf "%s and %s are both %s: with hostNetwork every runtime needs a port of its own on the node" (get $ports $key) (index . 0) $key) -}}
{{- end -}}
{{- $_ := set $ports $key (index . 0) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.gatewayApi.enabled (not (and .Values.ingress.baseDomain .Values.ingress.platformHost)) -}}
{{- fail "gatewayApi.enabled needs ingress.baseDomain and ingress.platformHost (the HTTPRoute's hostnames)" -}}
{{- end -}}
{{- end -}}
