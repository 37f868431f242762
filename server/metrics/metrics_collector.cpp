#include "server/metrics/metrics_collector.hpp"

#include <prometheus/text_serializer.h>

#include <iterator>
#include <sstream>

#include "server/metrics/metrics_families.hpp"
#include "server/metrics/process_metrics.hpp"

namespace svcproxy::server {
namespace {

void append(std::vector<prometheus::MetricFamily>& to, std::vector<prometheus::MetricFamily> from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

}  // namespace

std::vector<prometheus::MetricFamily> MetricsCollector::Collect() const {
  std::vector<prometheus::MetricFamily> families = service_families(*services_);
  append(families, endpoint_families(*backends_, lb::Clock::now()));
  append(families, control_families(control_));
  append(families, local_fault_families(local_fault_counters()));
  append(families, tls_families(tls_counters()));
  append(families, udp_families(udp_counters()));
  append(families, process_families());
  return families;
}

std::string serialize_metrics(const prometheus::Collectable& collectable) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, collectable.Collect());
  return out.str();
}

}  // namespace svcproxy::server
