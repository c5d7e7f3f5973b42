# What the shared runtimes (API, WS hub, outbox relay, channel senders, the all-tenants agent
# worker) may do in OpenBao: they serve every tenant, so they unwrap any tenant's data keys;
# they make, rotate and destroy nothing. The channel registry's blind indexes come from an HMAC
# under the platform key. Written as `simptu-runtime` (vault/bootstrap.py).
path "transit/decrypt/tenant-*" {
  capabilities = ["update"]
}
path "transit/hmac/simptu-registry" {
  capabilities = ["update"]
}
