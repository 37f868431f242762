// Containers of Pods and Deployment templates: ports (for named targetPorts) and the
// readinessProbe (with Kubernetes' defaults).
#include <map>

#include "conf/parsers.hpp"

namespace svcproxy::conf {
namespace {

ContainerPort parse_container_port(YamlReader& reader, const Field& field) {
  ContainerPort port;
  if (!reader.mapping(field)) return port;
  const Field number = field.child("containerPort");
  if (reader.require(number)) port.container_port = reader.integer_in(number, 1, 65535).value_or(0);
  const Field name = field.child("name");
  if (auto ref = reader.port_ref(name)) {
    if (ref->is_named()) {
      port.name = ref->name;
    } else {
      reader.error(name, "a port name must contain a letter");
    }
  }
  // Kubernetes defaults it to TCP; a named targetPort matches name and protocol (FindPort).
  static const std::vector<std::string> kProtocols{"TCP", "UDP", "SCTP"};
  if (auto protocol = parse_choice(reader, field.child("protocol"), "protocol", kProtocols))
    port.protocol = kProtocols[*protocol];
  return port;
}

std::vector<HttpHeader> parse_http_headers(YamlReader& reader, const Field& field) {
  std::vector<HttpHeader> headers;
  for (const Field& item : reader.items(field)) {
    if (!reader.mapping(item)) continue;
    HttpHeader header;
    if (reader.require(item.child("name")))
      header.name = reader.string(item.child("name")).value_or("");
    header.value = reader.string(item.child("value")).value_or("");
    headers.push_back(std::move(header));
  }
  return headers;
}

void parse_http_get(YamlReader& reader, const Field& field, Probe& probe) {
  probe.kind = Probe::Kind::HttpGet;
  if (auto path = reader.string(field.child("path"))) probe.path = *path;
  if (reader.require(field.child("port")))
    probe.port = reader.port_ref(field.child("port")).value_or(PortRef{});
  probe.host = reader.string(field.child("host")).value_or("");
  const Field scheme = field.child("scheme");
  // As Kubernetes' validateHTTPGetAction: HTTP or HTTPS, case-sensitive.
  if (auto text = reader.string(scheme)) {
    if (*text == "HTTPS")
      probe.https = true;
    else if (*text != "HTTP")
      reader.error(scheme,
                   "Unsupported value: \"" + *text + "\": supported values: \"HTTP\", \"HTTPS\"");
  }
  probe.http_headers = parse_http_headers(reader, field.child("httpHeaders"));
}

void parse_tcp_socket(YamlReader& reader, const Field& field, Probe& probe) {
  probe.kind = Probe::Kind::TcpSocket;
  if (reader.require(field.child("port")))
    probe.port = reader.port_ref(field.child("port")).value_or(PortRef{});
}

// The probe's timing fields, all in seconds as in Kubernetes.
void parse_probe_timing(YamlReader& reader, const Field& field, Probe& probe) {
  constexpr int max_seconds = 86400;
  if (auto v = reader.integer_in(field.child("initialDelaySeconds"), 0, max_seconds))
    probe.initial_delay = std::chrono::seconds(*v);
  if (auto v = reader.integer_in(field.child("periodSeconds"), 1, max_seconds))
    probe.period = std::chrono::seconds(*v);
  if (auto v = reader.integer_in(field.child("timeoutSeconds"), 1, max_seconds))
    probe.timeout = std::chrono::seconds(*v);
  if (auto v = reader.integer_in(field.child("successThreshold"), 1, 1000))
    probe.success_threshold = *v;
  if (auto v = reader.integer_in(field.child("failureThreshold"), 1, 1000))
    probe.failure_threshold = *v;
}

// nullopt when the probe cannot be used; exec and grpc probes are skipped with a warning
// so real manifests still load (the pod then counts as ready, as with no probe).
std::optional<Probe> parse_probe(YamlReader& reader, const Field& field) {
  if (!reader.mapping(field)) return std::nullopt;
  const Field http_get = field.child("httpGet");
  const Field tcp_socket = field.child("tcpSocket");
  if (http_get.present() && tcp_socket.present()) {
    reader.error(field, "a probe takes one of httpGet and tcpSocket, not both");
    return std::nullopt;
  }
  Probe probe;
  if (http_get.present() && reader.mapping(http_get)) {
    parse_http_get(reader, http_get, probe);
  } else if (tcp_socket.present() && reader.mapping(tcp_socket)) {
    parse_tcp_socket(reader, tcp_socket, probe);
  } else if (field.child("exec").present() || field.child("grpc").present()) {
    reader.warning(field, "exec and grpc probes are not supported; the probe is ignored");
    return std::nullopt;
  } else {
    if (!http_get.present() && !tcp_socket.present())
      reader.error(field, "a probe needs httpGet or tcpSocket");
    return std::nullopt;
  }
  parse_probe_timing(reader, field, probe);
  return probe;
}

void check_probe_port_is_declared(YamlReader& reader, const Field& field,
                                  const Container& container) {
  const Probe& probe = *container.readiness_probe;
  if (!probe.port.is_named()) return;
  for (const auto& port : container.ports)
    if (port.name == probe.port.name) return;
  const Field handler =
      field.child(probe.kind == Probe::Kind::HttpGet ? "httpGet" : "tcpSocket").child("port");
  reader.error(handler, "port \"" + probe.port.name + "\" is not a port of this container");
}

}  // namespace

Container parse_container(YamlReader& reader, const Field& field) {
  Container container;
  if (!reader.mapping(field)) return container;
  container.name = reader.string(field.child("name")).value_or("");
  for (const Field& item : reader.items(field.child("ports")))
    container.ports.push_back(parse_container_port(reader, item));
  const Field probe = field.child("readinessProbe");
  container.readiness_probe = parse_probe(reader, probe);
  if (container.readiness_probe) check_probe_port_is_declared(reader, probe, container);
  return container;
}

std::vector<Container> parse_containers(YamlReader& reader, const Field& field) {
  std::vector<Container> containers;
  std::map<std::string, std::string> port_names;  // port name -> where first declared
  for (const Field& item : reader.items(field)) {
    containers.push_back(parse_container(reader, item));
    const auto& ports = containers.back().ports;
    for (std::size_t i = 0; i < ports.size(); ++i) {
      if (ports[i].name.empty()) continue;
      const Field name = item.child("ports").item(i).child("name");
      auto [first, inserted] = port_names.emplace(ports[i].name, name.path);
      if (!inserted)
        reader.error(name,
                     "Duplicate value: \"" + ports[i].name + "\" (also " + first->second + ")");
    }
  }
  return containers;
}

}  // namespace svcproxy::conf
