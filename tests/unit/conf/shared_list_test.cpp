#include "conf/shared_list.hpp"

#include <doctest/doctest.h>

#include <string>

#include "conf/model.hpp"

namespace svcproxy::conf {
namespace {

Pod make_pod(const std::string& name) {
  Pod pod;
  pod.name = name;
  return pod;
}

}  // namespace

TEST_CASE("a copied list shares its objects") {
  const PodList pods = {make_pod("a"), make_pod("b")};
  const PodList copy = pods;
  REQUIRE(copy.size() == 2);
  CHECK(&copy[0] == &pods[0]);
  CHECK(PodList::same_object(pods, 1, copy, 1));
  CHECK(copy == pods);
}

TEST_CASE("mutate gives the slot an object of its own; other holders keep theirs") {
  const PodList pods = {make_pod("a"), make_pod("b")};
  PodList changed = pods;
  changed.mutate(1).pod_ip = "10.0.0.1";
  CHECK(pods[1].pod_ip.empty());
  CHECK(changed[1].pod_ip == "10.0.0.1");
  CHECK(PodList::same_object(pods, 0, changed, 0));
  CHECK_FALSE(PodList::same_object(pods, 1, changed, 1));
  CHECK_FALSE(changed == pods);
}

TEST_CASE("lists compare by value, not by object") {
  const PodList a = {make_pod("a")};
  const PodList b = {make_pod("a")};
  CHECK_FALSE(PodList::same_object(a, 0, b, 0));
  CHECK(a == b);
}

TEST_CASE("iteration, erase and append read like a vector of const objects") {
  PodList pods = {make_pod("a"), make_pod("b"), make_pod("c")};
  pods.erase(pods.begin() + 1);
  std::string names;
  for (const Pod& pod : pods)
    names += pod.name;
  CHECK(names == "ac");
  PodList more = {make_pod("d")};
  pods.append(more);
  CHECK(pods.size() == 3);
  CHECK(&pods.back() == &more[0]);
  CHECK(pods.end() - pods.begin() == 3);
}

}  // namespace svcproxy::conf
