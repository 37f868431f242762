// Times as Kubernetes writes them in objects: RFC 3339 in UTC, to the second
// (creationTimestamp, lastTransitionTime) or to the microsecond (a Lease's renewTime).
#pragma once

#include <string>

namespace svcproxy::cluster {

std::string rfc3339_now();
std::string rfc3339_micro_now();
std::string rfc3339(double unix_seconds);

}  // namespace svcproxy::cluster
