#include "discovery/check_report.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "conf/ip_families.hpp"
#include "discovery/service_endpoints.hpp"

namespace svcproxy::discovery {
namespace {

constexpr std::size_t column_count = 7;
using Row = std::array<std::string, column_count>;

bool selects(const conf::Labels& selector, const conf::Labels& labels) {
  return !selector.empty() && conf::labels_contain(labels, selector);
}

// DNS names of the svcproxy.io/dns Deployments whose pod template the service selects.
std::vector<std::string> dns_sources(const conf::Service& service,
                                     const std::vector<conf::Deployment>& deployments) {
  std::vector<std::string> names;
  for (const auto& deployment : deployments)
    if (!deployment.dns_name.empty() && deployment.namespace_name == service.namespace_name &&
        selects(service.selector, deployment.template_labels))
      names.push_back(deployment.dns_name);
  return names;
}

std::string endpoints_column(const conf::Snapshot& snapshot, const PodIndex& pods,
                             const conf::Service& service, const conf::ServicePort& port) {
  const std::size_t count = select_endpoints(service, port, pods).size();
  const auto dns = dns_sources(service, snapshot.deployments);
  if (dns.empty()) return "endpoints=" + std::to_string(count);
  // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict) on `"literal" + string&&`.
  std::string text = "endpoints=";
  if (count > 0) text += std::to_string(count) + "+";
  for (std::size_t i = 0; i < dns.size(); ++i) {
    if (i) text += ',';
    text += "dns:";
    text += dns[i];
  }
  return text;
}

Row make_row(const conf::Snapshot& snapshot, const PodIndex& pods, const conf::Service& service,
             const conf::ServicePort& port) {
  const std::string port_label = port.name.empty() ? std::to_string(port.port) : port.name;
  // Every ClusterIP with the port, IPv6 in brackets: "10.96.0.5:80,[fd00:10:96::5]:80".
  std::string address;
  for (const auto& ip : conf::cluster_ips(service)) {
    if (!address.empty()) address += ',';
    address += ip.find(':') == std::string::npos ? ip : "[" + ip + "]";
    address += ':';
    address += std::to_string(port.port);
  }
  if (service.type == conf::ServiceType::ExternalName)  // a name, nothing to listen or balance
    return {service.key() + ":" + port_label,
            "ExternalName",
            service.external_name,
            "-",
            "-",
            "-",
            "-"};
  return {service.key() + ":" + port_label,
          conf::to_string(service.type),
          address,
          port.node_port != 0 ? std::to_string(port.node_port) : "-",
          port.transport == conf::Transport::Udp ? "udp" : conf::to_string(port.app_protocol),
          conf::to_string(conf::effective_load_balancing(service, snapshot.proxy)),
          endpoints_column(snapshot, pods, service, port)};
}

std::string format_rows(const std::vector<Row>& rows) {
  std::array<std::size_t, column_count> widths{};
  for (const auto& row : rows)
    for (std::size_t i = 0; i < column_count; ++i)
      widths[i] = std::max(widths[i], row[i].size());
  std::string text;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i + 1 < column_count; ++i)
      text += row[i] + std::string(widths[i] - row[i].size() + 2, ' ');
    text += row.back() + "\n";
  }
  return text;
}

}  // namespace

std::string format_check_report(const conf::Snapshot& snapshot) {
  std::vector<Row> rows;
  const PodIndex pods(snapshot.pods);
  for (const auto& service : snapshot.services) {
    if (service.type == conf::ServiceType::ExternalName && service.ports.empty())
      rows.push_back({service.key(), "ExternalName", service.external_name, "-", "-", "-", "-"});
    for (const auto& port : service.ports)
      rows.push_back(make_row(snapshot, pods, service, port));
  }
  return format_rows(rows);
}

}  // namespace svcproxy::discovery
