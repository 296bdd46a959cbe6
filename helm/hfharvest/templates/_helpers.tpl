{{/* The chart's name, truncated to the 63 characters a label allows. */}}
{{- define "hfharvest.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name; the CronJob's name (52 characters at most, so the Jobs' names fit). */}}
{{- define "hfharvest.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "hfharvest.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hfharvest.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "hfharvest.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "hfharvest.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: batch
app.kubernetes.io/part-of: hfharvest
{{- end }}

{{- define "hfharvest.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "hfharvest.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the job's credentials come from: the user's, or the chart's (if it has anything to hold). */}}
{{- define "hfharvest.secretName" -}}
{{- if .Values.existingSecret }}
{{- .Values.existingSecret }}
{{- else if or .Values.secret.hfToken .Values.secret.awsAccessKeyId .Values.secret.awsSecretAccessKey }}
{{- include "hfharvest.fullname" . }}
{{- end }}
{{- end }}

{{/* Whether the Selenium sidecar runs: enabled, and the leaderboard source is the browser. */}}
{{- define "hfharvest.selenium" -}}
{{- if and .Values.selenium.enabled (eq (toString .Values.config.leaderboard.source) "browser") }}true{{- end }}
{{- end }}

{{/* hfharvest.toml from .Values.config: one table per section, and one per map inside a section (evals.every_eval_ever), values as TOML literals (JSON scalars and lists of them are valid TOML). */}}
{{- define "hfharvest.toml" -}}
# Rendered by the hfharvest Helm chart from .Values.config.
{{- range $section, $settings := .Values.config }}
[{{ $section }}]
{{- range $key, $value := $settings }}
{{- if not (kindIs "map" $value) }}
{{ $key }} = {{ $value | toJson }}
{{- end }}
{{- end }}
{{- range $key, $value := $settings }}
{{- if kindIs "map" $value }}
[{{ $section }}.{{ $key }}]
{{- range $name, $setting := $value }}
{{ $name }} = {{ $setting | toJson }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Whether config.output.dir is a folder (so a volume holds it), not s3://. */}}
{{- define "hfharvest.dataIsFolder" -}}
{{- if not (hasPrefix "s3://" (toString .Values.config.output.dir)) }}true{{- end }}
{{- end }}

{{/* The PersistentVolumeClaim the output folder lives on: the user's, or the chart's. */}}
{{- define "hfharvest.dataClaim" -}}
{{- .Values.persistence.existingClaim | default (printf "%s-data" (include "hfharvest.fullname" .)) }}
{{- end }}

{{/* The sidecar's sessions: selenium.maxSessions, else the job's browser_sessions. */}}
{{- define "hfharvest.selenium.sessions" -}}
{{- $job := int (default 1 .Values.config.leaderboard.browser_sessions) -}}
{{- $node := int (default $job .Values.selenium.maxSessions) -}}
{{- if lt $node $job -}}
{{- fail (printf "selenium.maxSessions (%d) must be at least config.leaderboard.browser_sessions (%d)" $node $job) -}}
{{- end -}}
{{- $node -}}
{{- end }}

{{/* Seconds before the node drops an idle session: longer than the job's longest batch. */}}
{{- define "hfharvest.selenium.sessionTimeout" -}}
{{- $page := int (default 60 .Values.config.leaderboard.page_timeout_secs) -}}
{{- default (add (mul $page 3) 70) .Values.selenium.sessionTimeout -}}
{{- end }}

{{/* Shared memory: selenium.shmSizeLimit, else 1Gi per session. */}}
{{- define "hfharvest.selenium.shm" -}}
{{- default (printf "%sGi" (include "hfharvest.selenium.sessions" .)) .Values.selenium.shmSizeLimit -}}
{{- end }}
