// Builders for lb tests: endpoints of pods web-0, web-1, ... on 127.0.1.1, 127.0.1.2, ...
#pragma once

#include <string>
#include <vector>

#include "lb/endpoint.hpp"

namespace svcproxy::lb::test {

inline EndpointPtr make_endpoint(int index, int port = 8080, std::string pod_prefix = "web-") {
  EndpointAddress address;
  address.pod_namespace = "default";
  address.pod_name = pod_prefix + std::to_string(index);
  address.ip = "127.0.1." + std::to_string(index + 1);
  address.port = port;
  return std::make_shared<Endpoint>(std::move(address));
}

inline std::vector<EndpointPtr> make_endpoints(int count, int port = 8080) {
  std::vector<EndpointPtr> endpoints;
  for (int i = 0; i < count; ++i)
    endpoints.push_back(make_endpoint(i, port));
  return endpoints;
}

inline bool any_endpoint(const Endpoint&) {
  return true;
}

}  // namespace svcproxy::lb::test
