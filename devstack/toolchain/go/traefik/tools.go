//go:build tools

// Pins the packages `simptu-devstack tools` builds; never compiled into the platform.
package tools

import _ "github.com/traefik/traefik/v3/cmd/traefik"
