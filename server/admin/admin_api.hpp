// The Kubernetes-shaped read-only API of the admin listener: which path names which
// objects, and the answer (a List, one object, or a v1 Status for "not found"). Pure, so
// tests need no sockets; control thread in the server.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "conf/model.hpp"
#include "discovery/backends.hpp"

namespace svcproxy::server {

struct ApiPath {
  enum class Resource { Services, Endpoints };
  Resource resource = Resource::Services;
  std::string namespace_name;  // empty: every namespace
  std::string name;            // empty: a List
};

// /api/v1/{services,endpoints} and /api/v1/namespaces/NS/{services,endpoints}[/NAME];
// nullopt for any other path. `path` excludes the query string.
std::optional<ApiPath> parse_api_path(std::string_view path);

struct ApiAnswer {
  int status = 200;
  boost::json::value body;
};

ApiAnswer answer_api(const ApiPath& path, const conf::Snapshot& snapshot,
                     const discovery::BackendMap& backends, lb::Clock::time_point now);

}  // namespace svcproxy::server
