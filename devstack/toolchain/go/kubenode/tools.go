//go:build tools

// Pins the packages `simptu-devstack tools kube-node` builds; never compiled into the platform.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
