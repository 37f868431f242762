#include "dns/cluster_zone.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>

namespace svcproxy::dns {
namespace {

constexpr std::string_view kReverseZone = "in-addr.arpa";

// The labels of `name` below `zone`, nearest the zone first: "_http._tcp.web.dev.svc" of
// cluster.local gives svc, dev, web, _tcp, _http. False when `name` is not in `zone`.
bool labels_below(std::string_view name, std::string_view zone, std::vector<std::string>& out) {
  out.clear();
  if (name == zone) return true;
  if (name.size() <= zone.size() + 1 || !name.ends_with(zone) ||
      name[name.size() - zone.size() - 1] != '.')
    return false;
  std::string_view rest = name.substr(0, name.size() - zone.size() - 1);
  while (true) {
    const auto dot = rest.rfind('.');
    if (dot == std::string_view::npos) {
      out.emplace_back(rest);
      return true;
    }
    out.emplace_back(rest.substr(dot + 1));
    rest = rest.substr(0, dot);
  }
}

bool is_ipv6(const std::string& ip) {
  return ip.find(':') != std::string::npos;
}

// 10.0.0.1 -> 10-0-0-1; fd00::1 -> fd00--1 (CoreDNS's endpoint hostnames).
std::string dashed(std::string ip) {
  std::replace(ip.begin(), ip.end(), '.', '-');
  std::replace(ip.begin(), ip.end(), ':', '-');
  return ip;
}

std::string endpoint_hostname(const ZoneEndpoint& endpoint) {
  return endpoint.hostname.empty() ? dashed(endpoint.ip) : lower_case(endpoint.hostname);
}

// The SRV label of a port's protocol (spec 2.3.1: _<port>._<proto>).
const char* protocol_label(const conf::ServicePort& port) {
  return port.transport == conf::Transport::Udp ? "_udp" : "_tcp";
}

class ZoneAnswerer {
 public:
  ZoneAnswerer(const Question& question, const ZoneSettings& settings, const ZoneSource& source)
      : question_(question),
        settings_(settings),
        source_(source),
        type_(static_cast<RecordType>(question.type)) {
    response_.authoritative = true;
  }

  Response answer() {
    const std::string name = lower_case(question_.name);
    if (question_.klass != kClassIn && question_.klass != static_cast<std::uint16_t>(255))
      return refused();
    std::vector<std::string> labels;
    if (labels_below(name, kReverseZone, labels)) return reverse(labels);
    if (!labels_below(name, settings_.domain, labels)) return refused();
    return forward(labels);
  }

 private:
  bool asks(RecordType type) const { return type_ == type || type_ == RecordType::ANY; }

  Response refused() {
    Response response;
    response.rcode = Rcode::Refused;
    return response;
  }

  Response negative(Rcode rcode, std::string zone) {
    response_.rcode = rcode;
    response_.answers.clear();
    response_.additional.clear();
    response_.authority.push_back(
        soa_record(std::move(zone), settings_.ttl, settings_.serial, settings_.ttl));
    return std::move(response_);
  }
  Response nxdomain() { return negative(Rcode::NxDomain, settings_.domain); }
  // The name exists, with no record of the type asked (RFC 2308 2.2).
  Response nodata() { return negative(Rcode::NoError, settings_.domain); }
  Response answered() {
    if (response_.answers.empty()) return nodata();
    return std::move(response_);
  }

  std::string service_name(const conf::Service& service) const {
    return lower_case(service.name) + "." + lower_case(service.namespace_name) + ".svc." +
           settings_.domain;
  }

  void add_address(const std::string& owner, const std::string& ip,
                   std::vector<ResourceRecord>& section) {
    auto record =
        is_ipv6(ip) ? aaaa_record(owner, settings_.ttl, ip) : a_record(owner, settings_.ttl, ip);
    if (record) section.push_back(std::move(*record));
  }

  // A/AAAA of `ips` at the question's name (only those of the type asked).
  void add_addresses(const std::vector<std::string>& ips) {
    for (const auto& ip : ips) {
      const RecordType type = is_ipv6(ip) ? RecordType::AAAA : RecordType::A;
      if (asks(type)) add_address(question_.name, ip, response_.answers);
    }
  }

  bool namespace_exists(const std::string& name) const {
    const auto& snapshot = source_.snapshot;
    const auto same = [&](const std::string& other) { return lower_case(other) == name; };
    if (name == "default") return true;
    return std::any_of(snapshot.namespaces.begin(), snapshot.namespaces.end(), same) ||
           std::any_of(snapshot.services.begin(), snapshot.services.end(),
                       [&](const conf::Service& s) { return same(s.namespace_name); }) ||
           std::any_of(snapshot.pods.begin(), snapshot.pods.end(),
                       [&](const conf::Pod& p) { return same(p.namespace_name); }) ||
           std::any_of(snapshot.deployments.begin(), snapshot.deployments.end(),
                       [&](const conf::Deployment& d) { return same(d.namespace_name); });
  }

  const conf::Service* find_service(const std::string& namespace_name,
                                    const std::string& name) const {
    for (const auto& service : source_.snapshot.services)
      if (lower_case(service.name) == name && lower_case(service.namespace_name) == namespace_name)
        return &service;
    return nullptr;
  }

  Response forward(const std::vector<std::string>& labels) {
    if (labels.empty()) return apex();
    if (labels.size() == 1 && labels[0] == "dns-version") {
      if (asks(RecordType::TXT))
        response_.answers.push_back(txt_record(question_.name, settings_.ttl, kSchemaVersion));
      return answered();
    }
    if (labels[0] == "svc") return services(labels);
    if (labels[0] == "pod") return pods(labels);
    return nxdomain();
  }

  // The zone's own name: its SOA and NS (CoreDNS names its server ns.dns.<zone>).
  Response apex() {
    if (asks(RecordType::SOA))
      response_.answers.push_back(
          soa_record(question_.name, settings_.ttl, settings_.serial, settings_.ttl));
    if (asks(RecordType::NS))
      response_.answers.push_back(
          name_record(question_.name, RecordType::NS, settings_.ttl, "ns.dns." + settings_.domain));
    return answered();
  }

  // svc, <ns>.svc, <svc>.<ns>.svc, <host>.<svc>.<ns>.svc, _<port>._<proto>.<svc>.<ns>.svc
  Response services(const std::vector<std::string>& labels) {
    if (labels.size() == 1) return nodata();
    if (labels.size() == 2) return namespace_exists(labels[1]) ? nodata() : nxdomain();
    const conf::Service* service = find_service(labels[1], labels[2]);
    if (!service || labels.size() > 5) return nxdomain();
    if (labels.size() == 3) return service_records(*service);
    if (labels.size() == 4) return below_service(*service, labels[3]);
    return port_records(*service, labels[4], labels[3]);
  }

  Response service_records(const conf::Service& service) {
    if (service.type == conf::ServiceType::ExternalName) {
      // A CNAME answers every type at its name (RFC 1034 3.6.2).
      response_.answers.push_back(name_record(question_.name, RecordType::CNAME, settings_.ttl,
                                              lower_case(service.external_name)));
      return std::move(response_);
    }
    if (!service.headless) {
      add_addresses({service.cluster_ip});
      if (asks(RecordType::SRV))
        for (const auto& port : service.ports)
          add_service_srv(service, port);
      return answered();
    }
    const auto endpoints = source_.endpoints(service);
    if (endpoints.empty()) return nxdomain();  // specification 2.4.1
    for (const auto& endpoint : endpoints)
      add_addresses({endpoint.ip});
    if (asks(RecordType::SRV))
      for (const auto& port : service.ports)
        add_endpoint_srv(service, port, endpoints);
    return answered();
  }

  // SRV of a ClusterIP Service's port: the Service name, its A in the additional section
  // (specification 2.3.2).
  void add_service_srv(const conf::Service& service, const conf::ServicePort& port) {
    const std::string target = service_name(service);
    const auto weight =
        static_cast<std::uint16_t>(100 / std::max<std::size_t>(1, service.ports.size()));
    response_.answers.push_back(srv_record(question_.name, settings_.ttl, 0, weight,
                                           static_cast<std::uint16_t>(port.port), target));
    if (response_.additional.empty()) add_address(target, service.cluster_ip, response_.additional);
  }

  // SRV per ready endpoint of a headless Service's port, at the endpoint's own port and
  // name (specification 2.4.2), each endpoint's address in the additional section.
  void add_endpoint_srv(const conf::Service& service, const conf::ServicePort& port,
                        const std::vector<ZoneEndpoint>& endpoints) {
    const auto weight = static_cast<std::uint16_t>(100 / endpoints.size());
    for (const auto& endpoint : endpoints)
      for (const auto& [name, number] : endpoint.ports) {
        if (name != port.name) continue;
        const std::string target = endpoint_hostname(endpoint) + "." + service_name(service);
        response_.answers.push_back(srv_record(question_.name, settings_.ttl, 0, weight,
                                               static_cast<std::uint16_t>(number), target));
        add_address(target, endpoint.ip, response_.additional);
      }
  }

  // <host>.<svc>.<ns>.svc: a headless endpoint, or _<proto> (an empty non-terminal: the
  // SRV names below it exist, so NODATA).
  Response below_service(const conf::Service& service, const std::string& label) {
    if (service.type != conf::ServiceType::ExternalName)
      for (const auto& port : service.ports)
        if (!port.name.empty() && label == protocol_label(port)) return nodata();
    if (!service.headless || service.type == conf::ServiceType::ExternalName) return nxdomain();
    bool found = false;
    for (const auto& endpoint : source_.endpoints(service))
      if (endpoint_hostname(endpoint) == label) {
        found = true;
        add_addresses({endpoint.ip});
      }
    return found ? answered() : nxdomain();
  }

  Response port_records(const conf::Service& service, const std::string& port_label,
                        const std::string& protocol) {
    if (service.type == conf::ServiceType::ExternalName || !port_label.starts_with('_'))
      return nxdomain();
    const auto port = std::find_if(service.ports.begin(), service.ports.end(), [&](const auto& p) {
      // Compared in pieces, not as `"_" + name`: GCC 12 -O3 warns falsely on that.
      return !p.name.empty() && port_label.size() == p.name.size() + 1 &&
             std::string_view(port_label).substr(1) == lower_case(p.name) &&
             protocol == protocol_label(p);
    });
    if (port == service.ports.end()) return nxdomain();
    if (!service.headless) {
      if (asks(RecordType::SRV)) add_service_srv(service, *port);
      return answered();
    }
    const auto endpoints = source_.endpoints(service);
    if (endpoints.empty()) return nxdomain();
    if (asks(RecordType::SRV)) add_endpoint_srv(service, *port, endpoints);
    return answered();
  }

  // <a-b-c-d>.<ns>.pod: the address the name spells, for a namespace that exists
  // (specification 2.6, CoreDNS's "pods insecure").
  Response pods(const std::vector<std::string>& labels) {
    if (labels.size() == 1) return nodata();
    if (!namespace_exists(labels[1]) || labels.size() > 3) return nxdomain();
    if (labels.size() == 2) return nodata();
    std::string ip = labels[2];
    std::replace(ip.begin(), ip.end(), '-', '.');
    in_addr parsed{};
    if (inet_pton(AF_INET, ip.c_str(), &parsed) != 1) return nxdomain();
    add_addresses({ip});
    return answered();
  }

  // <d>.<c>.<b>.<a>.in-addr.arpa: a ClusterIP's Service (specification 2.3.3) or a headless
  // endpoint's name (2.4.3).
  Response reverse(const std::vector<std::string>& labels) {
    if (labels.size() < 4) {
      // in-addr.arpa and the partial names above an address exist for the names below.
      return negative(Rcode::NoError, std::string(kReverseZone));
    }
    if (labels.size() > 4) return negative(Rcode::NxDomain, std::string(kReverseZone));
    const std::string ip = labels[0] + "." + labels[1] + "." + labels[2] + "." + labels[3];
    in_addr parsed{};
    if (inet_pton(AF_INET, ip.c_str(), &parsed) != 1)
      return negative(Rcode::NxDomain, std::string(kReverseZone));
    std::vector<std::string> targets;
    for (const auto& service : source_.snapshot.services) {
      if (service.type == conf::ServiceType::ExternalName) continue;
      if (!service.headless && service.cluster_ip == ip) targets.push_back(service_name(service));
      if (service.headless)
        for (const auto& endpoint : source_.endpoints(service))
          if (endpoint.ip == ip)
            targets.push_back(endpoint_hostname(endpoint) + "." + service_name(service));
    }
    if (targets.empty()) return negative(Rcode::NxDomain, std::string(kReverseZone));
    if (asks(RecordType::PTR))
      for (auto& target : targets)
        response_.answers.push_back(
            name_record(question_.name, RecordType::PTR, settings_.ttl, std::move(target)));
    if (response_.answers.empty()) return negative(Rcode::NoError, std::string(kReverseZone));
    return std::move(response_);
  }

  const Question& question_;
  const ZoneSettings& settings_;
  const ZoneSource& source_;
  RecordType type_;
  Response response_;
};

}  // namespace

Response answer_question(const Question& question, const ZoneSettings& settings,
                         const ZoneSource& source) {
  return ZoneAnswerer(question, settings, source).answer();
}

std::optional<std::vector<std::uint8_t>> answer_message(std::span<const std::uint8_t> message,
                                                        const ZoneSettings& settings,
                                                        const ZoneSource& source,
                                                        std::size_t max_size,
                                                        std::uint16_t our_udp_size) {
  const ParsedQuery query = parse_query(message);
  Response response;
  switch (query.status) {
    case ParsedQuery::Status::Drop:
      return std::nullopt;
    case ParsedQuery::Status::FormErr:
      response.rcode = Rcode::FormErr;
      break;
    case ParsedQuery::Status::NotImp:
      response.rcode = Rcode::NotImp;
      break;
    case ParsedQuery::Status::BadVers:
      response.extended_rcode = 16;  // BADVERS (RFC 6891 6.1.3)
      break;
    case ParsedQuery::Status::Ok:
      response = answer_question(*query.question, settings, source);
      break;
  }
  const std::size_t limit = max_size ? max_size : udp_response_limit(query, our_udp_size);
  return encode_response(query, response, limit, our_udp_size);
}

}  // namespace svcproxy::dns
