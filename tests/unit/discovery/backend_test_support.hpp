// Helpers for the tests of building backends: a Service "web" (port 80 -> 8080, selector
// app=web) and its pods.
#pragma once

#include <string>
#include <utility>

#include "conf/model.hpp"
#include "discovery/backends.hpp"

namespace svcproxy::discovery::testing {

inline conf::Snapshot web_snapshot() {
  conf::Snapshot snapshot;
  conf::Service web;
  web.name = "web";
  web.selector = {{"app", "web"}};
  conf::ServicePort http;
  http.name = "http";
  http.port = 80;
  http.target_port.number = 8080;
  web.ports.push_back(http);
  snapshot.services.push_back(web);
  return snapshot;
}

inline conf::Pod pod(std::string name, std::string ip) {
  conf::Pod p;
  p.name = std::move(name);
  p.pod_ip = std::move(ip);
  p.labels = {{"app", "web"}};
  return p;
}

// The endpoint of pod `pod_name` in web's backend, or null.
inline lb::EndpointPtr find(const BackendMap& backends, const std::string& pod_name) {
  for (const auto& endpoint : backends.at("default/web:80")->endpoints())
    if (endpoint->address().pod_name == pod_name) return endpoint;
  return nullptr;
}

}  // namespace svcproxy::discovery::testing
