// Each discovery source produces the full desired pod list; this pure diff says what that
// means against the current list. A pod is identified by namespace/name; one whose podIP
// changed counts as removed and added (its endpoints are new, as in Kubernetes).
#pragma once

#include <vector>

#include "conf/model.hpp"

namespace svcproxy::discovery {

struct PodDiff {
  std::vector<conf::Pod> added;    // in desired order
  std::vector<conf::Pod> removed;  // in current order

  bool empty() const { return added.empty() && removed.empty(); }
};

PodDiff diff_pods(const std::vector<conf::Pod>& current, const std::vector<conf::Pod>& desired);

}  // namespace svcproxy::discovery
