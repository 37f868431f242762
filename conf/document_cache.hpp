// Parsed documents kept from one load to the next, so a reload re-parses only the
// documents that changed. yaml-cpp needs seconds for a 10,000-Service file; a reload that
// changes one Service should cost milliseconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "conf/diagnostics.hpp"
#include "conf/model.hpp"

namespace svcproxy::conf {

class DocumentCache {
 public:
  // What one document added to the configuration (a ProxyConfig is never cached: whether it
  // is an error depends on the documents before it).
  struct Contribution {
    ServiceList services;  // shared with the snapshots that use them
    PodList pods;
    std::vector<Deployment> deployments;
    std::vector<TlsSecret> secrets;
    Diagnostics errors;
    Diagnostics warnings;
    std::vector<std::string> namespaces;
  };

  // The contribution of exactly this text at this place in this file, from the previous
  // load; nullptr when unknown. Keeps the entry for the next load. The pointer stays valid
  // until end_load().
  const Contribution* find(const std::string& file, int first_line, std::string_view text);
  void store(const std::string& file, int first_line, std::string_view text,
             Contribution contribution);
  // Forgets every entry the load that just ended did not use.
  void end_load();
  std::size_t size() const;

 private:
  struct Entry {
    std::string text;
    Contribution contribution;
  };
  // Entries on the heap, so a Contribution stays where it is while slots move.
  struct Slot {
    int first_line = 0;
    std::uint64_t used_by = 0;  // the last load that found or stored it
    std::unique_ptr<Entry> entry;
  };
  // A file's slots in line order, so a lookup is a binary search and no hash of the text
  // is needed (the text is still compared in full).
  using Entries = std::vector<Slot>;

  // One map for every load, each slot marked by the loads that use it: cluster mode loads
  // 60,000 one-document "files", and building a new map of them on every reload (and
  // freeing the old one) was most of the cost of a one-Service change.
  std::unordered_map<std::string, Entries> files_;
  std::uint64_t load_ = 1;  // the load in progress
};

}  // namespace svcproxy::conf
