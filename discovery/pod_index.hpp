// Pods indexed by namespace and label, so selecting the pods of every service costs the
// size of the answers rather than services × pods (10,000 Services over 50,000 Pods).
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "conf/model.hpp"

namespace svcproxy::discovery {

class PodIndex {
 public:
  // Keeps pointers to the pods: they must outlive the index.
  explicit PodIndex(const std::vector<conf::Pod>& pods);
  explicit PodIndex(const conf::PodList& pods);
  // Without the postings: each select() scans every pod. For a handful of selections (a
  // reload that changed one Service), where indexing 50,000 pods would cost more.
  static PodIndex scanning(const conf::PodList& pods);
  // The cheaper of the two for selecting the pods of `services` Services: scanning for a
  // handful, indexed for more.
  static PodIndex for_services(const conf::PodList& pods, std::size_t services);

  // False for a scanning index.
  bool indexed() const { return indexed_; }

  // Pods of `namespace_name` whose labels contain every pair of `selector`, in the order
  // of the pod list. An empty selector selects nothing, as in Kubernetes.
  std::vector<const conf::Pod*> select(const std::string& namespace_name,
                                       const conf::Labels& selector) const;

 private:
  static std::string posting_key(const std::string& namespace_name, const std::string& label,
                                 const std::string& value);

  template <typename Pods>
  PodIndex(const Pods& pods, bool indexed);

  std::vector<const conf::Pod*> pods_;
  bool indexed_ = true;
  // "namespace\0label\0value" -> positions in pods_, ascending.
  std::unordered_map<std::string, std::vector<std::size_t>> postings_;
};

}  // namespace svcproxy::discovery
