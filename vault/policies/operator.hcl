# What the Tenant operator may do in OpenBao: make, read, rotate and destroy tenants' transit
# keys and wrap their data keys, write each tenant's policy and its Kubernetes auth role, and
# make the registry's platform key. Nothing else: no other policy, auth method or secret.
# Written as `simptu-operator` (vault/bootstrap.py); {kubernetes_mount} is where tenants'
# agents log in.
path "transit/keys/tenant-*" {
  capabilities = ["create", "read", "update", "delete"]
}
path "transit/datakey/wrapped/tenant-*" {
  capabilities = ["update"]
}
path "transit/decrypt/tenant-*" {
  capabilities = ["update"]
}
path "transit/rewrap/tenant-*" {
  capabilities = ["update"]
}
path "transit/keys/simptu-registry" {
  capabilities = ["create", "read", "update"]
}
path "transit/hmac/simptu-registry" {
  capabilities = ["update"]
}
# The tenant's own policy (`tenant-<slug>`), by either of OpenBao's policy endpoints.
path "sys/policy/tenant-*" {
  capabilities = ["create", "read", "update", "delete"]
}
path "sys/policies/acl/tenant-*" {
  capabilities = ["create", "read", "update", "delete"]
}
# Whether the Kubernetes auth method is enabled (the roles are written only where it is).
path "sys/auth" {
  capabilities = ["read"]
}
path "auth/{kubernetes_mount}/role/tenant-*" {
  capabilities = ["create", "read", "update", "delete"]
}
