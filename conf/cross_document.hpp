// Rules that need every document at once; run after all files are parsed. Internal to conf/.
#pragma once

#include "conf/diagnostics.hpp"
#include "conf/model.hpp"

namespace svcproxy::conf {

// Two Services, Pods, Deployments or Secrets with the same namespace/name: the later one is
// an error that points back at the first.
void check_duplicate_names(const Snapshot& snapshot, Diagnostics& errors);

// Each svcproxy.io/tls-secret names a kubernetes.io/tls Secret of the Service's namespace.
void check_tls_secrets(const Snapshot& snapshot, Diagnostics& errors);

// A Pod that declares no containers takes the template containers of the first Deployment
// (in file order) of its namespace whose matchLabels its labels contain, and records that
// Deployment as its owner. So a user can list only name, labels and podIP for such pods.
void inherit_deployment_templates(Snapshot& snapshot);

}  // namespace svcproxy::conf
