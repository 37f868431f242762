// What `svcproxy --check` prints for a valid configuration: one line per service port.
#pragma once

#include <string>

#include "conf/model.hpp"

namespace svcproxy::discovery {

// One line per service port, columns aligned:
//   namespace/name:port  TYPE  clusterIP:port  nodePort|-  tcp|http  policy  endpoints=N
// A headless service shows "None:port". Static pods are counted with select_endpoints; pods
// of a Deployment annotated svcproxy.io/dns are only known at run time and show as
// "endpoints=dns:NAME" (after the static count, "endpoints=2+dns:NAME", when both apply).
std::string format_check_report(const conf::Snapshot& snapshot);

}  // namespace svcproxy::discovery
