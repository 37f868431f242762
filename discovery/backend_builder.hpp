// Builds the backends of one configuration after another, and keeps between builds what
// the next one can reuse: the Backends in force, the Services, Pods and proxy settings they
// were built from, and the index over those pods. A reload that changes one of 10,000
// Services rebuilds one Service's Backends; one that changes no Pod neither scans nor
// indexes 50,000 pods again. Control thread only.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "conf/model.hpp"
#include "discovery/backends.hpp"
#include "discovery/pod_index.hpp"

namespace svcproxy::discovery {

class BackendBuilder {
 public:
  // Builds the Backends of `snapshot` over its pods plus `discovered_pods` (those DNS
  // found), on top of the current ones (see build_backends() for what carries over and
  // what terminates), and makes them current.
  //
  // Without discovered pods, now and at the build before, a Service whose definition,
  // selected pods and proxy settings did not change, and none of whose endpoints is
  // terminating, keeps its Backend objects (with their balancing state) instead of equal
  // new ones. The result equals a full build's; only which objects it holds differs.
  const BackendMapPtr& build(const conf::Snapshot& snapshot,
                             std::vector<conf::Pod> discovered_pods = {},
                             lb::Clock::time_point now = lb::Clock::now());

  // The Backends of the last build: never null, empty before the first. Readers that must
  // see every build (metrics, the admin API) may hold on to the reference itself.
  const BackendMapPtr& current() const { return backends_; }

 private:
  // What the current Backends were built from, when that was the snapshot's pods alone.
  // The lists share their objects with the snapshot; holding them keeps the pods the index
  // points at alive.
  struct Basis {
    conf::ProxySettings proxy;
    conf::ServiceList services;
    conf::PodList pods;
  };

  KeptBackends kept_backends(const conf::Snapshot& snapshot) const;
  std::shared_ptr<const PodIndex> index_for(const conf::PodList& pods, std::size_t to_build) const;

  BackendMapPtr backends_ = std::make_shared<const BackendMap>();
  std::optional<Basis> built_from_;
  // Null, or an index over built_from_->pods that the next build reuses while the pods
  // are the very same objects.
  std::shared_ptr<const PodIndex> pod_index_;
};

}  // namespace svcproxy::discovery
