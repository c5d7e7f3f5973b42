# What a tenant's agent may do in OpenBao: use its own transit key, nothing else.
# The operator writes this policy as `tenant-<slug>`, with {key} replaced by `tenant-<slug>`,
# and binds it to the tenant's `agent` ServiceAccount through the Kubernetes auth method.
path "transit/encrypt/{key}" {
  capabilities = ["update"]
}
path "transit/decrypt/{key}" {
  capabilities = ["update"]
}
path "transit/datakey/wrapped/{key}" {
  capabilities = ["update"]
}
path "transit/rewrap/{key}" {
  capabilities = ["update"]
}
path "transit/keys/{key}" {
  capabilities = ["read"]
}
