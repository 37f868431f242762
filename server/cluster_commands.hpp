// `svcproxy apply` and `svcproxy delete`: manifests into (and out of) the cluster state in
// etcd, one line per object as kubectl prints it. Validation is --check's: with any error,
// nothing is stored.
#pragma once

#include "server/command_line.hpp"

namespace svcproxy::server {

// The process exit code: 0 when every object was stored (or deleted), 1 otherwise.
int run_cluster_command(const CommandLine& options);

}  // namespace svcproxy::server
