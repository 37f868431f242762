// v1 Pod: labels, status.podIP and phase, spec.nodeName, spec.containers.
#include "conf/addresses.hpp"
#include "conf/parsers.hpp"

namespace svcproxy::conf {

Pod parse_pod(YamlReader& reader, const Field& document) {
  Pod pod;
  pod.location = reader.location(document);
  Metadata metadata = parse_metadata(reader, document, NameRule::Dns1123Subdomain);
  pod.name = metadata.name;
  pod.namespace_name = metadata.namespace_name;
  pod.created.rfc3339 = std::move(metadata.created);
  pod.labels = std::move(metadata.labels);
  pod.annotations = std::move(metadata.annotations);
  const Field spec = document.child("spec");
  if (spec.present() && reader.mapping(spec)) {
    pod.node_name = reader.string(spec.child("nodeName")).value_or("");
    pod.containers = parse_containers(reader, spec.child("containers"));
  }
  // Kubernetes' phases; a terminated pod (Succeeded, Failed) is never an endpoint.
  static const std::vector<std::string> kPhases{"Pending", "Running", "Succeeded", "Failed",
                                                "Unknown"};
  if (auto phase = parse_choice(reader, document.child("status").child("phase"), "phase", kPhases))
    pod.phase = kPhases[*phase];
  const Field pod_ip = document.child("status").child("podIP");
  if (auto ip = reader.string(pod_ip)) {
    if (is_ip(*ip)) {
      pod.pod_ip = *ip;
    } else {
      reader.error(pod_ip, "\"" + *ip + "\" is not an IP address");
    }
  }
  return pod;
}

}  // namespace svcproxy::conf
