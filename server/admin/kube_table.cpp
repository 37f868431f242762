#include "server/admin/kube_table.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>

namespace svcproxy::server {
namespace json = boost::json;

namespace {

struct Column {
  const char* name;
  const char* type;
  const char* format;
  int priority;  // 1: only with -o wide
  const char* description;
};

const json::value* at(const json::value& value, std::initializer_list<std::string_view> path) {
  const json::value* here = &value;
  for (const auto key : path) {
    if (!here->is_object()) return nullptr;
    here = here->as_object().if_contains(key);
    if (!here) return nullptr;
  }
  return here;
}

std::string text_at(const json::value& value, std::initializer_list<std::string_view> path,
                    std::string fallback = "") {
  const json::value* found = at(value, path);
  if (!found) return fallback;
  if (found->is_string()) return std::string(found->as_string());
  if (found->is_int64()) return std::to_string(found->as_int64());
  return fallback;
}

const json::array& array_at(const json::value& value,
                            std::initializer_list<std::string_view> path) {
  static const json::array empty;
  const json::value* found = at(value, path);
  return found && found->is_array() ? found->as_array() : empty;
}

std::string joined(const std::vector<std::string>& parts, const char* separator,
                   const char* none = "<none>") {
  if (parts.empty()) return none;
  std::string out;
  for (const auto& part : parts)
    out += (out.empty() ? "" : separator) + part;
  return out;
}

// kubectl lists at most three addresses, then "+ N more...".
std::string first_three(const std::vector<std::string>& parts, const char* none) {
  if (parts.size() <= 3) return joined(parts, ",", none);
  return parts[0] + "," + parts[1] + "," + parts[2] + " + " + std::to_string(parts.size() - 3) +
         " more...";
}

std::string labels_text(const json::value& labels) {
  std::vector<std::string> parts;
  if (labels.is_object())
    for (const auto& [key, value] : labels.as_object())
      parts.push_back(std::string(key) + "=" +
                      (value.is_string() ? value.as_string().c_str() : ""));
  return joined(parts, ",");
}

std::string labels_at(const json::value& value, std::initializer_list<std::string_view> path) {
  const json::value* found = at(value, path);
  return found ? labels_text(*found) : "<none>";
}

std::string age(const json::value& object, double now) {
  const auto created = parse_rfc3339(text_at(object, {"metadata", "creationTimestamp"}));
  return created ? human_duration(now - *created) : "<unknown>";
}

std::vector<Column> columns(ApiResource resource) {
  const Column name{
      "Name", "string", "name", 0,
      "Name must be unique within a namespace. More info: "
      "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"};
  const Column age_column{"Age", "string", "", 0,
                          "CreationTimestamp is a timestamp representing the server time when "
                          "this object was created."};
  switch (resource) {
    case ApiResource::Services:
      return {name,
              {"Type", "string", "", 0, "The type of the service."},
              {"Cluster-IP", "string", "", 0, "The cluster IP of the service."},
              {"External-IP", "string", "", 0, "The external IP of the service."},
              {"Port(s)", "string", "", 0, "The ports of the service."},
              age_column,
              {"Selector", "string", "", 1, "The selector of the service."}};
    case ApiResource::Endpoints:
      return {name, {"Endpoints", "string", "", 0, "Endpoints of the service."}, age_column};
    case ApiResource::EndpointSlices:
      return {name,
              {"AddressType", "string", "", 0, "The address type of the slice."},
              {"Ports", "string", "", 0, "The ports of the slice."},
              {"Endpoints", "string", "", 0, "The endpoints of the slice."},
              age_column};
    case ApiResource::Pods:
      return {name,
              {"Ready", "string", "", 0, "The aggregate readiness state of this pod."},
              {"Status", "string", "", 0, "The aggregate status of the containers."},
              {"Restarts", "string", "", 0, "The number of times the containers restarted."},
              age_column,
              {"IP", "string", "", 1, "IP address allocated to the pod."},
              {"Node", "string", "", 1, "Name of the node the pod runs on."},
              {"Nominated Node", "string", "", 1, "Name of the nominated node."},
              {"Readiness Gates", "string", "", 1, "The readiness gates of the pod."}};
    case ApiResource::Deployments:
      return {name,
              {"Ready", "string", "", 0, "Number of the pod with ready state."},
              {"Up-to-date", "string", "", 0, "Total number of pods up to date."},
              {"Available", "string", "", 0, "Number of available pods."},
              age_column,
              {"Containers", "string", "", 1, "Names of each container in the template."},
              {"Images", "string", "", 1, "Images referenced by each container."},
              {"Selector", "string", "", 1, "Label selector for pods."}};
    case ApiResource::Nodes:
      return {name,
              {"Status", "string", "", 0, "The status of the node."},
              {"Roles", "string", "", 0, "The roles of the node."},
              age_column,
              {"Version", "string", "", 0, "The proxy version of the node."},
              {"Internal-IP", "string", "", 1, "The internal IP of the node."}};
    case ApiResource::Namespaces:
      return {name, {"Status", "string", "", 0, "The status of the namespace."}, age_column};
    case ApiResource::Events:
      return {{"Last Seen", "string", "", 0, "When the event was last seen."},
              {"Type", "string", "", 0, "The type of the event."},
              {"Reason", "string", "", 0, "Why the event happened."},
              {"Object", "string", "", 0, "The object the event is about."},
              {"Message", "string", "", 0, "What happened."}};
  }
  return {name};
}

std::string service_ports(const json::value& service) {
  std::vector<std::string> parts;
  for (const auto& port : array_at(service, {"spec", "ports"})) {
    const std::string node_port = text_at(port, {"nodePort"});
    parts.push_back(text_at(port, {"port"}) + (node_port.empty() ? "" : ":" + node_port) + "/" +
                    text_at(port, {"protocol"}, "TCP"));
  }
  return joined(parts, ",");
}

std::string service_external_ip(const json::value& service) {
  const std::string type = text_at(service, {"spec", "type"});
  if (type == "ExternalName") return text_at(service, {"spec", "externalName"});
  if (type != "LoadBalancer") return "<none>";
  std::vector<std::string> ips;
  for (const auto& ingress : array_at(service, {"status", "loadBalancer", "ingress"}))
    ips.push_back(text_at(ingress, {"ip"}));
  return joined(ips, ",", "<pending>");
}

std::string endpoints_text(const json::value& endpoints) {
  std::vector<std::string> parts;
  for (const auto& subset : array_at(endpoints, {"subsets"}))
    for (const auto& address : array_at(subset, {"addresses"}))
      for (const auto& port : array_at(subset, {"ports"}))
        parts.push_back(text_at(address, {"ip"}) + ":" + text_at(port, {"port"}));
  return first_three(parts, "<none>");
}

json::array cells(ApiResource resource, const json::value& item, double now) {
  const std::string name = text_at(item, {"metadata", "name"});
  switch (resource) {
    case ApiResource::Services:
      return {name,
              text_at(item, {"spec", "type"}),
              text_at(item, {"spec", "clusterIP"}, "<none>"),
              service_external_ip(item),
              service_ports(item),
              age(item, now),
              labels_at(item, {"spec", "selector"})};
    case ApiResource::Endpoints:
      return {name, endpoints_text(item), age(item, now)};
    case ApiResource::EndpointSlices: {
      std::vector<std::string> ports, addresses;
      for (const auto& port : array_at(item, {"ports"}))
        ports.push_back(text_at(port, {"port"}));
      for (const auto& endpoint : array_at(item, {"endpoints"}))
        for (const auto& address : array_at(endpoint, {"addresses"}))
          if (address.is_string()) addresses.emplace_back(address.as_string());
      return {name, text_at(item, {"addressType"}), joined(ports, ",", "<unset>"),
              first_three(addresses, "<unset>"), age(item, now)};
    }
    case ApiResource::Pods: {
      const auto& containers = array_at(item, {"spec", "containers"});
      const std::size_t total = std::max<std::size_t>(1, containers.size());
      bool ready = false;
      for (const auto& condition : array_at(item, {"status", "conditions"}))
        if (text_at(condition, {"type"}) == "Ready")
          ready = text_at(condition, {"status"}) == "True";
      return {name,
              std::to_string(ready ? total : 0) + "/" + std::to_string(total),
              text_at(item, {"status", "phase"}),
              0,
              age(item, now),
              text_at(item, {"status", "podIP"}, "<none>"),
              text_at(item, {"spec", "nodeName"}, "<none>"),
              "<none>",
              "<none>"};
    }
    case ApiResource::Deployments: {
      std::vector<std::string> names;
      for (const auto& container : array_at(item, {"spec", "template", "spec", "containers"}))
        names.push_back(text_at(container, {"name"}));
      return {name,
              text_at(item, {"status", "readyReplicas"}, "0") + "/" +
                  text_at(item, {"spec", "replicas"}, "0"),
              std::stoll(text_at(item, {"status", "updatedReplicas"}, "0")),
              std::stoll(text_at(item, {"status", "availableReplicas"}, "0")),
              age(item, now),
              joined(names, ","),
              "<none>",
              labels_at(item, {"spec", "selector", "matchLabels"})};
    }
    case ApiResource::Nodes: {
      std::string address = "<none>";
      for (const auto& entry : array_at(item, {"status", "addresses"}))
        if (text_at(entry, {"type"}) == "InternalIP") address = text_at(entry, {"address"});
      return {name,
              "Ready",
              "<none>",
              age(item, now),
              text_at(item, {"status", "nodeInfo", "kubeProxyVersion"}),
              address};
    }
    case ApiResource::Namespaces:
      return {name, text_at(item, {"status", "phase"}), age(item, now)};
    case ApiResource::Events:
      return {"", "", "", "", ""};
  }
  return {name};
}

}  // namespace

std::string human_duration(double seconds_double) {
  if (seconds_double < -1) return "<invalid>";
  const auto seconds = static_cast<long long>(std::max(0.0, std::floor(seconds_double)));
  const auto n = [](long long value, const char* unit) { return std::to_string(value) + unit; };
  if (seconds < 60 * 2) return n(seconds, "s");
  const long long minutes = seconds / 60;
  if (minutes < 10)
    return seconds % 60 == 0 ? n(minutes, "m") : n(minutes, "m") + n(seconds % 60, "s");
  if (minutes < 60 * 3) return n(minutes, "m");
  const long long hours = minutes / 60;
  if (hours < 8) return minutes % 60 == 0 ? n(hours, "h") : n(hours, "h") + n(minutes % 60, "m");
  if (hours < 48) return n(hours, "h");
  if (hours < 24 * 8)
    return hours % 24 == 0 ? n(hours / 24, "d") : n(hours / 24, "d") + n(hours % 24, "h");
  if (hours < 24 * 365 * 2) return n(hours / 24, "d");
  if (hours < 24 * 365 * 8) {
    const long long days = (hours / 24) % 365;
    return days == 0 ? n(hours / 24 / 365, "y") : n(hours / 24 / 365, "y") + n(days, "d");
  }
  return n(hours / 24 / 365, "y");
}

std::optional<double> parse_rfc3339(std::string_view text) {
  std::tm parts{};
  int consumed = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &parts.tm_year, &parts.tm_mon,
                  &parts.tm_mday, &parts.tm_hour, &parts.tm_min, &parts.tm_sec, &consumed) != 6)
    return std::nullopt;
  parts.tm_year -= 1900;
  parts.tm_mon -= 1;
  double seconds = static_cast<double>(timegm(&parts));
  std::string_view rest = std::string_view(copy).substr(static_cast<std::size_t>(consumed));
  if (rest.starts_with(".")) {
    // Digit by digit: GCC 12 at -O3 warns (-Wstringop-overflow) on `"0" + string`.
    std::size_t digits = 1;
    double scale = 0.1;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
      seconds += (rest[digits] - '0') * scale;
      scale /= 10;
      ++digits;
    }
    rest.remove_prefix(digits);
  }
  if (rest == "Z" || rest == "z") return seconds;
  int hours = 0, minutes = 0;
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') &&
      std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &hours, &minutes) == 2)
    return seconds - (rest[0] == '+' ? 1 : -1) * (hours * 3600.0 + minutes * 60.0);
  return std::nullopt;
}

json::object table_json(ApiResource resource, const std::vector<json::object>& items,
                        double now_unix_seconds) {
  json::array definitions;
  for (const auto& column : columns(resource))
    definitions.push_back({{"name", column.name},
                           {"type", column.type},
                           {"format", column.format},
                           {"description", column.description},
                           {"priority", column.priority}});
  json::array rows;
  for (const auto& item : items) {
    const json::value value(item);
    json::object metadata;
    if (const auto* found = item.if_contains("metadata"); found && found->is_object())
      metadata = found->as_object();
    rows.push_back({{"cells", cells(resource, value, now_unix_seconds)},
                    {"object",
                     {{"kind", "PartialObjectMetadata"},
                      {"apiVersion", "meta.k8s.io/v1"},
                      {"metadata", std::move(metadata)}}}});
  }
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", json::object{}},
          {"columnDefinitions", std::move(definitions)},
          {"rows", std::move(rows)}};
}

}  // namespace svcproxy::server
