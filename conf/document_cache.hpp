// Parsed documents kept from one load to the next, so a reload re-parses only the
// documents that changed. yaml-cpp needs seconds for a 10,000-Service file; a reload that
// changes one Service should cost milliseconds.
#pragma once

#include <cstddef>
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
    std::vector<Service> services;
    std::vector<Pod> pods;
    std::vector<Deployment> deployments;
    std::vector<TlsSecret> secrets;
    Diagnostics errors;
    Diagnostics warnings;
  };

  // The contribution of exactly this text at this place in this file, from an earlier
  // load; nullptr when unknown. Marks the entry as used by the current load.
  const Contribution* find(const std::string& file, int first_line, std::string_view text);
  void store(const std::string& file, int first_line, std::string_view text,
             Contribution contribution);
  // Forgets every entry the load that just ended did not use.
  void end_load();
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string file;
    int first_line = 0;
    std::string text;
    Contribution contribution;
    bool used = true;
  };
  static std::size_t key(const std::string& file, int first_line, std::string_view text);

  std::unordered_multimap<std::size_t, Entry> entries_;
};

}  // namespace svcproxy::conf
