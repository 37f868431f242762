// apps/v1 Deployment: the static part (replicas, selector, template labels and containers)
// and svcproxy's DNS annotations for pods that are found by name instead of listed.
#include "conf/addresses.hpp"
#include "conf/parsers.hpp"

namespace svcproxy::conf {
namespace {

const std::string dns_annotation = "svcproxy.io/dns";
const std::string dns_refresh_annotation = "svcproxy.io/dns-refresh";

void parse_dns_annotations(YamlReader& reader, const Field& annotations, Deployment& deployment) {
  const Field name = annotations.child(dns_annotation);
  if (auto text = reader.string(name)) {
    auto host = parse_host_port(*text, /*port_optional=*/true);
    if (!host || host->port != 0) {
      reader.error(name, "\"" + *text + "\" is not a host name to resolve");
    } else {
      deployment.dns_name = *text;
    }
  }
  const Field refresh = annotations.child(dns_refresh_annotation);
  if (auto every = reader.duration(refresh)) {
    if (every->count() > 0) {
      deployment.dns_refresh = *every;
    } else {
      reader.error(refresh, "must be a positive duration");
    }
  }
}

void parse_selector(YamlReader& reader, const Field& selector, Deployment& deployment) {
  if (!reader.require(selector) || !reader.mapping(selector)) return;
  if (selector.child("matchExpressions").present())
    reader.error(selector.child("matchExpressions"),
                 "matchExpressions is not supported (use matchLabels)");
  const Field match_labels = selector.child("matchLabels");
  deployment.match_labels = reader.labels(match_labels);
  if (deployment.match_labels.empty() && !selector.child("matchExpressions").present())
    reader.error(match_labels, "an empty selector is not allowed for a Deployment");
}

void parse_template(YamlReader& reader, const Field& pod_template, Deployment& deployment) {
  if (!reader.require(pod_template) || !reader.mapping(pod_template)) return;
  deployment.template_labels = reader.labels(pod_template.child("metadata").child("labels"));
  deployment.containers = parse_containers(reader, pod_template.child("spec").child("containers"));
}

}  // namespace

Deployment parse_deployment(YamlReader& reader, const Field& document) {
  Deployment deployment;
  deployment.location = reader.location(document);
  Metadata metadata = parse_metadata(reader, document, NameRule::Dns1123Subdomain);
  deployment.name = metadata.name;
  deployment.namespace_name = metadata.namespace_name;
  deployment.labels = std::move(metadata.labels);
  deployment.created.rfc3339 = std::move(metadata.created);
  deployment.annotations = std::move(metadata.annotations);
  parse_dns_annotations(reader, document.child("metadata").child("annotations"), deployment);
  const Field spec = document.child("spec");
  if (!reader.require(spec) || !reader.mapping(spec)) return deployment;
  if (auto replicas = reader.integer_in(spec.child("replicas"), 0, 1000000))
    deployment.replicas = *replicas;
  parse_selector(reader, spec.child("selector"), deployment);
  parse_template(reader, spec.child("template"), deployment);
  if (!deployment.match_labels.empty() &&
      !labels_contain(deployment.template_labels, deployment.match_labels))
    reader.error(spec.child("selector").child("matchLabels"),
                 "selector does not match template labels (spec.template.metadata.labels)");
  return deployment;
}

}  // namespace svcproxy::conf
