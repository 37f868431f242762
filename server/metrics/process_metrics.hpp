// The standard process_* metrics of Prometheus client libraries, read from /proc/self at
// scrape time (Linux only). Blocking file reads of a few hundred bytes: fine on the
// control thread, never on a worker.
#pragma once

#include <prometheus/metric_family.h>

#include <vector>

namespace svcproxy::server {

// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds. A value /proc does not
// give is left out rather than reported as 0.
std::vector<prometheus::MetricFamily> process_families();

}  // namespace svcproxy::server
