#include "discovery/pod_diff.hpp"

#include <doctest/doctest.h>

using namespace svcproxy;
using namespace svcproxy::discovery;

namespace {

conf::Pod pod(std::string name, std::string ip, std::string ns = "default") {
  conf::Pod p;
  p.namespace_name = std::move(ns);
  p.name = std::move(name);
  p.pod_ip = std::move(ip);
  return p;
}

std::vector<std::string> names(const std::vector<conf::Pod>& pods) {
  std::vector<std::string> out;
  for (const auto& p : pods)
    out.push_back(p.key());
  return out;
}

}  // namespace

TEST_CASE("diff_pods: equal lists make an empty diff") {
  const std::vector<conf::Pod> pods = {pod("a", "127.0.1.1"), pod("b", "127.0.1.2")};
  CHECK(diff_pods(pods, pods).empty());
  CHECK(diff_pods({}, {}).empty());
}

TEST_CASE("diff_pods: added and removed, order kept") {
  const auto diff =
      diff_pods({pod("a", "127.0.1.1"), pod("b", "127.0.1.2")},
                {pod("c", "127.0.1.3"), pod("a", "127.0.1.1"), pod("d", "127.0.1.4")});
  CHECK(names(diff.added) == std::vector<std::string>{"default/c", "default/d"});
  CHECK(names(diff.removed) == std::vector<std::string>{"default/b"});
}

TEST_CASE("diff_pods: a new podIP is a removal and an addition") {
  const auto diff = diff_pods({pod("a", "127.0.1.1")}, {pod("a", "127.0.1.9")});
  REQUIRE(diff.added.size() == 1);
  REQUIRE(diff.removed.size() == 1);
  CHECK(diff.added[0].pod_ip == "127.0.1.9");
  CHECK(diff.removed[0].pod_ip == "127.0.1.1");
}

TEST_CASE("diff_pods: namespaces make pods distinct") {
  const auto diff = diff_pods({pod("a", "127.0.1.1", "one")}, {pod("a", "127.0.1.1", "two")});
  CHECK(names(diff.added) == std::vector<std::string>{"two/a"});
  CHECK(names(diff.removed) == std::vector<std::string>{"one/a"});
}
