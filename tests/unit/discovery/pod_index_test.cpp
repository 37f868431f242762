#include "discovery/pod_index.hpp"

#include <doctest/doctest.h>

using namespace svcproxy;

namespace {

conf::Pod labelled(std::string name, std::string namespace_name, conf::Labels labels) {
  conf::Pod pod;
  pod.name = std::move(name);
  pod.namespace_name = std::move(namespace_name);
  pod.labels = std::move(labels);
  return pod;
}

std::vector<std::string> names(const std::vector<const conf::Pod*>& pods) {
  std::vector<std::string> result;
  for (const auto* pod : pods)
    result.push_back(pod->name);
  return result;
}

}  // namespace

TEST_CASE("a selector matches pods carrying every pair, in its namespace only") {
  const std::vector<conf::Pod> pods = {
      labelled("a", "default", {{"app", "web"}, {"tier", "front"}}),
      labelled("b", "default", {{"app", "web"}}),
      labelled("c", "dev", {{"app", "web"}, {"tier", "front"}}),
      labelled("d", "default", {{"app", "api"}, {"tier", "front"}}),
  };
  const discovery::PodIndex index(pods);
  CHECK(names(index.select("default", {{"app", "web"}})) == std::vector<std::string>{"a", "b"});
  CHECK(names(index.select("default", {{"app", "web"}, {"tier", "front"}})) ==
        std::vector<std::string>{"a"});
  CHECK(names(index.select("dev", {{"app", "web"}})) == std::vector<std::string>{"c"});
  CHECK(index.select("default", {{"app", "db"}}).empty());
  CHECK(index.select("default", {}).empty());  // an empty selector selects nothing
}
